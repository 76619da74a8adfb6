"""Rules in shadow mode (试运行) end to end: stored, marked on the desk, reviewed, costing nothing
until the quality lead promotes them; `callqa rules` shows their reviewed precision."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import Config, DeskConfig, ScoringConfig
from pipeline.review.desk import create_app, settings
from pipeline.review.standing import rule_standings
from pipeline.review.verdicts import review_finding
from pipeline.rules.modes import SHADOW_BY_DEFAULT, points, rule_mode
from pipeline.warehouse.scorecards import update_scorecards
from tests.review.desk.test_desk import DESK, form_token
from tests.review.desk.test_desk_faults import store_findings, week_card

CFG = Config(desk=DeskConfig(reviewer="王组长"))
TODAY = date(2026, 11, 20)  # the stored call is of 2026-11-16


def test_modes_and_promotion_dates():
    scoring = ScoringConfig()
    assert set(scoring.weights) >= SHADOW_BY_DEFAULT  # a weight waits for the promotion
    assert rule_mode("refusal.no_apology_learned", scoring) == "shadow"
    assert points("refusal.no_apology_learned", scoring, "2026-11-16") == 0.0
    assert rule_mode("greeting.missing", scoring) == "scoring"
    assert rule_mode("interruption.caller", scoring) == "context"
    promoted = ScoringConfig(promoted={"refusal.no_apology_learned": "2026-11-16"}, shadow=("pace.fast",))
    assert rule_mode("refusal.no_apology_learned", promoted, "2026-11-15") == "shadow"  # before its date
    assert points("refusal.no_apology_learned", promoted, "2026-11-16") == 5.0
    assert points("pace.fast", promoted, "2026-11-16") == 0.0  # put back on trial
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ScoringConfig(promoted={"courtesy.ni": "next monday"})
    with pytest.raises(ValueError, match="both promoted and in shadow"):
        ScoringConfig(promoted={"courtesy.ni": "2026-12-01"}, shadow=("courtesy.ni",))


@pytest.fixture
def shadowed(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    greeting, refusal = store_findings(
        share, warehouse, "C1", [("greeting.missing", "agent"), ("refusal.no_apology_learned", "agent")]
    )
    client = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    return client, warehouse, greeting, refusal


def test_a_shadow_finding_is_marked_reviewed_and_costs_nothing(shadowed):
    client, warehouse, greeting, refusal = shadowed
    card = week_card(warehouse)
    assert card["score"] == 90.0 and card["n_events"] == 1 and card["shadow_findings"] == 1
    assert card["events_open"] == 1  # only the scoring finding is open on the scorecard

    queue = client.get("/queue").text
    assert f'data-event="{refusal}"' in queue and f'data-event="{greeting}"' in queue
    row = queue[queue.index(f'data-event="{refusal}"') :]
    assert "试运行" in row[: row.index("</tr>")]
    row = queue[queue.index(f'data-event="{greeting}"') :]
    assert "试运行" not in row[: row.index("</tr>")]
    call = client.get("/call/C1").text
    assert "试运行，不扣分" in call

    # Overturned on the desk: the rule's reviewed precision moves, the agent's score does not.
    before = client.get("/week/2026-W47").text
    assert ">90.0<" in before
    done = client.post(
        f"/review/{refusal}",
        data={"verdict": "overturned", "note": "先道歉了", "token": form_token(client, "/call/C1")},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert ">90.0<" in client.get("/week/2026-W47").text
    assert week_card(warehouse)["score"] == 90.0
    standing = {s.rule_id: s for s in rule_standings(warehouse, CFG.scoring, TODAY)}
    refusal_rule = standing["refusal.no_apology_learned"]
    assert (refusal_rule.mode, refusal_rule.findings, refusal_rule.reviewed, refusal_rule.precision) == (
        "shadow",
        1,
        1,
        0.0,
    )
    assert standing["greeting.missing"].reviewed == 0 and standing["greeting.missing"].findings == 1
    assert not refusal_rule.below_floor  # one verdict is too few to flag a rule

    # Upheld and promoted from the call's date on: now it costs its weight.
    review_finding(warehouse, CFG.scoring, refusal, "upheld", "王组长")
    promoted = ScoringConfig(promoted={"refusal.no_apology_learned": "2026-11-16"})
    update_scorecards(warehouse, promoted)
    card = week_card(warehouse)
    assert card["score"] == 85.0 and card["shadow_findings"] == 0 and card["n_events"] == 2
    later = ScoringConfig(promoted={"refusal.no_apology_learned": "2026-11-17"})
    update_scorecards(warehouse, later)
    assert week_card(warehouse)["score"] == 90.0  # promotion does not reach back


def test_callqa_rules_lists_modes_findings_and_precision(shadowed, tmp_path):
    _, warehouse, _, refusal = shadowed
    for _ in range(2):
        review_finding(warehouse, CFG.scoring, refusal, "overturned", "王组长")
    config = tmp_path / "callqa.toml"
    config.write_text("[scoring]\nprecision_min_reviews = 1\n", encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(
        app, ["rules", "--warehouse", str(warehouse), "--today", TODAY.isoformat(), "--config", str(config)]
    )
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if "refusal.no_apology_learned" in x)
    assert "试运行" in line and re.search(r"0\.00 < 0\.80", line)
    rows = runner.invoke(
        app,
        [
            "rules",
            "--warehouse",
            str(warehouse),
            "--today",
            TODAY.isoformat(),
            "--json",
            "--config",
            str(config),
        ],
    )
    by_rule = {r["rule_id"]: r for r in map(json.loads, rows.output.splitlines())}
    assert by_rule["refusal.no_apology_learned"]["below_floor"] is True
    assert by_rule["greeting.missing"]["mode"] == "scoring" and by_rule["greeting.missing"]["findings"] == 1
    assert by_rule["voice.flat"]["mode"] == "shadow" and by_rule["voice.flat"]["findings"] == 0


def test_a_retired_rule_s_stored_finding_is_shown_never_waits_and_costs_nothing(tmp_path):
    # A finding of refusal.no_apology, stored before the rule was retired (2026-12-07), with a
    # weight a centre's configuration might still hold for it.
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    greeting, old = store_findings(
        share, warehouse, "C1", [("greeting.missing", "agent"), ("refusal.no_apology", "agent")]
    )
    cfg = Config.from_dict(
        {"desk": {"reviewer": "王组长"}, "scoring": {"weights": {"refusal.no_apology": 5.0}}}
    )
    assert week_card(warehouse)["score"] == 90.0  # greeting.missing's 10 points alone
    client = TestClient(create_app(settings(warehouse, share, cfg, "127.0.0.1")), base_url=DESK)
    queue = client.get("/queue").text
    assert f'data-event="{greeting}"' in queue and f'data-event="{old}"' not in queue
    call = client.get("/call/C1").text
    assert "拒绝前未致歉（词表，已停用）" in call and "扣 5 分" not in call
    standing = {s.rule_id: s for s in rule_standings(warehouse, cfg.scoring, TODAY)}
    assert standing["refusal.no_apology"].mode == "retired" and standing["refusal.no_apology"].findings == 1
    # Retired rules with nothing in the window are not listed.
    assert "hesitation.unsure" not in standing
