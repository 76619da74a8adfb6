"""Every line of the guide benchmark's development wording through the rules on trial, as text: a
moment done against the guide is found, one done as it asks is not. This is the wording the phrase
lists of courtesy.ni and transfer.no_identity were tuned on, with the held-out wordings that were
read once and then looked at (guide-test.yaml, -test2, -test3, -test4); the reply reader's three
rules learned from it (with guide-test5.yaml, -test6 and -test7, not read here). The wording still
held out (guide-test8.yaml) is not read here. So the bar is high: a change to a list or to the
reader's recipe that loses what it found fails here before any call is rendered."""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.config import ROOT, RulesConfig
from pipeline.evaluation.synth.guide import (
    DEVELOPMENT_WORDINGS,
    GUIDE_RULES,
    impolite,
    load_guide_bank,
)
from pipeline.records import Utterance
from pipeline.rules import CallContext, apply_rules
from tests.conftest import TRUSTED

GREETING = "您好，阳光物业客服中心，请问有什么可以帮您？"


def _rules_raised(lines: list[tuple[str, str]], lexicon) -> set[str]:
    t, said = 1.0, []
    for i, (role, text) in enumerate(lines):
        start = t + 0.5
        t = start + 0.2 * len(text)
        said.append(Utterance("X", i, role, start, t, text))
    ctx = CallContext("X", "A1", t + 1, tuple(said), TRUSTED, lexicon, RulesConfig())
    return {e.rule_id for e in apply_rules(ctx)} & set(GUIDE_RULES)


def _moments(bank: dict):
    """(rule, lines, whether the rule should fire) for every item of the development wording."""
    for item in bank["qa"]:
        for text, wrong in ((item["clear"], False), (item["hesitant"], True)):
            yield "hesitation.unsure_learned", [("caller", item["question"]), ("agent", text)], wrong
    for item in bank["absent"]:
        for text, wrong in ((item["offer"], False), (item["bare"], True)):
            yield "message.not_offered_learned", [("caller", item["ask"]), ("agent", text)], wrong
    for item in bank["refusals"]:
        for text, wrong in ((item["polite"], False), (item["flat"], True)):
            yield "refusal.no_apology_learned", [("caller", item["request"]), ("agent", text)], wrong
    for item in bank["transfers"]:
        asked = [
            ("caller", item["request"]),
            ("agent", item["ask_identity"]),
            ("caller", item["caller_identity"]),
        ]
        yield "transfer.no_identity", [*asked, ("agent", item["put_through"])], False
        yield "transfer.no_identity", [("caller", item["request"]), ("agent", item["blind"])], True
    for item in bank["qa"]:
        polite = [("agent", GREETING), ("caller", item["question"]), ("agent", item["clear"])]
        yield "courtesy.ni", polite, False
        yield "courtesy.ni", [(r, impolite(t) if r == "agent" else t) for r, t in polite], True


@pytest.fixture(scope="module")
def counts(lexicon) -> dict[str, Counter]:
    out: dict[str, Counter] = {rule: Counter() for rule in GUIDE_RULES}
    bench = ROOT / "data" / "call_scripts" / "bench"
    banks = [load_guide_bank("dev", bench / name) for name in DEVELOPMENT_WORDINGS]
    for rule, lines, wrong in [m for bank in banks for m in _moments(bank)]:
        opened = (
            lines
            if lines[0] == ("agent", GREETING) or rule == "courtesy.ni"
            else [("agent", GREETING), *lines]
        )
        raised = rule in _rules_raised(opened, lexicon)
        out[rule]["tp" if raised and wrong else "fp" if raised else "fn" if wrong else "tn"] += 1
    return out


@pytest.mark.parametrize("rule", GUIDE_RULES)
def test_the_development_wording_is_found_and_nothing_else(counts, rule):
    c = counts[rule]
    precision, recall = c["tp"] / max(1, c["tp"] + c["fp"]), c["tp"] / max(1, c["tp"] + c["fn"])
    # Measured 2026-12-06 (night) on the development wording (guide-dev.yaml, the text-only rounds
    # guide-dev-text.yaml, -text4, -text5 and -text6, and the looked-at held-out wordings guide-test,
    # -test2, -test3 and -test4; 422-460 moments a rule): P 1.00, R 0.94 or more.
    assert precision >= 0.95 and recall >= 0.9, (rule, dict(c))
