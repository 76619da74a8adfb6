"""Run a segmentation ONNX over a whole recording in sliding 10 s windows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
WINDOW_S = 10.0


@lru_cache(maxsize=4)
def powerset_classes(n_classes: int) -> tuple[frozenset[int], ...]:
    """The local speakers of each powerset class: 4 -> two speakers, 7 -> three, at most two at once."""
    for speakers in range(1, 8):
        sets = [frozenset(c) for size in range(3) for c in itertools.combinations(range(speakers), size)]
        if len(sets) == n_classes:
            return tuple(sets)
        if len(sets) > n_classes:
            break
    raise ValueError(f"{n_classes} classes is not a powerset of speakers taken at most two at once")


@dataclass(frozen=True)
class Segmentation:
    """What a segmentation model heard in one recording.

    ``speech`` and ``overlap`` are probabilities per frame of the whole recording (averaged over
    the windows that saw the frame); ``windows`` keeps each window's class probabilities, for
    who-is-who inside a window (``changes``)."""

    frame_s: float
    speech: np.ndarray  # (frames,) P(anyone speaks)
    overlap: np.ndarray  # (frames,) P(two or more speak)
    window_starts: np.ndarray  # (windows,) first frame of each window
    windows: np.ndarray  # (windows, frames per window, classes)

    def centring_windows(self) -> np.ndarray:
        """For each frame of the recording, the window that centres it best (a window's edges are
        the least sure): the nearer of the two centres either side of the frame, with no frames x
        windows matrix (an hour has 180 000 frames)."""
        centres = self.window_starts + self.windows.shape[1] / 2
        frames = np.arange(len(self.speech))
        right = np.clip(np.searchsorted(centres, frames), 0, len(centres) - 1)
        left = np.clip(right - 1, 0, len(centres) - 1)
        return np.where(np.abs(frames - centres[left]) <= np.abs(centres[right] - frames), left, right)


def window_offsets(n: int, window: int, step: int) -> list[int]:
    """First sample of every window over ``n`` samples: every ``step`` until a window reaches the
    end (the last one, like a recording shorter than a window, is padded with silence)."""
    return list(range(0, max(1, n - window + step), step))


class Segmenter:
    """A segmentation ONNX behind the contract of ``pipeline.speakers.segmentation``, run with onnxruntime.

    ``step_s`` is the hop between windows: each frame is seen by ``WINDOW_S / step_s`` windows
    and their probabilities are averaged (the edges of a window are the least sure)."""

    def __init__(self, path: Path, threads: int = 1, step_s: float = 5.0, batch: int = 8) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self.step_s, self.batch = step_s, batch

    def __call__(self, samples: np.ndarray) -> Segmentation:
        window = int(WINDOW_S * SAMPLE_RATE)
        step = int(self.step_s * SAMPLE_RATE)
        n = len(samples)
        starts = window_offsets(n, window, step)
        outputs = []
        for k in range(0, len(starts), self.batch):
            chunk = np.zeros((len(starts[k : k + self.batch]), 1, window), np.float32)
            for j, s in enumerate(starts[k : k + self.batch]):
                piece = np.asarray(samples[s : s + window], dtype=np.float32)
                chunk[j, 0, : len(piece)] = piece
            outputs.append(self._session.run(None, {self._input: chunk})[0])
        log_probs = np.concatenate(outputs)  # (windows, frames, classes)
        probs = np.exp(log_probs - log_probs.max(axis=2, keepdims=True))
        probs /= probs.sum(axis=2, keepdims=True)
        per_window = probs.shape[1]
        frame_s = WINDOW_S / per_window
        total = int(np.ceil(n / SAMPLE_RATE / frame_s))
        classes = powerset_classes(probs.shape[2])
        nobody = [i for i, c in enumerate(classes) if not c]
        several = [i for i, c in enumerate(classes) if len(c) >= 2]
        speech, overlap, seen = np.zeros(total), np.zeros(total), np.zeros(total)
        window_starts = np.array([int(round(s / SAMPLE_RATE / frame_s)) for s in starts])
        for w, first in enumerate(window_starts):
            last = min(total, first + per_window)
            if last <= first:
                continue
            p = probs[w, : last - first]
            speech[first:last] += 1 - p[:, nobody].sum(axis=1)
            overlap[first:last] += p[:, several].sum(axis=1)
            seen[first:last] += 1
        seen = np.maximum(seen, 1)
        return Segmentation(frame_s, speech / seen, overlap / seen, window_starts, probs)


@lru_cache(maxsize=2)
def load_segmenter(path: str) -> Segmenter:
    """One segmenter per model file and worker process."""
    return Segmenter(Path(path))
