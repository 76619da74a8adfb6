"""Decoding recordings to float32 16 kHz, one array per channel (PyAV, already a faster-whisper dependency)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000


class DecodeError(RuntimeError):
    """The recording cannot be decoded; the call fails, the batch goes on."""


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # (channels, n) float32 in [-1, 1] at SAMPLE_RATE
    source_rate: int
    codec: str

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / SAMPLE_RATE

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=0) if self.channels > 1 else self.samples[0]


def _expected_samples(stream) -> int:
    """Samples at 16 kHz the container announces (0 when it does not say)."""
    if stream.duration is None or stream.time_base is None:
        return 0
    return int(float(stream.duration * stream.time_base) * SAMPLE_RATE) + SAMPLE_RATE


class _Growing:
    """Decoded audio written into one preallocated array (doubling if the container understated
    its length): an hour-long call never exists twice in memory, as a list of chunks and a copy."""

    def __init__(self, channels: int, expected: int) -> None:
        self._data = np.empty((channels, max(expected, SAMPLE_RATE)), np.float32)
        self._n = 0

    def append(self, chunk: np.ndarray) -> None:
        end = self._n + chunk.shape[1]
        if end > self._data.shape[1]:
            grown = np.empty((self._data.shape[0], max(end, 2 * self._data.shape[1])), np.float32)
            grown[:, : self._n] = self._data[:, : self._n]
            self._data = grown
        self._data[:, self._n : end] = chunk
        self._n = end

    def result(self) -> np.ndarray:
        return self._data[:, : self._n]


def decode(path: str | Path, max_channels: int = 2) -> Audio:
    """Decode any container/codec PyAV knows (WAV PCM/G.711, FLAC, MP3 ...) and resample to 16 kHz."""
    import av

    path = Path(path)
    if not path.is_file():
        raise DecodeError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise DecodeError(f"empty file: {path}")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise DecodeError(f"no audio stream in {path.name}")
            stream = container.streams.audio[0]
            n_channels = stream.codec_context.channels or 1
            if n_channels > max_channels:
                raise DecodeError(f"{path.name}: {n_channels} channels; expected mono or stereo")
            layout = "stereo" if n_channels == 2 else "mono"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
            buffer = _Growing(n_channels, _expected_samples(stream))
            for frame in container.decode(stream):
                frame.pts = None  # PyAV's resampler rejects non-monotonic pts in some WAV files
                for out in resampler.resample(frame):
                    buffer.append(out.to_ndarray())
            for out in resampler.resample(None):
                buffer.append(out.to_ndarray())
            source_rate = stream.codec_context.sample_rate or 0
            codec = stream.codec_context.name
    except DecodeError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise DecodeError(f"cannot decode {path.name}: {exc}") from exc
    samples = buffer.result()
    if samples.shape[1] == 0:
        raise DecodeError(f"no audio samples in {path.name}")
    if samples.shape[1] < SAMPLE_RATE // 10:
        raise DecodeError(f"{path.name}: shorter than 0.1 s")
    return Audio(samples=samples, source_rate=source_rate, codec=codec)
