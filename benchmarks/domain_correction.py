"""What domain-word correction does to accuracy, without transcribing again.

Copies a warehouse built with ``[model] domain_correction = false`` (or by an older callqa),
rewrites every stored utterance's words as ``pipeline.asr.vocabulary.correct_words`` would have,
rescores the copy (rules and mono roles read the new words) and prints both evaluations side by
side, per recording kind.

    .venv/bin/python benchmarks/domain_correction.py data/eval/warehouse data/eval/corpus/truth \\
        --config data/call_scripts/eval/eval.toml
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rewrite(warehouse: Path, terms: tuple[str, ...], tokenizer=None) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.asr.text import normalize_transcript
    from pipeline.asr.vocabulary import correct_words
    from pipeline.records import Word

    changed = 0
    for path in sorted((warehouse / "utterances").rglob("data.parquet")):
        table = pq.read_table(path)
        rows = table.to_pylist()
        for row in rows:
            words = [
                Word(w["text"], w["start_ms"] / 1000, w["end_ms"] / 1000, w["prob"]) for w in row["words"]
            ]
            fixed = correct_words(words, terms, tokenizer)
            if [w.text for w in fixed] == [w.text for w in words]:
                continue
            changed += 1
            for stored, new in zip(row["words"], fixed, strict=True):
                stored["text"] = new.text
            text = normalize_transcript("".join(w.text for w in fixed))
            if len(text) == len(row["text"]):  # the stored text is masked: keep its masks
                row["text"] = "".join(
                    old if old == "＊" else new for old, new in zip(row["text"], text, strict=True)
                )
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    return changed


def main() -> None:
    from pipeline.config import Config
    from pipeline.evaluation.evaluate import evaluate
    from pipeline.lexicon import load_lexicon
    from pipeline.run.rescore import rescore

    parser = argparse.ArgumentParser()
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("truth", type=Path)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    cfg = Config.load(args.config)
    lexicon = load_lexicon(cfg.lexicons_path)
    terms = tuple(dict.fromkeys((*lexicon.domain_terms, *cfg.model.domain_terms)))
    before = evaluate(args.truth, args.warehouse, cfg.rules.role_min_confidence, cfg.rules.conduct_preset)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "warehouse"
        shutil.copytree(args.warehouse, copy)
        print(f"utterances rewritten: {rewrite(copy, terms, lexicon.tokenizer())}")
        rescore(copy, cfg)
        after = evaluate(args.truth, copy, cfg.rules.role_min_confidence, cfg.rules.conduct_preset)
    print(f"{'kind':14} {'CER without':>12} {'with':>8}")
    for kind in sorted(before["cer"]):
        print(f"{kind:14} {before['cer'][kind]:12.3f} {after['cer'][kind]:8.3f}")
    from pipeline.evaluation.evaluate import compare_reports

    other = [r for r in compare_reports(before, after) if not r[0].startswith(("cer.", "calls."))]
    print("other figures changed: " + (", ".join(f"{n} {a} -> {b}" for n, a, b in other) or "none"))


if __name__ == "__main__":
    main()
