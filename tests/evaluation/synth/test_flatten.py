"""The flat voice the guide benchmark renders: pitch movement narrowed, length and sound kept."""

from __future__ import annotations

import numpy as np

from pipeline.audio.prosody import voice_measures
from pipeline.evaluation.synth.flatten import flatten_pitch
from pipeline.evaluation.synth.generate import SR, shifted


def _gliding_voice(seconds: float = 6.0, low: float = 110.0, high: float = 220.0) -> np.ndarray:
    """A voiced sound whose pitch sweeps an octave (12 semitones) up and down, with harmonics,
    then 0.5 s of quiet noise."""
    t = np.arange(int(seconds * SR)) / SR
    f0 = low * (high / low) ** (0.5 - 0.5 * np.cos(2 * np.pi * t / seconds))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    noise = np.random.default_rng(0).normal(0, 0.01, int(0.5 * SR))
    return np.concatenate([0.3 * voice, noise]).astype(np.float32)


def test_the_pitch_range_narrows_to_the_share_kept_and_nothing_else_moves():
    x = _gliding_voice()
    spans = [(0.0, len(x) / SR)]
    before = voice_measures(x, SR, spans)
    assert 10.5 < before.pitch_range_st < 12.5
    for keep in (0.25, 0.5):
        y = flatten_pitch(x, SR, keep)
        after = voice_measures(y, SR, spans)
        assert len(y) == len(x) and y.dtype == np.float32
        assert abs(after.pitch_range_st - keep * before.pitch_range_st) < 1.0, (keep, after.pitch_range_st)
        # Around the median pitch, and as loud.
        assert abs(12 * np.log2(after.pitch_median_hz / before.pitch_median_hz)) < 1.0
        assert abs(after.loudness_db - before.loudness_db) < 1.5
        assert after.voiced_s > 0.8 * before.voiced_s
    # The quiet tail is copied through, not silenced or amplified.
    tail = slice(int(6.1 * SR), int(6.4 * SR))
    assert np.allclose(flatten_pitch(x, SR, 0.25)[tail], x[tail], atol=1e-3)


def test_keep_one_or_no_voice_gives_the_audio_back():
    x = _gliding_voice()
    assert np.array_equal(flatten_pitch(x, SR, 1.0), x)
    noise = np.random.default_rng(1).normal(0, 0.01, SR).astype(np.float32)
    assert np.array_equal(flatten_pitch(noise, SR, 0.25), noise)


def test_a_voice_written_with_a_keep_is_rendered_flat():
    x = _gliding_voice()

    def synthesize(text: str, voice: str, speed: float) -> np.ndarray:
        assert voice == "zf_xiaobei"  # the blend, without the shift or the keep
        return x

    natural = shifted(synthesize)("好", "zf_xiaobei@1.000", 1.0)
    flat = shifted(synthesize)("好", "zf_xiaobei@1.000~0.25", 1.0)
    spans = [(0.0, len(x) / SR)]
    assert np.array_equal(natural, x)
    assert (
        voice_measures(flat, SR, spans).pitch_range_st
        < 0.4 * voice_measures(natural, SR, spans).pitch_range_st
    )
