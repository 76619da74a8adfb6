"""Mono calls with the speaker models beside Whisper against one after the other, in one run.

``[speech] speakers_beside_whisper``: on a mono call the speaker models (CAM++, the
clustering, the segmentation model) run on a second thread while Whisper transcribes, since both
read only the speech regions. This runs ``process_call`` on the same recordings with the same
models both ways, alternately (the order swapped every round), checks that the speakers and the
words come out identical (the words only without a temperature fallback, the default: with one,
Whisper samples at random and two runs of one way differ too), and prints the wall time of each
way and their ratio.

    .venv/bin/python benchmarks/mono_threads.py data/eval/corpus --match '^E01.\\.mono$' --repeat 2
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from pipeline.config import Config
    from pipeline.lexicon import load_lexicon
    from pipeline.run.process import Models, process_call
    from pipeline.run.scan import scan_share

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("share", type=Path)
    parser.add_argument("--match", default=r"mono$", help="call ids to run (a regular expression)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    base = Config()
    ways = {
        "beside": replace(base, speech=replace(base.speech, speakers_beside_whisper=True)),
        "in line": replace(base, speech=replace(base.speech, speakers_beside_whisper=False)),
    }
    models = Models.load(base)
    lexicon = load_lexicon(base.lexicons_path)
    refs = [r for r in scan_share(args.share).calls if re.search(args.match, r.call_id)]
    if not refs:
        raise SystemExit(f"no call id matches {args.match!r} in {args.share}")
    process_call(refs[0], base, models, lexicon)  # warm-up: first-call costs count for neither way

    totals = dict.fromkeys(ways, 0.0)
    in_line = {"speakers": 0.0, "transcribe": 0.0}  # stage times of the in-line runs
    resampled: set[str] = set()
    print(f"{'call':24} {'beside s':>9} {'in line s':>9} {'ratio':>6}")
    for round_ in range(args.repeat):
        order = list(ways) if round_ % 2 == 0 else list(reversed(ways))
        for ref in refs:
            seconds, results = {}, {}
            for way in order:
                tick = time.perf_counter()
                results[way] = process_call(ref, ways[way], models, lexicon)
                seconds[way] = time.perf_counter() - tick
                totals[way] += seconds[way]
            for stage in in_line:
                in_line[stage] += results["in line"].timings[stage]
            a, b = (results[w] for w in ways)
            if a.turns != b.turns:
                raise SystemExit(f"{ref.call_id}: the two ways found different speakers")
            if (a.utterances, [e.rule_id for e in a.events]) != (b.utterances, [e.rule_id for e in b.events]):
                if base.model.temperatures == (0.0,):  # no sampling: the words must be the same
                    raise SystemExit(f"{ref.call_id}: the two ways gave different words")
                resampled.add(ref.call_id)
            print(
                f"{ref.call_id:24} {seconds['beside']:9.2f} {seconds['in line']:9.2f} "
                f"{seconds['beside'] / seconds['in line']:6.2f}"
            )
    print(f"recordings {len(refs)} x {args.repeat}; the same speakers both ways")
    if resampled:
        # Whisper's temperature fallback samples at random: two runs of the same way differ there too.
        print(f"words differed on {', '.join(sorted(resampled))} (Whisper's fallback sampling)")
    # What the speakers stage adds to a call's wall time, as a share of the transcription stage:
    # in line, its whole time; beside Whisper, what the call takes beyond the in-line call less
    # its speakers stage.
    without_speakers = totals["in line"] - in_line["speakers"]
    print(
        f"speakers stage, share of the transcription stage: in line {in_line['speakers'] / in_line['transcribe']:.1%}; "
        f"added wall time beside Whisper {(totals['beside'] - without_speakers) / in_line['transcribe']:.1%}"
    )
    print(
        f"total: beside {totals['beside']:.1f} s, in line {totals['in line']:.1f} s, "
        f"ratio {totals['beside'] / totals['in line']:.3f}"
    )


if __name__ == "__main__":
    main()
