"""Changes of speaker inside mono turns, from hand-made local speakers."""

from pipeline.records import Turn
from pipeline.segmentation.changes import ChangeOptions, split_turns
from tests.segmentation.test_overlaps import segmentation


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


def test_one_voice_is_never_split():
    turns = [Turn("spk0", "unknown", 0.5, 8.0)]
    seg = segmentation(10, [(1, 0.5, 4.0), (2, 4.0, 8.0)])
    assert split_turns(turns, seg) == turns
