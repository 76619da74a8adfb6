"""The queue as a page of work: filters, search, sort and paging, read from the URL."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from pipeline.config import Config, DeskConfig
from pipeline.review.desk import create_app, settings
from pipeline.review.desk.pages import QUEUE_PAGE_SIZE, QueueQuery
from pipeline.review.verdicts import review_finding
from tests.review.desk.test_desk import DESK
from tests.review.desk.test_desk_faults import store_findings

CFG = Config(desk=DeskConfig(reviewer="王组长"))


def shown(page: str) -> list[str]:
    return re.findall(r'data-event="([0-9a-f]+)"', page)


@pytest.fixture
def queue(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    many = store_findings(share, warehouse, "C1", [("interruption.agent", "agent")] * (QUEUE_PAGE_SIZE + 5))
    few = store_findings(share, warehouse, "C2", [("greeting.missing", "agent"), ("pace.fast", "agent")])
    client = TestClient(create_app(settings(warehouse, share, CFG, "127.0.0.1")), base_url=DESK)
    return client, warehouse, many, few


def test_filters_search_sort_and_pages(queue):
    client, warehouse, many, (greeting, pace) = queue
    first = client.get("/queue").text
    assert f"复核队列（{len(many) + 2}）" in first and len(shown(first)) == QUEUE_PAGE_SIZE
    assert "第 1 / 2 页" in first and 'href="/queue?page=2"' in first
    second = shown(client.get("/queue?page=2").text)
    assert len(second) == 7 and not set(second) & set(shown(first))
    assert shown(client.get("/queue?rule=greeting.missing").text) == [greeting]
    assert shown(client.get("/queue?rule=pace.fast&agent=A101").text) == [pace]
    assert shown(client.get("/queue?agent=A999").text) == []
    assert shown(client.get("/queue?until=2026-11-15").text) == []
    assert len(shown(client.get("/queue?since=2026-11-16&until=2026-11-16&page=9").text)) == 7  # last page
    assert shown(client.get("/queue?q=第1句&rule=pace.fast").text) == [pace]  # evidence text
    assert shown(client.get("/queue?min_confidence=0.95").text) == []  # every finding here is 0.90
    by_rule = shown(client.get("/queue?sort=rule").text)
    assert by_rule[:2] == [greeting, many[0]]  # greeting.missing before interruption.agent
    # A verdict takes a finding out of the open queue and into its status's.
    review_finding(warehouse, CFG.scoring, greeting, "upheld", "王组长")
    assert greeting not in shown(client.get("/queue?rule=greeting.missing").text)
    assert shown(client.get("/queue?rule=greeting.missing&status=upheld").text) == [greeting]
    assert greeting in shown(client.get("/queue?rule=greeting.missing&status=all").text)


def test_a_verdict_from_the_queue_returns_to_the_same_filtered_page(queue):
    client, _, _, (greeting, _) = queue
    page = client.get("/queue?rule=greeting.missing").text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    back = re.search(r'name="next" value="([^"]+)"', page).group(1)
    done = client.post(
        f"/review/{greeting}",
        data={"verdict": "overturned", "token": token, "next": back},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/queue?rule=greeting.missing"
    away = client.post(
        f"/review/{greeting}",
        data={"verdict": "upheld", "token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert away.headers["location"] == f"/call/C2#e-{greeting}"  # never off the desk


def test_an_edited_url_falls_back_to_defaults():
    query = QueueQuery.parse(
        {"status": "bogus", "sort": "nope", "page": "-3", "min_confidence": "nan", "since": "yesterday"}
    )
    assert query == QueueQuery()
    assert QueueQuery.parse({"rule": "pace.fast", "page": "2"}).link(page=3) == "/queue?rule=pace.fast&page=3"
