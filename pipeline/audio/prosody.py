"""A party's voice in numbers: pitch range and loudness, for the guide's 语气冷淡 / 有气无力.

A cold or listless voice is flat (a narrow pitch range), quiet, and may fade over the call.
``voice_measures`` reads those from one party's speech spans of a mono track, at 8 kHz (the
phone line as archived) or 16 kHz (a decoded track); ``VOICE_MEASURE_COLUMNS`` gives the units.

- pitch: YIN (de Cheveigné & Kawahara 2002) in numpy on the signal brought to 8 kHz, voiced
  where the aperiodicity is low, then octave jumps put back in line with the neighbouring
  frames. ``benchmarks/pitch_trackers.py`` compares it with librosa's pyin and yin and with
  Praat (parselmouth): librosa.pyin costs ~12 s of compute per minute (the budget is 0.3 s),
  librosa.yin has no voicing decision (every fricative and breath gets a pitch, 4 % octave
  errors between 16 kHz and 8 kHz µ-law); this one is as stable as Praat across 8 kHz µ-law
  (octave errors ~0 %, pitch range within 0.05 semitone) at about 0.1 s per minute, with
  numpy only. Over a 300-3400 Hz phone band a low male voice loses its fundamental and every
  tracker tried, Praat's included, makes octave errors: compare pitch ranges within one kind
  of line, not across.
- loudness: RMS of 25 ms frames centred on the pitch frames, at the track's own rate, in dBFS
  as ``pipeline.audio.speech.frame_db`` counts it (10·log10 of the mean square: a full-scale
  sine is -3 dBFS). The level depends on the recording chain's gain: compare an agent with
  themself or with colleagues on the same system.

Only the voiced frames count, for loudness too: a VAD span also holds pauses, breaths and line
noise, whose level says more about the line than about the voice. Every frame's analysis window
lies inside one span, so nothing outside the spans is heard.

With under ``MIN_VOICED_S`` of voiced speech, every measure but ``voiced_s`` is NaN: a pitch
range or a level over a second of voice is noise, and nothing should be flagged on it. The
slope is in dB per minute of the call's time: over a short call it is noisy too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Adult voices: a low male voice reaches ~65 Hz, a raised female or child-like voice ~450 Hz.
FMIN_HZ = 60.0
FMAX_HZ = 500.0
HOP_S = 0.01  # one pitch frame every 10 ms
WINDOW_S = 0.025  # YIN's integration window; the frame also reads 1/FMIN_HZ beyond it
TRACK_RATE = 8000  # pitch is tracked at 8 kHz: harmonics up to 4 kHz are plenty, and it halves the work
# YIN takes the first dip of the normalised difference under this (not the deepest one), which
# keeps it off the period's multiples (an octave too low).
DIP_THRESHOLD = 0.1
# A frame is voiced where its aperiodicity (the normalised difference at the chosen period) is
# under this. Stricter than Praat (~15 % fewer frames voiced, the weak edges of syllables):
# at 0.4-0.5 the frame count matches Praat's, but octave errors over a phone band double, and
# a range is better taken on the frames that are surely voiced.
VOICING_THRESHOLD = 0.3
# ...and where it is no more than this below the span set's loud frames (a hum or an echo in a
# pause is periodic too), nor under SILENCE_DB (under the VAD's -50 dBFS floor, near a µ-law
# line's idle noise: no voice to measure).
VOICING_FLOOR_DB = 35.0
SILENCE_DB = -60.0
MIN_VOICED_S = 1.5
_MIN_RUN = 3  # voiced runs shorter than 30 ms are a glitch at a consonant, not a syllable
_CANDIDATES = 8  # dips kept per frame for the continuity pass
_CONTINUITY_FRAMES = 25  # the neighbourhood a frame's pitch is checked against (250 ms)
CONTINUITY_PASSES = 2  # a second pass fixes frames whose neighbours the first one fixed
_BLOCK = 3000  # frames analysed at once (30 s)

# Column -> unit and meaning, for the tables and reports that carry these measures.
VOICE_MEASURE_COLUMNS: dict[str, str] = {
    "voiced_s": "s: voiced speech measured (10 ms frames)",
    "pitch_median_hz": "Hz: median pitch of the voiced frames",
    "pitch_range_st": "semitones: 90th minus 10th percentile of the voiced pitch",
    "loudness_db": "dBFS: median RMS of the voiced frames (full-scale sine = -3 dBFS)",
    "loudness_range_db": "dB: 90th minus 10th percentile of the voiced frames' RMS",
    "loudness_slope_db_per_min": "dB/min: least-squares slope of the voiced frames' RMS over the call",
}


@dataclass(frozen=True)
class VoiceMeasures:
    """One party's voice over its speech spans; NaN (all but ``voiced_s``) with too little voice."""

    voiced_s: float
    pitch_median_hz: float
    pitch_range_st: float
    loudness_db: float
    loudness_range_db: float
    loudness_slope_db_per_min: float


@dataclass(frozen=True)
class PitchTrack:
    """Frames of a pitch track: centre time (s), pitch (Hz, NaN where unvoiced), level (dBFS)."""

    times: np.ndarray
    f0_hz: np.ndarray
    level_db: np.ndarray

    @property
    def voiced(self) -> np.ndarray:
        return ~np.isnan(self.f0_hz)


def voice_measures(
    audio: np.ndarray, sample_rate: int, spans: Sequence[tuple[float, float]]
) -> VoiceMeasures:
    """Pitch and loudness of the speech inside ``spans`` ((start, end) in seconds) of a mono
    float32 track (an ndarray, or any track sliced like one, e.g. a spooled ``Signal``)."""
    track = pitch_track(audio, sample_rate, spans)
    voiced = track.voiced
    voiced_s = float(voiced.sum() * HOP_S)
    if voiced_s < MIN_VOICED_S:
        nan = math.nan
        return VoiceMeasures(voiced_s, nan, nan, nan, nan, nan)
    f0 = track.f0_hz[voiced]
    level = track.level_db[voiced]
    minutes = track.times[voiced] / 60.0
    p10, p90 = np.percentile(f0, [10, 90])
    l10, l90 = np.percentile(level, [10, 90])
    # Least squares of level on time; the voiced frames span at least MIN_VOICED_S, so the
    # times vary.
    centred = minutes - minutes.mean()
    slope = float(np.dot(centred, level - level.mean()) / np.dot(centred, centred))
    return VoiceMeasures(
        voiced_s=voiced_s,
        pitch_median_hz=float(np.median(f0)),
        pitch_range_st=float(12 * np.log2(p90 / p10)),
        loudness_db=float(np.median(level)),
        loudness_range_db=float(l90 - l10),
        loudness_slope_db_per_min=slope,
    )


def pitch_track(
    audio: np.ndarray, sample_rate: int, spans: Sequence[tuple[float, float]] | None = None
) -> PitchTrack:
    """Pitch and level every 10 ms inside ``spans`` (the whole track if None), frames in time order."""
    n = len(audio)
    parts = []
    for a, b in _sample_spans(spans if spans is not None else [(0.0, n / sample_rate)], sample_rate, n):
        part = _span_frames(np.asarray(audio[a:b], np.float32), sample_rate, a / sample_rate)
        if len(part[0]):
            parts.append(part)
    if not parts:
        empty = np.zeros(0)
        return PitchTrack(empty, empty, empty)
    times, f0, aperiodicity, level, candidates = (np.concatenate(p) for p in zip(*parts, strict=True))
    # The voicing floor is relative to the party's loud frames over all spans: one quiet span
    # (a mumbled aside) is still measured, a hum in a pause is not.
    loud = np.percentile(level, 95)
    voiced = (aperiodicity < VOICING_THRESHOLD) & (level > max(loud - VOICING_FLOOR_DB, SILENCE_DB))
    voiced &= _long_runs(voiced, times)
    f0 = np.where(voiced, f0, np.nan)
    # (The neighbourhood may reach into the party's previous or next span: the same voice.)
    for _ in range(CONTINUITY_PASSES):
        f0 = _keep_continuity(f0, candidates)
    return PitchTrack(times, f0, level)


def _sample_spans(spans: Sequence[tuple[float, float]], rate: int, n: int) -> list[tuple[int, int]]:
    """``spans`` as sorted sample ranges within the track, overlapping ones merged (a frame is
    counted once)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        a, b = max(0, int(round(start * rate))), min(n, int(round(end * rate)))
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _span_frames(
    x: np.ndarray, rate: int, offset_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Times, pitch, aperiodicity, level (dBFS) and other pitch candidates (Hz, NaN-padded) of
    the frames whose whole window fits in ``x``."""
    y, track_rate = _to_track_rate(x, rate)
    window = int(round(WINDOW_S * track_rate))
    max_lag = int(math.ceil(track_rate / FMIN_HZ))
    frame = window + max_lag
    hop = HOP_S * track_rate
    # Frame k starts at k·hop and is centred on its YIN window (what the pitch describes).
    count = int((len(y) - frame) // hop) + 1 if len(y) >= frame else 0
    if count <= 0:
        empty = np.zeros(0)
        return empty, empty, empty, empty, np.zeros((0, _CANDIDATES))
    starts = (np.arange(count) * hop).astype(np.int64)
    # Blocks of frames: a 10-minute span read at once would hold ~0.5 GB of spectra.
    blocks = [
        _yin(y[starts[i : i + _BLOCK, None] + np.arange(frame)], window, max_lag, track_rate)
        for i in range(0, count, _BLOCK)
    ]
    f0, aperiodicity, candidates = (np.concatenate(b) for b in zip(*blocks, strict=True))
    centres = (starts + window / 2) / track_rate
    level = _level_db(x, rate, centres)
    return offset_s + centres, f0, aperiodicity, level, candidates


def _to_track_rate(x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    """``x`` at 8 kHz when ``rate`` is a multiple of it (16, 24, 48 kHz), else as it is (YIN works
    at any rate, it only costs more)."""
    if rate == TRACK_RATE or rate % TRACK_RATE:
        return x, rate
    factor = rate // TRACK_RATE
    # A windowed-sinc low-pass at 3.6 kHz, evaluated only at the kept samples (numpy only: no
    # resampling library for a 2:1 step whose few taps are plenty for pitch).
    taps = 16 * factor + 1
    k = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(2 * 3600 / rate * k) * np.hamming(taps)
    h /= h.sum()
    padded = np.pad(x, (taps // 2, taps // 2))
    out_n = len(x) // factor
    y = np.zeros(out_n, np.float32)
    for i, tap in enumerate(h):
        y += np.float32(tap) * padded[i : i + out_n * factor : factor]
    return y, TRACK_RATE


def _yin(
    frames: np.ndarray, window: int, max_lag: int, rate: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YIN on every row of ``frames`` (window + max_lag samples): pitch (Hz), aperiodicity, and
    the other periods it could be (Hz of the deepest dips under ``VOICING_THRESHOLD``, NaN-padded)."""
    count, frame = frames.shape
    nfft = 1 << (frame - 1).bit_length()
    # Cross-correlation of the window with the frame by FFT: no wrap-around, since the window is
    # zero-padded and window + max_lag <= nfft.
    spectrum = np.fft.rfft(frames, nfft)
    head = np.fft.rfft(frames[:, :window], nfft)
    corr = np.fft.irfft(spectrum * np.conj(head), nfft)[:, : max_lag + 1]
    energy = np.concatenate([np.zeros((count, 1), frames.dtype), np.cumsum(frames**2, axis=1)], axis=1)
    lags = np.arange(max_lag + 1)
    shifted = energy[:, lags + window] - energy[:, lags]  # energy of the window shifted by each lag
    diff = np.maximum(energy[:, window : window + 1] + shifted - 2 * corr, 0.0)
    # The cumulative mean normalised difference: 1 at lag 0, ~0 at the period, ~1 in noise.
    running = np.cumsum(diff[:, 1:], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cmnd = np.where(running > 0, diff[:, 1:] * lags[1:] / running, 1.0)  # silence: no period
    cmnd = np.concatenate([np.ones((count, 1)), cmnd], axis=1)
    min_lag = max(2, int(rate / FMAX_HZ))
    search = cmnd[:, min_lag:max_lag]
    # The first local minimum under the threshold, else the deepest one in range.
    trough = np.zeros_like(search, dtype=bool)
    trough[:, 1:-1] = (search[:, 1:-1] <= search[:, :-2]) & (search[:, 1:-1] < search[:, 2:])
    chosen = trough & (search < DIP_THRESHOLD)
    found = chosen.any(axis=1)
    lag = np.where(found, chosen.argmax(axis=1), search.argmin(axis=1)) + min_lag
    aperiodicity = cmnd[np.arange(count), lag]
    # The other deep dips: where the continuity pass may find the period a frame missed.
    depth = np.where(trough & (search < VOICING_THRESHOLD), search, np.inf)
    others = np.argsort(depth, axis=1)[:, :_CANDIDATES]
    other_lags = others + min_lag
    candidates = np.where(np.isfinite(np.take_along_axis(depth, others, axis=1)), 1.0, np.nan)
    return rate / _refine(cmnd, lag), aperiodicity, candidates * rate / _refine(cmnd, other_lags)


def _refine(cmnd: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """Sub-sample periods by parabolic interpolation between the neighbouring lags (at 8 kHz a
    whole-sample period is a semitone off at 470 Hz); ``lag`` is one per row, or rows of them."""
    rows = np.arange(len(cmnd)).reshape(-1, *([1] * (lag.ndim - 1)))
    centre = cmnd[rows, lag]
    left = cmnd[rows, lag - 1]
    right = cmnd[rows, np.minimum(lag + 1, cmnd.shape[1] - 1)]
    curvature = left - 2 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature > 0, 0.5 * (left - right) / curvature, 0.0)
    return lag + np.clip(shift, -1.0, 1.0)


def _keep_continuity(f0: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Octave jumps put back on the frame's neighbours: where a voiced frame is more than half an
    octave from the median of the voiced frames around it, take the candidate nearest to it.

    Over a phone line's 300 Hz high-pass a low voice loses its fundamental, and YIN then takes
    half or a third of the period on ~13 % of the frames, mostly in runs of 1-3 frames inside a
    syllable (benchmarks/pitch_trackers.py, phone8k), which widens the pitch range by semitones;
    this brings it to ~8 %. Within 120 ms either side a voice moves far less than an octave.
    """
    voiced = ~np.isnan(f0)
    if not voiced.any():
        return f0
    half = _CONTINUITY_FRAMES // 2
    windows = np.lib.stride_tricks.sliding_window_view(
        np.pad(f0, half, constant_values=np.nan), _CONTINUITY_FRAMES
    )
    # The median of each voiced frame's voiced neighbours (itself included): sorted, the NaNs go
    # last, so the middle of the first ``count`` values (np.nanmedian is ~20x slower).
    near = np.sort(windows[voiced], axis=1)
    count = (~np.isnan(near)).sum(axis=1)
    reference = np.full(len(f0), np.nan)
    reference[voiced] = near[np.arange(len(near)), (count - 1) // 2]
    with np.errstate(invalid="ignore"):
        far = voiced & (np.abs(np.log2(f0 / reference)) > 0.5)
    if not far.any():
        return f0
    rows = np.flatnonzero(far)
    distance = np.abs(np.log2(candidates[rows] / reference[rows, None]))
    distance[np.isnan(distance)] = np.inf
    best = distance.argmin(axis=1)
    picked = np.arange(len(rows)), best
    usable = distance[picked] < 0.5  # no candidate near the neighbours: leave the frame as it is
    out = f0.copy()
    out[rows[usable]] = candidates[rows, best][usable]
    return out


def _level_db(x: np.ndarray, rate: int, centres: np.ndarray) -> np.ndarray:
    """RMS (dBFS) of ``WINDOW_S`` around each centre, at the original rate (all the signal's band)."""
    window = int(round(WINDOW_S * rate))
    squares = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    starts = np.clip(np.round(centres * rate - window / 2).astype(np.int64), 0, len(x) - window)
    mean_square = (squares[starts + window] - squares[starts]) / window
    return 10 * np.log10(np.maximum(mean_square, 0.0) + 1e-10)


def _long_runs(voiced: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``voiced`` without runs shorter than ``_MIN_RUN`` frames (a run ends at a gap in time too)."""
    if len(voiced) == 0:
        return voiced
    # A new run begins where voicing switches on or where frames jump a span boundary.
    breaks = np.concatenate([[True], (np.diff(times) > 1.5 * HOP_S) | (voiced[1:] != voiced[:-1])])
    run_id = np.cumsum(breaks) - 1
    lengths = np.bincount(run_id)
    return voiced & (lengths[run_id] >= _MIN_RUN)
