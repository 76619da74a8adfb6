"""The training simulator: labels that match the audio, on hand-made clips."""

from dataclasses import replace

import numpy as np

from pipeline.speakers.segmentation.simulate import (
    SR,
    Clip,
    SimulationOptions,
    activity,
    frame_labels,
    simulate,
    telephone,
)


def tone(seconds: float, freq: float, pause_at: float | None = None) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    if pause_at is not None:
        x[int(pause_at * SR) : int((pause_at + 0.4) * SR)] = 0
    return x


POOL = [Clip(f"v{k}", tone(d, 200 + 90 * k)) for k in range(3) for d in (0.6, 1.5, 2.5, 3.5)]


def test_activity_marks_speech_and_keeps_a_real_pause_but_not_a_stop():
    x = tone(3.0, 220, pause_at=1.0)
    x[int(2.0 * SR) : int(2.05 * SR)] = 0  # 50 ms: a stop consonant, not a pause
    mask = activity(x)
    assert mask[: int(0.95 * SR)].all() and not mask[int(1.05 * SR) : int(1.35 * SR)].any()
    assert mask[int(1.95 * SR) : int(2.1 * SR)].all()


def test_frame_labels_read_each_frame_centre_as_a_powerset_class():
    active = np.zeros((2, 1000), bool)
    active[0, :600] = True
    active[1, 400:] = True
    assert frame_labels(active, 10).tolist() == [1, 1, 1, 1, 3, 3, 2, 2, 2, 2]


def test_a_window_has_the_contract_shape_and_both_kinds_of_turn_taking():
    rng = np.random.default_rng(1)
    seen = np.zeros(4)
    for _ in range(8):
        x, y = simulate(POOL, rng, 499)
        assert x.shape == (10 * SR,) and x.dtype == np.float32 and np.abs(x).max() <= 1
        assert y.shape == (499,)
        seen += np.bincount(y, minlength=4)
    assert (seen > 0).all()  # silence, each speaker alone, and overlap


def test_a_single_speaker_window_has_no_second_speaker():
    options = replace(SimulationOptions(), single_speaker_p=1.0)
    _x, y = simulate(POOL, np.random.default_rng(2), 499, options)
    assert set(y.tolist()) <= {0, 1}


def test_the_first_to_speak_is_speaker_one():
    for seed in range(5):
        _, y = simulate(POOL, np.random.default_rng(seed), 499)
        first = y[y > 0][0]
        assert first in (1, 3)


def test_telephone_keeps_the_length_and_the_voice_band():
    x = tone(1.0, 440)
    y = telephone(x)
    assert len(y) == len(x)
    assert np.corrcoef(x[800:-800], y[800:-800])[0, 1] > 0.95


def test_a_recording_that_stops_inside_the_window_is_silence_and_nobody_after():
    options = replace(SimulationOptions(), end_p=1.0, end_at_s=(4.0, 4.0), noise_p=1.0)
    x, y = simulate(POOL, np.random.default_rng(3), 499, options)
    assert not x[4 * SR :].any()  # the padding a call's last window gets
    centres = (np.arange(499) + 0.5) * 10.0 / 499
    assert (y[centres > 4.0] == 0).all()
    assert (y[centres < 4.0] > 0).any()
