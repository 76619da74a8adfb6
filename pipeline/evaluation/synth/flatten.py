"""A flat voice for rendered calls: a sentence's pitch movement narrowed, its words and timing kept.

The guide's 语气冷淡 / 有气无力 (``voice.flat``) is a voice that hardly moves. The TTS voices the
benchmarks render always keep their own melody (6.9-12.6 semitones of pitch range over a call), so
a flat agent is made from one: each voiced stretch's pitch is pulled towards the sentence's median
in semitones (``keep`` of its distance left) by time-domain pitch-synchronous overlap-add
(TD-PSOLA): two-period Hann grains cut at the source's pitch marks are laid down again at the target
pitch's period, each at the time it came from, so length, words and formants stay as they were.
Unvoiced stretches are copied through the same overlap-add with a fixed 10 ms hop (Hann grains half
overlapped, laid down where they were cut, give the signal back).

The pitch is read by ``pipeline.audio.prosody.pitch_track``, the tracker the rule itself reads with.
"""

from __future__ import annotations

import numpy as np

_UNVOICED_HOP_S = 0.01


def flatten_pitch(audio: np.ndarray, sample_rate: int, keep: float) -> np.ndarray:
    """``audio`` (mono float) with its pitch movement narrowed to ``keep`` (0: a monotone at the
    median, 1: unchanged) of its distance in semitones from the voiced frames' median pitch."""
    from pipeline.audio.prosody import pitch_track

    x = np.asarray(audio, np.float32)
    track = pitch_track(x, sample_rate)
    voiced = track.voiced
    if keep >= 1.0 or voiced.sum() < 3:
        return x.copy()
    f0 = track.f0_hz
    median = float(np.median(f0[voiced]))
    target = median * np.power(f0 / median, keep)
    n = len(x)
    t = np.arange(n) / sample_rate
    # Pitch per sample: the frame's where voiced, NaN elsewhere (frames are 10 ms apart).
    frame_of = np.clip(np.searchsorted(track.times, t), 0, len(track.times) - 1)
    source_hz = np.where(voiced[frame_of], f0[frame_of], np.nan)
    target_hz = np.where(voiced[frame_of], target[frame_of], np.nan)

    out = np.zeros(n, np.float64)

    def lay(centre_in: int, centre_out: int, half: int, gain: float = 1.0) -> None:
        if half < 2:
            return
        a, b = centre_in - half, centre_in + half
        lo, hi = max(0, a), min(n, b)
        o_lo, o_hi = centre_out - (centre_in - lo), centre_out + (hi - centre_in)
        if o_lo < 0:
            lo, o_lo = lo - o_lo, 0
        if o_hi > n:
            hi, o_hi = hi - (o_hi - n), n
        if hi <= lo:
            return
        out[o_lo:o_hi] += gain * x[lo:hi] * np.hanning(b - a + 1)[lo - a : hi - a]

    # Source pitch marks: one per period through each voiced run, each moved to the waveform's
    # highest point within a quarter period, so that every grain is cut at the same point of its
    # cycle (grains cut at a peak of one sign and a trough of the other would cancel when laid).
    # The marks are read on the waveform smoothed to its first harmonics (a 1 ms moving mean):
    # the highest point of the raw wave jumps between formant ripples from one cycle to the next.
    width = max(1, sample_rate // 1000)
    smooth = np.convolve(x, np.ones(width) / width, mode="same")
    marks: list[int] = []
    i = 0
    while i < n:
        if np.isnan(source_hz[i]):
            i += 1
            continue
        period = int(round(sample_rate / source_hz[i]))
        lo, hi = max(0, i - period // 4), min(n, i + period // 4 + 1)
        peak = lo + int(np.argmax(smooth[lo:hi]))
        if not marks or peak > marks[-1]:
            marks.append(peak)
        i = max(peak, i) + period
    mark_array = np.array(marks, np.int64)

    # Output: walk the timeline; voiced samples take a grain from the nearest source mark at the
    # target period, unvoiced ones a fixed-hop grain of themselves.
    hop = int(_UNVOICED_HOP_S * sample_rate)
    j = 0
    while j < n:
        if np.isnan(target_hz[j]) or not len(mark_array):
            lay(j, j, hop)
            j += hop
            continue
        k = int(np.searchsorted(mark_array, j))
        nearest = int(min(mark_array[max(k - 1, 0) : k + 1], key=lambda m: abs(m - j)))
        source_period = (
            int(round(sample_rate / source_hz[nearest])) if not np.isnan(source_hz[nearest]) else hop
        )
        target_period = max(2, int(round(sample_rate / target_hz[j])))
        # Grains two source periods long, one target period apart, overlap to source/target of
        # a grain's height on average: scaled back so the voice is as loud as it was.
        lay(nearest, j, source_period, gain=target_period / source_period)
        j += target_period
    return out.astype(np.float32)
