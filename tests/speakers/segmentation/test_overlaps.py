"""Overlapped speech placed into mono turns, on hand-made segmentation outputs."""

import numpy as np
import pytest

from pipeline.records import Turn
from pipeline.speakers.segmentation.model import Segmentation, powerset_classes
from pipeline.speakers.segmentation.overlaps import (
    OverlapOptions,
    faint_after_pause,
    overlap_regions,
    overlapped_turns,
)

FRAME_S = 0.02


def segmentation(duration: float, spans: list[tuple[int, float, float]]) -> Segmentation:
    """One 2-speaker window covering ``duration``; spans are (powerset class, start, end)."""
    n = int(round(duration / FRAME_S))
    classes = np.zeros(n, int)
    for cls, s, e in spans:
        classes[int(round(s / FRAME_S)) : int(round(e / FRAME_S))] = cls
    probs = np.full((1, n, 4), 0.01)
    probs[0, np.arange(n), classes] = 0.97
    return Segmentation(
        FRAME_S,
        speech=1 - probs[0, :, 0],
        overlap=probs[0, :, 3],
        window_starts=np.array([0]),
        windows=probs,
    )


def test_powerset_classes_follow_pyannote_order():
    assert powerset_classes(4) == (frozenset(), {0}, {1}, {0, 1})
    assert powerset_classes(7)[4:] == ({0, 1}, {0, 2}, {1, 2})
    with pytest.raises(ValueError):
        powerset_classes(5)


def test_regions_bridge_short_gaps_and_drop_blips():
    seg = segmentation(10, [(3, 1.0, 1.5), (3, 1.56, 2.0), (3, 5.0, 5.06)])
    assert overlap_regions(seg) == [(1.0, 2.0)]
    assert overlap_regions(seg, OverlapOptions(threshold=0.99)) == []


def test_a_cut_in_at_a_change_of_speaker_makes_the_turns_overlap():
    # The caller talks to 4.0 s, the agent cuts in at 3.2 s: the VAD split the region at 3.9 s.
    turns = [Turn("spk1", "unknown", 0.5, 3.9), Turn("spk0", "unknown", 3.9, 7.0)]
    seg = segmentation(10, [(1, 0.5, 3.2), (3, 3.2, 4.0), (2, 4.0, 7.0)])
    out = overlapped_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [("spk1", 0.5, 4.0), ("spk0", 3.2, 7.0)]


def test_an_overlap_inside_one_region_is_the_other_voice_over_it_whoever_goes_on():
    # One VAD region 0.5-8 s with one voice; the model hears both at 5.0-5.8 s and another local
    # speaker after it. Who speaks after the overlap is the clustering's call (its resegmentation
    # by d-vectors), not the local speakers': the overlap becomes the other voice's short turn.
    turns = [Turn("spk1", "unknown", 0.5, 8.0), Turn("spk0", "unknown", 9.0, 9.8)]
    seg = segmentation(10, [(1, 0.5, 5.0), (3, 5.0, 5.8), (2, 5.8, 8.0), (2, 9.0, 9.8)])
    out = overlapped_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk1", 0.5, 8.0),
        ("spk0", 5.0, 5.8),
        ("spk0", 9.0, 9.8),
    ]


def test_a_murmur_over_a_turn_that_goes_on_becomes_a_short_turn_of_the_other_voice():
    turns = [Turn("spk0", "unknown", 0.5, 8.0), Turn("spk1", "unknown", 8.5, 9.5)]
    seg = segmentation(10, [(1, 0.5, 3.0), (3, 3.0, 3.4), (1, 3.4, 8.0), (2, 8.5, 9.5)])
    out = overlapped_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk0", 0.5, 8.0),
        ("spk1", 3.0, 3.4),
        ("spk1", 8.5, 9.5),
    ]


def test_one_voice_or_no_overlap_leaves_turns_alone():
    turns = [Turn("spk0", "unknown", 0.5, 8.0)]
    seg = segmentation(10, [(3, 3.0, 3.4)])
    assert overlapped_turns(turns, seg) == turns
    two = [Turn("spk0", "unknown", 0.5, 3.0), Turn("spk1", "unknown", 3.5, 8.0)]
    assert overlapped_turns(two, segmentation(10, [(1, 0.5, 3.0), (2, 3.5, 8.0)])) == two


def test_an_overlap_near_a_turns_end_with_the_other_voice_next_is_where_it_took_over():
    # The caller (spk0) to 10.3 s, the agent from 8.6 s; the pause-based regions put the change
    # at 10.8 s, after the caller's last words (E021 of the corpus).
    turns = [Turn("spk0", "unknown", 0.5, 10.8), Turn("spk1", "unknown", 11.3, 14.0)]
    seg = segmentation(15, [(1, 0.5, 8.6), (3, 8.6, 10.3), (2, 10.3, 14.0)])
    out = overlapped_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [("spk0", 0.5, 10.3), ("spk1", 8.6, 14.0)]


def test_an_overlap_near_a_turns_start_with_the_other_voice_before_is_where_it_cut_in():
    # The agent's turn was given the caller's last words: it starts at 7.0 s, the caller went on
    # to 8.6 s and the agent cut in at 8.0 s.
    turns = [Turn("spk0", "unknown", 0.5, 6.5), Turn("spk1", "unknown", 7.0, 14.0)]
    seg = segmentation(15, [(1, 0.5, 8.0), (3, 8.0, 8.6), (2, 8.6, 14.0)])
    out = overlapped_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [("spk0", 0.5, 8.6), ("spk1", 8.0, 14.0)]


def test_a_short_turn_does_not_hand_itself_over_twice():
    # The agent's turn (set by a first cut-in) is 1 s old when the caller murmurs near its end.
    turns = [Turn("spk1", "unknown", 5.0, 8.0), Turn("spk0", "unknown", 8.4, 11.0)]
    seg = segmentation(12, [(1, 5.0, 6.0), (3, 6.0, 6.8), (1, 6.8, 8.0), (2, 8.4, 11.0)])
    out = overlapped_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk1", 5.0, 8.0),
        ("spk0", 6.0, 6.8),
        ("spk0", 8.4, 11.0),
    ]


def test_a_backchannel_inside_the_turn_before_does_not_hide_it_from_a_cut_in():
    # E010 of the corpus: the caller's 嗯 at 3.0 s is a turn inside the agent's (0.5-6.5 s); the
    # caller's next turn was given the agent's last words (it starts at 7.0 s, the agent went on
    # to 8.6 s, the caller cut in at 8.0 s). The turn before the caller's is still the agent's.
    turns = [
        Turn("spk0", "unknown", 0.5, 6.5),
        Turn("spk1", "unknown", 3.0, 3.4),
        Turn("spk1", "unknown", 7.0, 14.0),
    ]
    seg = segmentation(15, [(1, 0.5, 3.0), (3, 3.0, 3.4), (1, 3.4, 8.0), (3, 8.0, 8.6), (2, 8.6, 14.0)])
    out = overlapped_turns(turns, seg, OverlapOptions(min_s=0.5))  # the 嗯 is already placed
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk0", 0.5, 8.6),
        ("spk1", 3.0, 3.4),
        ("spk1", 8.0, 14.0),
    ]


def test_the_overlap_options_come_from_the_speech_config(monkeypatch):
    import pipeline.speakers.segmentation.overlaps as overlaps
    from pipeline.config import SpeechConfig
    from pipeline.speakers.segmentation import segmented_turns

    seen = []
    monkeypatch.setattr(
        overlaps, "overlapped_turns", lambda turns, seg, options: seen.append(options) or turns
    )
    cfg = SpeechConfig(
        overlap_threshold=0.6, overlap_min_s=0.2, overlap_bridge_s=0.3, overlap_after_pause_s=0.4
    )
    segmented_turns([], segmentation(10, []), cfg)
    assert (seen[0].threshold, seen[0].min_s, seen[0].bridge_s) == (0.6, 0.2, 0.3)
    assert seen[0].after_pause_s == 0.4


def test_an_overlap_right_after_a_pause_is_not_a_cut_in():
    # RL01 at 150 s: the caller stops at 4.0 s, the agent starts at 4.4 s, and the model hears a
    # second voice in the agent's first half second. Nobody was talking to be cut into: the turns
    # stay as the clustering left them (before: the caller's turn carried on to 5.0 s, over the
    # agent's first words, which became hers).
    turns = [Turn("spk1", "unknown", 0.5, 4.0), Turn("spk0", "unknown", 4.4, 8.0)]
    seg = segmentation(10, [(1, 0.5, 4.0), (3, 4.4, 5.0), (2, 5.0, 8.0)])
    seg.overlap[int(4.4 / FRAME_S) : int(5.0 / FRAME_S)] = 0.56  # faint, as there
    assert faint_after_pause(seg, 4.4, 5.0)
    assert overlapped_turns(turns, seg) == turns
    # Off, it is placed as before.
    out = overlapped_turns(turns, seg, OverlapOptions(after_pause_s=0))
    assert [(t.speaker, t.start, t.end) for t in out] == [("spk1", 0.5, 5.0), ("spk0", 4.4, 8.0)]
    # A clear overlap after the same pause is placed: a party that resumed after a comma's pause
    # can be cut into at once (H003 of the alike set).
    seg.overlap[int(4.4 / FRAME_S) : int(5.0 / FRAME_S)] = 0.9
    assert not faint_after_pause(seg, 4.4, 5.0)
    out = overlapped_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [("spk1", 0.5, 5.0), ("spk0", 4.4, 8.0)]


def test_a_pause_too_short_or_too_long_ago_does_not_stop_a_cut_in():
    # A 0.2 s breath 0.3 s before the cut-in (under after_pause_s), and a long pause that ended
    # 0.7 s before it (outside the lookback): the caller was talking when the agent cut in.
    # The overlaps are faint (P 0.6): only the pause before them decides.
    seg = segmentation(10, [(1, 0.5, 2.8), (1, 3.0, 3.2), (3, 3.2, 4.0), (2, 4.0, 7.0)])
    seg.overlap[int(3.2 / FRAME_S) : int(4.0 / FRAME_S)] = 0.6
    assert not faint_after_pause(seg, 3.2, 4.0)
    seg = segmentation(10, [(1, 0.5, 1.5), (1, 2.5, 3.2), (3, 3.2, 4.0), (2, 4.0, 7.0)])
    seg.overlap[int(3.2 / FRAME_S) : int(4.0 / FRAME_S)] = 0.6
    assert not faint_after_pause(seg, 3.2, 4.0)
    # The same overlap after a 0.4 s pause is a voice starting after it.
    seg = segmentation(10, [(1, 0.5, 2.8), (3, 3.2, 4.0), (2, 4.0, 7.0)])
    seg.overlap[int(3.2 / FRAME_S) : int(4.0 / FRAME_S)] = 0.6
    assert faint_after_pause(seg, 3.2, 4.0)
    seg = segmentation(10, [(1, 0.5, 1.5), (1, 2.5, 3.2), (3, 3.2, 4.0), (2, 4.0, 7.0)])
    seg.overlap[int(3.2 / FRAME_S) : int(4.0 / FRAME_S)] = 0.6
    turns = [Turn("spk1", "unknown", 0.5, 3.9), Turn("spk0", "unknown", 3.9, 7.0)]
    out = overlapped_turns(turns, seg)
    assert [(t.speaker, t.start, t.end) for t in out] == [("spk1", 0.5, 4.0), ("spk0", 3.2, 7.0)]


def test_a_faint_overlap_at_either_end_of_the_recording_is_read_safely():
    seg = segmentation(2, [(3, 0.0, 0.3), (1, 0.3, 1.5), (3, 1.9, 2.0)])
    seg.overlap[:] = np.minimum(seg.overlap, 0.6)
    # At 0 s there is nothing before it to have paused in; past the end, nothing to read.
    assert not faint_after_pause(seg, 0.0, 0.3)
    assert faint_after_pause(seg, 1.9, 2.0)  # the last frames, after a 0.4 s pause
    assert not faint_after_pause(seg, 2.5, 3.0)
    assert not faint_after_pause(seg, -0.5, 0.1)
