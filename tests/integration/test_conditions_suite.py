"""The telephone-conditions suite's slice that CI runs, so that a regression shows: five calls of
the generated benchmark's development part (BD0017-BD0021: a missing greeting, cut-ins both ways,
hang-ups with the caller mid-sentence), their stereo recordings with four other conversations 20
and 10 dB under the agent (the next desks of an open-plan floor), and as call backs that meet a
voicemail, through ``benchmarks/conditions.py``
as ``make eval-conditions`` runs it: the real model, the Prefect flow, Parquet, ``callqa evaluate``.
The full suite and its figures: docs/evaluation.md, telephone conditions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.evaluation.synth.generate import generate

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TIMING = ("interruption.agent", "hangup.premature", "conduct.domineering")


@pytest.fixture(scope="module")
def summary(tmp_path_factory, cfg) -> dict:
    root = tmp_path_factory.mktemp("conditions")
    generate(root / "share", "dev", 5, cfg.models_path, first=17, kinds=("stereo",))
    script = ROOT / "benchmarks" / "conditions.py"
    args = [
        "--calls",
        "5",
        "--conditions",
        "babble20,babble10,voicemail",
        "--run",
        "--summary",
        str(root / "summary.json"),
    ]
    subprocess.run([sys.executable, str(script), str(root / "share"), str(root / "out"), *args], check=True)
    return json.loads((root / "summary.json").read_text(encoding="utf-8"))


def test_voices_20_db_under_the_agent_leave_who_spoke_when_and_the_timing_rules_right(summary):
    babble = summary["babble20"]
    assert babble["not_scored_recordings"] == 0 and babble["role_accuracy"] == 1.0
    # Measured 2026-12-06: DER 0.052 (0.106 before the voices were read whole before the bleed
    # test, with one false agent cut-in); every timing flag right but one false caller's cut-in.
    assert babble["der"] < 0.08
    for rule in (*TIMING, "greeting.missing"):
        counts = babble["rules"][rule]
        assert counts["tp"] > 0 and counts["fp"] == counts["fn"] == 0, rule
    caller = babble["rules"]["interruption.caller"]
    assert caller["fn"] == 0 and caller["fp"] <= 1


def test_voices_10_db_under_the_agent_withhold_every_call_instead_of_wrong_findings(summary):
    babble = summary["babble10"]
    assert babble["not_scored_recordings"] == 5 and babble["role_accuracy"] == 1.0
    for rule in TIMING:
        counts = babble["rules"].get(rule, {})
        assert counts.get("fp", 0) == 0, rule


def test_a_voicemail_greeting_is_a_recording_not_a_caller_the_agent_cut_in_on(summary):
    # Measured 2026-12-06 on the development part's first 16: before the voicemail's phrases were
    # prompts, the agent's opening over the greeting was an interruption on all 16 calls.
    voicemail = summary["voicemail"]
    assert voicemail["not_scored_recordings"] == 0 and voicemail["role_accuracy"] == 1.0
    for rule in (*TIMING, "interruption.caller"):
        assert voicemail["rules"].get(rule, {}).get("fp", 0) == 0, rule
    greeting = voicemail["rules"]["greeting.missing"]
    assert greeting["tp"] == 2 and greeting["fp"] == greeting["fn"] == 0  # BD0017, BD0019
