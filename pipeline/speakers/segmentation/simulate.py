"""Two-party conversations mixed from single utterances, with exact frame labels, for training.

A clip rendered once is re-mixed into any number of conversations: new turn orders, pauses,
overlaps, backchannels, levels and line conditions, at the cost of a sum. Labels follow the
model contract (``pipeline.speakers.segmentation``): per output frame, the powerset class of who speaks
(0 nobody, 1 the first speaker, 2 the second, 3 both). Each clip's own activity comes from its
energy, so the pause at a comma is silence in the label, as it is in the audio.

Augmentation, each drawn per conversation: speed perturbation per speaker (a new pitch and
tempo, so the voices multiply), a random tilt/band EQ per speaker, level differences between
the parties, room reverberation per speaker, background noise or music (hold music is not a
second speaker), and 8 kHz G.711 µ-law; and the recording stopping inside a window, as a hang-up
ends a call (the model reads a call's last window padded with silence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SR = 16000


@dataclass(frozen=True)
class Clip:
    voice: str
    samples: np.ndarray  # float32, 16 kHz, trimmed

    @property
    def seconds(self) -> float:
        return len(self.samples) / SR


@dataclass(frozen=True)
class SimulationOptions:
    """How conversations are drawn. Probabilities are per conversation unless said otherwise."""

    window_s: float = 10.0
    overlap_p: float = 0.35  # a turn starts before the other party has finished
    overlap_s: tuple[float, float] = (0.15, 1.8)
    pause_s: tuple[float, float] = (0.05, 1.2)
    backchannel_p: float = 0.3  # per turn: the listener says something short inside it
    single_speaker_p: float = 0.08
    speed: tuple[float, float] = (0.85, 1.18)
    level_db: tuple[float, float] = (-12.0, 4.0)  # the second party against the first
    reverb_p: float = 0.35  # per speaker: a caller in a room, an agent on a headset
    rt60_s: tuple[float, float] = (0.15, 0.9)
    noise_p: float = 0.7
    music_p: float = 0.15  # hold music or a radio behind the caller: not a second speaker
    snr_db: tuple[float, float] = (3.0, 30.0)
    telephone_p: float = 0.5  # 8 kHz µ-law round trip
    # The recording stops inside the window (a hang-up), mid-sentence as often as not, and the
    # rest is the digital silence a call's last window is padded with at inference.
    end_p: float = 0.15
    end_at_s: tuple[float, float] = (2.0, 9.5)


def load_pool(folder: Path) -> list[Clip]:
    """Clips named ``<voice>-<anything>.npy`` (``pool.build_pool``)."""
    return [Clip(p.name.split("-")[0], np.load(p).astype(np.float32)) for p in sorted(folder.glob("*.npy"))]


def activity(
    samples: np.ndarray, hop: int = 160, floor_db: float = -35.0, bridge_s: float = 0.12
) -> np.ndarray:
    """Per-sample speech mask of one clean clip: 10 ms frames within ``floor_db`` of its loudest,
    gaps shorter than ``bridge_s`` bridged (a stop consonant is not a pause)."""
    n = len(samples) // hop
    if n == 0:
        return np.zeros(len(samples), bool)
    db = 10 * np.log10(np.mean(samples[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-10)
    on = db > db.max() + floor_db
    idx = np.flatnonzero(on)
    if idx.size:
        gaps = np.flatnonzero(np.diff(idx) > 1)
        for g in gaps:
            a, b = idx[g], idx[g + 1]
            if (b - a) * hop / SR < bridge_s:
                on[a:b] = True
    mask = np.repeat(on, hop)
    return np.concatenate([mask, np.zeros(len(samples) - len(mask), bool)])


def frame_labels(active: np.ndarray, n_frames: int) -> np.ndarray:
    """Powerset class per output frame from a (2, samples) activity mask, read at each frame's
    centre, ``(i + 0.5) * window / n_frames`` (the contract)."""
    n = active.shape[1]
    centres = ((np.arange(n_frames) + 0.5) * n / n_frames).astype(int)
    a, b = active[0, centres], active[1, centres]
    return (a.astype(np.int64) + 2 * b.astype(np.int64)).astype(np.int64)


def _speed(x: np.ndarray, factor: float) -> np.ndarray:
    import soxr

    return soxr.resample(x, SR, SR / factor).astype(np.float32) if abs(factor - 1) > 1e-3 else x


def _eq(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random first-order tilt and a gentle band limit: handsets and lines colour a voice."""
    from scipy.signal import butter, sosfilt

    low, high = rng.uniform(60, 350), rng.uniform(3200, 7600)
    sos = butter(2, [low, high], btype="bandpass", fs=SR, output="sos")
    y = sosfilt(sos, x)
    tilt = rng.uniform(-0.6, 0.6)
    y = y + tilt * np.concatenate([[0.0], np.diff(y)])
    return y.astype(np.float32)


def _reverb(x: np.ndarray, rng: np.random.Generator, rt60_s: tuple[float, float]) -> np.ndarray:
    from scipy.signal import fftconvolve

    rt60 = rng.uniform(*rt60_s)
    n = int(rt60 * SR)
    t = np.arange(n) / SR
    rir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    rir[0] = 1.0 / rng.uniform(0.3, 1.0)  # direct path against the room
    y = fftconvolve(x, rir)[: len(x)]
    return (y * np.sqrt(np.mean(x**2) / (np.mean(y**2) + 1e-12))).astype(np.float32)


def _noise(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    freqs[0] = freqs[1]
    spectrum /= freqs ** rng.uniform(0.0, 1.0)  # white to brown
    noise = np.fft.irfft(spectrum, n)
    return (noise / (np.sqrt(np.mean(noise**2)) + 1e-12)).astype(np.float32)


def music(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS tonal background: chords of harmonic notes that change every 0.25-1 s."""
    out = np.zeros(n, np.float32)
    t = 0
    while t < n:
        length = min(n - t, int(rng.uniform(0.25, 1.0) * SR))
        time = np.arange(length) / SR
        for _ in range(int(rng.integers(1, 4))):
            f0 = 110 * 2 ** (rng.integers(0, 36) / 12)
            for k in range(1, 5):
                out[t : t + length] += np.sin(2 * np.pi * f0 * k * time + rng.uniform(0, 6.3)) / k**1.5
        out[t : t + length] *= np.minimum(1, np.minimum(time, time[::-1]) / 0.02)  # no clicks
        t += length
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


def telephone(x: np.ndarray) -> np.ndarray:
    """An 8 kHz G.711 µ-law round trip (the archive format), back at 16 kHz."""
    import soxr

    narrow = np.clip(soxr.resample(x, SR, 8000), -1, 1)
    mu = 255.0
    code = np.round((np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu) + 1) * 127.5)
    y = code / 127.5 - 1
    expanded = np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu
    return soxr.resample(expanded.astype(np.float32), 8000, SR)[: len(x)].astype(np.float32)


def simulate(
    pool: Sequence[Clip],
    rng: np.random.Generator,
    n_frames: int,
    options: SimulationOptions = SimulationOptions(),
) -> tuple[np.ndarray, np.ndarray]:
    """One training window: (float32 samples, int64 powerset labels of length ``n_frames``)."""
    o = options
    n = int(o.window_s * SR)
    voices = sorted({c.voice for c in pool})
    pair = rng.choice(voices, size=2, replace=False)
    by_voice = [[c for c in pool if c.voice == v] for v in pair]
    speeds = [rng.uniform(*o.speed) for _ in range(2)]
    gains = [1.0, 10 ** (rng.uniform(*o.level_db) / 20)]
    single = rng.random() < o.single_speaker_p
    tracks = np.zeros((2, n + SR), np.float32)
    active = np.zeros((2, n + SR), bool)

    def place(speaker: int, clip: np.ndarray, at: int) -> int:
        a = max(0, at)
        b = min(n + SR, at + len(clip))
        if b <= a:
            return at + len(clip)
        piece = clip[a - at : b - at]
        tracks[speaker, a:b] += gains[speaker] * piece
        active[speaker, a:b] |= activity(piece)
        return at + len(clip)

    # Start somewhere inside the first turn, as a window cut from a long call does.
    t = -int(rng.uniform(0, 3.0) * SR)
    speaker = int(rng.integers(2))
    while t < n:
        clip = _speed(by_voice[speaker][rng.integers(len(by_voice[speaker]))].samples, speeds[speaker])
        end = place(speaker, clip, t)
        other = 1 - speaker
        if not single and rng.random() < o.backchannel_p and len(clip) > 2 * SR:
            short = [c for c in by_voice[other] if c.seconds < 1.2] or by_voice[other]
            bc = _speed(short[rng.integers(len(short))].samples[: int(1.0 * SR)], speeds[other])
            place(other, bc, t + int(rng.uniform(0.3, 0.8) * len(clip)))
        if rng.random() < o.overlap_p and not single:
            t = end - int(rng.uniform(*o.overlap_s) * SR)
        else:
            t = end + int(rng.uniform(*o.pause_s) * SR)
        speaker = speaker if single else other
    tracks, active = tracks[:, :n], active[:, :n]
    for s in range(2):
        if tracks[s].any():
            tracks[s] = _eq(tracks[s], rng)
            if rng.random() < o.reverb_p:
                tracks[s] = _reverb(tracks[s], rng, o.rt60_s)
    mix = tracks.sum(axis=0)
    speech_rms = np.sqrt(np.mean(mix[active.any(axis=0)] ** 2)) if active.any() else 0.05
    if rng.random() < o.noise_p:
        mix = mix + speech_rms * 10 ** (-rng.uniform(*o.snr_db) / 20) * _noise(n, rng)
    if rng.random() < o.music_p:
        mix = mix + speech_rms * 10 ** (-rng.uniform(6, 25) / 20) * music(n, rng)
    mix = mix * (10 ** (rng.uniform(-30, -12) / 20) / (np.sqrt(np.mean(mix**2)) + 1e-9))
    mix = np.clip(mix, -1, 1)
    if rng.random() < o.telephone_p:
        mix = telephone(mix)
    if rng.random() < o.end_p:
        cut = int(rng.uniform(*o.end_at_s) * SR)
        mix[cut:] = 0.0
        active = active.copy()
        active[:, cut:] = False
    # Speaker 1 is whoever speaks first in the window: a canonical order (the loss is also
    # permutation-invariant, so this only makes labels easier to read).
    first = [np.argmax(a) if a.any() else n for a in active]
    if first[1] < first[0]:
        active = active[::-1]
    return mix.astype(np.float32), frame_labels(active, n_frames)
