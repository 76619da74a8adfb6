"""Faults a quality lead met on the desk, each reproduced: a score that silently missed a verdict
given while another writer held the warehouse, counts of open findings that disagreed, a desk
that answered any Host, verdicts without a form token, unthrottled sign-in, a rescore without
the lock, a note cut silently, a bare 500 on a broken recording, English error pages, a
multi-range request refused, and the desk's --help eating "[desk]"."""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from starlette.testclient import TestClient

from pipeline.config import Config, DeskConfig, RunConfig, ScoringConfig
from pipeline.records import CallMetrics, CallRef, CallResult, Event, RoleAssignment, Turn
from pipeline.review.desk import create_app, settings
from pipeline.review.desk.guard import LoginThrottle, allowed_hosts
from pipeline.review.verdicts import review_finding
from pipeline.run.batch import RunLock, RunLocked
from pipeline.warehouse.ledger import Ledger
from pipeline.warehouse.reviews import read_reviews
from pipeline.warehouse.scorecards import pending_dates, settle_scorecards, update_scorecards
from pipeline.warehouse.store import read_table, store_call
from tests.conftest import utt
from tests.review.desk.test_desk import CST, DESK, SR, form_token

CFG = Config(desk=DeskConfig(reviewer="王组长"))


def store_findings(
    share: Path, warehouse: Path, call_id: str, rules: list[tuple[str, str]], agent_id: str = "A101"
) -> list[str]:
    """A stereo call of ``agent_id`` on 2026-11-16 with one finding per (rule, role); their ids."""
    audio = share / "recordings" / f"{call_id}.flac"
    audio.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(10 * SR) / SR
    sf.write(audio, np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)], 1), SR)
    ref = CallRef(call_id, str(audio), agent_id, datetime(2026, 11, 16, 9, tzinfo=CST), "stereo-agent-left")
    said = (
        replace(utt("agent", 0.5, 2.0, "喂，什么事？", speaker="ch0", idx=0), call_id=call_id),
        replace(utt("caller", 2.5, 5.0, "我家漏水了", speaker="ch1", idx=1), call_id=call_id),
    )
    events = tuple(
        Event(call_id, agent_id, rule, "", "major", 0.5 + i, 1.5 + i, role, f"第{i}句", 0.9, "1")
        for i, (rule, role) in enumerate(rules)
    )
    turns = (Turn("ch0", "agent", 0.5, 2.0, 0), Turn("ch1", "caller", 1.8, 5.0, 1))
    metrics = CallMetrics(call_id, agent_id, 10.0, 1.5, 2.5, 6.0, 0.2, 4.0, 2)
    store_call(
        warehouse,
        CallResult(
            ref, "m", "l", RoleAssignment("ch0", 1.0, "channel map"), said, events, metrics, turns=turns
        ),
    )
    update_scorecards(warehouse, ScoringConfig())
    stored = read_table(warehouse, "events").query("call_id == @call_id").sort_values("start_ms")
    return stored["event_id"].tolist()


def week_card(warehouse: Path) -> dict:
    cards = pd.read_parquet(warehouse / "scorecards" / "period=week")
    return cards[cards["agent_id"] == "A101"].iloc[0].to_dict()


@pytest.fixture
def two_findings(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    ids = store_findings(share, warehouse, "C1", [("interruption.agent", "agent"), ("pace.fast", "agent")])
    return share, warehouse, ids


# --- 1. Stale scores ---------------------------------------------------------------------------


def test_two_verdicts_given_while_the_warehouse_is_held_both_count_once_it_is_free(two_findings):
    share, warehouse, (cut_in, pace) = two_findings
    assert week_card(warehouse)["score"] == 94.0  # 100 - 4 - 2
    desk = replace(settings(warehouse, share, CFG, "127.0.0.1"), verdict_wait_s=0.1, settle_every_s=0.1)
    with RunLock(warehouse):  # a nightly run holds the warehouse
        # `callqa review` on one finding, the desk on the other, both while the run holds it.
        assert not review_finding(
            warehouse, CFG.scoring, cut_in, "overturned", "李四", wait_s=0.1
        ).scorecards_updated
        client = TestClient(create_app(desk), base_url=DESK)
        token = form_token(client, "/call/C1")
        answer = client.post(
            f"/review/{pace}",
            data={"verdict": "overturned", "token": token},
            headers={"Accept": "application/json"},
        )
        assert answer.json() == {
            "event_id": pace,
            "status": "overturned",
            "status_name": "已推翻",
            "scorecards_updated": False,
        }
        # Never a silently stale score: the pages say the score is pending.
        week = client.get("/week/2026-W47").text
        assert 'id="pending"' in week and "score stale" in week and "2026-11-16" in week
        assert 'id="pending"' in client.get("/call/C1").text
        assert week_card(warehouse)["events_overturned"] == 0
    # The run lets go: the desk's worker recomputes, counting both verdicts.
    with TestClient(create_app(desk), base_url=DESK) as client:
        deadline = time.monotonic() + 10
        while pending_dates(warehouse) and time.monotonic() < deadline:
            time.sleep(0.05)
        card = week_card(warehouse)
        assert (card["score"], card["events_overturned"], card["events_open"]) == (100.0, 2, 0)
        assert 'id="pending"' not in client.get("/week/2026-W47").text


def test_verdicts_given_at_the_same_moment_both_count(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    ids = store_findings(share, warehouse, "C1", [("interruption.agent", "agent")] * 6)
    client = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    token = form_token(client, "/call/C1")
    start = threading.Barrier(len(ids))

    def give(i: int, event_id: str) -> None:
        start.wait()
        if i % 2:  # half through the desk, half as `callqa review` does
            client.post(f"/review/{event_id}", data={"verdict": "overturned", "token": token})
        else:
            review_finding(warehouse, CFG.scoring, event_id, "overturned", "李四")

    threads = [threading.Thread(target=give, args=(i, e)) for i, e in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(read_reviews(warehouse)) == 6 and not pending_dates(warehouse)
    card = week_card(warehouse)
    assert (card["score"], card["events_overturned"]) == (100.0, 6)


def test_a_date_marked_while_its_scorecards_are_recomputed_stays_marked(tmp_path, monkeypatch):
    # The old run cleared the dates it had read after recomputing: a verdict marked in between
    # was forgotten until the next night.
    from pipeline.warehouse import scorecards

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    store_findings(share, warehouse, "C1", [("interruption.agent", "agent")])
    real = scorecards.update_scorecards
    rounds: list[set[str]] = []

    def slow(wh, scoring, dates=None):
        rounds.append(set(dates))
        if len(rounds) == 1:
            with Ledger(wh) as ledger:  # verdicts on this day and another arrive mid-recompute
                ledger.mark_dirty({"2026-11-16", "2026-11-17"})
            assert pending_dates(wh) == {"2026-11-16", "2026-11-17"}  # pending until written
        return real(wh, scoring, dates)

    monkeypatch.setattr(scorecards, "update_scorecards", slow)
    with Ledger(warehouse) as ledger:
        ledger.mark_dirty({"2026-11-16"})
    assert settle_scorecards(warehouse, ScoringConfig()) == {"2026-11-16", "2026-11-17"}
    assert rounds == [{"2026-11-16"}, {"2026-11-16", "2026-11-17"}] and not pending_dates(warehouse)


# --- 3. One definition of "open" ----------------------------------------------------------------


def test_the_week_and_the_queue_count_the_same_open_findings(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    store_findings(
        share,
        warehouse,
        "C1",
        [("interruption.agent", "agent"), ("interruption.caller", "caller"), ("greeting.missing", "agent")],
    )
    client = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    assert week_card(warehouse)["events_open"] == 2  # the caller's interruption costs nothing
    queue = client.get("/queue?since=2026-11-16&until=2026-11-22").text
    assert "复核队列（2）" in queue and "客户抢话" not in queue
    # Shown with the call, as context: no verdict asked.
    assert "不扣分" in client.get("/call/C1").text


# --- 4. Hosts, form tokens, sign-in --------------------------------------------------------------


def test_a_loopback_desk_refuses_other_host_names(two_findings):
    share, warehouse, (cut_in, _) = two_findings
    client = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    token = form_token(client, "/call/C1")
    evil = {"Host": "evil.example:8799", "Origin": "http://evil.example:8799"}
    assert client.get("/week/2026-W47", headers=evil).status_code == 400
    refused = client.post(f"/review/{cut_in}", data={"verdict": "overturned", "token": token}, headers=evil)
    assert refused.status_code == 400 and read_reviews(warehouse).empty
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765"):
        assert client.get("/week/2026-W47", headers={"Host": host}).status_code == 200


def test_the_host_names_a_desk_answers():
    assert set(allowed_hosts("127.0.0.1", DeskConfig())) == {"127.0.0.1", "localhost", "::1", "[::1]"}
    lan = DeskConfig(allowed_hosts=("qa.example.internal",), url="https://desk.example.internal:8443/")
    names = set(allowed_hosts("0.0.0.0", lan))
    assert {"qa.example.internal", "desk.example.internal", "127.0.0.1"} <= names
    assert "0.0.0.0" not in names and "evil.example" not in names
    assert "10.1.2.3" in allowed_hosts("10.1.2.3", DeskConfig())


def test_a_verdict_needs_the_form_token_of_this_browser(two_findings):
    share, warehouse, (cut_in, _) = two_findings
    app = create_app(settings(warehouse, share, CFG, "127.0.0.1"))
    client = TestClient(app, base_url=DESK)
    token = form_token(client, "/call/C1")
    assert client.post(f"/review/{cut_in}", data={"verdict": "upheld"}).status_code == 403
    assert (
        client.post(f"/review/{cut_in}", data={"verdict": "upheld", "token": token + "x"}).status_code == 403
    )
    other = TestClient(app, base_url=DESK)  # another browser, with its own cookie
    form_token(other, "/call/C1")
    stolen = other.post(f"/review/{cut_in}", data={"verdict": "upheld", "token": token})
    assert stolen.status_code == 403 and "刷新" in stolen.text
    # A desk started again signs with a new key: its pages' old tokens ask for a reload.
    again = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    again.cookies.set("callqa_desk_token", client.cookies["callqa_desk_token"])
    assert again.post(f"/review/{cut_in}", data={"verdict": "upheld", "token": token}).status_code == 403
    assert read_reviews(warehouse).empty
    done = client.post(
        f"/review/{cut_in}", data={"verdict": "upheld", "token": token}, follow_redirects=False
    )
    assert done.status_code == 303


def test_wrong_passwords_are_throttled_per_address(two_findings, monkeypatch):
    share, warehouse, _ = two_findings
    monkeypatch.setenv("CALLQA_DESK_PASSWORD", "s3cret")
    cfg = replace(CFG, desk=DeskConfig(max_failed_logins=3, login_window_s=60))
    client = TestClient(create_app(settings(warehouse, share, cfg, "0.0.0.0")), base_url=DESK)

    def basic(password: str) -> dict:
        return {"Authorization": "Basic " + base64.b64encode(f"李四:{password}".encode()).decode()}

    assert [client.get("/queue", headers=basic("guess")).status_code for _ in range(3)] == [401] * 3
    blocked = client.get("/queue", headers=basic("s3cret"))  # even the right one, for a while
    assert (
        blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0 and "秒后再试" in blocked.text
    )


def test_the_throttle_forgets_failures_older_than_its_window():
    now = [0.0]
    throttle = LoginThrottle(2, 60.0, clock=lambda: now[0])
    throttle.failed("10.0.0.9")
    now[0] = 30.0
    throttle.failed("10.0.0.9")
    assert throttle.retry_after("10.0.0.9") == 30.0 and throttle.retry_after("10.0.0.8") == 0.0
    now[0] = 61.0
    assert throttle.retry_after("10.0.0.9") == 0.0


# --- 5. Every writer takes the lock ------------------------------------------------------------------


def test_a_rescore_waits_for_the_warehouse_and_gives_up_without_writing(two_findings):
    from pipeline.run.rescore import rescore

    _, warehouse, _ = two_findings
    cfg = replace(Config(), run=RunConfig(lock_wait_s=0.2))
    before = sorted(p.stat().st_mtime_ns for p in (warehouse / "events").rglob("*.parquet"))
    with RunLock(warehouse), pytest.raises(RunLocked):
        rescore(warehouse, cfg)
    assert sorted(p.stat().st_mtime_ns for p in (warehouse / "events").rglob("*.parquet")) == before
    held = RunLock(warehouse)
    held.__enter__()
    threading.Timer(0.3, held.__exit__, args=(None, None, None)).start()
    assert rescore(warehouse, replace(cfg, run=RunConfig(lock_wait_s=10))) == 1  # waited, then ran


# --- 6. Smaller faults -----------------------------------------------------------------------------


def test_a_long_note_is_refused_not_cut(two_findings):
    share, warehouse, (cut_in, _) = two_findings
    client = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    token = form_token(client, "/call/C1")
    long = client.post(f"/review/{cut_in}", data={"verdict": "upheld", "note": "长" * 501, "token": token})
    assert long.status_code == 400 and "备注最多 500 字" in long.text and read_reviews(warehouse).empty
    ok = client.post(f"/review/{cut_in}", data={"verdict": "upheld", "note": "长" * 500, "token": token})
    assert ok.status_code == 200 and read_reviews(warehouse)["note"].str.len().tolist() == [500]


def test_a_recording_that_no_longer_decodes_says_which_and_why_in_chinese(two_findings):
    share, warehouse, (cut_in, _) = two_findings
    (share / "recordings" / "C1.flac").write_bytes(b"not audio at all" * 100)
    client = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    broken = client.get(f"/clip/{cut_in}.wav")
    assert broken.status_code == 500 and "C1" in broken.text and "无法解码" in broken.text
    assert str(share) not in broken.text  # the stored path, never where the share is


def test_error_pages_are_in_chinese_and_several_ranges_get_the_whole_clip(two_findings):
    share, warehouse, (cut_in, _) = two_findings
    client = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    for url in ("/call/NOPE", "/no/such/page", "/clip/0000000000000000.wav"):
        page = client.get(url)
        assert page.status_code == 404 and 'lang="zh-CN"' in page.text and "找不到" in page.text
    forbidden = client.post(f"/review/{cut_in}", data={"verdict": "upheld"})
    assert forbidden.status_code == 403 and "请刷新页面" in forbidden.text
    whole = client.get(f"/clip/{cut_in}.wav")
    several = client.get(f"/clip/{cut_in}.wav", headers={"Range": "bytes=0-9,20-29"})
    assert several.status_code == 200 and several.content == whole.content


def test_the_desk_help_names_its_config_keys():
    from typer.testing import CliRunner

    from pipeline.cli import app

    out = CliRunner().invoke(app, ["desk", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}).output
    assert "[desk] host" in out and "[desk] port" in out and "[schedule] share" in out
