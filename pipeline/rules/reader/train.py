"""The reply reader's recipe: train it on the guide benchmark's wordings that are no longer held
out, and write ``models/reply-reader/reply-reader.json`` with its sha256 in ``models/manifest.json``.
The weights are not committed: `callqa models install` runs this recipe (``build``, about 25 s)
and checks what it wrote against the manifest's sha256 (kind ``trained``).

    .venv/bin/python -m pipeline.rules.reader.train            # writes the model and the manifest
    .venv/bin/python -m pipeline.rules.reader.train --check    # retrains, compares with the manifest
    .venv/bin/python -m pipeline.rules.reader.train --leave-one-out   # each wording read by the others

Every agent reply of a wording is an example (answers clear and unsure, offers and bare absences,
polite and flat refusals, transfers asked and blind, and the wording's greetings and closings), so
a reply of any other kind read as one counts against the reader. Each is also learned as Whisper
might write it (``misheard``): two more copies with some characters swapped for others of the same
sound and the trailing-off and question marks it drops, because the reader reads Whisper's words,
and Whisper loses the hedges of an unsure answer to homophones (耗乡 for 好像). Settings, fixed before the first
reading of a held-out wording (docs/evaluation.md, "A learned reader"): reply 1-4 grams, caller's
words 1-3 grams, L2 logistic regression with C = 4 and balanced classes. A finding is a reading at
its kind's ``[rules]`` threshold or over (``unsure_reader_threshold`` 0.35,
``absence_reader_threshold`` 0.6, ``refusal_reader_threshold`` 0.5: chosen on the development
wordings' rendered calls, each read by a reader trained without it). scikit-learn comes with pyannote.metrics, a dependency of the
run; the run itself reads the model in plain Python (``pipeline.rules.reader.model``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from pathlib import Path

from pipeline.config import ROOT
from pipeline.rules.reader.model import MODEL_PATH, READS, ReplyReader

REPLY_NGRAMS, CALLER_NGRAMS, C, MIN_DF = (1, 4), (1, 3), 4.0, 2
DIGITS = 5  # weights are stored rounded, so that the recipe writes the same file on any machine
# Misheard copies of each training line: how many, and the share of its Han characters swapped for
# another of the same sound (docs/evaluation.md, "A learned reader": chosen on the sixth wording's
# calls, then judged on the seventh).
MISHEARD_COPIES, MISHEARD_SHARE, SEED = 2, 0.15, 0
BENCH = ROOT / "data" / "call_scripts" / "bench"


def training_wordings() -> tuple[str, ...]:
    """The wordings the reader learns from: every development wording and every held-out one
    already read (``synth.guide.READ_WORDINGS``)."""
    from pipeline.evaluation.synth.guide import READ_WORDINGS

    return READ_WORDINGS


def examples(bank: dict) -> list[tuple[str, str, str, str]]:
    """(section, field, caller's words, agent's reply) for every agent line of a wording."""
    out = [("greetings", "", "", line) for line in bank.get("greetings", [])]
    for item in bank["qa"]:
        out += [("qa", f, item["question"], item[f]) for f in ("clear", "hesitant")]
    for item in bank["absent"]:
        out += [("absent", f, item["ask"], item[f]) for f in ("offer", "bare")]
    for item in bank["refusals"]:
        out += [("refusals", f, item["request"], item[f]) for f in ("polite", "flat")]
    for item in bank["transfers"]:
        out += [("transfers", f, item["request"], item[f]) for f in ("ask_identity", "blind")]
        out.append(("transfers", "put_through", item["caller_identity"], item["put_through"]))
    closers = bank.get("closings_caller", [])
    out += [
        ("closings", "", closers[i % len(closers)] if closers else "", line)
        for i, line in enumerate(bank.get("closings_agent", []))
    ]
    return out


def _is_han(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def misheard(
    rows: list[tuple[str, str, str, str]], copies: int = MISHEARD_COPIES
) -> list[tuple[str, str, str, str]]:
    """``rows`` and ``copies`` more of each, its words as Whisper might write them: each Han
    character swapped with probability ``MISHEARD_SHARE`` for another of the same toneless
    syllable among the training lines' characters, and half the time without …… and ？ (the
    same ``rows`` give the same copies)."""
    import random

    from pypinyin import lazy_pinyin

    characters = sorted({c for r in rows for text in r[2:] for c in text if _is_han(c)})
    syllable = dict(zip(characters, lazy_pinyin(characters), strict=True))
    alike: dict[str, list[str]] = {}
    for c in characters:
        alike.setdefault(syllable[c], []).append(c)
    rng = random.Random(SEED)

    def mishear(text: str) -> str:
        out = []
        for c in text:
            others = [a for a in alike.get(syllable.get(c, ""), ()) if a != c] if _is_han(c) else []
            out.append(rng.choice(others) if others and rng.random() < MISHEARD_SHARE else c)
        heard = "".join(out)
        if rng.random() < 0.5:
            heard = heard.replace("……", "，").replace("…", "")
        if rng.random() < 0.5:
            heard = heard.replace("？", "，")
        return heard

    return rows + [
        (a, b, mishear(caller), mishear(reply)) for _ in range(copies) for a, b, caller, reply in rows
    ]


def fit(rows: list[tuple[str, str, str, str]], copies: int = 0) -> dict:
    """The model (as ``ReplyReader`` reads it) trained on ``rows`` and ``copies`` misheard copies
    of each. The n-grams are those of the written and the misheard lines alike: the sounds Whisper
    writes in place of a hedge are what the reader must know (on the sixth wording's calls, unsure
    answers R 0.87 with the written lines' n-grams only, 0.95 with these; the file 1.8 → 5 MB)."""
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    reply_v = TfidfVectorizer(analyzer="char", ngram_range=REPLY_NGRAMS, sublinear_tf=True, min_df=MIN_DF)
    caller_v = TfidfVectorizer(analyzer="char", ngram_range=CALLER_NGRAMS, sublinear_tf=True, min_df=MIN_DF)
    rows = misheard(rows, copies) if copies else rows
    x = hstack([reply_v.fit_transform([r[3] for r in rows]), caller_v.fit_transform([r[2] for r in rows])])
    x = x.tocsr()
    n_reply = len(reply_v.vocabulary_)

    def side(vectorizer: TfidfVectorizer, ngrams: tuple[int, int]) -> dict:
        vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        return {
            "ngrams": list(ngrams),
            "vocabulary": vocabulary,
            "idf": [round(float(v), DIGITS) for v in vectorizer.idf_],
        }

    kinds = {}
    for kind, (section, field) in READS.items():
        y = np.array([r[0] == section and r[1] == field for r in rows])
        model = LogisticRegression(max_iter=5000, class_weight="balanced", C=C).fit(x, y)
        coef = [round(float(v), DIGITS) for v in model.coef_[0]]
        kinds[kind] = {
            "intercept": round(float(model.intercept_[0]), DIGITS),
            "reply": coef[:n_reply],
            "caller": coef[n_reply:],
        }
    return {
        "reply": side(reply_v, REPLY_NGRAMS),
        "caller": side(caller_v, CALLER_NGRAMS),
        "kinds": kinds,
    }


def train(wordings: tuple[str, ...] | None = None) -> dict:
    from pipeline.evaluation.synth.guide import load_guide_bank

    wordings = training_wordings() if wordings is None else wordings
    rows = [r for name in wordings for r in examples(load_guide_bank("dev", BENCH / name))]
    return {
        "_comment": "callqa's reply reader (pipeline.rules.reader): written by "
        "`python -m pipeline.rules.reader.train`; model card: models/reply-reader/MODEL_CARD.md",
        "trained_on": list(wordings),
        "settings": {
            "reply_ngrams": list(REPLY_NGRAMS),
            "caller_ngrams": list(CALLER_NGRAMS),
            "C": C,
            "min_df": MIN_DF,
            "misheard_copies": MISHEARD_COPIES,
            "misheard_share": MISHEARD_SHARE,
        },
        **fit(rows, MISHEARD_COPIES),
    }


def serialise(model: dict) -> bytes:
    return (json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def build() -> dict[str, bytes]:
    """The model's files as `callqa models install` writes them (manifest kind ``trained``)."""
    return {MODEL_PATH.name: serialise(train())}


def leave_one_out() -> dict[str, Counter]:
    """Each wording read by a reader trained on the others, at the default thresholds: per kind,
    tp / fp / fn / tn pooled."""
    from pipeline.config import RulesConfig
    from pipeline.evaluation.synth.guide import load_guide_bank
    from pipeline.rules import RULE_THRESHOLDS

    wordings = training_wordings()
    banks = {name: examples(load_guide_bank("dev", BENCH / name)) for name in wordings}
    pooled: dict[str, Counter] = {kind: Counter() for kind in READS}
    for left_out in wordings:
        reader = ReplyReader(
            {
                "trained_on": [],
                **fit([r for name in wordings if name != left_out for r in banks[name]], MISHEARD_COPIES),
            }
        )
        for kind, (section, field) in READS.items():
            threshold = getattr(RulesConfig(), RULE_THRESHOLDS[kind][0])
            for r in banks[left_out]:
                said = reader.read(kind, r[2], r[3]).probability >= threshold
                truth = r[0] == section and r[1] == field
                pooled[kind]["tp" if said and truth else "fp" if said else "fn" if truth else "tn"] += 1
    return pooled


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--check", action="store_true", help="retrain and compare with the manifest's sha256")
    parser.add_argument("--leave-one-out", action="store_true", help="read each wording by the others")
    args = parser.parse_args(argv)
    if args.leave_one_out:
        for kind, c in leave_one_out().items():
            p, r = c["tp"] / max(1, c["tp"] + c["fp"]), c["tp"] / max(1, c["tp"] + c["fn"])
            print(f"{kind:30s} P {p:.2f} R {r:.2f} (tp {c['tp']} fp {c['fp']} fn {c['fn']})")
        return
    data = serialise(train())
    digest = hashlib.sha256(data).hexdigest()
    manifest_path = ROOT / "models" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if args.check:
        listed = manifest["reply-reader"]["files"][MODEL_PATH.name]["sha256"]
        print(f"retrained {digest}\nmanifest  {listed}")
        raise SystemExit(0 if digest == listed else 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{args.out}: {len(data)} bytes, sha256 {digest}")
    if args.out.resolve() != MODEL_PATH.resolve():
        return  # a trial model elsewhere: the manifest names the installed one only
    manifest["reply-reader"] = {
        "kind": "trained",
        "license": "Apache-2.0",
        "recipe": "python -m pipeline.rules.reader.train (the guide benchmark's read wordings, "
        "scikit-learn); card: models/reply-reader/MODEL_CARD.md",
        "builder": "pipeline.rules.reader.train:build",
        "files": {args.out.name: {"size": len(data), "sha256": digest}},
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
