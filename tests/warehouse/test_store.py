from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from pipeline.config import ScoringConfig
from pipeline.records import CallMetrics, CallRef, CallResult, Event, RoleAssignment
from pipeline.warehouse.scorecards import update_scorecards
from pipeline.warehouse.store import read_table, store_call
from tests.conftest import utt

CST = timezone(timedelta(hours=8))


def result(call_id, agent, when, rules=(), cps=4.2, polite=None):
    ref = CallRef(call_id, f"/share/{call_id}.flac", agent, when, "stereo-agent-left", "abc", 10, 1.0)
    events = tuple(
        Event(
            call_id,
            agent,
            r.split(":")[0],
            r.partition(":")[2],
            "major",
            1.0,
            2.0,
            "agent",
            "什么事",
            1.0,
            "1+lex.x",
        )
        for r in rules
    )
    utterances = (replace(utt("agent", 1.0, 2.0, "您好"), call_id=call_id),)
    metrics = CallMetrics(
        call_id, agent, 30.0, 12.0, 10.0, 8.0, 0.5, cps, 1, polite_counts=polite or {"您好": 1, "谢谢": 1}
    )
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
    assert update_scorecards(tmp_path, weights) == {"day": 3, "week": 2}
    cards = pd.read_parquet(tmp_path / "scorecards")
    week = cards[cards["period"] == "week"].set_index("agent_id")
    assert week.loc["A1", "period_label"] == "2026-W47"
    assert week.loc["A1", "n_calls"] == 2
    assert week.loc["A1", "score"] == 95.0  # 100 - 10 / 2 calls
    assert week.loc["A1", "greeting_compliance"] == 0.5
    assert week.loc["A2", "score"] == 84.0  # 100 - (10 + 6) / 1 call
    day = cards[(cards["period"] == "day") & (cards["agent_id"] == "A1")]
    assert sorted(day["score"]) == [90.0, 100.0]


def test_scorecards_carry_the_quality_teams_columns(tmp_path):
    monday = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(
        tmp_path,
        result(
            "C1", "A1", monday, ["interruption.agent", "interruption.agent", "conduct.impatient"], cps=5.0
        ),
    )
    store_call(
        tmp_path,
        result("C2", "A1", monday, ["phrase.banned:傲慢", "phrase.banned:傲慢", "closing.missing"], cps=3.0),
    )
    store_call(
        tmp_path,
        result(
            "C3", "A1", monday, ["phrase.banned:无礼", "hangup.premature", "conduct.domineering"], cps=4.0
        ),
    )
    update_scorecards(tmp_path, ScoringConfig())
    card = pd.read_parquet(tmp_path / "scorecards" / "period=week").iloc[0]
    assert card["n_calls"] == 3
    assert card["interruptions_per_call"] == pytest.approx(2 / 3)
    assert card["calls_impatient"] == 1 and card["calls_domineering"] == 1 and card["premature_hangups"] == 1
    assert card["closing_compliance"] == pytest.approx(2 / 3) and card["greeting_compliance"] == 1.0
    assert (card["banned_arrogant"], card["banned_rude"], card["banned_total"]) == (2, 1, 3)
    assert card["median_agent_chars_per_s"] == pytest.approx(4.0)
    assert card["polite_per_call"] == pytest.approx(2.0)
    assert card["period_start"] == date(2026, 11, 16)


def test_nightly_aggregation_touches_only_changed_partitions(tmp_path):
    monday = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(tmp_path, result("C1", "A1", monday))
    store_call(tmp_path, result("C2", "A1", monday + timedelta(days=8)))  # the next ISO week
    update_scorecards(tmp_path, ScoringConfig())
    cards = tmp_path / "scorecards"
    untouched = [
        cards / "period=day/period_label=2026-11-16/data.parquet",
        cards / "period=week/period_label=2026-W47/data.parquet",
    ]
    stamps = [p.stat().st_mtime_ns for p in untouched]
    touched = store_call(tmp_path, result("C3", "A2", monday + timedelta(days=8), ["greeting.missing"]))
    assert touched == {"2026-11-24"}
    update_scorecards(tmp_path, ScoringConfig(), touched)
    assert [p.stat().st_mtime_ns for p in untouched] == stamps
    week = pd.read_parquet(cards / "period=week/period_label=2026-W48")
    assert sorted(week["agent_id"]) == ["A1", "A2"]


def test_a_crash_mid_write_leaves_the_last_good_partition(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monday = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(tmp_path, result("C1", "A1", monday, ["greeting.missing"]))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(OSError):
        store_call(tmp_path, result("C2", "A1", monday))
    monkeypatch.undo()
    assert read_table(tmp_path, "calls")["call_id"].tolist() == ["C1"]
    assert read_table(tmp_path, "events")["rule_id"].tolist() == ["greeting.missing"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_duckdb_reads_the_same_tables(tmp_path):
    import duckdb

    monday = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(tmp_path, result("C1", "A1", monday, ["greeting.missing", "closing.missing"]))
    store_call(tmp_path, result("C2", "A2", monday + timedelta(days=1), ["greeting.missing"]))
    update_scorecards(tmp_path, ScoringConfig())
    rows = duckdb.sql(
        f"""select call_date, rule_id, count(*) as n from read_parquet('{tmp_path}/events/*/*.parquet', hive_partitioning = true)
        group by all order by all"""
    ).fetchall()
    assert [(str(d), r, n) for d, r, n in rows] == [
        ("2026-11-16", "closing.missing", 1),
        ("2026-11-16", "greeting.missing", 1),
        ("2026-11-17", "greeting.missing", 1),
    ]
    scores = duckdb.sql(
        f"""select agent_id, score from read_parquet('{tmp_path}/scorecards/*/*/*.parquet', hive_partitioning = true)
        where period = 'week' order by agent_id"""
    ).fetchall()
    assert scores == [("A1", 85.0), ("A2", 90.0)]


def test_read_api_for_notebooks(tmp_path):
    from pipeline.warehouse.read import Warehouse

    monday = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(tmp_path, result("C1", "A1", monday, ["greeting.missing"]))
    store_call(tmp_path, result("C2", "A2", monday + timedelta(days=2), ["phrase.banned:傲慢"]))
    update_scorecards(tmp_path, ScoringConfig())
    wh = Warehouse(tmp_path)
    assert wh.dates(start="2026-11-17") == ["2026-11-18"]
    assert wh.calls(agent_id="A2")["call_id"].tolist() == ["C2"]
    events = wh.events(start="2026-11-16", end="2026-11-16")
    assert events[["call_id", "rule_id", "evidence", "start_s"]].values.tolist() == [
        ["C1", "greeting.missing", "什么事", 1.0]
    ]
    assert wh.scorecards("day", agent_id="A1")["period_label"].tolist() == ["2026-11-16"]
    view = wh.call("C2")
    assert view.call["agent_id"] == "A2" and view.events["category"].tolist() == ["傲慢"]
    assert view.utterances["text"].tolist() == ["您好"]
    with pytest.raises(KeyError):
        wh.call("nope")


def test_a_full_disk_midway_through_a_batch_changes_nothing(tmp_path, monkeypatch):
    import errno

    import pyarrow.parquet as pq

    from pipeline.warehouse.store import WarehouseWriteError, store_calls

    monday = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(tmp_path, result("C1", "A1", monday, ["greeting.missing"]))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")}
    real_write, written = pq.write_table, []

    def fill_up(table, where, **kwargs):
        if len(written) == 5:  # turns and utterances of both days, events of the first, then full
            with open(where, "wb") as f:
                f.write(b"PAR1 partial")
            raise OSError(errno.ENOSPC, "No space left on device", str(where))
        written.append(where)
        real_write(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", fill_up)
    with pytest.raises(
        WarehouseWriteError, match=r"cannot write .*events/call_date=2026-11-17.*No space left"
    ):
        store_calls(
            tmp_path,
            [result("C2", "A1", monday, ["phrase.banned"]), result("C3", "A1", monday + timedelta(days=1))],
        )
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")} == before
    assert not list(tmp_path.rglob("*.tmp"))
    assert not (tmp_path / "calls" / "call_date=2026-11-17").exists()  # no empty partition left
    assert read_table(tmp_path, "calls")["call_id"].tolist() == ["C1"]


def test_a_killed_writers_temp_files_are_removed(tmp_path):
    from pipeline.warehouse.store import remove_stale_temps

    store_call(tmp_path, result("C1", "A1", datetime(2026, 11, 16, 9, 0, tzinfo=CST)))
    stale = tmp_path / "calls" / "call_date=2026-11-16" / ".data.parquet.0123abcd.tmp"
    stale.write_bytes(b"PAR1 half")
    assert remove_stale_temps(tmp_path) == 1 and not stale.exists()
    assert read_table(tmp_path, "calls")["call_id"].tolist() == ["C1"]


def test_an_unwritable_warehouse_is_found_before_any_work(tmp_path):
    from pipeline.warehouse.store import WarehouseWriteError, ensure_writable

    ensure_writable(tmp_path / "new")
    assert list((tmp_path / "new").iterdir()) == []  # the probe is gone
    (tmp_path / "file").write_text("x")
    with pytest.raises(WarehouseWriteError, match=r"cannot write the warehouse .*file"):
        ensure_writable(tmp_path / "file")


def test_turns_are_stored_with_their_overlaps_and_replaced_with_the_call(tmp_path):
    from pipeline.records import Turn

    when = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    turns = (
        Turn("ch0", "agent", 0.5, 4.0, 0),
        Turn("ch1", "caller", 3.5, 6.0, 1),  # starts under the agent's last half second
        Turn("ch0", "agent", 6.5, 8.0, 0),
    )
    store_call(tmp_path, replace(result("C1", "A1", when), turns=turns))
    stored = read_table(tmp_path, "turns").sort_values("idx")
    assert list(stored["role"]) == ["agent", "caller", "agent"]
    assert list(stored["start_ms"]) == [500, 3500, 6500] and list(stored["channel"]) == [0, 1, 0]
    assert list(stored["overlapped"]) == [True, True, False]
    store_call(tmp_path, replace(result("C1", "A1", when), turns=turns[:1]))
    assert len(read_table(tmp_path, "turns")) == 1


def test_event_ids_are_stable_and_partitions_of_an_older_schema_are_conformed(tmp_path):
    import pyarrow.parquet as pq

    from pipeline.records import event_id

    when = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    store_call(tmp_path, result("C1", "A1", when, ["greeting.missing", "phrase.banned:傲慢"]))
    events = read_table(tmp_path, "events").sort_values("rule_id")
    assert list(events["event_id"]) == [
        event_id("C1", "greeting.missing", "", 1000),
        event_id("C1", "phrase.banned", "傲慢", 1000),
    ]
    # Stored again (a rescore): the same findings keep their ids.
    store_call(tmp_path, result("C1", "A1", when, ["greeting.missing", "phrase.banned:傲慢"]))
    assert sorted(read_table(tmp_path, "events")["event_id"]) == sorted(events["event_id"])
    # A partition written before event ids existed reads with them, and takes new calls.
    path = next((tmp_path / "events").rglob("data.parquet"))
    pq.write_table(pq.read_table(path).drop_columns(["event_id"]), path)
    assert sorted(read_table(tmp_path, "events")["event_id"]) == sorted(events["event_id"])
    store_call(tmp_path, result("C2", "A1", when, ["closing.missing"]))
    assert read_table(tmp_path, "events")["event_id"].notna().all()
