"""Which transcription options pay off: time and CER of each variant, side by side in one run.

Variants: the default; the domain vocabulary (lexicons/domain_words.txt) as faster-whisper
hotwords; as an initial prompt. Each variant runs the whole per-call pipeline over the same recordings (in
rotation, so machine noise spreads evenly) and is scored against the truth files.

    .venv/bin/python benchmarks/asr_options.py [SHARE] [--variants "beam 3,no fallback"] [--match .stereo]
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = {
    "default": {},
    "hotwords": {"vocabulary": "hotwords"},
    "prompt": {"vocabulary": "prompt"},
    "beam 3": {"beam_size": 3},
    "beam 2": {"beam_size": 2},
    "beam 1": {"beam_size": 1},
    "no fallback": {"temperatures": (0.0,)},
    "beam 3 + no fallback": {"beam_size": 3, "temperatures": (0.0,)},
}


def main() -> None:
    import argparse

    from pipeline.config import Config
    from pipeline.evaluation.evaluate import char_errors, scoring_text, truth_text, truths_by_recording
    from pipeline.lexicon import load_lexicon
    from pipeline.run.process import Models, process_call
    from pipeline.run.scan import scan_share

    parser = argparse.ArgumentParser()
    parser.add_argument("share", nargs="?", default=str(ROOT / "data" / "sample_share"))
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated; default: all")
    parser.add_argument(
        "--match", default="", help="only recordings whose call id matches this regular expression"
    )
    args = parser.parse_args()
    share = Path(args.share)
    chosen = ["default"] + [v for v in args.variants.split(",") if v != "default"]
    refs = [r for r in scan_share(share).calls if re.search(args.match, r.call_id)]
    truths = truths_by_recording(share / "truth")
    base = Config()
    lexicon = load_lexicon(base.lexicons_path)
    setups = {}
    for name, options in ((n, VARIANTS[n]) for n in chosen):
        cfg = replace(base, model=replace(base.model, **options))
        setups[name] = (cfg, Models.load(cfg))
        process_call(refs[0], cfg, setups[name][1], lexicon)  # warm-up
    seconds = dict.fromkeys(chosen, 0.0)
    errors = {name: [0, 0] for name in chosen}
    for ref in refs:
        for name, (cfg, models) in setups.items():
            t = time.perf_counter()
            result = process_call(ref, cfg, models, lexicon)
            seconds[name] += time.perf_counter() - t
            hyp = scoring_text("".join(u.text for u in result.utterances))
            e, n = char_errors(truth_text(truths[ref.call_id]), hyp)
            errors[name][0] += e
            errors[name][1] += n
    print(f"{len(refs)} recordings from {share}")
    print(f"{'variant':22} {'seconds':>8} {'vs default':>10} {'CER':>6}")
    for name in chosen:
        cer = errors[name][0] / errors[name][1]
        print(f"{name:22} {seconds[name]:8.1f} {seconds[name] / seconds['default']:10.2f} {cer:6.3f}")


if __name__ == "__main__":
    main()
