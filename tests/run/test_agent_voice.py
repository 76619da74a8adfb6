"""The agent's voice is measured on the agent's own speech: their channel on stereo, the mix less
the caller's turns on mono."""

from __future__ import annotations

import numpy as np

from pipeline.audio.decode import SAMPLE_RATE, Audio
from pipeline.records import CallRef, Turn
from pipeline.run.process import _less, agent_voice


def tone(seconds: float, start_hz: float, end_hz: float) -> np.ndarray:
    """A voiced sound (a few harmonics) gliding from ``start_hz`` to ``end_hz``."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f = np.geomspace(start_hz, end_hz, len(t))
    phase = 2 * np.pi * np.cumsum(f) / SAMPLE_RATE
    return (0.2 * sum(np.sin(k * phase) / k for k in range(1, 5))).astype(np.float32)


def test_less_cuts_holes_out_of_spans():
    assert _less([(0, 10), (20, 30)], [(2, 3), (9, 21), (29, 40)]) == [(0, 2), (3, 9), (21, 29)]
    assert _less([(0, 5)], []) == [(0, 5)]


def test_stereo_reads_the_agents_channel_only():
    n = 12 * SAMPLE_RATE
    agent = np.zeros(n, np.float32)
    agent[: 10 * SAMPLE_RATE] = tone(10, 150, 300)  # an octave: 12 semitones of pitch
    caller = tone(12, 200, 201)  # flat, and loud the whole call
    audio = Audio((agent, caller), SAMPLE_RATE, "pcm")
    ref = CallRef("C1", "c.wav", "A1", None, "stereo-agent-left")
    turns = (Turn("ch0", "agent", 0.0, 10.0, 0), Turn("ch1", "caller", 0.0, 12.0, 1))
    voice = agent_voice(audio, ref, turns)
    assert 8.0 < voice.pitch_range_st < 11.0  # 10th-90th percentile of a 12-semitone glide
    assert voice.voiced_s > 8


def test_mono_leaves_out_the_stretches_the_caller_speaks_in():
    flat = tone(10, 180, 181)
    mix = np.concatenate([flat, tone(4, 100, 400)])  # the caller's wide glide at 10-14 s
    audio = Audio((mix,), SAMPLE_RATE, "pcm")
    ref = CallRef("C1", "c.wav", "A1", None, "mono")
    turns = (Turn("S0", "agent", 0.0, 14.0, 0), Turn("S1", "caller", 10.0, 14.0, 0))
    voice = agent_voice(audio, ref, turns)
    assert voice.pitch_range_st < 1.0 and 170 < voice.pitch_median_hz < 190
