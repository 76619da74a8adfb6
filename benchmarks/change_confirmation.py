"""What a step of the mono speakers stage costs: the stage before words (``diarize()``) with the
step off and on, side by side in one run, in CPU seconds. The step is the confirmation of the
segmentation model's changes of voice unless ``--off`` names other settings.

    .venv/bin/python benchmarks/change_confirmation.py data/eval/bench-dev/share --match 'BD00[0-2]' --rounds 2
    .venv/bin/python benchmarks/change_confirmation.py data/eval/bench-dev/share --match 'BD00[0-2]' \
        --off pause_split_s=0
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from pipeline.audio.decode import decode
    from pipeline.audio.speech import speech_regions
    from pipeline.config import Config
    from pipeline.lexicon import load_lexicon
    from pipeline.speakers.attribution import call_speakers, load_segmentation_model, load_speaker_embedder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("share", type=Path)
    parser.add_argument("--match", default="", help="only recordings whose name matches this")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--off", action="append", default=[], help="[speech] KEY=VALUE that turns the step off (repeatable)"
    )
    args = parser.parse_args()

    base = Config()
    lexicon = load_lexicon(ROOT / "lexicons")
    embedder, segmenter = load_speaker_embedder(base), load_segmentation_model(base)
    calls = []
    for path in sorted((args.share / "recordings").glob("*mono*")):
        if re.search(args.match, path.name):
            audio = decode(path)
            track = audio.mono()
            calls.append((path.stem, track, speech_regions(track, base.speech), audio.duration))
    minutes = sum(c[3] for c in calls) / 60
    variants = {
        "off": base.with_settings(args.off or ["change_min_s=0"]),
        "on": base,
    }
    print(f"{len(calls)} mono recordings, {minutes:.1f} min of audio")
    for round_ in range(args.rounds):
        seconds = {}
        for name, cfg in variants.items():
            tick = time.process_time()
            for call_id, track, regions, _ in calls:
                speakers = call_speakers(
                    call_id, "mono", [track], regions, cfg, lexicon, (), lambda: embedder, lambda: segmenter
                )
                speakers.diarize()
            seconds[name] = time.process_time() - tick
        print(
            f"round {round_ + 1}: off {seconds['off']:.1f} s, on {seconds['on']:.1f} s CPU "
            f"({seconds['on'] / seconds['off']:.2f}x)"
        )


if __name__ == "__main__":
    main()
