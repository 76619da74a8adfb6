"""Two voices from the segmentation model's windows, for calls the region clustering cannot split.

The clustering embeds whole VAD regions and groups them by their speaker vectors alone. Two
alike voices (CAM++ centroids at 0.75 and more, common on 8 kHz telephone audio) then fall into
one cluster, or into two clusters that each hold both parties, and every role rule abstains. The
segmentation model knows something the vectors do not: inside one 10 s window its two local
speakers are two different people. This module clusters the model's local speakers instead of
the regions, pyannote's way:

1. each window's local speakers, where one speaks alone long enough (``min_alone_s``), are
   embedded from that speaker's own frames only;
2. the embeddings are split into two voices by a two-means in the centred space
   (``clustering.centred``) under the model's cannot-link: a window's two local speakers always
   go to different voices, whichever way round is nearer the centroids;
3. every frame takes the voice of its local speaker in the window that centres it best, both
   voices where the model hears two at once; runs of frames become turns.

It is asked only where the clustering left the roles unsure (``attribution``, with ``[speech]
window_voices`` on; off by default, docs/evaluation.md), and its turns are kept only where the
words then tell the two parties apart with trusted roles and the split passes its checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.records import Turn
from pipeline.speakers.clustering import Embedder, VoicePrints, centred, cut, merge_turns
from pipeline.speakers.segmentation.model import Segmentation, powerset_classes


@dataclass(frozen=True)
class WindowVoiceOptions:
    # A local speaker is embedded when it speaks alone this long in its window.
    min_alone_s: float = 1.0
    # At most this much of its alone speech is embedded (its longest stretches first).
    max_embed_s: float = 4.0
    # Two-means rounds (it settles in two or three on a call).
    rounds: int = 10
    # Runs of one voice shorter than this are noise of the frame argmax, not a turn.
    min_turn_s: float = 0.2
    # A voice's turns are joined across pauses shorter than this in which the other does not start.
    merge_gap_s: float = 0.5
    # The voices are not kept where more than this share of the paired local speakers' speech was
    # given to a voice its own vector is farther from (``WindowVoices.forced``): the model's split
    # and the vectors disagree there. Development parts: 0-8 % where the voices came out right,
    # 28 % on the one call where the model's local speakers mixed the two parties.
    max_forced: float = 0.2
    # The split is made from this many starting pairs, and kept only where every start gives the
    # same voices to at least ``min_agreement`` of the embedded speech.
    starts: int = 3
    min_agreement: float = 0.9


@dataclass(frozen=True)
class WindowVoices:
    """What ``window_voices`` heard: the turns of the two voices and their prints."""

    turns: list[Turn]
    voices: VoicePrints
    similarity: float  # cosine of the two voices' centroids (raw embedder space)
    # The share of the paired local speakers' speech (seconds) whose own vector is nearer the
    # voice the other one of its window was given: where the model's split and the vectors
    # disagree, and the model's word was taken.
    forced: float = 0.0
    # The least share of the embedded speech (seconds) given the same voice when the split is
    # started from another of the surest pairs (``WindowVoiceOptions.starts``).
    agreement: float = 1.0


@dataclass(frozen=True)
class _Local:
    window: int
    local: int
    seconds: float


def _local_labels(seg: Segmentation) -> tuple[np.ndarray, np.ndarray]:
    """Per window and frame, the local speaker heard alone (-1 for nobody or both), and whether
    two are heard at once."""
    classes = powerset_classes(seg.windows.shape[2])
    alone = np.array([next(iter(c)) if len(c) == 1 else -1 for c in classes])
    both = np.array([len(c) >= 2 for c in classes])
    best = seg.windows.argmax(axis=2)
    return alone[best], both[best]


def _stretches(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of every run of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _two_means(
    vectors: np.ndarray, weights: np.ndarray, pairs: list[tuple[int, int]], rounds: int, start: int = 0
) -> np.ndarray | None:
    """A voice (0 or 1) per vector: two-means on cosine, the two of every pair always apart,
    started from the ``start``-th surest pair (the windows whose quieter speaker said the most)."""
    if len(pairs) <= start:
        return None
    a, b = sorted(pairs, key=lambda p: min(weights[p[0]], weights[p[1]]), reverse=True)[start]
    centroids = np.stack([vectors[a], vectors[b]])
    labels = np.zeros(len(vectors), dtype=int)
    for round_ in range(rounds):
        near = vectors @ centroids.T
        new = np.argmax(near, axis=1)
        for i, j in pairs:
            straight = near[i, 0] + near[j, 1]
            crossed = near[i, 1] + near[j, 0]
            new[i], new[j] = (0, 1) if straight >= crossed else (1, 0)
        if round_ > 0 and np.array_equal(new, labels):
            break
        labels = new
        if len(set(labels.tolist())) < 2:
            return None
        centroids = _centroids(vectors, weights, labels)
    return labels


def window_voices(
    samples: np.ndarray,
    seg: Segmentation,
    embedder: Embedder,
    options: WindowVoiceOptions = WindowVoiceOptions(),
) -> WindowVoices | None:
    """Two voices' turns from the model's local speakers (module doc), or None where no window
    holds two local speakers each alone long enough to embed (the model heard one voice)."""
    total = len(seg.speech)
    if total == 0 or len(seg.window_starts) == 0:
        return None
    alone, both = _local_labels(seg)
    per_window = seg.windows.shape[1]
    min_frames = options.min_alone_s / seg.frame_s
    locals_: list[_Local] = []
    clips: list[np.ndarray] = []
    for w, first in enumerate(seg.window_starts.tolist()):
        last = min(total, first + per_window)
        for loc in (0, 1):
            mask = alone[w, : last - first] == loc
            if mask.sum() < min_frames:
                continue
            # The local speaker's longest stretches, up to max_embed_s, in order of time.
            runs = sorted(_stretches(mask), key=lambda r: r[1] - r[0], reverse=True)
            kept, seconds = [], 0.0
            for s, e in runs:
                if seconds >= options.max_embed_s:
                    break
                kept.append((s, e))
                seconds += (e - s) * seg.frame_s
            pieces = [
                cut(samples, (first + s) * seg.frame_s, (first + e) * seg.frame_s) for s, e in sorted(kept)
            ]
            clips.append(np.concatenate(pieces).astype(np.float32))
            locals_.append(_Local(w, loc, seconds))
    pairs = [(i, i + 1) for i in range(len(locals_) - 1) if locals_[i].window == locals_[i + 1].window]
    if not pairs or len(locals_) < 3:
        return None
    raw = embedder.embed_many(clips)
    vectors = centred(raw)
    weights = np.array([x.seconds for x in locals_])
    labels = _two_means(vectors, weights, pairs, options.rounds)
    if labels is None:
        return None
    # The same split started from the next surest pairs: a split that depends on where it starts
    # is not one the voices support.
    agreement = 1.0
    for start in range(1, options.starts):
        other = _two_means(vectors, weights, pairs, options.rounds, start)
        if other is not None:
            same = float(weights[other == labels].sum() / weights.sum())
            agreement = min(agreement, max(same, 1 - same))
    voice_of = {(x.window, x.local): int(k) for x, k in zip(locals_, labels, strict=True)}
    # A local speaker too short to embed, in a window whose other one was: the other voice.
    for w in range(len(seg.window_starts)):
        for loc in (0, 1):
            other = voice_of.get((w, 1 - loc))
            if (w, loc) not in voice_of and other is not None:
                voice_of[(w, loc)] = 1 - other
    best = seg.centring_windows()
    active = np.zeros((2, total), dtype=bool)
    for f in range(total):
        w = int(best[f])
        i = f - int(seg.window_starts[w])
        if not 0 <= i < per_window:
            continue
        if both[w, i]:
            active[:, f] = True
        elif alone[w, i] >= 0 and (v := voice_of.get((w, int(alone[w, i])))) is not None:
            active[v, f] = True
    turns = [
        Turn(f"spk{v}", "unknown", round(s * seg.frame_s, 3), round(e * seg.frame_s, 3), 0)
        for v in (0, 1)
        for s, e in _stretches(active[v])
        if (e - s) * seg.frame_s >= options.min_turn_s
    ]
    if len({t.speaker for t in turns}) < 2:
        return None
    centroids = _centroids(raw, weights, labels)
    similarity = float(centroids[0] @ centroids[1])
    prints = VoicePrints(("spk0", "spk1"), centroids, raw.mean(axis=0))
    paired = sorted({i for pair in pairs for i in pair})
    own = np.argmax(vectors[paired] @ _centroids(vectors, weights, labels).T, axis=1)
    forced = float(weights[paired][own != labels[paired]].sum() / max(weights[paired].sum(), 1e-9))
    return WindowVoices(
        merge_turns(turns, options.merge_gap_s), prints, similarity, round(forced, 3), round(agreement, 3)
    )


def _centroids(vectors: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The two voices' centroids, each vector weighted by its seconds, L2-normalised."""
    out = np.stack([(vectors[labels == k] * weights[labels == k, None]).sum(axis=0) for k in (0, 1)])
    return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-12)
