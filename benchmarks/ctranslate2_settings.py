"""CTranslate2's settings for Whisper on this CPU: threads per model and number formats, side by side.

Each setting transcribes the same recordings with faster-whisper (callqa's beam, word timestamps,
the whole file: the decoding work, without callqa's stages), in rotation so that machine noise
spreads evenly; prints each setting's total time, its ratio to the first, and CER against the
truth files when the share has them.

    .venv/bin/python benchmarks/ctranslate2_settings.py [SHARE] [--match REGEX] [--rounds 2]
        [--settings "1 int8,2 int8,1 int8_float32,1 int16,1 float32"]
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("share", nargs="?", default=str(ROOT / "data" / "sample_share"))
    parser.add_argument(
        "--match", default="", help="only recordings whose call id matches this regular expression"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--settings",
        default="1 int8,2 int8,1 int8_float32,1 int16,1 float32",
        help='comma-separated "THREADS COMPUTE_TYPE"; the first is the reference',
    )
    args = parser.parse_args()

    from faster_whisper import WhisperModel

    from pipeline.config import Config
    from pipeline.evaluation.evaluate import char_errors, scoring_text, truth_text, truths_by_recording
    from pipeline.run.scan import scan_share

    cfg = Config()
    share = Path(args.share)
    refs = [r for r in scan_share(share).calls if re.search(args.match, r.call_id)]
    truths = truths_by_recording(share / "truth") if (share / "truth").is_dir() else {}
    settings = [tuple(s.split()) for s in args.settings.split(",")]
    models = {
        (threads, kind): WhisperModel(
            str(cfg.whisper_dir), device="cpu", compute_type=kind, cpu_threads=int(threads)
        )
        for threads, kind in settings
    }

    def transcribe(model: WhisperModel, path: str) -> str:
        segments, _ = model.transcribe(
            path, language="zh", beam_size=cfg.model.beam_size, word_timestamps=True
        )
        return "".join(s.text for s in segments)

    for model in models.values():  # warm-up
        transcribe(model, refs[0].path)
    seconds = dict.fromkeys(models, 0.0)
    errors = {key: [0, 0] for key in models}
    for _ in range(args.rounds):
        for ref in refs:
            for key, model in models.items():
                clock = time.perf_counter()
                text = transcribe(model, ref.path)
                seconds[key] += time.perf_counter() - clock
                if ref.call_id in truths:
                    e, n = char_errors(truth_text(truths[ref.call_id]), scoring_text(text))
                    errors[key][0] += e
                    errors[key][1] += n
    first = next(iter(models))
    print(f"{len(refs)} recordings x {args.rounds} rounds from {share}")
    print(f"{'threads':>7} {'compute type':14} {'seconds':>8} {'ratio':>6} {'CER':>6}")
    for key in models:
        cer = f"{errors[key][0] / errors[key][1]:.3f}" if errors[key][1] else "-"
        print(f"{key[0]:>7} {key[1]:14} {seconds[key]:8.1f} {seconds[key] / seconds[first]:6.2f} {cer:>6}")


if __name__ == "__main__":
    main()
