"""How well a recording can be heard: a reading per channel, and what the rules cannot score below it.

A centre's recorder gives calls through AMR, MP3 and lossy VoIP, from a street or an open-plan
floor. Where a call is too noisy, clipped or broken up, callqa's timings and words may be wrong;
rather than findings that may be wrong, a call below a documented floor is stored as not scorable
for the rules that need what was lost, with the reason in Chinese (``unheard``). The floors are
``[quality]`` in callqa.toml; how they were set: docs/evaluation.md, telephone conditions.

Every measure reads 20 ms frames and is cheap next to decoding (a few ms a minute of audio):

- ``speech_dbfs``: the channel's speech level, the 95th percentile of its frames' energy.
- ``noise_dbfs``: its noise floor, the 10th percentile (each party is silent about half of a
  stereo call and a mono call pauses between turns, so this is the hiss, the hum, the street or
  the other voices in the room, not speech).
- ``snr_db``: the two's difference: low where something sounds through every pause.
- ``clipped_share``: the share of speech frames with three samples or more in a row at full scale.
- ``dropout_share``: the share of 20 ms frames inside speech that are digital silence (VoIP packets
  lost and not concealed).
- ``bandwidth_hz``: where the speech spectrum ends (60 dB under its peak): about 3,400-4,000 Hz
  for a narrow-band line or codec, 7,000-8,000 Hz for a wide-band one.
- ``behind_db`` (stereo): the channel's sound while the other party is silent and its own talker
  pauses, against that talker (``speech.background_level``): -80 dB or less on a clean line, -25
  to -40 for a room's hiss, about -(N + 2) dB with other people's voices N dB under the talker
  (the next desks in an agent's headset, a television), as loud for a street. NaN where that
  sound is spectrally flat noise, not voices (``[speech] behind_max_flatness``: a line's hiss
  that an AGC raises in every pause).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pipeline.audio.decode import SAMPLE_RATE, Audio, Signal
from pipeline.audio.speech import background_frames, frame_db, frame_mask, spectral_flatness
from pipeline.config import QualityConfig, SpeechConfig
from pipeline.records import AudioQuality, ChannelQuality

FRAME = SAMPLE_RATE // 50  # 20 ms
_SILENT_DB = -90.0  # a frame this quiet is digital silence (PCM's own floor is about -100 dBFS)
_BLOCK = 60 * SAMPLE_RATE  # read a long call a minute at a time


def channel_quality(
    track: Signal, db: np.ndarray | None = None, behind_db: float = math.nan
) -> ChannelQuality:
    """The reading of one channel (see the module's docstring). The levels come from
    ``speech.frame_db`` (``db``, where the caller has them); clipping and the spectrum are read a
    minute at a time, so a spooled long call is never held in memory whole."""
    db = (frame_db(track) if db is None else db).astype(np.float64)
    if not len(db):
        return ChannelQuality(math.nan, math.nan, 0.0, 0.0, math.nan)
    speech_db = float(np.percentile(db, 95))
    noise_db = float(np.percentile(db, 10))
    speech = db > speech_db - 30
    n_speech = int(speech.sum())
    # Speech frames for the spectrum: 3,000 at most (a minute), spread over the call.
    step = max(1, n_speech // 3000)
    spectral = np.zeros(len(db), bool)
    spectral[np.flatnonzero(speech)[::step][:3000]] = True
    clipped, power, per_block = 0, np.zeros(FRAME // 2 + 1), _BLOCK // FRAME
    for a in range(0, len(db), per_block):
        b = min(len(db), a + per_block)
        frames = np.asarray(track[a * FRAME : b * FRAME], np.float32).reshape(b - a, FRAME)
        at_full = np.abs(frames[speech[a:b]]) >= 0.999
        # Three samples in a row at full scale: a clipped peak, not a loud sample that touches it.
        clipped += int((at_full[:, :-2] & at_full[:, 1:-1] & at_full[:, 2:]).any(axis=1).sum())
        chosen = frames[spectral[a:b]].astype(np.float64)
        if len(chosen):
            power += (np.abs(np.fft.rfft(chosen * np.hanning(FRAME), axis=1)) ** 2).sum(axis=0)
    dropout = _dropout_share(db, db > speech_db - 40)
    return ChannelQuality(
        speech_db, noise_db, clipped / n_speech if n_speech else 0.0, dropout, _bandwidth(power), behind_db
    )


def _dropout_share(db: np.ndarray, voiced: np.ndarray, max_frames: int = 3) -> float:
    """Runs of at most ``max_frames`` frames of digital silence with speech right before and right
    after (a lost packet, not a pause: a pause is longer, and rendered or gated audio has those),
    as a share of the speech frames."""
    silent = np.concatenate([[False], db < _SILENT_DB, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]  # frame indices of each silent run [start, end)
    lost = 0
    for a, b in zip(starts, ends, strict=True):
        if b - a <= max_frames and a > 0 and b < len(db) and voiced[a - 1] and voiced[b]:
            lost += b - a
    return float(lost / max(1, int(voiced.sum()) + lost))


def _bandwidth(power: np.ndarray) -> float:
    """The highest frequency within 60 dB of the speech spectrum's peak (``power``: summed over
    speech frames)."""
    if not power.any():
        return math.nan
    db = 10 * np.log10(power + 1e-20)
    freqs = np.fft.rfftfreq(FRAME, 1 / SAMPLE_RATE)
    return float(freqs[np.flatnonzero(db >= db.max() - 60)[-1]])


def audio_quality(audio: Audio, stereo: bool, speech: SpeechConfig | None = None) -> AudioQuality:
    """The reading of a decoded call as it is scored: each channel on stereo, the mix on mono."""
    if not stereo:
        return AudioQuality((channel_quality(audio.mono()),), audio.source_rate, audio.codec)
    speech = speech or SpeechConfig()
    db = [frame_db(t) for t in audio.tracks]
    channels = []
    for i, track in enumerate(audio.tracks):
        channels.append(channel_quality(track, db[i], _voices_behind_db(track, db[i], db[1 - i], speech)))
    return AudioQuality(tuple(channels), audio.source_rate, audio.codec)


def _voices_behind_db(track: Signal, own_db: np.ndarray, other_db: np.ndarray, speech: SpeechConfig) -> float:
    """``speech.background_level`` where what it read sounds like voices; NaN where there is too
    little to read, or where it is noise: an AGC raises a line's hiss in every pause as loud as the
    next desks' voices, and that hiss, spectrally flat, must not withhold a call heard well."""
    read = background_frames(own_db, other_db, speech)
    if read is None:
        return math.nan
    level, frames = read
    # Only a sound loud enough to be taken for voices is judged (a rendered line's faint dither
    # keeps its reading): ``[speech] background_present_db``.
    if speech.behind_max_flatness <= 0 or level < -speech.background_present_db:
        return level
    sounding = frames & (own_db > _SILENT_DB)  # digital silence has no spectrum to read
    return math.nan if spectral_flatness(track, sounding) >= speech.behind_max_flatness else level


def mixed_behind_db(
    track: Signal,
    db: np.ndarray,
    stretches: Sequence[tuple[float, float]],
    talker_db: float,
    speech: SpeechConfig,
) -> float:
    """On a mono recording, other people's voices behind both parties: the median level of the
    stretches taken out of the voices' speech (``speech.behind_the_voices``) against the quieter
    voice's level (``talker_db``), as ``behind_db`` reads a stereo channel. NaN where nothing was
    taken out or it is silence, or where the sound there is noise, not voices (a long pause the
    speech detector kept, a line's hiss)."""
    frames = frame_mask(stretches, len(db)) & (db > _SILENT_DB)
    if frames.sum() < 25:  # under half a second of sound
        return math.nan
    level = float(np.median(db[frames])) - talker_db
    if speech.behind_max_flatness <= 0 or level < -speech.background_present_db:
        return level
    return math.nan if spectral_flatness(track, frames) >= speech.behind_max_flatness else level


def doubted_share(probs: Sequence[float], below: float = 0.5) -> float:
    """The share of words Whisper gave a probability under ``below`` (NaN without words)."""
    if not probs:
        return math.nan
    return float(np.mean(np.asarray(probs) < below))


WORDS = "words"  # the rules that read what was said
TIMING = "timing"  # the rules that read who spoke when (overlaps, hang-ups, pace)
VOICE = "voice"  # the rules that read the agent's pitch and loudness


def unheard(
    quality: AudioQuality,
    floors: QualityConfig,
    agent_channel: int | None = None,
    overlap_share: float = 0.0,
    busier: str = "",
) -> dict[str, str]:
    """What the rules cannot read on this call (``WORDS``, ``TIMING``, ``VOICE``), each with its
    reason in Chinese (pipeline.rules.RULE_NEEDS says which rules need which). Noise through every
    pause reads as speech to the speech detector and garbles the words, so a channel under
    ``min_snr_db`` takes all three. Voices behind a party are speech to the detector whatever their
    level: the sign is both parties heard at once for more than ``max_overlap_share`` of the call
    (``overlap_share``, from the turns; ``busier`` names the party heard the longer, whose side the
    voices are likely on), which takes the timing and the words. A channel quieter than ``min_speech_dbfs`` takes the
    timing (its soft syllables fall under the speech detector's floor). Other voices read within
    ``max_behind_db`` of the agent's talker while neither party talks (the next desks) take the
    timing and the words; on the caller's side a street or a television reads as loud and the
    noise and overlap floors judge it. A mono recording reads both from the two voices the
    clustering found (``records.VoicesHeard``): voices behind both within ``max_behind_mono_db``
    of the quieter one take the timing and the words, and the quieter voice under
    ``min_voice_dbfs`` the timing (the mix's own level is the louder party's). Clipping takes the
    voice (Whisper reads clipped words well); lost packets and Whisper doubting more than
    ``max_doubted_share`` of the words take the words."""
    if len(quality.channels) == 2 and agent_channel in (0, 1):
        names = ("坐席声道", "客户声道") if agent_channel == 0 else ("客户声道", "坐席声道")
    else:
        names = ("左声道", "右声道") if len(quality.channels) == 2 else ("录音",)
    out: dict[str, str] = {}
    for channel, (name, ch) in enumerate(zip(names, quality.channels, strict=True)):
        if floors.min_snr_db and ch.snr_db < floors.min_snr_db:
            why = (
                f"{name}噪声过大：语音只比背景高 {ch.snr_db:.0f} dB（下限 {floors.min_snr_db:.0f} dB），"
                "背景里的声音会被当成说话"
            )
            for need in (TIMING, WORDS, VOICE):
                out.setdefault(need, why)
        behind_floor = floors.max_behind_db if len(quality.channels) == 2 else floors.max_behind_mono_db
        if behind_floor < 0 and channel == agent_channel and ch.behind_db > behind_floor:
            why = (
                f"{name}背景里有别人的说话声：只比说话人低 {-ch.behind_db:.1f} dB"
                f"（至少要低 {-behind_floor:.0f} dB），会被当成这一方在说话"
            )
            out.setdefault(TIMING, why)
            out.setdefault(WORDS, why)
        if ch.speech_dbfs < floors.min_speech_dbfs:
            out.setdefault(
                TIMING,
                f"{name}音量过低：语音电平 {ch.speech_dbfs:.0f} dBFS（下限 {floors.min_speech_dbfs:.0f} dBFS），"
                "较轻的字会被漏掉",
            )
        if ch.voice_dbfs < floors.min_voice_dbfs:  # mono: the quieter voice (NaN on stereo)
            out.setdefault(
                TIMING,
                f"{name}里较轻的一方音量过低：中位电平 {ch.voice_dbfs:.0f} dBFS（下限 {floors.min_voice_dbfs:.0f} dBFS），"
                "较轻的字会被漏掉",
            )
        if ch.clipped_share > floors.max_clipped_share:
            why = (
                f"{name}削波失真：{ch.clipped_share:.0%} 的语音帧削顶（上限 {floors.max_clipped_share:.0%}）"
            )
            out.setdefault(VOICE, why)
        if ch.dropout_share > floors.max_dropout_share:
            out.setdefault(
                WORDS,
                f"{name}丢包：{ch.dropout_share:.0%} 的语音帧成了静音（上限 {floors.max_dropout_share:.0%}）",
            )
    if overlap_share > floors.max_overlap_share:
        side = f"{busier}一方几乎一直有声音，" if busier else ""
        why = (
            f"两方同时有声音的时间占通话的 {overlap_share:.0%}（上限 {floors.max_overlap_share:.0%}）："
            f"{side}多半是背景里别人的说话声被当成了说话"
        )
        out.setdefault(TIMING, why)
        out.setdefault(WORDS, why)
    if quality.doubted_share > floors.max_doubted_share:
        out.setdefault(
            WORDS,
            f"语音识别把握低：{quality.doubted_share:.0%} 的字词识别概率低于 {floors.doubted_word_prob:.0%}"
            f"（上限 {floors.max_doubted_share:.0%}）",
        )
    return out
