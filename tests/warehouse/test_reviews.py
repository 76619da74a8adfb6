"""Reviewers' verdicts: append-only, the latest wins, scores follow, rescoring keeps them."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from pipeline.config import ScoringConfig
from pipeline.review.verdicts import review_finding
from pipeline.warehouse.reviews import (
    UnknownEventError,
    latest_verdicts,
    read_reviews,
    record_review,
    reviewed_precision,
)
from pipeline.warehouse.scorecards import update_scorecards
from pipeline.warehouse.store import read_table, store_call
from tests.warehouse.test_store import CST, result

MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=CST)


def stored(tmp_path):
    store_call(tmp_path, result("C1", "A1", MONDAY, ["greeting.missing", "phrase.banned:傲慢"]))
    store_call(tmp_path, result("C2", "A1", MONDAY + timedelta(days=1), ["greeting.missing"]))
    update_scorecards(tmp_path, ScoringConfig())
    events = read_table(tmp_path, "events")
    return {(r.call_id, r.rule_id): r.event_id for r in events.itertuples()}


def card(tmp_path, period, label):
    cards = pd.read_parquet(tmp_path / "scorecards" / f"period={period}" / f"period_label={label}")
    return cards.iloc[0]


def test_an_overturned_finding_deducts_nothing_from_its_day_and_week(tmp_path):
    ids = stored(tmp_path)
    before_day, before_week = card(tmp_path, "day", "2026-11-16"), card(tmp_path, "week", "2026-W47")
    assert before_day["score"] == 80.0 and before_day["events_open"] == 2
    outcome = review_finding(
        tmp_path, ScoringConfig(), ids["C1", "greeting.missing"], "overturned", "王组长", "有问候"
    )
    assert outcome.scorecards_updated
    day, week = card(tmp_path, "day", "2026-11-16"), card(tmp_path, "week", "2026-W47")
    assert day["score"] == 90.0 and day["greeting_compliance"] == 1.0 and day["n_events"] == 1
    assert (day["events_reviewed"], day["events_overturned"], day["events_open"]) == (1, 1, 1)
    assert week["score"] > before_week["score"] and week["events_overturned"] == 1
    # The other day is untouched.
    assert card(tmp_path, "day", "2026-11-17")["score"] == 90.0


def test_the_latest_verdict_wins_and_every_verdict_is_kept(tmp_path):
    ids = stored(tmp_path)
    event = ids["C1", "phrase.banned"]
    t0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
    record_review(tmp_path, event, "overturned", "王组长", now=t0)
    record_review(tmp_path, event, "upheld", "李经理", "申诉复核：确实傲慢", now=t0 + timedelta(hours=1))
    assert len(read_reviews(tmp_path)) == 2
    (latest,) = latest_verdicts(tmp_path).itertuples()
    assert (latest.verdict, latest.reviewer, latest.rule_id, latest.category) == (
        "upheld",
        "李经理",
        "phrase.banned",
        "傲慢",
    )
    update_scorecards(tmp_path, ScoringConfig())
    assert card(tmp_path, "day", "2026-11-16")["banned_total"] == 1  # upheld: still deducted
    precision = reviewed_precision(tmp_path).set_index("rule_id")
    assert precision.loc["phrase.banned", "precision"] == 1.0


def test_unknown_findings_and_bad_verdicts_are_clear_errors(tmp_path):
    ids = stored(tmp_path)
    with pytest.raises(UnknownEventError, match="nosuchid"):
        record_review(tmp_path, "nosuchid", "upheld", "王组长")
    with pytest.raises(ValueError, match="verdict"):
        record_review(tmp_path, ids["C1", "greeting.missing"], "maybe", "王组长")
    with pytest.raises(ValueError, match="reviewer"):
        record_review(tmp_path, ids["C1", "greeting.missing"], "upheld", " ")
    assert read_reviews(tmp_path).empty


def test_a_verdict_during_a_run_is_applied_when_the_run_ends(tmp_path):
    from pipeline.run.batch import RunLock
    from pipeline.warehouse.ledger import Ledger

    ids = stored(tmp_path)
    with RunLock(tmp_path):  # the nightly batch holds the warehouse
        outcome = review_finding(
            tmp_path, ScoringConfig(), ids["C2", "greeting.missing"], "overturned", "王组长"
        )
    assert not outcome.scorecards_updated
    assert card(tmp_path, "day", "2026-11-17")["score"] == 90.0  # not yet
    with Ledger(tmp_path) as ledger:
        assert ledger.dirty_dates() == {"2026-11-17"}


def test_verdicts_survive_a_rescore(tmp_path):
    ids = stored(tmp_path)
    record_review(tmp_path, ids["C1", "greeting.missing"], "overturned", "王组长")
    # The same findings raised again (what `callqa rescore` does): same ids, the verdict applies.
    store_call(tmp_path, result("C1", "A1", MONDAY, ["greeting.missing", "phrase.banned:傲慢"]))
    update_scorecards(tmp_path, ScoringConfig())
    assert card(tmp_path, "day", "2026-11-16")["events_overturned"] == 1
    assert card(tmp_path, "day", "2026-11-16")["score"] == 90.0


def test_callqa_review_and_evaluate_reviews_from_the_shell(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    ids = stored(tmp_path)
    runner = CliRunner()
    args = ["review", ids["C1", "greeting.missing"], "--verdict", "overturned", "--reviewer", "王组长"]
    out = runner.invoke(app, [*args, "--note", "开头有您好", "--warehouse", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "overturned" in out.output and "recomputed" in out.output
    assert card(tmp_path, "day", "2026-11-16")["score"] == 90.0
    unknown = runner.invoke(
        app,
        ["review", "nosuchid", "--verdict", "upheld", "--reviewer", "王组长", "--warehouse", str(tmp_path)],
    )
    assert unknown.exit_code == 2 and "nosuchid" in unknown.output
    report = runner.invoke(app, ["evaluate", "--reviews", "--warehouse", str(tmp_path)])
    assert report.exit_code == 0 and "greeting.missing" in report.output
