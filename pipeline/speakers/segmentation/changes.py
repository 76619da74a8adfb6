"""Changes of speaker inside a mono turn, from the segmentation model's local speakers.

A reply that follows without a pause (你好 straight after the agent's 您好, a caller's last
syllable under the agent's goodbye) leaves one VAD region, and the clustering gives it one voice.
Inside each 10 s window the segmentation model tells its two local speakers apart frame by frame;
the turns the clustering already labelled say which local speaker is which voice (the one that
co-occurs most with it), and a stretch of at least ``min_piece_s`` in which the other voice
speaks alone becomes a turn of its own.

Each frame is read from the window that centres it best (a window's edges are the least sure).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.records import Turn
from pipeline.speakers.clustering import give_span
from pipeline.speakers.segmentation.model import Segmentation, powerset_classes


@dataclass(frozen=True)
class ChangeOptions:
    min_piece_s: float = 0.5  # the other voice alone at least this long makes a turn of its own
    min_support_s: float = 1.0  # a local speaker is named after a voice seen with it this long
    # An unsure region (settle_unsure) goes to the voice heard alone in this share of its frames,
    unsure_min_share: float = 0.6
    # unless two voices are heard at once in it this much (mean P(overlap)): a region that holds
    # both is the overlap placement's to divide.
    unsure_max_overlap: float = 0.25


def frame_voices(turns: Sequence[Turn], seg: Segmentation, options: ChangeOptions = ChangeOptions()) -> list:
    """Per frame of the recording: the voice speaking alone (a turn's speaker name), or None."""
    n_windows, per_window, n_classes = seg.windows.shape
    classes = powerset_classes(n_classes)
    local_of_class = np.array([next(iter(c)) if len(c) == 1 else -1 for c in classes])
    total = len(seg.speech)
    best = seg.centring_windows()
    # Who the turns say speaks in each frame.
    said = np.full(total, "", dtype=object)
    for t in turns:
        said[int(t.start / seg.frame_s) : int(np.ceil(t.end / seg.frame_s))] = t.speaker
    voices = sorted({t.speaker for t in turns})
    out: list = [None] * total
    for w in range(n_windows):
        first = seg.window_starts[w]
        last = min(total, first + per_window)
        if last <= first:
            continue
        local = local_of_class[seg.windows[w, : last - first].argmax(axis=1)]
        labels = said[first:last]
        # Frames where local speaker loc speaks alone while the turns say voice v.
        support = {
            (loc, v): int(((local == loc) & (labels == v)).sum())
            for loc in set(local.tolist()) - {-1}
            for v in voices
        }
        names = _name_locals(support, voices, options.min_support_s / seg.frame_s)
        mine = np.flatnonzero(best[first:last] == w)
        for i in mine:
            out[first + i] = names.get(int(local[i]))
    return out


def alone_voice(
    turns: Sequence[Turn], seg: Segmentation, min_share: float = 0.6, options: ChangeOptions = ChangeOptions()
) -> Callable[[float, float], str | None]:
    """Who the model hears alone over a stretch of time: the voice (a turn's speaker) alone in at
    least ``min_share`` of its frames, else None. Local speakers are named as ``frame_voices``
    names them, from ``turns``."""
    voices = frame_voices(turns, seg, options) if len({t.speaker for t in turns}) == 2 else []

    def heard(start: float, end: float) -> str | None:
        a = max(0, int(start / seg.frame_s))
        b = min(len(voices), max(a + 1, int(np.ceil(end / seg.frame_s))))
        named = [v for v in voices[a:b] if v is not None]
        if not named:
            return None
        voice = max(set(named), key=named.count)
        return voice if named.count(voice) >= min_share * (b - a) else None

    return heard


def _name_locals(support: dict[tuple[int, str], int], voices: list[str], min_frames: float) -> dict[int, str]:
    """Local speaker -> voice: the pairing with the most co-occurring frames, each local speaker
    named only with enough support (or, in a two-voice call, as the other voice of a named one)."""
    locals_ = sorted({loc for loc, _ in support})
    best: dict[int, str] = {}
    if len(voices) == 2 and len(locals_) >= 2:
        a, b = locals_[:2]
        straight = support.get((a, voices[0]), 0) + support.get((b, voices[1]), 0)
        crossed = support.get((a, voices[1]), 0) + support.get((b, voices[0]), 0)
        pairing = {a: voices[0], b: voices[1]} if straight >= crossed else {a: voices[1], b: voices[0]}
        seen = {loc: support.get((loc, v), 0) for loc, v in pairing.items()}
        if max(seen.values()) >= min_frames:
            return pairing  # one local speaker well placed names the other by elimination
        return {}
    for loc in locals_:
        v, count = max(((v, support.get((loc, v), 0)) for v in voices), key=lambda kv: kv[1])
        if count >= min_frames:
            best[loc] = v
    return best


# A proposed change of voice: (start s, end s, the voice proposed, the voice of the turn it is in).
Change = tuple[float, float, str, str]


def split_turns(
    turns: Sequence[Turn],
    seg: Segmentation,
    options: ChangeOptions = ChangeOptions(),
    confirm: Callable[[list[Change]], list[bool]] | None = None,
) -> list[Turn]:
    """``turns`` split where another voice speaks alone for at least ``min_piece_s`` inside them.

    With ``confirm``, a proposed piece becomes a turn only where ``confirm`` says the speech there
    is the proposed voice's (the speaker vectors, ``attribution``): the model's local speakers
    also split one voice in two inside a window, and naming the stray half by elimination gives
    it to the other party."""
    if len({t.speaker for t in turns}) < 2:
        return list(turns)
    voices = frame_voices(turns, seg, options)
    min_frames = int(round(options.min_piece_s / seg.frame_s))
    proposed: list[tuple[Turn, int, list[tuple[int, int, str]]]] = []
    for turn in turns:
        a = int(turn.start / seg.frame_s)
        b = min(len(voices), int(np.ceil(turn.end / seg.frame_s)))
        runs = _runs([v if v is not None else turn.speaker for v in voices[a:b]])
        proposed.append((turn, a, [(s, e, str(v)) for s, e, v in runs]))
    verdicts: dict[tuple[int, int], bool] = {}
    if confirm is not None:
        asked = [
            (k, s, (a + s) * seg.frame_s, (a + e) * seg.frame_s, v, turn.speaker)
            for k, (turn, a, runs) in enumerate(proposed)
            for s, e, v in runs
            if v != turn.speaker and e - s >= min_frames
        ]
        answers = confirm([(s, e, v, host) for _, _, s, e, v, host in asked]) if asked else []
        verdicts = {(k, s): ok for (k, s, *_), ok in zip(asked, answers, strict=True)}
    out: list[Turn] = []
    for k, (turn, a, runs) in enumerate(proposed):
        pieces: list[list] = []
        for start, end, voice in runs:
            if voice != turn.speaker and (end - start < min_frames or not verdicts.get((k, start), True)):
                voice = turn.speaker  # too short to be a turn, or not that voice: stays with the turn
            if pieces and pieces[-1][2] == voice:
                pieces[-1][1] = end
            else:
                pieces.append([start, end, voice])
        pieces = _edges_joined(pieces, min_frames)
        if len(pieces) <= 1:
            out.append(turn)
            continue
        for k, (start, end, voice) in enumerate(pieces):
            s = turn.start if k == 0 else round((a + start) * seg.frame_s, 3)
            e = turn.end if k == len(pieces) - 1 else round((a + end) * seg.frame_s, 3)
            out.append(replace(turn, speaker=voice, start=s, end=e))
    return sorted(out, key=lambda t: (t.start, t.end))


def _edges_joined(pieces: list[list], min_frames: int) -> list[list]:
    """The pieces of a split turn, a first or last one shorter than ``min_frames`` joined to its
    neighbour: the turn's edges are the VAD's, a few frames before (after) the model hears the
    voice that opens (ends) it, and a sliver there is not a turn of the host's voice (BD0199 of the
    development part: the caller's turn from 1.63 s, the agent's 阳光物业，讲 heard from 1.70 s,
    left a 0.07 s caller turn before it, which the overlap after it then stretched over it)."""
    if len(pieces) > 1 and pieces[0][1] - pieces[0][0] < min_frames:
        pieces = [[pieces[0][0], pieces[1][1], pieces[1][2]], *pieces[2:]]
    if len(pieces) > 1 and pieces[-1][1] - pieces[-1][0] < min_frames:
        pieces = [*pieces[:-2], [pieces[-2][0], pieces[-1][1], pieces[-2][2]]]
    return pieces


def settle_unsure(
    turns: Sequence[Turn],
    seg: Segmentation,
    unsure: Sequence[tuple[float, float]],
    options: ChangeOptions = ChangeOptions(),
) -> list[Turn]:
    """``turns`` with each unsure region (one whose d-vector is nearly as near one voice as the
    other, ``speakers.MonoSpeakers.unsure``) given to the voice the segmentation model hears alone
    in most of it, where that is not the voice the clustering guessed.

    Two alike voices leave some regions between them: the clustering's label there is a coin
    toss (an agent's words after her cut-in given to the caller she cut off), while the model,
    which compares the two voices inside one 10 s window, often still tells them apart.
    """
    if not unsure or len({t.speaker for t in turns}) != 2:
        return list(turns)
    heard = alone_voice(turns, seg, options.unsure_min_share, options)
    out = list(turns)
    for s, e in unsure:
        a, b = int(s / seg.frame_s), min(len(seg.speech), int(np.ceil(e / seg.frame_s)))
        if b <= a or seg.overlap[a:b].mean() >= options.unsure_max_overlap:
            continue
        voice = heard(s, e)
        if voice is None or _holder(out, s, e) == voice:
            continue
        out = give_span(out, s, e, voice)
    return sorted(out, key=lambda t: (t.start, t.end))


def _middle(start: float, end: float, most: float) -> tuple[float, float]:
    """The middle ``most`` seconds of ``start``-``end`` (all of it if shorter)."""
    if most <= 0 or end - start <= most:
        return start, end
    centre = (start + end) / 2
    return centre - most / 2, centre + most / 2


def _holder(turns: Sequence[Turn], s: float, e: float) -> str | None:
    """The speaker whose turns cover most of ``s``-``e``."""
    held: dict[str, float] = {}
    for t in turns:
        held[t.speaker] = held.get(t.speaker, 0.0) + max(0.0, min(e, t.end) - max(s, t.start))
    return max(held, key=held.get) if held and max(held.values()) > 0 else None


def _runs(values: list) -> list[tuple[int, int, object]]:
    runs: list[tuple[int, int, object]] = []
    for i, v in enumerate(values):
        if runs and runs[-1][2] == v:
            runs[-1] = (runs[-1][0], i + 1, v)
        else:
            runs.append((i, i + 1, v))
    return runs


@dataclass(frozen=True)
class PauseOptions:
    # The model hears nobody (P(speech) under ``speech_threshold``) this long inside a turn: a
    # place where the other party may have taken over.
    min_pause_s: float = 0.1
    speech_threshold: float = 0.5
    # A stretch between two such pauses shorter than this joins its neighbour: a speaker vector
    # of less than this much speech is noise.
    min_piece_s: float = 0.8
    # A longer stretch is asked about by this much of its middle (0: all of it).
    max_embed_s: float = 2.0


def split_at_pauses(
    turns: Sequence[Turn],
    seg: Segmentation,
    confirm: Callable[[list[Change]], list[bool]],
    options: PauseOptions = PauseOptions(),
) -> list[Turn]:
    """``turns`` cut at the short pauses the model hears inside them, each stretch between two
    pauses given to the other voice where ``confirm`` (the speaker vectors) says it is that voice.

    The agent's 再见 and the caller's 等一下 straight after it, a pause of 0.1-0.3 s between them,
    are one VAD region, and the clustering gives the region one voice. The model's local
    speakers often tell that two voices speak there but not which is which (after an overlap, or
    named by elimination in a window that holds little of one voice: ``split_turns`` then
    proposes the wrong stretch, and the vectors rightly refuse it). The model's pauses are where
    to look and the speaker vectors say whose each side is; neither needs the other's naming."""
    voices = sorted({t.speaker for t in turns})
    if len(voices) != 2:
        return list(turns)
    min_pause = max(1, int(round(options.min_pause_s / seg.frame_s)))
    min_piece = options.min_piece_s / seg.frame_s
    pieces_of: list[tuple[Turn, list[tuple[float, float]]]] = []
    for turn in turns:
        a = int(turn.start / seg.frame_s)
        b = min(len(seg.speech), int(np.ceil(turn.end / seg.frame_s)))
        quiet = seg.speech[a:b] < options.speech_threshold
        breaks = [
            (s, e) for s, e, q in _runs(quiet.tolist()) if q and e - s >= min_pause and s > 0 and e < b - a
        ]
        edges = [0] + [x for pause in breaks for x in pause] + [b - a]
        spans = list(zip(edges[::2], edges[1::2], strict=True))  # speech between the pauses
        # Join pieces too short to embed to their neighbour (the following one, the last to the one before).
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and merged[-1][1] - merged[-1][0] < min_piece:
                merged[-1][1] = e
            else:
                merged.append([s, e])
        if len(merged) > 1 and merged[-1][1] - merged[-1][0] < min_piece:
            last = merged.pop()
            merged[-1][1] = last[1]
        cuts = [((a + s) * seg.frame_s, (a + e) * seg.frame_s) for s, e in merged]
        pieces_of.append((turn, cuts if len(cuts) > 1 else []))
    asked = [
        (
            k,
            j,
            *_middle(s, e, options.max_embed_s),
            next(v for v in voices if v != turn.speaker),
            turn.speaker,
        )
        for k, (turn, cuts) in enumerate(pieces_of)
        for j, (s, e) in enumerate(cuts)
    ]
    if not asked:
        return list(turns)
    answers = confirm([(s, e, v, host) for _, _, s, e, v, host in asked])
    moved = {(k, j): v for (k, j, _, _, v, _), ok in zip(asked, answers, strict=True) if ok}
    out: list[Turn] = []
    for k, (turn, cuts) in enumerate(pieces_of):
        if not any((k, j) in moved for j in range(len(cuts))):
            out.append(turn)
            continue
        parts: list[list] = []
        for j, (s, e) in enumerate(cuts):
            voice = moved.get((k, j), turn.speaker)
            if parts and parts[-1][2] == voice:
                parts[-1][1] = e
            else:
                parts.append([s, e, voice])
        parts[0][0], parts[-1][1] = turn.start, turn.end
        out += [replace(turn, speaker=v, start=round(s, 3), end=round(e, 3)) for s, e, v in parts]
    return sorted(out, key=lambda t: (t.start, t.end))
