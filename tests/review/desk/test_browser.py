"""The desk as a reviewer uses it, in a real headless browser (Debian's chromium, driven by
Playwright; no browser download): open the week, play a finding's clip, overturn the finding,
and see the agent's score change."""

import shutil
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import pytest

from pipeline.config import Config, DeskConfig
from pipeline.review.desk import create_app, settings
from tests.review.desk.test_desk import make_call, make_unsure_call

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextmanager
def serving(app):
    """``app`` served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def launch(p):
    return p.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
    )


@pytest.fixture
def served(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    event_id = make_call(share, warehouse, "C1")
    make_unsure_call(share, warehouse)
    app = create_app(settings(warehouse, share, Config(desk=DeskConfig(reviewer="王组长")), "127.0.0.1"))
    with serving(app) as base:
        yield base, event_id


def test_a_reviewer_plays_a_finding_overturns_it_and_the_score_follows(served, tmp_path):
    from playwright.sync_api import sync_playwright

    base, event_id = served
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(base + "/")
        row = page.locator('#ranking tr[data-agent="A101"]')
        assert row.locator(".score").inner_text() == "90.0"
        page.click("text=A101")
        page.click("text=C1 >> nth=0")
        assert page.url.endswith("/call/C1")
        # The clip plays: the browser fetched and decoded it (4 s: from the start to 2 s after).
        audio = page.locator(f"#e-{event_id} audio")
        audio.evaluate("a => a.play()")
        page.wait_for_function(
            "id => { const a = document.querySelector(`#e-${id} audio`); return a.duration > 0 && a.currentTime > 0; }",
            arg=event_id,
            timeout=15000,
        )
        assert abs(audio.evaluate("a => a.duration") - 4.0) < 0.05
        page.fill(f"#e-{event_id} input[name=note]", "开头其实有问候")
        page.click(f"#e-{event_id} button[value=overturned]")
        assert "已推翻" in page.locator(f"#e-{event_id} .status").inner_text()
        page.goto(base + "/week/2026-W47")
        assert row.locator(".score").inner_text() == "100.0"
        browser.close()


def test_a_reviewer_hears_a_banned_phrase_whose_speaker_is_unsure(served):
    from playwright.sync_api import sync_playwright

    base, _ = served
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(base + "/call/M1")
        assert "不在（傲慢）" in page.locator("#u-2 h3").inner_text()
        audio = page.locator("#u-2 audio")
        audio.evaluate("a => a.play()")
        page.wait_for_function(
            "() => { const a = document.querySelector('#u-2 audio'); return a.duration > 0 && a.currentTime > 0; }",
            timeout=15000,
        )
        assert abs(audio.evaluate("a => a.duration") - 5.8) < 0.05  # 4.0-9.8 s: 3 s before, 2 s after
        browser.close()


def test_a_lead_clears_a_rule_from_the_queue_with_the_keyboard(tmp_path):
    """Filter the queue to one rule; then, keys only: play a finding (Space), overturn it (N),
    three times, take the last one back (U) and give it again; the ranking shows the new score."""
    from playwright.sync_api import sync_playwright

    from tests.review.desk.test_desk_faults import store_findings

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    cut_ins = store_findings(
        share, warehouse, "C1", [("interruption.agent", "agent")] * 3 + [("greeting.missing", "agent")]
    )[:3]
    app = create_app(settings(warehouse, share, Config(desk=DeskConfig(reviewer="王组长")), "127.0.0.1"))
    with serving(app) as base, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(base + "/")
        assert page.locator('#ranking tr[data-agent="A101"] .score').inner_text() == "78.0"  # 100-3x4-10
        page.goto(base + "/queue")
        assert page.locator("#queue tr[data-event]").count() == 4
        page.select_option("select[name=rule]", "interruption.agent")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/queue?rule=interruption.agent*")
        assert page.locator("#queue tr[data-event]").count() == 3
        for i, event_id in enumerate(cut_ins):
            row = page.locator(f"#q-{event_id}")
            assert "current" in row.get_attribute("class")
            page.keyboard.press(" ")  # the clip plays
            page.wait_for_function(
                "id => document.querySelector(`#q-${id} audio`).currentTime > 0", arg=event_id, timeout=15000
            )
            page.keyboard.press("n")
            page.wait_for_function(
                "id => document.querySelector(`#q-${id} .status`).textContent === '已推翻'", arg=event_id
            )
            if i < 2:  # on to the next one
                page.wait_for_function(
                    "id => document.querySelector(`#q-${id}`).classList.contains('current')",
                    arg=cut_ins[i + 1],
                )
        page.keyboard.press("u")  # the last one back to open: a new verdict, nothing deleted
        page.wait_for_function(
            "id => document.querySelector(`#q-${id} .status`).textContent === '待复核'", arg=cut_ins[2]
        )
        page.keyboard.press("n")
        page.wait_for_function(
            "id => document.querySelector(`#q-${id} .status`).textContent === '已推翻'", arg=cut_ins[2]
        )
        page.goto(base + "/")
        assert page.locator('#ranking tr[data-agent="A101"] .score').inner_text() == "90.0"
        page.goto(base + f"/call/C1#e-{cut_ins[2]}")
        history = page.locator(f"#e-{cut_ins[2]} .history li").all_inner_texts()
        assert len(history) == 3 and "撤销" in history[1]
        browser.close()


def test_the_call_page_plays_in_sync(served):
    """The whole call's player, the timeline and the transcript move together: a click on a row
    plays from it and highlights it; a click on the timeline seeks; the time axis is labelled."""
    from playwright.sync_api import sync_playwright

    base, event_id = served
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(base + "/call/C1")
        assert page.locator("svg.timeline text.tick").first.text_content() == "00:00"
        assert "同时说话" in page.locator("svg.timeline").text_content()
        row = page.locator("#transcript tr[data-start]").nth(1)  # the caller's 我家漏水了 at 2.5 s
        row.click()
        page.wait_for_function("() => document.getElementById('call-audio').currentTime > 2.6", timeout=15000)
        page.wait_for_function(
            "() => document.querySelectorAll('#transcript tr.speaking').length === 1", timeout=15000
        )
        assert "漏水" in page.locator("#transcript tr.speaking").inner_text()
        page.evaluate("() => document.getElementById('call-audio').pause()")
        box = page.locator("svg.timeline").bounding_box()
        # 3/4 of the way along the plot (40 to 890 of 900 units): 7.5 s of the 10 s call.
        page.mouse.click(box["x"] + box["width"] * (40 + 0.75 * 850) / 900, box["y"] + 20)
        at = page.evaluate("() => document.getElementById('call-audio').currentTime")
        assert 7.3 < at < 8.5
        page.locator(f"#e-{event_id} button.seek").click()  # the finding in the whole call
        page.wait_for_function("() => !document.getElementById('call-audio').paused", timeout=15000)
        assert page.evaluate("() => document.getElementById('call-audio').currentTime") < 1.0
        browser.close()


def test_an_agent_appeals_in_the_browser_and_the_leads_decision_reaches_the_scores_and_the_report(
    tmp_path, monkeypatch
):
    """Two people, two browsers: agent 张伟 (A101) signs in, opens his call and appeals a finding;
    the lead signs in, hears it on the appeals page and grants it; the week's score and the weekly
    report show it."""
    from playwright.sync_api import sync_playwright

    from pipeline.report import write_report
    from tests.review.desk.test_desk_faults import store_findings, week_card

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    (cut_in,) = store_findings(share, warehouse, "C1", [("interruption.agent", "agent")])
    monkeypatch.setenv("CALLQA_DESK_PASSWORD", "s3cret")
    cfg = Config(desk=DeskConfig(agents={"张伟": "A101"}))
    with serving(create_app(settings(warehouse, share, cfg, "127.0.0.1"))) as base, sync_playwright() as p:
        browser = launch(p)
        agent = browser.new_context(http_credentials={"username": "张伟", "password": "s3cret"}).new_page()
        agent.goto(base + "/")
        assert agent.url.endswith("/agent/A101/2026-W47")
        agent.click("text=C1 >> nth=0")
        agent.fill(f"#e-{cut_in} textarea[name=reason]", "客户已经说完了，我才开口")
        agent.click(f"#e-{cut_in} form.appeal-form button")
        assert "待处理" in agent.locator(f"#e-{cut_in} .appeal-state").inner_text()
        lead = browser.new_context(http_credentials={"username": "王组长", "password": "s3cret"}).new_page()
        lead.goto(base + "/appeals")
        card = lead.locator(".finding").first
        assert "客户已经说完了" in card.inner_text() and "张伟" in card.inner_text()
        card.locator("audio").evaluate("a => a.play()")
        lead.wait_for_function(
            "() => document.querySelector('.finding audio').currentTime > 0", timeout=15000
        )
        card.locator("input[name=note]").fill("重听：客户确实说完了")
        card.locator("button[value=granted]").click()
        assert "没有待处理的申诉" in lead.content()
        lead.goto(base + "/week/2026-W47")
        assert lead.locator('#ranking tr[data-agent="A101"] .score').inner_text() == "100.0"
        agent.reload()
        assert "申诉成立" in agent.locator(f"#e-{cut_in} .appeal-state").inner_text()
        browser.close()
    assert week_card(warehouse)["events_overturned"] == 1
    report = write_report(warehouse, "2026-W47", cfg).read_text(encoding="utf-8")
    assert "坐席申诉：1 条（成立 1 条、不成立 0 条、待处理 0 条，从申诉到处理中位 0.0 天）" in report


def test_two_verdicts_at_once_through_the_desk_and_callqa_review_both_count(tmp_path):
    """A reviewer overturns a finding in the browser while `callqa review` overturns another and
    holds the warehouse: the page says the score is pending, then shows both counted."""
    import threading

    from playwright.sync_api import sync_playwright

    from pipeline.review.verdicts import review_finding
    from pipeline.run.batch import RunLock
    from tests.review.desk.test_desk_faults import store_findings, week_card

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    cut_in, pace = store_findings(
        share, warehouse, "C1", [("interruption.agent", "agent"), ("pace.fast", "agent")]
    )
    cfg = Config(desk=DeskConfig(reviewer="王组长"))
    desk = replace(settings(warehouse, share, cfg, "127.0.0.1"), verdict_wait_s=0.2, settle_every_s=0.2)
    with serving(create_app(desk)) as base, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(base + "/week/2026-W47")
        assert page.locator('#ranking tr[data-agent="A101"] .score').inner_text() == "94.0"
        page.goto(base + "/queue")
        held = RunLock(warehouse)
        held.__enter__()  # `callqa review`'s recompute (or a nightly run) holds the warehouse ...
        cli = threading.Thread(
            target=review_finding, args=(warehouse, cfg.scoring, cut_in, "overturned", "李四", "", 0.2)
        )
        cli.start()
        page.locator(f"#q-{pace}").click()
        page.keyboard.press("n")  # ... while the desk overturns the other at the same moment
        page.wait_for_function(
            "id => document.querySelector(`#q-${id} .status`).textContent.includes('已推翻')", arg=pace
        )
        cli.join()
        page.goto(base + "/week/2026-W47")
        assert page.locator("#pending").is_visible()  # never a silently stale score
        held.__exit__(None, None, None)
        # The desk's worker recomputes once the warehouse is free. Waited for by the clock, not a
        # count of reloads: on a loaded 2-core machine 50 reloads ran out before the recompute did.
        deadline = time.monotonic() + 90
        while True:
            page.reload()
            if page.locator("#pending").count() == 0 or time.monotonic() > deadline:
                break
            page.wait_for_timeout(200)
        assert page.locator("#pending").count() == 0, "the score was still pending after 90 s"
        assert page.locator('#ranking tr[data-agent="A101"] .score').inner_text() == "100.0"
        browser.close()
    assert week_card(warehouse)["events_overturned"] == 2


def test_a_shadow_finding_is_marked_in_the_queue_and_overturning_it_costs_the_agent_nothing(tmp_path):
    """A rule on trial (试运行): its finding shows the mark, takes a verdict with the keyboard like
    any other, and the agent's score stays where the scoring findings put it."""
    from playwright.sync_api import sync_playwright

    from tests.review.desk.test_desk_faults import store_findings

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    greeting, refusal = store_findings(
        share, warehouse, "C1", [("greeting.missing", "agent"), ("refusal.no_apology_learned", "agent")]
    )
    app = create_app(settings(warehouse, share, Config(desk=DeskConfig(reviewer="王组长")), "127.0.0.1"))
    with serving(app) as base, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(base + "/queue")
        assert page.locator(f"#q-{refusal} .trial").inner_text() == "试运行"
        assert page.locator(f"#q-{greeting} .trial").count() == 0
        page.goto(base + "/queue?rule=refusal.no_apology_learned")
        page.keyboard.press("n")
        page.wait_for_function(
            "id => document.querySelector(`#q-${id} .status`).textContent === '已推翻'", arg=refusal
        )
        page.goto(base + "/")
        assert page.locator('#ranking tr[data-agent="A101"] .score').inner_text() == "90.0"
        browser.close()
