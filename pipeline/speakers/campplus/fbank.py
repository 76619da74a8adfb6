"""Kaldi's log-mel filterbank in numpy: the features CAM++ was trained on.

3D-Speaker trains CAM++ on ``torchaudio.compliance.kaldi.fbank(wav, num_mel_bins=80)``: 25 ms
Povey-windowed frames every 10 ms, DC removed, pre-emphasis 0.97, a 512-point power spectrum and
80 triangular mel bands from 20 Hz to Nyquist, natural log. Reproduced here so that the runtime
needs neither torch nor torchaudio; checked against ``kaldi-native-fbank`` (k2-fsa's C++ port of
Kaldi's) to 6e-4 in the log domain (tests/speakers/test_campplus.py).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
FRAME = 400  # 25 ms
SHIFT = 160  # 10 ms
N_FFT = 512
N_MELS = 80


@lru_cache(maxsize=1)
def mel_banks(low_hz: float = 20.0) -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, equally spaced on Kaldi's mel scale
    (1127 ln(1 + f / 700)); the Nyquist bin gets no weight, as in Kaldi."""

    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f) / 700.0)

    bins = N_FFT // 2
    freqs = mel(np.arange(bins) * SAMPLE_RATE / N_FFT)
    edges = mel(low_hz) + (mel(SAMPLE_RATE / 2) - mel(low_hz)) / (N_MELS + 1) * np.arange(N_MELS + 2)
    banks = np.zeros((N_MELS, bins + 1))
    for i in range(N_MELS):
        left, centre, right = edges[i : i + 3]
        rising = (freqs - left) / (centre - left)
        falling = (right - freqs) / (right - centre)
        banks[i, :bins] = np.maximum(0.0, np.minimum(rising, falling))
    return banks


@lru_cache(maxsize=1)
def _povey() -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / (FRAME - 1))) ** 0.85


def fbank(samples: np.ndarray) -> np.ndarray:
    """(frames, 80) log-mel energies of 16 kHz float samples in [-1, 1] (as Kaldi, on the int16
    scale); no frame for less than 25 ms of audio."""
    x = np.asarray(samples, dtype=np.float64) * 32768.0
    n = 1 + (len(x) - FRAME) // SHIFT if len(x) >= FRAME else 0
    if n == 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = x[np.arange(FRAME)[None, :] + SHIFT * np.arange(n)[:, None]]
    frames -= frames.mean(axis=1, keepdims=True)
    frames[:, 1:] -= 0.97 * frames[:, :-1].copy()
    frames[:, 0] *= 1.0 - 0.97
    power = np.abs(np.fft.rfft(frames * _povey(), n=N_FFT, axis=1)) ** 2
    energies = power @ mel_banks().T
    return np.log(np.maximum(energies, np.finfo(np.float32).eps)).astype(np.float32)
