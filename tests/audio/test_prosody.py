import math
import warnings
from dataclasses import fields

import numpy as np
import pytest

from pipeline.audio.prosody import VOICE_MEASURE_COLUMNS, VoiceMeasures, voice_measures


def harmonic_tone(f0: np.ndarray, rate: int, amplitude: float = 0.3) -> np.ndarray:
    """A voice-like tone: five harmonics at 1/k of the fundamental's amplitude, following ``f0``
    (one value per sample)."""
    phase = 2 * np.pi * np.cumsum(f0) / rate
    tone = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (amplitude * tone / np.max(np.abs(tone))).astype(np.float32)


def whole(audio: np.ndarray, rate: int) -> list[tuple[float, float]]:
    return [(0.0, len(audio) / rate)]


@pytest.mark.parametrize("rate", [16000, 8000])
def test_a_glide_over_an_octave_gives_its_10_to_90_percent_span(rate):
    seconds = 4.0
    f0 = np.linspace(150, 300, int(seconds * rate))
    m = voice_measures(harmonic_tone(f0, rate), rate, whole(f0, rate))
    # Frames are even in time, so the 10th/90th percentiles sit at 10/90 % of the linear glide.
    expected = 12 * math.log2((150 + 0.9 * 150) / (150 + 0.1 * 150))
    assert m.pitch_range_st == pytest.approx(expected, abs=1.0)
    assert m.pitch_median_hz == pytest.approx(225, rel=0.03)
    assert m.voiced_s > 3.5


@pytest.mark.parametrize("rate", [16000, 8000])
def test_a_steady_tone_has_no_range(rate):
    tone = harmonic_tone(np.full(3 * rate, 200.0), rate)
    m = voice_measures(tone, rate, whole(tone, rate))
    assert m.pitch_range_st == pytest.approx(0, abs=0.2)
    assert m.pitch_median_hz == pytest.approx(200, rel=0.01)
    assert m.loudness_range_db == pytest.approx(0, abs=0.5)


@pytest.mark.parametrize("rate", [16000, 8000])
def test_loudness_of_a_known_sine(rate):
    amplitude = 0.1
    t = np.arange(3 * rate) / rate
    sine = (amplitude * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    m = voice_measures(sine, rate, whole(sine, rate))
    assert m.loudness_db == pytest.approx(20 * math.log10(amplitude / math.sqrt(2)), abs=0.5)


def test_a_fading_voice_has_a_negative_slope():
    rate, seconds = 16000, 12.0
    tone = harmonic_tone(np.full(int(seconds * rate), 160.0), rate)
    gain_db = np.linspace(0, -18, len(tone))  # -18 dB over 12 s: -90 dB a minute
    fading = (tone * 10 ** (gain_db / 20)).astype(np.float32)
    m = voice_measures(fading, rate, whole(fading, rate))
    assert m.loudness_slope_db_per_min == pytest.approx(-90, rel=0.1)
    steady = voice_measures(tone, rate, whole(tone, rate))
    assert abs(steady.loudness_slope_db_per_min) < 1


@pytest.mark.parametrize(
    ("audio", "spans"),
    [
        (np.zeros(16000 * 5, np.float32), [(0.0, 5.0)]),  # digital silence
        (np.random.default_rng(0).normal(0, 0.1, 16000 * 5).astype(np.float32), [(0.0, 5.0)]),  # noise
        (harmonic_tone(np.full(16000 * 5, 200.0), 16000), [(1.0, 2.0)]),  # 1 s of voice
        (harmonic_tone(np.full(16000 * 5, 200.0), 16000), []),  # no spans
        (harmonic_tone(np.full(16000 * 5, 200.0), 16000), [(6.0, 9.0), (3.0, 3.01)]),  # past the end
        (np.zeros(0, np.float32), [(0.0, 1.0)]),  # an empty track
    ],
)
def test_too_little_voice_gives_nan_without_a_warning(audio, spans):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = voice_measures(audio, 16000, spans)
    assert m.voiced_s < 1.5
    assert all(math.isnan(getattr(m, f.name)) for f in fields(m) if f.name != "voiced_s")


@pytest.mark.parametrize("rate", [16000, 8000])
def test_only_the_spans_are_measured(rate):
    n = 10 * rate
    voice = harmonic_tone(np.linspace(180, 240, n), rate, amplitude=0.1)
    spans = [(1.0, 3.5), (5.0, 8.0)]
    inside = np.zeros(n, bool)
    for start, end in spans:
        inside[int(start * rate) : int(end * rate)] = True
    quiet = np.where(inside, voice, 0).astype(np.float32)
    # Outside the spans: loud noise and a loud tone an octave up (another voice, a ring tone).
    t = np.arange(n) / rate
    outside = 0.8 * np.sin(2 * np.pi * 440 * t) + np.random.default_rng(1).normal(0, 0.3, n)
    loud = np.where(inside, voice, outside).astype(np.float32)
    assert voice_measures(loud, rate, spans) == voice_measures(quiet, rate, spans)
    assert voice_measures(quiet, rate, spans).voiced_s > 4


def test_overlapping_spans_count_once():
    rate = 16000
    tone = harmonic_tone(np.full(4 * rate, 200.0), rate)
    once = voice_measures(tone, rate, [(0.5, 3.5)])
    assert voice_measures(tone, rate, [(0.5, 2.5), (1.5, 3.5), (2.0, 3.0)]) == once


def test_every_measure_has_a_documented_column():
    assert list(VOICE_MEASURE_COLUMNS) == [f.name for f in fields(VoiceMeasures)]
