"""The audio-quality reading and the floors under which rules are not scored."""

import math

import numpy as np
import pytest
import scipy.signal
import soxr

from pipeline.audio.quality import TIMING, VOICE, WORDS, channel_quality, doubted_share, unheard
from pipeline.config import QualityConfig, SpeechConfig
from pipeline.records import AudioQuality, ChannelQuality

SR = 16000


def talk(seconds: float = 20.0, level: float = 0.1, seed: int = 0) -> np.ndarray:
    """Speech-like bursts: 1.5 s of band-passed noise, 1 s of digital silence, and so on."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * SR), np.float32)
    sos = scipy.signal.butter(4, [200, 6000], btype="band", fs=SR, output="sos")
    for start in np.arange(0.5, seconds - 1.5, 2.5):
        a, b = int(start * SR), int((start + 1.5) * SR)
        burst = scipy.signal.sosfilt(sos, rng.standard_normal(b - a))
        out[a:b] = level * burst / np.sqrt(np.mean(burst**2))
    return out


def test_a_quiet_room_reads_a_high_snr_and_noise_through_every_pause_a_low_one():
    quiet = channel_quality(talk())
    noisy = channel_quality(
        talk() + 0.01 * np.random.default_rng(1).standard_normal(20 * SR).astype(np.float32)
    )
    assert quiet.snr_db > 60
    # Speech at -20 dBFS over noise at -40 dBFS: the reading's peak-to-floor is near 20 dB.
    assert 17 < noisy.snr_db < 26
    assert noisy.noise_dbfs == pytest.approx(-40, abs=2)


def test_clipping_is_read_from_runs_at_full_scale():
    assert channel_quality(talk()).clipped_share == 0
    hot = np.clip(talk() * 30, -1, 1)
    assert channel_quality(hot).clipped_share > 0.5


def test_lost_packets_are_short_silences_inside_speech_not_the_pauses():
    x = talk()
    assert channel_quality(x).dropout_share == 0  # 1 s pauses of digital silence are pauses
    lost = x.copy()
    for start in np.arange(0.5, 18.5, 2.5):
        for k in range(3):  # three 20 ms packets lost in each 1.5 s burst
            a = int((start + 0.3 + 0.4 * k) * SR)
            lost[a : a + 320] = 0
    assert channel_quality(lost).dropout_share == pytest.approx(3 / 75, abs=0.01)


def test_bandwidth_tells_a_narrow_band_line_from_a_wide_band_one():
    x = talk()
    narrow = soxr.resample(soxr.resample(x, SR, 8000), 8000, SR).astype(np.float32)  # an 8 kHz line
    assert channel_quality(x).bandwidth_hz > 6500
    assert 3400 <= channel_quality(narrow).bandwidth_hz <= 4200


def test_silence_has_no_reading_to_trust():
    q = channel_quality(np.zeros(SR // 10, np.float32))
    assert q.clipped_share == 0 and q.dropout_share == 0


def test_doubted_share():
    assert doubted_share([0.9, 0.3, 0.8, 0.2], below=0.5) == 0.5
    assert math.isnan(doubted_share([]))


def reading(*snr: float, clipped: float = 0.0, dropout: float = 0.0, doubted: float = 0.1) -> AudioQuality:
    return AudioQuality(
        tuple(ChannelQuality(-20.0, -20.0 - s, clipped, dropout, 7800.0) for s in snr), 16000, "flac", doubted
    )


def test_a_clean_call_lacks_nothing():
    assert unheard(reading(60, 60), QualityConfig()) == {}


def test_noise_on_the_agents_channel_takes_timing_words_and_voice_and_says_which_channel():
    floors = QualityConfig(min_snr_db=20)
    lacking = unheard(reading(60, 12), floors, agent_channel=1)
    assert set(lacking) == {TIMING, WORDS, VOICE}
    assert lacking[TIMING].startswith("坐席声道噪声过大") and "12 dB" in lacking[TIMING]
    assert unheard(reading(60, 12), floors, agent_channel=0)[TIMING].startswith("客户声道")
    assert unheard(reading(12), floors)[TIMING].startswith("录音噪声过大")
    assert unheard(reading(60, 12), QualityConfig(min_snr_db=0)) == {}  # 0: off


def test_clipping_takes_the_voice_lost_packets_and_doubted_words_the_words():
    floors = QualityConfig(max_clipped_share=0.5, max_dropout_share=0.05, max_doubted_share=0.5)
    assert set(unheard(reading(60, 60, clipped=0.7), floors)) == {VOICE}
    assert set(unheard(reading(60, 60, dropout=0.1), floors)) == {WORDS}
    doubted = unheard(reading(60, 60, doubted=0.7), floors)
    assert set(doubted) == {WORDS} and "70%" in doubted[WORDS]


def test_both_parties_heard_most_of_the_call_takes_the_timing_and_the_words():
    floors = QualityConfig(max_overlap_share=0.2)
    assert unheard(reading(60, 60), floors, overlap_share=0.15) == {}  # a heated call overlaps this much
    lacking = unheard(reading(60, 60), floors, overlap_share=0.34, busier="客户")
    assert (
        set(lacking) == {TIMING, WORDS}
        and "34%" in lacking[TIMING]
        and "客户一方几乎一直有声音" in lacking[TIMING]
    )


def test_a_quiet_channel_takes_the_timing_only():
    quiet = AudioQuality(
        (ChannelQuality(-20.0, -90.0, 0, 0, 7800.0), ChannelQuality(-36.0, -90.0, 0, 0, 7800.0)),
        16000,
        "flac",
        0.1,
    )
    lacking = unheard(quiet, QualityConfig(min_speech_dbfs=-30), agent_channel=0)
    assert (
        set(lacking) == {TIMING}
        and lacking[TIMING].startswith("客户声道音量过低")
        and "-36 dBFS" in lacking[TIMING]
    )


def test_other_voices_behind_a_channel_are_read_while_neither_party_talks():
    from pipeline.audio.decode import Audio
    from pipeline.audio.quality import audio_quality

    # Turns of 1.5 s, agent then caller, with 1 s of silence between them.
    agent, caller = talk(seed=0), talk(seed=1)
    for k, start in enumerate(np.arange(0.5, 18.5, 2.5)):
        a, b = int(start * SR), int((start + 2.5) * SR)
        (caller if k % 2 == 0 else agent)[a:b] = 0
    desks = voices(seconds=20.0, level=0.02)  # other people's syllables, always, about 14 dB down

    def read(left: np.ndarray) -> tuple[ChannelQuality, ...]:
        audio = Audio((left, caller), SR, "flac")
        return audio_quality(audio, stereo=True).channels

    clean_agent, clean_caller = read(agent)
    assert clean_agent.behind_db < -60 and clean_caller.behind_db < -60
    behind, _ = read(agent + desks)
    assert -20 < behind.behind_db < -8
    mono = audio_quality(Audio((agent, caller), SR, "flac"), stereo=False).channels
    assert math.isnan(mono[0].behind_db)
    # A line's hiss as loud, raised in every pause (an AGC), is noise, not voices: no reading.
    hiss = 0.02 * np.random.default_rng(3).standard_normal(len(agent)).astype(np.float32)
    assert math.isnan(read(agent + hiss)[0].behind_db)


def voices(seconds: float, level: float, seed: int = 2) -> np.ndarray:
    """Other people's syllables without a break: 0.3 s harmonic tones (a voice's pitch, 100-250 Hz,
    and its harmonics to 3.4 kHz) every 0.5 s; spectrally far from flat, as voices are."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * SR), np.float32)
    t = np.arange(int(0.3 * SR)) / SR
    for start in np.arange(0.0, seconds - 0.5, 0.5):
        f0 = rng.uniform(100, 250)
        tone = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3)) / k for k in range(1, int(3400 / f0)))
        a = int(start * SR)
        out[a : a + len(t)] = level * tone / np.sqrt(np.mean(tone**2))
    return out


def test_voices_behind_are_told_from_noise_by_their_spectrum():
    from pipeline.audio.speech import frame_db, spectral_flatness

    every = np.ones(int(20.0 * SR) // 320, bool)
    hiss = np.random.default_rng(0).standard_normal(int(20.0 * SR)).astype(np.float32)
    assert spectral_flatness(hiss, every) > 0.4
    talking = voices(20.0, 0.1)
    assert spectral_flatness(talking, frame_db(talking) > -90) < 0.1  # its syllables, not the gaps
    assert math.isnan(spectral_flatness(hiss, np.zeros_like(every)))


def test_voices_close_behind_the_agent_take_the_timing_and_the_words():
    def behind(db: float) -> AudioQuality:
        ch = ChannelQuality(-20.0, -40.0, 0.0, 0.0, 7800.0, behind_db=db)
        return AudioQuality((ch, ChannelQuality(-20.0, -90.0, 0.0, 0.0, 7800.0, -85.0)), 16000, "flac", 0.1)

    floors = QualityConfig(max_behind_db=-16, min_snr_db=0)
    assert unheard(behind(-18), floors, agent_channel=0) == {}  # the next desks 15 dB under: scored
    lacking = unheard(behind(-13), floors, agent_channel=0)
    assert set(lacking) == {TIMING, WORDS}
    assert lacking[TIMING].startswith("坐席声道背景里有别人的说话声") and "13.0 dB" in lacking[TIMING]
    # On the caller's side a street reads as loud: the noise and overlap floors judge it.
    assert unheard(behind(-13), floors, agent_channel=1) == {}
    assert unheard(behind(-13), QualityConfig(max_behind_db=0, min_snr_db=0), agent_channel=0) == {}  # off
    assert unheard(behind(math.nan), floors, agent_channel=0) == {}  # mono, or not measured


def test_on_a_mono_recording_voices_behind_both_parties_take_the_timing_and_the_words():
    def mixed(db: float) -> AudioQuality:
        return AudioQuality(
            (ChannelQuality(-20.0, -40.0, 0.0, 0.0, 7800.0, behind_db=db),), 16000, "flac", 0.1
        )

    # On the mix the voices stay under both parties' speech: a floor of its own, stricter.
    floors = QualityConfig(max_behind_db=-16, max_behind_mono_db=-30, min_snr_db=0)
    assert unheard(mixed(-33), floors, agent_channel=0) == {}
    lacking = unheard(mixed(-24), floors, agent_channel=0)  # agent_channel("mono") is 0
    assert set(lacking) == {TIMING, WORDS}
    assert lacking[WORDS].startswith("录音背景里有别人的说话声") and "24.0 dB" in lacking[WORDS]
    assert "至少要低 30 dB" in lacking[WORDS]
    assert unheard(mixed(math.nan), floors, agent_channel=0) == {}  # nothing taken out, or noise
    assert unheard(mixed(-24), QualityConfig(max_behind_mono_db=0, min_snr_db=0), agent_channel=0) == {}


def test_the_mix_reads_the_voices_the_gate_took_out_against_the_quieter_voice():
    from pipeline.audio.quality import mixed_behind_db
    from pipeline.audio.speech import frame_db

    rng = np.random.default_rng(0)
    t = np.arange(16000 * 4) / 16000
    # 2 s of a voice-like tone at -30 dBFS, then 2 s of the same 15 dB down (the voices behind).
    voiced = 10 ** (-30 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 200 * t)
    samples = np.concatenate([voiced[:32000], voiced[32000:] * 10 ** (-15 / 20)]).astype(np.float32)
    db = frame_db(samples)
    assert round(mixed_behind_db(samples, db, [(2.0, 4.0)], -30.0, SpeechConfig())) == -15
    assert math.isnan(mixed_behind_db(samples, db, [], -30.0, SpeechConfig()))  # nothing taken out
    # Hiss where the gate cut (a long pause the speech detector kept on a noisy line): not voices.
    hiss = np.concatenate([samples[:32000], rng.normal(0, 10 ** (-45 / 20), 32000)]).astype(np.float32)
    assert math.isnan(mixed_behind_db(hiss, frame_db(hiss), [(2.0, 4.0)], -30.0, SpeechConfig()))


def test_on_a_mono_recording_a_quiet_party_takes_the_timing():
    def mixed(voice: float) -> AudioQuality:
        # The mix reads the louder party (-18 dBFS) whatever the quieter one does.
        return AudioQuality(
            (ChannelQuality(-18.0, -60.0, 0.0, 0.0, 7800.0, voice_dbfs=voice),), 16000, "flac"
        )

    floors = QualityConfig(min_voice_dbfs=-40)
    assert unheard(mixed(-26), floors, agent_channel=0) == {}
    lacking = unheard(mixed(-45), floors, agent_channel=0)
    assert set(lacking) == {TIMING}  # the words are read: Whisper hears a quiet caller
    assert lacking[TIMING].startswith("录音里较轻的一方音量过低") and "-45 dBFS" in lacking[TIMING]
    assert unheard(mixed(math.nan), floors, agent_channel=0) == {}  # stereo, or one voice too short
    assert unheard(mixed(-45), QualityConfig(min_voice_dbfs=-100), agent_channel=0) == {}
