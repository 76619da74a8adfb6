"""voice.flat's measure on real voices, as they are and flattened the way the guide benchmark
renders a flat agent (``pipeline.evaluation.synth.flatten``, a quarter of the pitch movement kept).

For each real clip (``pipeline.evaluation.realspeech``, fetched once with pip): its voiced seconds
and its pitch range (10th-90th percentile, semitones; ``pipeline.audio.prosody.voice_measures``
over its speech regions) at 16 kHz and through 8 kHz G.711 µ-law, natural and flattened. What it
says: where the rule's threshold (``[rules] flat_pitch_range_st``) falls between real voices and
the same voices made flat, and what the flattening costs the voicing the rule needs
(``flat_min_voiced_s``).

    .venv/bin/python benchmarks/flat_voices.py [--share data/eval/real_speech] [--keep 0.25]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    import soundfile as sf
    import soxr

    from pipeline.audio.prosody import voice_measures
    from pipeline.audio.speech import speech_regions
    from pipeline.config import Config, SpeechConfig
    from pipeline.evaluation.impairments import through_ulaw_line
    from pipeline.evaluation.realspeech import build_share
    from pipeline.evaluation.synth.flatten import flatten_pitch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--share", type=Path, default=Path("data/eval/real_speech"))
    parser.add_argument("--keep", type=float, default=0.25)
    args = parser.parse_args()
    share = build_share(args.share)
    threshold = Config().rules.flat_pitch_range_st
    print(f"pitch range (semitones); flat at < {threshold}; flattened: {args.keep} of the movement kept")
    print(
        f"{'clip':6s} {'s':>6s} {'voiced':>7s} {'16k':>6s} {'8k':>6s} | {'voiced':>7s} {'16k':>6s} {'8k':>6s}"
    )
    for path in sorted((share / "recordings").glob("*.wav")):
        audio, rate = sf.read(path, dtype="float32")
        audio = audio if audio.ndim == 1 else audio.mean(axis=1)
        audio = soxr.resample(audio, rate, 16000).astype(np.float32)
        spans = speech_regions(audio, SpeechConfig())
        flat = flatten_pitch(audio, 16000, args.keep)
        natural = [voice_measures(a, 16000, spans) for a in (audio, through_ulaw_line(audio))]
        flattened = [voice_measures(a, 16000, spans) for a in (flat, through_ulaw_line(flat))]
        print(
            f"{path.stem:6s} {len(audio) / 16000:6.1f} {natural[0].voiced_s:7.1f} "
            f"{natural[0].pitch_range_st:6.1f} {natural[1].pitch_range_st:6.1f} | {flattened[0].voiced_s:7.1f} "
            f"{flattened[0].pitch_range_st:6.1f} {flattened[1].pitch_range_st:6.1f}"
        )


if __name__ == "__main__":
    main()
