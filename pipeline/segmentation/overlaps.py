"""Overlapped speech on a mono recording, and what it does to the turns.

The clustering gives each speech region one voice; where two parties speak at once the VAD sees
one region and the turns never overlap, so the interruption rules see nothing. An overlap the
segmentation model finds is placed where it belongs:

- at a change of speaker (one turn ends and the other voice's begins within ``boundary_s``): the
  newcomer started at the overlap's start and the other party went on to its end, so the two
  turns are stretched to overlap there;
- inside one turn: if the voice speaking alone after the overlap is not the one before it (the
  same window's local speakers say so), the turn changes hands there (a cut-in the pause-based
  regions could not split); otherwise the other party said something short over it (a
  backchannel, a failed cut-in), which becomes a turn of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.records import Turn
from pipeline.segmentation.model import Segmentation

Region = tuple[float, float]


@dataclass(frozen=True)
class OverlapOptions:
    threshold: float = 0.5  # P(two or more speak) above which a frame is overlapped
    min_s: float = 0.12  # shorter overlaps are ignored (a breath, a click)
    bridge_s: float = 0.12  # overlapped stretches this close are one
    boundary_s: float = 0.8  # a speaker change this close to an overlap is where it happened
    context_s: float = 1.0  # how much speech alone on each side tells who went on


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
    return [(round(s, 3), round(e, 3)) for s, e in regions if e - s >= options.min_s]


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
    out = sorted(turns, key=lambda t: t.start)
    if len({t.speaker for t in out}) < 2:
        return out
    for s, e in overlap_regions(seg, options):
        out = _place(out, s, e, seg, options)
    return sorted(out, key=lambda t: (t.start, t.end))


def _place(turns: list[Turn], s: float, e: float, seg: Segmentation, o: OverlapOptions) -> list[Turn]:
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
    w, before = seg.local_speaker(max(turn.start, s - o.context_s), s)
    after = seg.speaker_in_window(w, e, min(turn.end, e + o.context_s))
    if before is not None and after is not None and before != after and turn.end - e > 0.3:
        # The turn changes hands in the overlap. The clustering gave the whole region one voice,
        # the one heard longest: that voice keeps the longer side.
        first_is_mine = s - turn.start >= turn.end - e
        head = replace(turn, end=e, speaker=turn.speaker if first_is_mine else other)
        tail = replace(turn, start=s, speaker=other if first_is_mine else turn.speaker)
        return [*turns[:i], head, tail, *turns[i + 1 :]]
    return [*turns, replace(turn, speaker=other, start=s, end=e)]
