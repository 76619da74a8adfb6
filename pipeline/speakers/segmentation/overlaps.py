"""Overlapped speech on a mono recording, and what it does to the turns.

The clustering gives each speech region one voice; where two parties speak at once the VAD sees
one region and the turns never overlap, so the interruption rules see nothing. An overlap the
segmentation model finds is placed where it belongs:

- at a change of speaker (one turn ends and the other voice's begins within ``boundary_s``): the
  newcomer started at the overlap's start and the other party went on to its end, so the two
  turns are stretched to overlap there;
- inside one turn, near its end and with the other voice speaking next (or near its start, the
  other voice speaking before): the pause-based regions put the change of speaker too late (too
  early); the other voice took the floor at the overlap;
- elsewhere inside one turn: the other party said something over it (a backchannel, a failed
  cut-in), which becomes a turn of its own. Whether the turn changes hands there is the
  clustering's call (``speakers.mono_turns`` splits long regions where the d-vectors change):
  reading it from the model's local speakers instead was tried and split backchannels' hosts in
  two (docs/evaluation.md).

A faint overlap that begins after a silence (``after_pause_s`` of no speech in all in the
``pause_lookback_s`` before it, and P(overlap) never above ``after_pause_max_p``) is not placed:
nobody was talking to be cut into, and on real voices the model hears a second voice for a moment
where one starts after a pause (RL01: an agent starting 0.4 s after the caller stopped was made
to cut in on her, at P 0.56). A clear one is: a party resuming after a comma's pause can be cut
into at once (H003 of the alike set, P 0.8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.records import Turn
from pipeline.speakers.segmentation.model import Segmentation

Region = tuple[float, float]


@dataclass(frozen=True)
class OverlapOptions:
    threshold: float = 0.5  # P(two or more speak) above which a frame is overlapped
    min_s: float = 0.12  # shorter overlaps are ignored (a breath, a click)
    bridge_s: float = 0.12  # overlapped stretches this close are one
    boundary_s: float = 0.8  # a speaker change this close to an overlap is where it happened
    # An overlap this close to a turn's end (start), with the other voice's turn next (before) it
    # within takeover_gap_s: the other voice took the floor at the overlap (see _place).
    takeover_s: float = 1.5
    takeover_gap_s: float = 1.0
    # Only an overlap long enough to be a cut-in (the rules' interruption_min_overlap_s) moves a
    # change of speaker: on real voices the model also hears short false overlaps near turn ends.
    takeover_min_s: float = 0.5
    # No speech (P(speech) under 0.5) for this long in the pause_lookback_s before an overlap,
    # and P(overlap) never above after_pause_max_p in it: it begins after a pause, and is not
    # placed (docs/evaluation.md).
    after_pause_s: float = 0.25
    pause_lookback_s: float = 0.6
    after_pause_max_p: float = 0.7


def overlap_regions(seg: Segmentation, options: OverlapOptions = OverlapOptions()) -> list[Region]:
    """Stretches where P(overlap) is above the threshold, short gaps bridged, short ones dropped."""
    on = seg.overlap > options.threshold
    padded = np.concatenate([[False], on, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    regions: list[list[float]] = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        s, e = a * seg.frame_s, b * seg.frame_s
        if regions and s - regions[-1][1] <= options.bridge_s:
            regions[-1][1] = e
        else:
            regions.append([s, e])
    return [(round(float(s), 3), round(float(e), 3)) for s, e in regions if e - s >= options.min_s]


def _other(turns: Sequence[Turn], i: int) -> str | None:
    """The speaker of the nearest turn in time that is not turn i's speaker."""
    me = turns[i]
    others = [t for t in turns if t.speaker != me.speaker]
    if not others:
        return None
    mid = (me.start + me.end) / 2
    return min(others, key=lambda t: min(abs(t.start - mid), abs(t.end - mid))).speaker


def overlapped_turns(
    turns: Sequence[Turn], seg: Segmentation, options: OverlapOptions = OverlapOptions()
) -> list[Turn]:
    """``turns`` with every overlap the segmentation found placed in them (module docstring)."""
    out = sorted(turns, key=lambda t: (t.start, t.end))
    if len({t.speaker for t in out}) < 2:
        return out
    for s, e in overlap_regions(seg, options):
        if not faint_after_pause(seg, s, e, options):
            out = sorted(_place(out, s, e, options), key=lambda t: (t.start, t.end))
    return out


def faint_after_pause(
    seg: Segmentation, start: float, end: float, options: OverlapOptions = OverlapOptions()
) -> bool:
    """Whether the overlap ``start``-``end`` is faint (P(overlap) never above
    ``after_pause_max_p``) and the model heard no speech for ``after_pause_s`` in all in the
    ``pause_lookback_s`` before it: a voice starting after a pause, not one cutting into speech."""
    n = len(seg.overlap)
    if options.after_pause_s <= 0 or n == 0:
        return False
    f = seg.frame_s
    first = min(max(0, int(round(start / f))), n - 1)
    last = min(max(first + 1, int(round(end / f))), n)
    if float(seg.overlap[first:last].max()) > options.after_pause_max_p:
        return False
    # Within the first pause_lookback_s of a recording the lookback is shorter (it starts at 0 s).
    a = max(0, int(round((start - options.pause_lookback_s) / f)))
    return float((seg.speech[a:first] < 0.5).sum()) * f >= options.after_pause_s


def _place(turns: list[Turn], s: float, e: float, o: OverlapOptions) -> list[Turn]:
    near = lambda t: s - o.boundary_s <= t <= e + o.boundary_s  # noqa: E731
    # A change of speaker next to the overlap: the later voice started at s, the earlier went on to e.
    for i in range(len(turns) - 1):
        a, b = turns[i], turns[i + 1]
        if a.speaker != b.speaker and near(a.end) and near(b.start):
            turns[i] = replace(a, end=max(a.end, e))
            turns[i + 1] = replace(b, start=min(b.start, s))
            return turns
    inside = [i for i, t in enumerate(turns) if t.start <= s and t.end >= e]
    if not inside:
        return turns
    i = inside[0]
    turn, other = turns[i], _other(turns, i)
    if other is None:
        return turns
    # The pause-based regions often put a cut-in's change of speaker late (or a caller's last
    # words early): an overlap near the end of a turn, with the other voice's turn right after,
    # is where the other voice took over; near its start, with the other voice's turn right
    # before, where this one cut in.
    long_enough = e - s >= o.takeover_min_s
    # The turns either side in time: the one starting first after this one ends, and the one
    # ending last before it starts (not the last to start: a backchannel placed inside the turn
    # before starts after it).
    after = before = None
    if long_enough:
        after = min((t for t in turns if t.start >= turn.end), key=lambda t: t.start, default=None)
        before = max((t for t in turns if t.end <= turn.start), key=lambda t: t.end, default=None)
    if (
        after is not None
        and after.speaker != turn.speaker
        and turn.end - e <= o.takeover_s < s - turn.start
        and after.start - turn.end <= o.takeover_gap_s
    ):
        j = turns.index(after)
        turns[i], turns[j] = replace(turn, end=e), replace(after, start=s)
        return turns
    if (
        before is not None
        and before.speaker != turn.speaker
        and s - turn.start <= o.takeover_s < turn.end - e
        and turn.start - before.end <= o.takeover_gap_s
    ):
        j = turns.index(before)
        turns[i], turns[j] = replace(turn, start=s), replace(before, end=e)
        return turns
    return [*turns, replace(turn, speaker=other, start=s, end=e)]
