from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pandas as pd

from pipeline.config import ScoringConfig
from pipeline.records import CallMetrics, CallRef, CallResult, Event, RoleAssignment
from pipeline.warehouse.scorecards import rebuild_scorecards
from pipeline.warehouse.store import read_table, store_call
from tests.conftest import utt

CST = timezone(timedelta(hours=8))


def result(call_id, agent, when, rules=()):
    ref = CallRef(call_id, f"/share/{call_id}.flac", agent, when, "stereo-agent-left", "abc", 10, 1.0)
    events = tuple(
        Event(call_id, agent, r, "", "major", 1.0, 2.0, "agent", "什么事", 1.0, "1+lex.x") for r in rules
    )
    utterances = (replace(utt("agent", 1.0, 2.0, "您好"), call_id=call_id),)
    metrics = CallMetrics(call_id, agent, 30.0, 12.0, 10.0, 8.0, 0.5, 4.2, 1)
    return CallResult(
        ref,
        "whisper-base-ct2",
        "lexv",
        RoleAssignment("ch0", 1.0, "channel map"),
        utterances,
        events,
        metrics,
    )


def test_storing_a_call_again_replaces_its_rows(tmp_path):
    when = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(tmp_path, result("C1", "A1", when, ["greeting.missing"]))
    store_call(tmp_path, result("C1", "A1", when, ["greeting.missing", "phrase.banned"]))
    store_call(tmp_path, result("C2", "A1", when))
    calls = read_table(tmp_path, "calls")
    assert sorted(calls["call_id"]) == ["C1", "C2"]
    events = read_table(tmp_path, "events")
    assert sorted(events["rule_id"]) == ["greeting.missing", "phrase.banned"]
    assert (calls["call_date"].astype(str) == "2026-11-16").all()
    assert calls.loc[calls.call_id == "C1", "duration_ms"].item() == 30000
    utterances = read_table(tmp_path, "utterances")
    assert utterances["text"].tolist() == ["您好", "您好"]


def test_a_call_whose_date_changed_leaves_no_rows_behind(tmp_path):
    store_call(tmp_path, result("C1", "A1", datetime(2026, 11, 16, 9, 0, tzinfo=CST), ["greeting.missing"]))
    store_call(tmp_path, result("C1", "A1", datetime(2026, 11, 17, 9, 0, tzinfo=CST)))
    assert read_table(tmp_path, "calls")["call_date"].astype(str).tolist() == ["2026-11-17"]
    assert read_table(tmp_path, "events").empty


def test_empty_warehouse_reads_as_empty_tables_with_columns(tmp_path):
    events = read_table(tmp_path, "events")
    assert events.empty and "rule_id" in events.columns


def test_scorecards_are_100_minus_weighted_deductions_per_call(tmp_path):
    monday = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(tmp_path, result("C1", "A1", monday, ["greeting.missing"]))
    store_call(tmp_path, result("C2", "A1", monday + timedelta(days=1), []))
    store_call(tmp_path, result("C3", "A2", monday, ["greeting.missing", "phrase.banned"]))
    weights = ScoringConfig(weights={"greeting.missing": 10.0, "phrase.banned": 6.0})
    assert rebuild_scorecards(tmp_path, weights) == {"day": 3, "week": 2}
    cards = pd.read_parquet(tmp_path / "scorecards")
    week = cards[cards["period"] == "week"].set_index("agent_id")
    assert week.loc["A1", "period_label"] == "2026-W47"
    assert week.loc["A1", "n_calls"] == 2
    assert week.loc["A1", "score"] == 95.0  # 100 - 10 / 2 calls
    assert week.loc["A1", "greeting_compliance"] == 0.5
    assert week.loc["A2", "score"] == 84.0  # 100 - (10 + 6) / 1 call
    day = cards[(cards["period"] == "day") & (cards["agent_id"] == "A1")]
    assert sorted(day["score"]) == [90.0, 100.0]
