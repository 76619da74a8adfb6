"""The telephone conditions the benchmark applies: each does what its name says, repeatably."""

import numpy as np
import pytest

from pipeline.evaluation import impairments as imp

SR = imp.SR


def speech(seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """Voiced bursts with pauses: 0.8 s of a 150 Hz buzz with harmonics, 0.4 s of silence."""
    t = np.arange(int(0.8 * SR)) / SR
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 20)) * 0.1
    unit = np.concatenate([buzz, np.zeros(int(0.4 * SR))])
    return np.resize(unit, int(seconds * SR)).astype(np.float32)


def level_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x**2)))


@pytest.mark.parametrize("snr", [20, 10, 0])
@pytest.mark.parametrize("noise", [imp.street, imp.music])
def test_noise_is_mixed_at_the_asked_snr_under_the_speech(noise, snr):
    x = speech()
    n = noise(len(x), "C1")
    mixed = imp.mixed_under(x, n, snr)
    added = mixed - x
    assert 20 * np.log10(imp.active_rms(x)) - level_db(added) == pytest.approx(snr, abs=0.01)
    assert np.array_equal(noise(len(x), "C1"), n)  # seeded by the call: the same each build


def test_packet_loss_loses_about_the_asked_share_of_frames():
    x = np.ones(100 * SR, np.float32) * 0.1
    lost = imp.packet_loss(x, 3, "C1")
    silenced = np.mean(lost.reshape(-1, imp.FRAME).max(axis=1) == 0)
    assert 0.01 < silenced < 0.02  # half of 3 % silenced, the other half repeats the frame before


def test_levels_clipping_and_agc():
    x = speech()
    assert 20 * np.log10(imp.active_rms(imp.at_level(x, -40))) == pytest.approx(-40, abs=0.01)
    assert np.mean(np.abs(imp.clipped(x, 20)) >= 1.0) > 0.05
    # One second of speech, then the other party talks for five: the hiss rises towards -30 dBFS.
    listening = np.concatenate([x[:SR], np.zeros(5 * SR, np.float32)])
    pumped = imp.agc_pumped(listening, "C1")
    assert level_db(pumped[5 * SR :]) > -40 and level_db(pumped[int(1.1 * SR) : int(1.2 * SR)]) < -45


def test_echo_comes_back_late_and_under():
    own, other = np.zeros(SR, np.float32), speech(1.0)
    echoed = imp.with_echo(own, other, 20, delay_s=0.15)
    assert np.all(echoed[: int(0.15 * SR)] == 0)
    assert level_db(other) - 30 < level_db(echoed) < level_db(other) - 20  # band-limited, so a little less


@pytest.mark.parametrize("name", sorted(imp.CODECS))
def test_every_codec_round_trips_keeping_length_and_level(name):
    x = np.stack([speech(3.0), speech(3.0, seed=1)[::-1].copy()])
    y = imp.through_codec(x, imp.CODECS[name])
    assert y.shape == x.shape and y.dtype == np.float32
    assert level_db(y[0]) == pytest.approx(level_db(x[0]), abs=3)


def test_ringback_and_dtmf():
    ring = imp.ringback(2)
    assert len(ring) == 10 * SR and level_db(ring[:SR]) == pytest.approx(-20, abs=0.5)
    keys = imp.dtmf("1#")
    assert len(keys) == int(0.4 * SR)
    spectrum = np.abs(np.fft.rfft(keys[: int(0.1 * SR)]))
    freqs = np.fft.rfftfreq(int(0.1 * SR), 1 / SR)
    top = sorted(freqs[np.argsort(spectrum)[-2:]])
    assert top == pytest.approx([697, 1209], abs=15)


def test_a_voicemail_call_keeps_the_agents_sentences_and_only_the_greeting_label():
    n = 20 * imp.SR
    stereo = np.zeros((2, n), np.float32)
    stereo[1, 1 * imp.SR : 4 * imp.SR] = 0.1  # the agent on the right, three sentences
    stereo[1, 8 * imp.SR : 11 * imp.SR] = 0.2
    stereo[1, 14 * imp.SR : 16 * imp.SR] = 0.3
    stereo[0, 4 * imp.SR : 8 * imp.SR] = 0.5  # the caller
    truth = {
        "call_id": "C1",
        "expected_flags": ["greeting.missing", "interruption.agent", "hangup.premature"],
        "hangup": True,
        "utterances": [
            {"role": "agent", "start": 1.0, "end": 4.0, "text": "喂，物业。"},
            {"role": "caller", "start": 4.0, "end": 8.0, "text": "我家水管漏了。"},
            {"role": "agent", "start": 8.0, "end": 11.0, "text": "哪栋哪户？"},
            {"role": "agent", "start": 14.0, "end": 16.0, "text": "好的，师傅下午到。"},
        ],
    }
    greeting = np.full(3 * imp.SR, 0.05, np.float32)
    audio, told = imp.voicemail_call(stereo, 1, truth, greeting)
    assert told["expected_flags"] == ["greeting.missing"] and told["hangup"] is False
    assert [u["text"] for u in told["utterances"]] == ["喂，物业。", "哪栋哪户？", "好的，师傅下午到。"]
    opening, *message = told["utterances"]
    ring = len(imp.ringback(2)) / imp.SR
    # The opening over the greeting; the message after the beep and after the opening.
    assert opening["start"] == round(ring + imp.VOICEMAIL_ANSWER_S, 3) < ring + 3.0
    greeting_end = ring + 3.0 + 0.1 + 0.5
    assert message[0]["start"] >= max(greeting_end, opening["end"]) + 0.5
    for u, level in zip(told["utterances"], (0.1, 0.2, 0.3), strict=True):
        a, b = int(u["start"] * imp.SR) + 10, int(u["end"] * imp.SR) - 10
        assert np.allclose(audio[1, a:b], level)
    assert np.allclose(audio[0, int(ring * imp.SR) + 10 : int((ring + 3.0) * imp.SR) - 10], 0.05)
    assert told["duration"] == round(audio.shape[1] / imp.SR, 3) >= message[-1]["end"] + 1.0
