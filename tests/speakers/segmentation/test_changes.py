"""Changes of speaker inside mono turns, from hand-made local speakers."""

from pipeline.records import Turn
from pipeline.speakers.segmentation.changes import (
    ChangeOptions,
    PauseOptions,
    settle_unsure,
    split_at_pauses,
    split_turns,
)
from tests.speakers.segmentation.test_overlaps import segmentation


def test_a_reply_without_a_pause_becomes_the_other_voices_turn():
    # The agent (spk0) 0.5-3 s, then the caller's 你好 (3.0-3.6 s) with no pause: one region.
    # Local speaker 1 is the agent's throughout the window, local speaker 2 the caller's.
    turns = [Turn("spk0", "unknown", 0.5, 3.6), Turn("spk1", "unknown", 4.5, 8.0)]
    seg = segmentation(10, [(1, 0.5, 3.0), (2, 3.0, 3.6), (2, 4.5, 8.0)])
    out = split_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk0", 0.5, 3.0),
        ("spk1", 3.0, 3.6),
        ("spk1", 4.5, 8.0),
    ]


def test_a_blip_of_the_other_voice_is_too_short_to_be_a_turn():
    turns = [Turn("spk0", "unknown", 0.5, 3.6), Turn("spk1", "unknown", 4.5, 8.0)]
    seg = segmentation(10, [(1, 0.5, 2.0), (2, 2.0, 2.3), (1, 2.3, 3.6), (2, 4.5, 8.0)])
    assert split_turns(turns, seg) == turns
    assert len(split_turns(turns, seg, ChangeOptions(min_piece_s=0.2))) == 4


def test_local_speakers_are_named_by_the_voice_they_co_occur_with_whatever_their_number():
    # Here local speaker 2 is the agent: the names follow the turns, not the model's order.
    turns = [Turn("spk0", "unknown", 0.5, 3.6), Turn("spk1", "unknown", 4.5, 8.0)]
    seg = segmentation(10, [(2, 0.5, 3.0), (1, 3.0, 3.6), (1, 4.5, 8.0)])
    assert [t.speaker for t in split_turns(turns, seg)] == ["spk0", "spk1", "spk1"]


def test_a_proposed_change_becomes_a_turn_only_where_the_speaker_vectors_agree():
    turns = [Turn("spk0", "unknown", 0.5, 3.6), Turn("spk1", "unknown", 4.5, 8.0)]
    seg = segmentation(10, [(1, 0.5, 3.0), (2, 3.0, 3.6), (2, 4.5, 8.0)])
    asked: list = []

    def refuse(changes: list) -> list[bool]:
        asked.extend(changes)
        return [False] * len(changes)

    # The model's second local speaker in 3.0-3.6 s is the agent's own voice split in two.
    assert split_turns(turns, seg, confirm=refuse) == turns
    ((start, end, voice, host),) = asked
    assert (round(start, 1), round(end, 1), voice, host) == (3.0, 3.6, "spk1", "spk0")
    # The vectors say it is the caller: the reply becomes the caller's turn.
    agreed = split_turns(turns, seg, confirm=lambda changes: [True] * len(changes))
    assert [t.speaker for t in agreed] == ["spk0", "spk1", "spk1"]


def test_a_sliver_of_the_host_voice_at_a_turns_edge_goes_with_the_piece_next_to_it():
    # BD0199 of the development part: the caller's turn (spk1) starts at the VAD's 0.5 s, the
    # model hears the agent's 阳光物业，讲 (local speaker 1) from 0.6 s, then the caller.
    turns = [Turn("spk0", "unknown", 4.5, 8.0), Turn("spk1", "unknown", 0.5, 3.6)]
    seg = segmentation(10, [(1, 0.6, 1.4), (2, 1.4, 3.6), (1, 4.5, 8.0)])
    out = split_turns(sorted(turns, key=lambda t: t.start), seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk0", 0.5, 1.4),
        ("spk1", 1.4, 3.6),
        ("spk0", 4.5, 8.0),
    ]
    # Not a sliver: 0.5 s of the caller before the agent is a piece of its own.
    seg = segmentation(10, [(2, 0.5, 1.0), (1, 1.0, 1.8), (2, 1.8, 3.6), (1, 4.5, 8.0)])
    out = split_turns(sorted(turns, key=lambda t: t.start), seg)
    assert [t.speaker for t in out] == ["spk1", "spk0", "spk1", "spk0"]


def test_one_voice_is_never_split():
    turns = [Turn("spk0", "unknown", 0.5, 8.0)]
    seg = segmentation(10, [(1, 0.5, 4.0), (2, 4.0, 8.0)])
    assert split_turns(turns, seg) == turns


# An agent (spk0, local speaker 1) cuts in at 3 s and goes on alone 4.0-5.5 s after a pause; the
# clustering gave that region to the caller (spk1, local speaker 2), whose turn runs 1.0-8.0 s.
_AFTER_CUT_IN = [(2, 1.0, 3.0), (3, 3.0, 3.6), (1, 4.0, 5.5), (2, 6.0, 8.0)]


def _turns_after_cut_in() -> list[Turn]:
    return [
        Turn("spk0", "unknown", 0.2, 0.9),
        Turn("spk1", "unknown", 1.0, 8.0),
        Turn("spk0", "unknown", 8.5, 9.8),
    ]


def test_an_unsure_region_goes_to_the_voice_the_model_hears_in_it():
    seg = segmentation(10, [(1, 0.2, 0.9), *_AFTER_CUT_IN, (1, 8.5, 9.8)])
    out = settle_unsure(_turns_after_cut_in(), seg, [(4.0, 5.5)])
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk0", 0.2, 0.9),
        ("spk1", 1.0, 4.0),
        ("spk0", 4.0, 5.5),
        ("spk1", 5.5, 8.0),
        ("spk0", 8.5, 9.8),
    ]


def test_only_unsure_regions_are_settled_by_the_model():
    seg = segmentation(10, [(1, 0.2, 0.9), *_AFTER_CUT_IN, (1, 8.5, 9.8)])
    assert settle_unsure(_turns_after_cut_in(), seg, []) == _turns_after_cut_in()
    # The model hears the caller in 6-8 s, as the clustering said: nothing moves.
    assert settle_unsure(_turns_after_cut_in(), seg, [(6.0, 8.0)]) == _turns_after_cut_in()


def test_an_unsure_region_the_model_hears_too_little_of_stays():
    # The agent alone in under 60 % of the region: the clustering's guess stands.
    seg = segmentation(10, [(1, 0.2, 0.9), (2, 1.0, 4.0), (1, 4.0, 4.8), (2, 6.0, 8.0), (1, 8.5, 9.8)])
    assert settle_unsure(_turns_after_cut_in(), seg, [(4.0, 5.5)]) == _turns_after_cut_in()
    assert (
        len(settle_unsure(_turns_after_cut_in(), seg, [(4.0, 5.5)], ChangeOptions(unsure_min_share=0.5))) == 5
    )


def test_an_unsure_region_with_both_voices_at_once_is_left_to_the_overlap_placement():
    seg = segmentation(10, [(1, 0.2, 0.9), (2, 1.0, 3.0), (3, 3.0, 5.0), (1, 5.0, 5.5), (1, 8.5, 9.8)])
    assert settle_unsure(_turns_after_cut_in(), seg, [(3.0, 5.5)]) == _turns_after_cut_in()


def test_the_mono_refinement_settles_the_unsure_regions_it_is_given():
    from pipeline.config import SpeechConfig
    from pipeline.speakers.segmentation import segmented_turns

    seg = segmentation(10, [(1, 0.2, 0.9), *_AFTER_CUT_IN, (1, 8.5, 9.8)])
    cfg = SpeechConfig(overlap_threshold=0.99)  # the overlap placement left out: only settling
    assert segmented_turns(_turns_after_cut_in(), seg, cfg) == _turns_after_cut_in()
    settled = segmented_turns(_turns_after_cut_in(), seg, cfg, [(4.0, 5.5)])
    assert ("spk0", 4.0, 5.5) in [(t.speaker, t.start, t.end) for t in settled]


# The agent (spk0) says 没别的事了吧，再见 (6.0-7.4 s) and the caller 等一下，我还 (7.6-9.0 s) until the
# line drops: one VAD region, which the clustering gave to the agent. The model names the caller's
# stretch with the agent's local speaker (as after an overlap): only its pause tells.
_END_TURNS = [Turn("spk1", "unknown", 1.0, 5.5), Turn("spk0", "unknown", 6.0, 9.0)]
_END_SEG = [(2, 1.0, 5.5), (1, 6.0, 7.4), (1, 7.6, 9.0)]


def _vectors_say(voice_of: dict[float, str]):
    """A confirm that says yes where the stretch starting near a key is that key's voice."""
    asked: list = []

    def confirm(changes: list) -> list[bool]:
        asked.extend(changes)
        return [
            any(abs(s - at) < 0.05 and v == voice for at, voice in voice_of.items()) for s, _, v, _ in changes
        ]

    return confirm, asked


def test_the_stretch_after_a_pause_goes_to_the_voice_the_speaker_vectors_hear():
    seg = segmentation(10, _END_SEG)
    confirm, asked = _vectors_say({7.6: "spk1"})
    out = split_at_pauses(_END_TURNS, seg, confirm)
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk1", 1.0, 5.5),
        ("spk0", 6.0, 7.4),
        ("spk1", 7.6, 9.0),
    ]
    # Each side of the pause was asked about, as the other voice; the caller's one-piece turn was not.
    assert [(round(s, 1), round(e, 1), v, host) for s, e, v, host in asked] == [
        (6.0, 7.4, "spk1", "spk0"),
        (7.6, 9.0, "spk1", "spk0"),
    ]


def test_without_the_speaker_vectors_agreeing_nothing_moves():
    seg = segmentation(10, _END_SEG)
    assert split_at_pauses(_END_TURNS, seg, lambda changes: [False] * len(changes)) == _END_TURNS


def test_a_stretch_too_short_to_embed_joins_its_neighbour():
    # 0.3 s after the pause (我还) is too little speech for a speaker vector: it is asked about with
    # the stretch before it, and the turn stays one piece.
    turns = [Turn("spk1", "unknown", 1.0, 5.5), Turn("spk0", "unknown", 6.0, 7.9)]
    seg = segmentation(10, [(2, 1.0, 5.5), (1, 6.0, 7.4), (1, 7.6, 7.9)])
    confirm, asked = _vectors_say({7.6: "spk1"})
    assert split_at_pauses(turns, seg, confirm) == turns
    assert asked == []
    assert len(split_at_pauses(turns, seg, confirm, PauseOptions(min_piece_s=0.2))) == 3


def test_a_pause_shorter_than_the_minimum_is_not_a_place_to_cut():
    seg = segmentation(10, _END_SEG)
    confirm, asked = _vectors_say({7.6: "spk1"})
    assert split_at_pauses(_END_TURNS, seg, confirm, PauseOptions(min_pause_s=0.3)) == _END_TURNS
    assert asked == []
