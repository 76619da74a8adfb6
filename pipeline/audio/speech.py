"""Where there is speech: Silero VAD per channel, and cross-talk suppression for stereo.

Regions are (start, end) in seconds. In a stereo recording each party also leaks faintly into the
other's channel (line echo, headset bleed); a VAD happily calls that speech. A frame of channel A
is bleed when channel B is much louder at the same moment; real overlaps have both loud.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from pipeline.audio.decode import SAMPLE_RATE, Signal
from pipeline.config import SpeechConfig

Region = tuple[float, float]
_FRAME = 320  # 20 ms at 16 kHz
_VAD_BLOCK = 300 * SAMPLE_RATE
_MIN_BLEED_FRAMES = 5  # 100 ms
# An echo under 60 ms late falls within the frames the same-moment bleed test compares (a hybrid's
# echo, 10-20 ms, is bleed): only later ones need the delay.
_ECHO_MIN_FRAMES = 3
_ONSET_FLOOR_DB = -70.0  # quieter frames are all silence to the echo finder (dither, not sound)
_OWN_SPEECH_DB = 20.0  # a channel within this of the other one is its own party speaking (bleed: 25 dB+ down)
_BOTH_QUIET_DB = 30.0  # a channel this far under its talker carries no speech of that party


def speech_regions(samples: Signal, cfg: SpeechConfig, db: np.ndarray | None = None) -> list[Region]:
    """Speech regions of one channel (Silero VAD shipped with faster-whisper).

    The VAD only runs where the channel is louder than ``cfg.energy_floor_db``: in a stereo call
    each channel is near-silent while the other party talks, and that half costs nothing.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=cfg.vad_threshold,
        min_speech_duration_ms=cfg.min_speech_ms,
        min_silence_duration_ms=cfg.min_silence_ms,
        speech_pad_ms=cfg.speech_pad_ms,
    )
    db = frame_db(samples) if db is None else db
    regions: list[Region] = []
    for a, b in _loud_spans(db, cfg.energy_floor_db):
        # At most _VAD_BLOCK_S per VAD call: the VAD's working memory grows with its input.
        for block in range(a * _FRAME, min(len(samples), b * _FRAME), _VAD_BLOCK):
            end = min(len(samples), b * _FRAME, block + _VAD_BLOCK)
            stamps = get_speech_timestamps(samples[block:end], options, sampling_rate=SAMPLE_RATE)
            found = [((block + s["start"]) / SAMPLE_RATE, (block + s["end"]) / SAMPLE_RATE) for s in stamps]
            if found and regions and found[0][0] - regions[-1][1] < 0.05:  # speech across a block edge
                regions[-1] = (regions[-1][0], found.pop(0)[1])
            regions += found
    return regions


def _loud_spans(
    db: np.ndarray, floor_db: float, pad_frames: int = 25, min_gap_frames: int = 100
) -> list[tuple[int, int]]:
    """Frame spans above ``floor_db``, padded by 0.5 s, with quiet gaps under 2 s bridged."""
    spans: list[tuple[int, int]] = []
    for a, b in _runs(db > floor_db):
        a, b = max(0, a - pad_frames), min(len(db), b + pad_frames)
        if spans and a - spans[-1][1] < min_gap_frames:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def frame_db(samples: Signal) -> np.ndarray:
    """Energy per 20 ms frame in dBFS, read block by block (a spooled track is never read whole)."""
    n = len(samples) // _FRAME
    out = np.empty(n, np.float32)
    for a in range(0, n, _VAD_BLOCK // _FRAME):
        b = min(n, a + _VAD_BLOCK // _FRAME)
        frames = samples[a * _FRAME : b * _FRAME].reshape(b - a, _FRAME)
        out[a:b] = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    return out


def bleed_threshold(own_db: np.ndarray, other_db: np.ndarray, cfg: SpeechConfig) -> float:
    """How much louder the other channel must be for a frame of this one to count as bleed.

    While the other party talks, this channel mostly carries only their bleed, so the median level
    difference over the other's loud frames is the line's bleed attenuation (about 25-35 dB on a
    hybrid, 80 dB on a clean recording). Frames within ``cfg.crosstalk_margin_db`` of it are bleed;
    anything louder is this party's own speech, even a soft syllable under the other's voice.
    The threshold is never below ``cfg.crosstalk_db`` nor above ``cfg.crosstalk_max_db``.
    """
    if len(other_db) == 0:
        return cfg.crosstalk_db
    loud = other_db > np.percentile(other_db, 90) - 10
    loud &= other_db > cfg.energy_floor_db
    if loud.sum() < 25:  # under half a second of the other party: nothing to measure
        return cfg.crosstalk_db
    attenuation = float(np.median(other_db[loud] - own_db[loud]))
    return float(np.clip(attenuation - cfg.crosstalk_margin_db, cfg.crosstalk_db, cfg.crosstalk_max_db))


def suppress_crosstalk(
    regions: list[Region],
    own_db: np.ndarray,
    other_db: np.ndarray,
    cfg: SpeechConfig,
    threshold_db: float | None = None,
) -> list[Region]:
    """Drop the parts of ``regions`` where the other channel is ``threshold_db`` (by default
    ``cfg.crosstalk_db``) louder."""
    frame_s = _FRAME / SAMPLE_RATE
    bleed = (other_db - own_db) > (cfg.crosstalk_db if threshold_db is None else threshold_db)
    # Bleed lasts as long as the other party's words; a 20-80 ms dip inside one's own speech (a
    # stop consonant) under a loud other voice is not bleed, and cutting there splits a turn.
    # Own speech within 60 ms on both sides of the dip tells the two apart.
    speaking = own_db >= other_db - _OWN_SPEECH_DB
    for a, b in _runs(bleed):
        if b - a < _MIN_BLEED_FRAMES and speaking[max(0, a - 3) : a].any() and speaking[b : b + 3].any():
            bleed[a:b] = False
    min_len = cfg.min_speech_ms / 1000
    out: list[Region] = []
    for start, end in regions:
        a, b = int(start / frame_s), min(len(bleed), int(np.ceil(end / frame_s)))
        if a >= b:
            continue
        keep = ~bleed[a:b]
        for run_start, run_end in _runs(keep):
            s, e = (a + run_start) * frame_s, (a + run_end) * frame_s
            if e - s >= min_len:
                out.append((max(start, s), min(end, e)))
    return _merge(out, cfg.min_silence_ms / 1000)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where mask is True."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _merge(regions: list[Region], max_gap: float) -> list[Region]:
    merged: list[Region] = []
    for start, end in sorted(regions):
        if merged and start - merged[-1][1] < max_gap:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def echo_lag(own_db: np.ndarray, other_db: np.ndarray, cfg: SpeechConfig) -> int:
    """The frames by which the other channel's sound comes back on this one (a line's echo), or 0.

    Energy onsets (a frame's rise or fall against the one before) of two parties' channels do not
    correlate at any delay; an echo repeats the other party's onsets, a fixed delay late. The delay
    with the highest correlation counts if it reaches ``cfg.echo_min_correlation``."""
    most = int(cfg.echo_max_ms / 1000 * SAMPLE_RATE / _FRAME)
    if most < _ECHO_MIN_FRAMES or len(own_db) < 10 * most:
        return 0
    own = np.diff(np.maximum(own_db, _ONSET_FLOOR_DB))
    other = np.diff(np.maximum(other_db, _ONSET_FLOOR_DB))
    if own.std() == 0 or other.std() == 0:
        return 0
    own = (own - own.mean()) / own.std()
    other = (other - other.mean()) / other.std()
    n = len(own)
    lags = range(_ECHO_MIN_FRAMES, most + 1)
    correlation = [float(np.dot(own[lag:], other[: n - lag]) / (n - lag)) for lag in lags]
    best = int(np.argmax(correlation))
    return lags[best] if correlation[best] >= cfg.echo_min_correlation else 0


def _with_echo(db: np.ndarray, lag: int) -> np.ndarray:
    """A channel's level as heard on the other with its echo ``lag`` frames late (one frame either
    side: the delay is rarely a whole frame)."""
    out = db.copy()
    for delay in (lag - 1, lag, lag + 1):
        if 0 < delay < len(db):
            out[delay:] = np.maximum(out[delay:], db[: len(db) - delay])
    return out


def stereo_regions(samples: Sequence[Signal], cfg: SpeechConfig) -> list[list[Region]]:
    """Per-channel speech regions of a two-channel recording, bleed, echo and background voices removed."""
    db = [frame_db(ch) for ch in samples]
    raw = [speech_regions(ch, cfg, level) for ch, level in zip(samples, db, strict=True)]
    return [channel_speech(raw[i], db[i], db[1 - i], cfg) for i in range(2)]


def channel_speech(
    regions: list[Region], own_db: np.ndarray, other_db: np.ndarray, cfg: SpeechConfig
) -> list[Region]:
    """One channel's own party's speech: the VAD's ``regions`` less the other party's bleed and
    echo and the voices behind (``own_db``, ``other_db``: the two channels' ``frame_db``)."""
    lag = echo_lag(own_db, other_db, cfg)
    other = _with_echo(other_db, lag) if lag else other_db
    if not lag and voices_behind(own_db, other_db, cfg):
        # The bleed test below cuts the voices behind wherever the other party is louder, into
        # pieces each shorter than background_min_s: the gate reads them whole first.
        regions = suppress_background(regions, own_db, cfg)
    own = suppress_crosstalk(regions, own_db, other, cfg, bleed_threshold(own_db, other, cfg))
    return suppress_background(own, own_db, cfg)


def background_level(own_db: np.ndarray, other_db: np.ndarray, cfg: SpeechConfig) -> float | None:
    """This channel's sound while the other party is silent and this one's talker pauses, in dB
    against its own talker's level (negative), or None where there is too little to measure.

    The other party is silent where its channel is 30 dB under its talker (or under the energy
    floor): bleed and echo need the other party talking, so they never count. There, the reading
    is the louder of the median of this channel's frames that stay ``background_gap_db`` under its
    talker (its pauses) and the 10th percentile of all its frames (voices behind as loud as the
    talker's valleys leave no pause to read, but never fall quiet either). A clean rendered line
    reads -84 dB, the real recordings -29 dB at most (a dense conversation's 10th percentile is
    its own soft speech), four other conversations N dB under the agent about -(N + 2) dB."""
    read = background_frames(own_db, other_db, cfg)
    return None if read is None else read[0]


def background_frames(
    own_db: np.ndarray, other_db: np.ndarray, cfg: SpeechConfig
) -> tuple[float, np.ndarray] | None:
    """``background_level`` and the frames it was read from (a mask over ``own_db``): the pauses
    where their median gave the level, else the frames at the 10th percentile or under."""
    speech = own_db > cfg.energy_floor_db
    if speech.sum() < 50 or len(other_db) == 0:
        return None
    own_level = float(np.percentile(own_db[speech], 90))
    other_level = float(np.percentile(other_db, 90))
    other_silent = _envelope(other_db) < max(other_level - _BOTH_QUIET_DB, cfg.energy_floor_db)
    if other_silent.sum() < 50:  # under a second of it
        return None
    always = float(np.percentile(own_db[other_silent], 10))
    pauses = other_silent & (_envelope(own_db) < own_level - cfg.background_gap_db)
    if pauses.sum() >= 50 and (paused := float(np.median(own_db[pauses]))) >= always:
        return paused - own_level, pauses
    return always - own_level, other_silent & (own_db <= always)


def spectral_flatness(samples: Signal, frames: np.ndarray, most: int = 1500) -> float:
    """The median spectral flatness (geometric over arithmetic mean of the power, 300-3,400 Hz) of
    the 20 ms ``frames`` (a mask) of ``samples``, at most ``most`` of them spread over the call:
    about 0.56 for white noise (a line's hiss), 0.03-0.05 for other people's voices, whose power
    sits in harmonics and formants. NaN without frames."""
    chosen = np.flatnonzero(frames)
    if not len(chosen):
        return float("nan")
    chosen = chosen[:: max(1, len(chosen) // most)]
    block = np.stack([np.asarray(samples[i * _FRAME : (i + 1) * _FRAME], np.float64) for i in chosen])
    power = np.abs(np.fft.rfft(block * np.hanning(_FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(_FRAME, 1 / SAMPLE_RATE)
    power = power[:, (freqs >= 300) & (freqs <= 3400)] + 1e-20
    flatness = np.exp(np.log(power).mean(axis=1)) / power.mean(axis=1)
    return float(np.median(flatness))


def voices_behind(own_db: np.ndarray, other_db: np.ndarray, cfg: SpeechConfig) -> bool:
    """Whether this channel carries other people's sound through the pauses of both parties
    (``background_level`` of ``-background_present_db`` or louder)."""
    if cfg.background_gap_db <= 0 or cfg.background_present_db <= 0:
        return False
    level = background_level(own_db, other_db, cfg)
    return level is not None and level >= -cfg.background_present_db


def _envelope(db: np.ndarray) -> np.ndarray:
    """The loudest frame within 100 ms either side: a voice's syllables, not its valleys."""
    return np.lib.stride_tricks.sliding_window_view(np.pad(db, 5, mode="edge"), 11).max(axis=1)


def suppress_background(regions: list[Region], db: np.ndarray, cfg: SpeechConfig) -> list[Region]:
    """Drop the stretches of ``regions`` that are other people's voices far behind this channel's
    own talker: the next desks of an open-plan floor in an agent's headset, a television behind a
    caller. The VAD hears them as speech and joins them into one turn that lasts the whole call.

    The channel's own talker is the loudest voice on it: its level is the 90th percentile of the
    channel's speech frames. A stretch of ``background_min_s`` or more whose loudest frame within
    100 ms stays ``background_gap_db`` under that level is somebody else (a pause inside one's
    own sentence is shorter, and a soft syllable sits next to louder ones).
    """
    if cfg.background_gap_db <= 0 or not regions or len(db) == 0:
        return regions
    inside = frame_mask(regions, len(db))
    if inside.sum() < 50:  # under a second of speech: nothing to measure a level on
        return regions
    cut = background_stretches(regions, db, float(np.percentile(db[inside], 90)), cfg)
    return without(regions, cut, cfg.min_speech_ms / 1000) if cut else regions


def background_stretches(
    regions: Sequence[Region], db: np.ndarray, talker_db: float, cfg: SpeechConfig
) -> list[Region]:
    """The stretches of ``regions`` of ``background_min_s`` or more whose loudest frame within
    100 ms stays ``background_gap_db`` under ``talker_db`` (the quietest talker's level): other
    people's voices behind the talkers, or a long pause the VAD kept."""
    if cfg.background_gap_db <= 0 or not regions or len(db) == 0:
        return []
    frame_s = _FRAME / SAMPLE_RATE
    behind = (_envelope(db) < talker_db - cfg.background_gap_db) & frame_mask(regions, len(db))
    min_frames = int(cfg.background_min_s / frame_s)
    return [(a * frame_s, b * frame_s) for a, b in _runs(behind) if b - a >= min_frames]


def quietest_voice_db(
    voices: Sequence[Sequence[Region]], db: np.ndarray, percentile: float = 90
) -> float | None:
    """The level of the quieter voice on one mixed channel (``voices``: each speaker's turns): the
    ``percentile`` of its frames (the 90th: a talker's level, as a stereo channel's is read; the
    median: a level that a few frames of the other voice at a turn's edge do not move). None
    without a voice of a second or more."""
    levels = []
    for regions in voices:
        mask = frame_mask(regions, len(db))
        if mask.sum() >= 50:
            levels.append(float(np.percentile(db[mask], percentile)))
    return min(levels) if levels else None


def behind_the_voices(
    voices: Sequence[Sequence[Region]], db: np.ndarray, cfg: SpeechConfig
) -> tuple[list[Region], float | None]:
    """On one mixed channel, the stretches of the voices' speech that are other people behind them
    (``background_stretches`` under the quieter voice's level, ``quietest_voice_db``), and that
    level (None: no voice to read one on): a caller quieter than the agent keeps their own level,
    and is never read as behind."""
    level = quietest_voice_db(voices, db)
    if level is None or cfg.background_gap_db <= 0:
        return [], level
    return background_stretches(sorted(r for regions in voices for r in regions), db, level, cfg), level


def without(regions: Sequence[Region], cut: Sequence[Region], min_len: float) -> list[Region]:
    """``regions`` less the stretches ``cut`` (which do not overlap one another); pieces shorter
    than ``min_len`` seconds dropped."""
    cut = sorted(cut)
    ends = [b for _, b in cut]
    out: list[Region] = []
    for start, end in regions:
        s = start
        # The cuts that can touch this region: from the first one ending after its start.
        for a, b in cut[bisect.bisect_right(ends, start) :]:
            if a >= end:
                break
            if a - s >= min_len:
                out.append((s, a))
            s = max(s, b)
        if end - s >= min_len:
            out.append((s, end))
    return out


def frame_mask(regions: Sequence[Region], frames: int) -> np.ndarray:
    """The 20 ms frames that ``regions`` cover."""
    frame_s = _FRAME / SAMPLE_RATE
    inside = np.zeros(frames, bool)
    for start, end in regions:
        inside[int(start / frame_s) : int(np.ceil(end / frame_s))] = True
    return inside
