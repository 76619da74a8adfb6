"""Would a learned reader of what a reply does carry to new wording better than the rules' lists
and shapes? A measurement, not a part of callqa.

The guide benchmark's rules on trial read a reply's phrases and shapes; each blind wording so far
taught them its own wording (P 1.00, R 0.94 or more on it) and the next one took a fifth to a half
of that back (docs/evaluation.md, "Guide benchmark"). This trains a small text classifier
(character 1-4 grams of the agent's reply and of the caller's words before it, logistic
regression) on the development wordings and reads it the way a new wording is read: leave one
wording out, train on the others, score the one left out. Every reply of a wording is read, not
only its rule's moments, so an answer taken for a refusal counts against it, as in a call.

scikit-learn comes with pyannote.metrics (a pinned dependency of the evaluation). Text only (no
Whisper), development wordings only: the held-out wording (the newest
``guide-test*.yaml`` not yet looked at) is never read here.

    .venv/bin/python benchmarks/speech_act_classifier.py
    .venv/bin/python benchmarks/speech_act_classifier.py --calls guide-test3 data/eval/guide-test3

``--calls WORDING DIR`` reads the rendered calls of a wording instead (DIR/share's truth,
DIR/warehouse's stored words, as Whisper heard them): a development wording's by a classifier
trained on the other development wordings, a held-out wording's by one trained on all of them. A
call is flagged where any agent utterance reads as the rule's reply, and scored per call as
``callqa evaluate`` scores the rules.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.evaluation.synth.guide import DEVELOPMENT_WORDINGS as DEVELOPMENT  # noqa: E402

# The reply each rule should find: its moment done against the guide.
WRONG = {
    "hesitation.unsure": ("qa", "hesitant"),
    "message.not_offered": ("absent", "bare"),
    "refusal.no_apology": ("refusals", "flat"),
}


def replies(bank: dict) -> list[tuple[str, str, str, str]]:
    """(section, field, caller's words, agent's reply) for every agent reply of a wording."""
    out = []
    for item in bank["qa"]:
        out += [("qa", f, item["question"], item[f]) for f in ("clear", "hesitant")]
    for item in bank["absent"]:
        out += [("absent", f, item["ask"], item[f]) for f in ("offer", "bare")]
    for item in bank["refusals"]:
        out += [("refusals", f, item["request"], item[f]) for f in ("polite", "flat")]
    for item in bank["transfers"]:
        out += [("transfers", f, item["request"], item[f]) for f in ("ask_identity", "blind")]
        out.append(("transfers", "put_through", item["caller_identity"], item["put_through"]))
    return out


def rule_fires(rule: str, caller: str, reply: str, lexicon) -> bool:
    from pipeline.config import RulesConfig
    from pipeline.rules import CallContext
    from pipeline.rules.answers import hesitation_unsure
    from pipeline.rules.courtesy import message_not_offered, refusal_no_apology
    from tests.conftest import TRUSTED, utt

    lines = (utt("caller", 3, 5, caller), utt("agent", 5.5, 9, reply))
    ctx = CallContext("T1", "A1", 60.0, lines, TRUSTED, lexicon, RulesConfig())
    read = {
        "hesitation.unsure": hesitation_unsure,
        "message.not_offered": message_not_offered,
        "refusal.no_apology": refusal_no_apology,
    }[rule]
    return bool(read(ctx))


def main(argv: list[str] | None = None) -> None:
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from pipeline.config import ROOT as PROJECT
    from pipeline.evaluation.synth.guide import load_guide_bank
    from pipeline.lexicon import load_lexicon

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--calls", nargs=2, metavar=("WORDING", "DIR"), help="read rendered calls")
    args = parser.parse_args(argv)

    bench = PROJECT / "data" / "call_scripts" / "bench"
    wordings = {name: replies(load_guide_bank("dev", bench / name)) for name in DEVELOPMENT}

    def fit(rule: str, left_out: str):
        section, field = WRONG[rule]
        train = [r for name, rs in wordings.items() if name != left_out for r in rs]
        reply_v = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True)
        caller_v = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        x = hstack(
            [reply_v.fit_transform([r[3] for r in train]), caller_v.fit_transform([r[2] for r in train])]
        )
        y = np.array([r[0] == section and r[1] == field for r in train])
        model = LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0).fit(x, y)

        def says(pairs: list[tuple[str, str]]) -> np.ndarray:
            if not pairs:
                return np.zeros(0, bool)
            xt = hstack([reply_v.transform([p[1] for p in pairs]), caller_v.transform([p[0] for p in pairs])])
            return model.predict_proba(xt)[:, 1] >= args.threshold

        return says

    if args.calls:
        _read_calls(args.calls[0], Path(args.calls[1]), fit)
        return
    lexicon = load_lexicon(PROJECT / "lexicons")
    print(
        f"{'rule':22s} {'left out':22s} {'classifier P / R (tp/fp/fn)':>30s} {'rules P / R (tp/fp/fn)':>26s}"
    )
    for rule, (section, field) in WRONG.items():
        pooled = {"classifier": Counter(), "rules": Counter()}
        for left_out in DEVELOPMENT:
            test = wordings[left_out]
            said = fit(rule, left_out)([(r[2], r[3]) for r in test])
            truth = [r[0] == section and r[1] == field for r in test]
            # The rules as they now are were tuned on every development wording, this one too: their
            # figure here is what they learned, not what they would carry to new wording.
            by_rule = [rule_fires(rule, r[2], r[3], lexicon) for r in test]
            line = []
            for who, guesses in (("classifier", said), ("rules", by_rule)):
                c = Counter(
                    "tp" if g and t else "fp" if g else "fn" if t else "tn"
                    for g, t in zip(guesses, truth, strict=True)
                )
                pooled[who] += c
                line.append(_pr(c))
            print(f"{rule:22s} {left_out:22s} {line[0]:>30s} {line[1]:>26s}")
        print(f"{rule:22s} {'all, pooled':22s} {_pr(pooled['classifier']):>30s} {_pr(pooled['rules']):>26s}")


def _read_calls(wording: str, folder: Path, fit) -> None:
    """Per call, per kind: the classifier (trained without ``wording``) over the stored words."""
    import json

    from pipeline.warehouse.store import partition_dates, read_table

    # A development wording's calls are read by a classifier trained without it; a held-out
    # wording's (read once, to judge the method) by one trained on every development wording.
    left_out = f"{wording}.yaml"
    truth = {
        t["call_id"]: set(t["expected_flags"])
        for t in (
            json.loads(p.read_text(encoding="utf-8")) for p in (folder / "share" / "truth").glob("*.json")
        )
    }
    warehouse = folder / "warehouse"
    utterances = read_table(warehouse, "utterances", partition_dates(warehouse)).sort_values(
        ["call_id", "start_ms"]
    )
    calls: dict[str, list[tuple[str, str]]] = {}
    for call_id, rows in utterances.groupby("call_id"):
        caller, pairs = "", []
        for row in rows.itertuples():
            if row.role == "caller":
                caller = row.text
            elif row.role == "agent":
                pairs.append((caller, row.text))
        calls[str(call_id)] = pairs
    print(f"{'rule':22s} {'kind':12s} {'classifier, per call P / R (tp/fp/fn)':>40s}")
    for rule in WRONG:
        says = fit(rule, left_out)
        by_kind: dict[str, Counter] = {}
        for call_id, pairs in calls.items():
            base, kind = call_id.split(".", 1)
            flagged, expected = bool(says(pairs).any()), rule in truth.get(base, set())
            by_kind.setdefault(kind, Counter())[
                "tp" if flagged and expected else "fp" if flagged else "fn" if expected else "tn"
            ] += 1
        for kind, c in sorted(by_kind.items()):
            print(f"{rule:22s} {kind:12s} {_pr(c):>40s}")


def _pr(c: Counter) -> str:
    p = c["tp"] / max(1, c["tp"] + c["fp"])
    r = c["tp"] / max(1, c["tp"] + c["fn"])
    return f"{p:.2f} / {r:.2f} ({c['tp']}/{c['fp']}/{c['fn']})"


if __name__ == "__main__":
    main()
