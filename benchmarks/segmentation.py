"""How well a segmentation model finds overlapped speech, on its own, against ground truth.

For every mono recording of the given shares (truth/*.json with utterance times, as ``callqa
synth --all-variants`` and ``pipeline.evaluation.realspeech --conversations`` write them), the model's
overlap probability is compared with the true overlap on a 10 ms grid, at several thresholds,
per recording kind. This is the model's own figure; what the whole pipeline makes of it (turns,
interruptions) is ``callqa evaluate``'s.

    .venv/bin/python benchmarks/segmentation.py data/eval/real_conversations data/eval/corpus
    .venv/bin/python benchmarks/segmentation.py SHARE --model path/to/pyannote-segmentation-3.0.onnx
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline.audio.decode import decode
from pipeline.config import ROOT
from pipeline.evaluation.evaluate import overlap_frames
from pipeline.speakers.segmentation.model import Segmenter
from pipeline.speakers.segmentation.overlaps import OverlapOptions, overlap_regions

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def recordings(share: Path):
    """(kind, path, truth turns, duration) of every mono recording of a share."""
    for truth_path in sorted((share / "truth").glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        turns = [(u["role"], u["start"], u["end"]) for u in truth["utterances"]]
        variants = truth.get("variants") or {
            truth["call_id"]: {
                "layout": truth.get("layout", "mono"),
                "format": truth.get("format"),
                "audio": truth.get("audio"),
            }
        }
        for call_id, v in variants.items():
            if v["layout"] != "mono":
                continue
            audio = v.get("audio") or f"recordings/{call_id}.wav"
            kind = f"{share.name}/{v.get('format') or 'mono'}"
            yield kind, call_id, share / audio, turns, truth.get("duration")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shares", type=Path, nargs="+")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "segmentation" / "segmentation.onnx")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    segmenter = Segmenter(args.model, threads=2)
    counts: dict[str, dict[float, np.ndarray]] = defaultdict(lambda: {t: np.zeros(3) for t in THRESHOLDS})
    for share in args.shares:
        for kind, _call_id, path, turns, duration in recordings(share):
            with decode(path) as audio:
                samples = np.asarray(audio.mono()[:], dtype=np.float32)
            duration = duration or len(samples) / 16000
            seg = segmenter(samples)
            ref = overlap_frames(turns, duration)
            for t in THRESHOLDS:
                regions = overlap_regions(seg, OverlapOptions(threshold=t))
                hyp = overlap_frames([("a", 0.0, duration)] + [("b", s, e) for s, e in regions], duration)
                counts[kind][t] += [(ref & hyp).sum(), hyp.sum(), ref.sum()]
    report = {}
    print(f"{'recordings':34} {'thr':>4} {'true s':>7} {'found s':>7} {'P':>5} {'R':>5} {'F1':>5}")
    for kind, by_t in sorted(counts.items()):
        report[kind] = {}
        for t, (tp, hyp, ref) in by_t.items():
            p, r = tp / max(hyp, 1), tp / max(ref, 1)
            f1 = 2 * p * r / max(p + r, 1e-9)
            report[kind][str(t)] = {
                "precision": round(p, 3),
                "recall": round(r, 3),
                "f1": round(f1, 3),
                "true_s": round(ref / 100, 1),
            }
            print(f"{kind:34} {t:4.1f} {ref / 100:7.1f} {hyp / 100:7.1f} {p:5.2f} {r:5.2f} {f1:5.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
