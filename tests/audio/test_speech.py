import numpy as np

from pipeline.audio.decode import decode
from pipeline.audio.speech import (
    bleed_threshold,
    frame_db,
    speech_regions,
    stereo_regions,
    suppress_crosstalk,
)
from pipeline.config import SpeechConfig


def test_bleed_frames_are_removed_and_real_overlap_kept():
    cfg = SpeechConfig(crosstalk_db=15, min_speech_ms=100, min_silence_ms=100)
    n = 150  # 3 s of 20 ms frames
    own = np.full(n, -80.0)
    other = np.full(n, -80.0)
    own[0:50] = -20  # own speech 0-1 s
    other[50:100] = -20  # other party 1-2 s, leaking into own channel at -50 dB
    own[50:100] = -50
    own[100:150] = other[100:150] = -22  # both talk 2-3 s: a real overlap
    kept = suppress_crosstalk([(0.0, 3.0)], own, other, cfg)
    assert kept == [(0.0, 1.0), (2.0, 3.0)]


def test_vad_finds_the_agents_speech_in_a_real_recording(sample_share):
    audio = decode(sample_share / "recordings/2026-11-16/S001.flac")
    regions = speech_regions(audio.samples[0], SpeechConfig())
    assert regions and regions[0][0] > 1.0  # 1.5 s of lead-in before the greeting
    total = sum(e - s for s, e in regions)
    assert 5 < total < audio.duration


def test_stereo_bleed_is_not_speech_of_the_other_channel(sample_share):
    # S006 is rendered with each party leaking into the other channel at -30 dB.
    import json

    truth = json.loads((sample_share / "truth/S006.json").read_text())
    audio = decode(sample_share / truth["audio"])
    agent_regions, _ = stereo_regions(audio.samples, SpeechConfig())
    caller_only = [u for u in truth["utterances"] if u["role"] == "caller"]
    for u in caller_only:
        inside = sum(max(0.0, min(e, u["end"] - 0.3) - max(s, u["start"] + 0.3)) for s, e in agent_regions)
        assert inside < 0.3, f"agent channel has speech during the caller's {u['text']}"


def test_frame_energy_is_in_dbfs():
    tone = 0.5 * np.sin(np.linspace(0, 2000 * np.pi, 16000))
    assert abs(float(np.median(frame_db(tone.astype(np.float32)))) - (-9.0)) < 0.5


def test_the_bleed_threshold_follows_the_lines_own_attenuation():
    cfg = SpeechConfig()
    rng = np.random.default_rng(0)
    other = np.where(rng.random(500) < 0.5, -20.0, -90.0)  # the other party talks half the time
    hybrid = np.maximum(other - 30 + rng.normal(0, 1, 500), -90)  # their bleed, 30 dB down
    assert 20 < bleed_threshold(hybrid, other, cfg) < 24  # 30 dB less the 8 dB margin
    clean = np.full(500, -95.0)  # no bleed at all: only a much louder gap is bleed
    assert bleed_threshold(clean, other, cfg) == cfg.crosstalk_max_db
    assert bleed_threshold(clean, np.full(500, -95.0), cfg) == cfg.crosstalk_db  # nothing to measure


def test_a_soft_syllable_under_the_other_voice_is_kept_on_a_clean_line():
    cfg = SpeechConfig(min_speech_ms=100, min_silence_ms=100)
    own = np.full(100, -22.0)
    own[40:60] = -45.0  # 0.4 s of soft speech while the other talks loudly
    other = np.full(100, -20.0)
    assert suppress_crosstalk([(0.0, 2.0)], own, other, cfg, threshold_db=40.0) == [(0.0, 2.0)]
    assert suppress_crosstalk([(0.0, 2.0)], own, other, cfg) == [(0.0, 0.8), (1.2, 2.0)]  # 15 dB cut it


def test_a_short_dip_in_ones_own_speech_under_the_other_voice_is_not_bleed():
    cfg = SpeechConfig(min_speech_ms=100, min_silence_ms=100)
    own = np.full(100, -18.0)
    own[50:53] = -72.0  # a 60 ms stop consonant while the other party talks loudly too
    other = np.full(100, -20.0)
    assert suppress_crosstalk([(0.0, 2.0)], own, other, cfg, threshold_db=30.0) == [(0.0, 2.0)]
    # Real bleed: the other talks, this channel carries only its echo 33 dB down, with the same
    # short gaps between syllables: all of it is bleed.
    echo = other - 33.0
    echo[50:53] = -72.0
    assert suppress_crosstalk([(0.0, 2.0)], echo, other, cfg, threshold_db=25.0) == []


def test_voices_far_behind_the_channels_talker_are_not_its_speech():
    from pipeline.audio.speech import suppress_background

    cfg = SpeechConfig()
    frames = lambda seconds: int(seconds * 50)  # noqa: E731 (20 ms frames)
    # Own speech at -20 dBFS (syllables down to -26), other desks' voices well under it between turns.
    syllables = np.tile(np.r_[np.full(10, -20.0), np.full(5, -26.0)], 10)[: frames(2)]
    behind = np.full(frames(3), -20.0 - cfg.background_gap_db - 6)
    db = np.concatenate([syllables, behind, syllables, behind, syllables]).astype(np.float32)
    whole = [(0.0, len(db) / 50)]  # the VAD: one turn for the whole call
    kept = suppress_background(whole, db, cfg)
    # (the 100 ms either side of the talker stay with it: the envelope reaches that far)
    assert [(round(a, 2), round(b, 2)) for a, b in kept] == [(0.0, 2.1), (4.9, 7.1), (9.9, 12.0)]
    # A clean channel: a short pause inside a sentence and a soft last word are the talker's.
    pause = np.full(frames(0.25), -70.0)
    soft = np.full(frames(0.4), -20.0 - cfg.background_gap_db + 1)
    clean = np.concatenate([syllables, pause, syllables, soft]).astype(np.float32)
    assert suppress_background([(0.0, len(clean) / 50)], clean, cfg) == [(0.0, len(clean) / 50)]
    assert suppress_background(whole, db, SpeechConfig(background_gap_db=0)) == whole


def test_a_lines_echo_is_found_at_its_delay_and_not_taken_for_speech(sample_share):
    from pipeline.audio.speech import echo_lag
    from pipeline.evaluation.impairments import with_echo

    audio = decode(sample_share / "recordings/2026-11-16/S001.flac").samples  # agent left, no bleed
    cfg = SpeechConfig()
    db = [frame_db(ch) for ch in audio]
    assert echo_lag(db[0], db[1], cfg) == 0 and echo_lag(db[1], db[0], cfg) == 0
    echoed = np.stack([with_echo(audio[i], audio[1 - i], 20, delay_s=0.15) for i in range(2)])
    late = [frame_db(ch) for ch in echoed]
    assert echo_lag(late[0], late[1], cfg) in (7, 8)  # 150 ms: 7.5 frames of 20 ms
    clean, heard = stereo_regions(audio, cfg), stereo_regions(echoed, cfg)
    for ch in range(2):
        clean_s = sum(e - s for s, e in clean[ch])
        heard_s = sum(e - s for s, e in heard[ch])
        assert abs(heard_s - clean_s) < 0.1 * clean_s  # the other party's echo is not this party's speech
    off = SpeechConfig(echo_max_ms=0)
    # Without the delay, the agent's echo on the caller's channel is half again the caller's speech.
    assert sum(e - s for s, e in stereo_regions(echoed, off)[1]) > 1.3 * sum(e - s for s, e in clean[1])


def _two_party_call(agent_pause_db: float, caller_on_agent_db: float) -> tuple[np.ndarray, np.ndarray]:
    """Frame levels of a call in 1-s turns: agent, caller, agent, caller, ... (10 s), with what the
    agent's channel carries while the agent is silent: ``agent_pause_db`` where nobody talks
    (1 s of silence between each turn) and ``caller_on_agent_db`` while the caller talks."""
    rng = np.random.default_rng(1)
    agent, caller = [], []
    for turn in range(6):
        talk = -20.0 + rng.normal(0, 1.5, 50)
        silence = np.full(25, -90.0)
        if turn % 2 == 0:
            agent += [talk, np.full(25, agent_pause_db)]
            caller += [np.full(50, -90.0), silence]
        else:
            agent += [np.full(50, caller_on_agent_db), np.full(25, agent_pause_db)]
            caller += [talk, silence]
    return np.concatenate(agent).astype(np.float32), np.concatenate(caller).astype(np.float32)


def test_voices_behind_are_read_while_neither_party_talks():
    from pipeline.audio.speech import background_level, voices_behind

    cfg = SpeechConfig()
    clean = _two_party_call(-90.0, -90.0)
    hybrid = _two_party_call(-90.0, -50.0)  # the caller's bleed, 30 dB down: only while they talk
    desks = _two_party_call(-42.0, -42.0)  # other conversations 22 dB under the agent, all the time
    assert background_level(*clean, cfg) < -60 and not voices_behind(*clean, cfg)
    assert background_level(*hybrid, cfg) < -60 and not voices_behind(*hybrid, cfg)
    assert -25 < background_level(*desks, cfg) < -20 and voices_behind(*desks, cfg)
    assert not voices_behind(*desks, SpeechConfig(background_present_db=0))
    assert background_level(np.full(100, -90.0, np.float32), desks[1], cfg) is None  # nobody talks
    # Voices as loud as the agent's valleys leave no pause to read, and stop only for a moment:
    # what is there through most of the caller's silence is the reading, not that moment.
    loud = _two_party_call(-26.0, -26.0)
    loud[0][50:75] = -90.0
    assert background_level(*loud, cfg) > -12 and voices_behind(*loud, cfg)


def test_voices_behind_are_gated_before_the_bleed_test_splits_them():
    from pipeline.audio.speech import channel_speech

    # (A 10-s call of regular turns has too few onsets for the echo finder to tell from a delay.)
    cfg = SpeechConfig(echo_max_ms=0)
    agent, caller = _two_party_call(-42.0, -42.0)
    # While the caller talks, the voices behind the agent swell now and then (another desk's
    # laugh): the bleed test cuts the rest of those seconds, the swells stay in 0.4 s pieces.
    for start in (75, 225):
        agent[start + 20 : start + 40] = -30.0
        caller[start + 20 : start + 40] = -40.0  # the caller takes a breath under the swell
    whole = [(0.0, len(agent) / 50)]  # the VAD: one turn for the whole call
    kept = channel_speech(whole, agent, caller, cfg)
    spans = [(round(a, 1), round(b, 1)) for a, b in kept]
    # Only the agent's three turns (with the envelope's 100 ms either side) are left.
    assert spans == [(0.0, 1.1), (2.9, 4.1), (5.9, 7.1)], spans
    before = channel_speech(whole, agent, caller, SpeechConfig(echo_max_ms=0, background_present_db=0))
    assert len(before) > len(kept)  # the swells, cut from their surroundings, were kept


def test_on_one_mixed_channel_voices_behind_are_read_under_the_quieter_party():
    from pipeline.audio.speech import behind_the_voices

    cfg = SpeechConfig()
    frames = lambda seconds: int(seconds * 50)  # noqa: E731 (20 ms frames)

    def talker(level: float, seconds: float) -> np.ndarray:
        return np.tile(np.r_[np.full(10, level), np.full(5, level - 6)], 20)[: frames(seconds)]

    # An agent at -20 dBFS, a caller 14 dB quieter (a far handset), and other desks' voices 12 dB
    # under the caller in the pauses the VAD kept: the caller has its own level, and is kept.
    agent, caller = talker(-20.0, 2), talker(-34.0, 2)
    behind = np.full(frames(1.5), -34.0 - 12)
    db = np.concatenate([agent, behind, caller, behind, agent]).astype(np.float32)
    voices = [[(0.0, 3.5), (7.0, 9.0)], [(3.5, 7.0)]]  # the clustering: the pauses went with a voice
    stretches, level = behind_the_voices(voices, db, cfg)
    assert level == -34.0  # the caller's own
    assert [(round(a, 2), round(b, 2)) for a, b in stretches] == [(2.1, 3.4), (5.6, 6.9)]
    # Read against the louder voice alone (a stereo channel's gate on the mix), the caller would go.
    from pipeline.audio.speech import background_stretches

    assert any(a <= 4.0 and b >= 5.0 for a, b in background_stretches([(0.0, 9.0)], db, -20.0, cfg))
    # A voice too short to have a level is left out of the reading; none: nothing is behind.
    assert behind_the_voices([[(0.0, 0.5)]], db, cfg) == ([], None)
    assert behind_the_voices(voices, db, SpeechConfig(background_gap_db=0))[0] == []


def test_regions_less_the_stretches_cut_keep_only_pieces_long_enough():
    from pipeline.audio.speech import without

    regions = [(0.0, 5.0), (6.0, 7.0), (8.0, 12.0)]
    cut = [(1.0, 2.0), (4.95, 6.2), (9.0, 9.5), (11.0, 13.0)]
    assert without(regions, cut, 0.25) == [(0.0, 1.0), (2.0, 4.95), (6.2, 7.0), (8.0, 9.0), (9.5, 11.0)]
    assert without(regions, [], 0.25) == regions
