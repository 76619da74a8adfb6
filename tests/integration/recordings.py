"""Recordings made at test time: seconds of real speech cut from the sample share, and the bad inputs
(truncated, non-audio, silent, noisy, long, many-channel) built with numpy, soundfile and PyAV."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.config import ROOT

SAMPLE = ROOT / "data" / "sample_share" / "recordings"
RATE = 16000
HEADER = "path,call_id,agent_id,started_at,channel_layout\n"


def speech(stereo: bool, start: float = 0.0, end: float = 7.0) -> np.ndarray:
    """(samples, channels) float32 at 16 kHz. Stereo: S001 (agent left: greeting 1.5-9.5 s, caller
    10.0-15.6 s); mono: S002 (greeting 1.0-6.4 s)."""
    import soundfile as sf

    name = "2026-11-16/S001.flac" if stereo else "2026-11-16/S002.flac"
    data, rate = sf.read(SAMPLE / name, dtype="float32", always_2d=True)
    assert rate == RATE
    return data[int(start * rate) : int(end * rate)]


def resample(data: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    return soxr.resample(data, RATE, rate).astype(np.float32)


def write(path: Path, data: np.ndarray, rate: int = RATE, subtype: str | None = None) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, rate, subtype=subtype)
    return path


def write_mp3(path: Path, data: np.ndarray, rate: int = RATE) -> Path:
    """MP3 through PyAV's LAME encoder (which writes the Info header that announces the length)."""
    import av

    layout = "stereo" if data.shape[1] == 2 else "mono"
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout=layout)
        for i in range(0, len(data), 1152):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(data[i : i + 1152].T), format="fltp", layout=layout
            )
            frame.sample_rate, frame.pts = rate, i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut the file's bytes (header included in what is kept), as an interrupted copy does."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def long_call(path: Path, hours: float, clip: np.ndarray, rate: int = 8000) -> Path:
    """A long mono FLAC written block by block (never whole in memory): ``clip`` at the start and at
    the end, digital silence between (which the energy gate skips, so it costs almost nothing)."""
    import soundfile as sf

    clip = resample(clip[:, 0], rate)
    total = int(hours * 3600 * rate)
    silence = np.zeros(600 * rate, np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16", format="FLAC") as f:
        f.write(clip)
        left = total - 2 * len(clip)
        while left > 0:
            f.write(silence[: min(left, len(silence))])
            left -= len(silence)
        f.write(clip)
    return path


def manifest(folder: Path, rows: list[str], header: str = HEADER) -> Path:
    path = folder / "manifest.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path
