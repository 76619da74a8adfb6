"""Appeals (申诉): an agent sees only their own calls and appeals a finding with a reason; a lead
decides it; the decision is a verdict, so the score follows, and the report counts appeals."""

from __future__ import annotations

import base64

import pandas as pd
import pytest
from starlette.testclient import TestClient

from pipeline.config import Config, DeskConfig
from pipeline.review.desk import create_app, settings
from pipeline.review.verdicts import decide_appeal
from pipeline.warehouse.appeals import AppealError, appeal_states, appeal_summary, file_appeal
from pipeline.warehouse.reviews import latest_verdicts
from tests.review.desk.test_desk import DESK, form_token
from tests.review.desk.test_desk_faults import store_findings, week_card

WEEK = [f"2026-11-{d}" for d in range(16, 23)]


def signed_in(name: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:s3cret".encode()).decode()}


@pytest.fixture
def desk(tmp_path, monkeypatch):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    mine = store_findings(share, warehouse, "C1", [("interruption.agent", "agent"), ("pace.fast", "agent")])
    other = store_findings(share, warehouse, "C9", [("greeting.missing", "agent")], agent_id="A102")
    monkeypatch.setenv("CALLQA_DESK_PASSWORD", "s3cret")
    cfg = Config(desk=DeskConfig(agents={"张伟": "A101", "李娜": "A102"}))
    client = TestClient(create_app(settings(warehouse, share, cfg, "127.0.0.1")), base_url=DESK)
    return client, warehouse, mine, other


def test_an_agent_appeals_and_the_lead_decides(desk):
    client, warehouse, (cut_in, _), _ = desk
    agent, lead = signed_in("张伟"), signed_in("王组长")
    # The agent lands on their own week; the ranking and the queue are not theirs to see.
    home = client.get("/", headers=agent, follow_redirects=False)
    assert home.headers["location"] == "/agent/A101/2026-W47"
    assert client.get("/week/2026-W47", headers=agent, follow_redirects=False).headers["location"] == (
        "/agent/A101/2026-W47"
    )
    assert client.get("/queue", headers=agent).status_code == 403
    assert client.get("/appeals", headers=agent).status_code == 403
    page = client.get("/call/C1", headers=agent).text
    assert 'action="/appeal/' in page and 'action="/review/' not in page  # appeal, no verdict
    token = form_token(client, "/call/C1", headers=agent)
    assert (
        client.post(
            f"/review/{cut_in}", data={"verdict": "overturned", "token": token}, headers=agent
        ).status_code
        == 403
    )
    empty = client.post(f"/appeal/{cut_in}", data={"reason": " ", "token": token}, headers=agent)
    assert empty.status_code == 400 and "理由" in empty.text
    filed = client.post(
        f"/appeal/{cut_in}",
        data={"reason": "客户已经说完了，我才开口", "token": token},
        headers=agent,
        follow_redirects=False,
    )
    assert filed.status_code == 303
    again = client.post(f"/appeal/{cut_in}", data={"reason": "再申诉", "token": token}, headers=agent)
    assert again.status_code == 400 and "待处理的申诉" in again.text
    # The lead sees it, hears it and grants it: the finding is overturned and the score follows.
    listed = client.get("/appeals", headers=lead).text
    assert "客户已经说完了，我才开口" in listed and "张伟" in listed and f"/clip/{cut_in}.wav" in listed
    (appeal_id,) = appeal_states(warehouse)["appeal_id"]
    lead_token = form_token(client, "/appeals", headers=lead)
    decided = client.post(
        f"/appeals/{appeal_id}",
        data={"decision": "granted", "note": "重听确认", "token": lead_token},
        headers=lead,
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert week_card(warehouse)["score"] == 94.0 + 4.0
    (verdict,) = latest_verdicts(warehouse).itertuples()
    assert (verdict.event_id, verdict.verdict, verdict.reviewer) == (cut_in, "overturned", "王组长")
    assert "申诉成立" in verdict.note
    assert "申诉成立（已推翻）" in client.get("/call/C1", headers=agent).text
    assert "没有待处理的申诉" in client.get("/appeals", headers=lead).text
    assert "重听确认" in client.get("/appeals?state=decided", headers=lead).text
    twice = client.post(
        f"/appeals/{appeal_id}", data={"decision": "denied", "token": lead_token}, headers=lead
    )
    assert twice.status_code == 400
    # The week's figures for the report.
    summary = appeal_summary(warehouse, WEEK)
    assert (summary["filed"], summary["granted"], summary["denied"], summary["open"]) == (1, 1, 0, 0)


def test_an_agent_sees_and_hears_only_their_own_calls(desk):
    client, _, (cut_in, _), (theirs,) = desk
    agent = signed_in("李娜")  # A102: C9 is theirs, C1 is 张伟's
    assert client.get("/call/C9", headers=agent).status_code == 200
    assert client.get(f"/clip/{theirs}.wav", headers=agent).status_code == 200
    assert client.get("/call/C1", headers=agent).status_code == 403
    assert client.get("/agent/A101/2026-W47", headers=agent).status_code == 403
    for url in (f"/clip/{cut_in}.wav", "/audio/C1.wav", "/moment/C1/0.wav"):
        assert client.get(url, headers=agent).status_code == 404
    token = form_token(client, "/call/C9", headers=agent)
    mine = client.post(f"/appeal/{cut_in}", data={"reason": "不是我的", "token": token}, headers=agent)
    assert mine.status_code == 400 and "只能申诉自己" in mine.text


def test_appeal_rules(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    (cut_in,) = store_findings(share, warehouse, "C1", [("interruption.agent", "agent")])
    with pytest.raises(AppealError, match="自己"):
        file_appeal(warehouse, cut_in, "A999", "别人", "不是我")
    with pytest.raises(AppealError, match="500"):
        file_appeal(warehouse, cut_in, "A101", "张伟", "长" * 501)
    filed = file_appeal(warehouse, cut_in, "A101", "张伟", "没有打断")
    cfg = Config()
    decide_appeal(warehouse, cfg.scoring, filed.appeal_id, False, "王组长", "确实打断了")
    state = appeal_states(warehouse).iloc[0]
    assert (state["state"], state["decided_by"], state["decision_note"]) == ("denied", "王组长", "确实打断了")
    assert latest_verdicts(warehouse)["verdict"].tolist() == ["upheld"]
    assert week_card(warehouse)["score"] == 96.0  # still deducted
    # A decided appeal can be followed by a new one (the finding upheld since).
    file_appeal(warehouse, cut_in, "A101", "张伟", "补充：录音里客户先停顿了三秒")
    summary = appeal_summary(warehouse, WEEK)
    assert (summary["filed"], summary["denied"], summary["open"]) == (2, 1, 1)
    assert isinstance(summary["median_days_to_decide"], float)
    with pytest.raises(KeyError):
        decide_appeal(warehouse, cfg.scoring, "nope", True, "王组长")
    assert pd.api.types.is_datetime64_any_dtype(appeal_states(warehouse)["filed_at"])
