"""The guide benchmark's calls: reproducible, labelled from what is said, parts kept apart."""

from __future__ import annotations

import pytest

from pipeline.evaluation.synth.guide import GUIDE_RULES, compose_guide_call, impolite, load_guide_bank
from tests.evaluation.synth.test_generate import _durations


@pytest.fixture(scope="module")
def banks():
    return {part: load_guide_bank(part) for part in ("dev", "test")}


def _lines(bank: dict) -> set[str]:
    out = set()
    for value in bank.values():
        for item in value:
            out |= set(item.values()) if isinstance(item, dict) else {item}
    return out


def test_both_parts_have_every_moment_and_share_no_sentence(banks):
    for bank in banks.values():
        assert {"greetings", "caller_openings", "qa", "absent", "refusals", "transfers"} <= set(bank)
    assert not _lines(banks["dev"]) & _lines(banks["test"])


def test_the_same_call_comes_back_and_labels_follow_the_lines(banks):
    calls = [compose_guide_call(i, "test", banks["test"], _durations) for i in range(1, 81)]
    assert calls[6] == compose_guide_call(7, "test", banks["test"], _durations)
    seen = set()
    for call in calls:
        assert set(call.expect) <= set(GUIDE_RULES)
        seen |= set(call.expect)
        agent = [line.text for line in call.lines if line.role == "agent"]
        said = set(agent)
        bank = banks["test"]
        blind = {t["blind"] for t in bank["transfers"]} | {impolite(t["blind"]) for t in bank["transfers"]}
        assert ("transfer.no_identity" in call.expect) == bool(said & blind)
        flat = {r["flat"] for r in bank["refusals"]} | {impolite(r["flat"]) for r in bank["refusals"]}
        assert ("refusal.no_apology" in call.expect) == bool(said & flat)
        # An agent who says 你 says it all call long, and only then.
        assert ("courtesy.ni" in call.expect) == (not any("您" in t for t in agent))
        assert call.call_id.startswith("GT")
    assert seen == set(GUIDE_RULES)  # every rule has positives in 80 calls
