"""Decoding recordings to float32 16 kHz tracks, one per channel (PyAV, a faster-whisper dependency).

A call's decoded audio is 3.8 MB per channel-minute. Short calls stay in memory; from
``spool_after_s`` on, the tracks are written to unlinked temporary files and every stage reads the
slices it needs, so a worker's memory does not grow with the length of the call. Both kinds of
track are sliced like a 1-D numpy array (``track[a:b]``, ``len(track)``): stages need not care.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import numpy as np

SAMPLE_RATE = 16000
SPOOL_AFTER_S = 600.0
_ITEM = np.dtype(np.float32).itemsize


class DecodeError(RuntimeError):
    """The recording cannot be decoded; the call fails, the batch goes on."""


class Signal(Protocol):
    """A 1-D float32 track at 16 kHz: an ndarray, or a spooled or mixed track read on demand."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice) -> np.ndarray: ...


class SpooledTrack:
    """One channel in an unlinked temporary file, read slice by slice with ``os.pread``."""

    def __init__(self, file: IO[bytes], n: int) -> None:
        self._file = file
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("spooled tracks support contiguous slices only")
        start, stop, _ = index.indices(self._n)
        if stop <= start:
            return np.zeros(0, np.float32)
        data = os.pread(self._file.fileno(), (stop - start) * _ITEM, start * _ITEM)
        return np.frombuffer(bytearray(data), np.float32)

    def close(self) -> None:
        self._file.close()


class MixedTrack:
    """The average of several tracks, computed per slice (a stereo file scored as mono)."""

    def __init__(self, tracks: Sequence[Signal]) -> None:
        self._tracks = tuple(tracks)

    def __len__(self) -> int:
        return len(self._tracks[0])

    def __getitem__(self, index: slice) -> np.ndarray:
        return np.mean([t[index] for t in self._tracks], axis=0).astype(np.float32)


@dataclass(frozen=True)
class Audio:
    tracks: tuple[Signal, ...]  # one per channel, float32 in [-1, 1] at SAMPLE_RATE
    source_rate: int
    codec: str

    @property
    def channels(self) -> int:
        return len(self.tracks)

    @property
    def n_samples(self) -> int:
        return len(self.tracks[0])

    @property
    def duration(self) -> float:
        return self.n_samples / SAMPLE_RATE

    @property
    def spooled(self) -> bool:
        return any(isinstance(t, SpooledTrack) for t in self.tracks)

    @property
    def samples(self) -> np.ndarray:
        """(channels, n) in memory. For short calls and tests; a spooled call is read whole here."""
        return np.stack([t[0 : len(t)] for t in self.tracks])

    def mono(self) -> Signal:
        return self.tracks[0] if self.channels == 1 else MixedTrack(self.tracks)

    def close(self) -> None:
        """Release the temporary files of a spooled call (also done when it is garbage-collected)."""
        for track in self.tracks:
            if isinstance(track, SpooledTrack):
                track.close()

    def __enter__(self) -> Audio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _expected_samples(stream) -> int:
    """Samples at 16 kHz the container announces (0 when it does not say)."""
    if stream.duration is None or stream.time_base is None:
        return 0
    return int(float(stream.duration * stream.time_base) * SAMPLE_RATE) + SAMPLE_RATE


class _TrackWriter:
    """Decoded chunks go into one preallocated array (grown by doubling if the container
    understated its length) until ``spool_after`` samples, then into per-channel temporary files.
    Nothing is ever held twice: no list of chunks plus a concatenated copy."""

    def __init__(self, channels: int, expected: int, spool_after: int, spool_dir: str | None) -> None:
        self._spool_after = spool_after
        self._spool_dir = spool_dir
        self._data = np.empty((channels, min(max(expected, SAMPLE_RATE), spool_after)), np.float32)
        self._n = 0
        self._files: list[IO[bytes]] = []

    def append(self, chunk: np.ndarray) -> None:
        end = self._n + chunk.shape[1]
        if not self._files and end > self._spool_after:
            self._spill()
        if self._files:
            for file, row in zip(self._files, chunk, strict=True):
                file.write(np.ascontiguousarray(row, np.float32).tobytes())
            self._n = end
            return
        if end > self._data.shape[1]:
            grown = np.empty((self._data.shape[0], max(end, 2 * self._data.shape[1])), np.float32)
            grown[:, : self._n] = self._data[:, : self._n]
            self._data = grown
        self._data[:, self._n : end] = chunk
        self._n = end

    def _spill(self) -> None:
        # TemporaryFile is unlinked at once: nothing is left behind, even if the worker is killed.
        self._files = [
            tempfile.TemporaryFile(prefix="callqa-", dir=self._spool_dir)  # noqa: SIM115 (closed by Audio.close)
            for _ in self._data
        ]
        for file, row in zip(self._files, self._data[:, : self._n], strict=True):
            file.write(row.tobytes())
        self._data = np.empty((len(self._files), 0), np.float32)

    @property
    def n_samples(self) -> int:
        return self._n

    def close(self) -> None:
        for file in self._files:
            file.close()

    def result(self) -> tuple[Signal, ...]:
        if not self._files:
            return tuple(self._data[:, : self._n])
        for file in self._files:
            file.flush()
        return tuple(SpooledTrack(file, self._n) for file in self._files)


# A file whose header announces more audio than it holds by more than this is an incomplete copy.
TRUNCATION_TOLERANCE_S = 0.2
_WAV_SIZE_PLACEHOLDERS = (0, 0x7FFFFFFF, 0xFFFFFFFF)  # recorders that stream write these


def _wav_announced_s(path: Path) -> float | None:
    """The length the RIFF header's ``data`` chunk announces (FFmpeg reports what is there)."""
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        byte_rate = 0
        while len(chunk := f.read(8)) == 8:
            name, size = chunk[:4], int.from_bytes(chunk[4:], "little")
            if name == b"fmt ":
                byte_rate = int.from_bytes(f.read(size + (size & 1))[8:12], "little")
            elif name == b"data":
                return size / byte_rate if byte_rate and size not in _WAV_SIZE_PLACEHOLDERS else None
            else:
                f.seek(size + (size & 1), os.SEEK_CUR)
    return None


def _flac_announced_s(path: Path) -> float | None:
    """Total samples / sample rate of the STREAMINFO block (0 samples: the encoder did not know)."""
    with open(path, "rb") as f:
        head = f.read(42)
    if len(head) < 42 or head[:4] != b"fLaC":
        return None
    bits = int.from_bytes(head[18:26], "big")  # STREAMINFO bytes 10-17
    rate, total = bits >> 44, bits & ((1 << 36) - 1)
    return total / rate if rate and total else None


def _mp3_has_length_header(path: Path) -> bool:
    """A Xing/Info/VBRI header: the frame count is known, so the announced length is exact."""
    with open(path, "rb") as f:
        head = f.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:
            skip = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
        f.seek(skip)
        first = f.read(4096)
    return any(tag in first for tag in (b"Xing", b"Info", b"VBRI"))


def announced_seconds(path: Path, container_format: str, stream) -> float | None:
    """How long the file says it is, where the header says it exactly (WAV, FLAC, MP3 with a
    Xing/Info header); None where the length is only an estimate (or unknown)."""
    if container_format == "wav":
        return _wav_announced_s(path)
    if container_format == "flac":
        return _flac_announced_s(path)
    if container_format == "mp3" and stream.duration and stream.time_base and _mp3_has_length_header(path):
        return float(stream.duration * stream.time_base)
    return None


def _check_complete(path: Path, announced: float | None, n_samples: int) -> None:
    held = n_samples / SAMPLE_RATE
    if announced is not None and held < announced - TRUNCATION_TOLERANCE_S:
        # Scored as it is, the cut would read as the call's end (a premature hang-up).
        raise DecodeError(
            f"{path.name}: truncated: its header announces {announced:.1f} s, the file holds "
            f"{held:.1f} s (an incomplete copy?)"
        )


def decode(
    path: str | Path,
    max_channels: int = 2,
    spool_after_s: float = SPOOL_AFTER_S,
    spool_dir: str | None = None,
) -> Audio:
    """Decode any container/codec PyAV knows (WAV PCM/G.711, FLAC, MP3 ...) and resample to 16 kHz.

    Calls longer than ``spool_after_s`` are spooled to temporary files in ``spool_dir`` (the
    system's temporary directory by default); close the Audio (or use it as a context manager)
    to free them early.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise DecodeError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise DecodeError(f"empty file: {path}")
    writer: _TrackWriter | None = None
    announced = None
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise DecodeError(f"no audio stream in {path.name}")
            stream = container.streams.audio[0]
            n_channels = stream.codec_context.channels or 1
            if n_channels > max_channels:
                # No channel map says which of 3+ channels is the agent: a guess would put the
                # wrong person's words under the agent's name.
                raise DecodeError(
                    f"{path.name}: {n_channels} channels; callqa reads mono or two-channel "
                    "(agent/caller) recordings"
                )
            layout = "stereo" if n_channels == 2 else "mono"
            announced = announced_seconds(path, container.format.name, stream)
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
            writer = _TrackWriter(
                n_channels, _expected_samples(stream), int(spool_after_s * SAMPLE_RATE), spool_dir
            )
            for frame in container.decode(stream):
                frame.pts = None  # PyAV's resampler rejects non-monotonic pts in some WAV files
                for out in resampler.resample(frame):
                    writer.append(out.to_ndarray())
            for out in resampler.resample(None):
                writer.append(out.to_ndarray())
            source_rate = stream.codec_context.sample_rate or 0
            codec = stream.codec_context.name
            _check_complete(path, announced, writer.n_samples)
    except DecodeError:
        if writer:
            writer.close()
        raise
    except av.error.FFmpegError as exc:
        if writer:
            writer.close()
            _check_complete(path, announced, writer.n_samples)  # cut mid-frame: say so
        raise DecodeError(f"cannot decode {path.name}: {exc.strerror or exc}") from exc
    except (ValueError, OSError) as exc:
        if writer:
            writer.close()
        raise DecodeError(f"cannot decode {path.name}: {exc}") from exc
    audio = Audio(tracks=writer.result(), source_rate=source_rate, codec=codec)
    if audio.n_samples < SAMPLE_RATE // 10:
        audio.close()
        raise DecodeError(
            f"no audio samples in {path.name}" if audio.n_samples == 0 else f"{path.name}: shorter than 0.1 s"
        )
    return audio


def channel_correlation(audio: Audio, block_s: float = 60.0) -> float:
    """How alike a two-channel recording's channels are: the correlation of their samples (1.0:
    one recording stored twice), read a block at a time (a spooled call is never loaded whole).
    0.0 when either channel is silent."""
    a_track, b_track = audio.tracks
    step = int(block_s * SAMPLE_RATE)
    ab = aa = bb = 0.0
    for start in range(0, audio.n_samples, step):
        a = np.asarray(a_track[start : start + step], dtype=np.float64)
        b = np.asarray(b_track[start : start + step], dtype=np.float64)
        ab += float(a @ b)
        aa += float(a @ a)
        bb += float(b @ b)
    if aa <= 0 or bb <= 0:
        return 0.0
    return ab / float(np.sqrt(aa * bb))
