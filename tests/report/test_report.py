"""The weekly report follows the reviewers: overturned findings leave its worst moments, the
overturn rate per rule is shown, and worst moments link to the desk when its URL is configured."""

from pipeline.config import Config, DeskConfig, ScoringConfig
from pipeline.report import build_report, recent_weeks
from pipeline.review.verdicts import review_finding
from tests.review.desk.test_desk import make_call


def test_recent_weeks_cross_the_year():
    assert recent_weeks("2026-W02", 4) == ["2025-W51", "2025-W52", "2026-W01", "2026-W02"]


def test_the_report_links_to_the_desk_and_counts_overturns(tmp_path):
    share, warehouse = tmp_path / "share", tmp_path / "wh"
    event_id = make_call(share, warehouse, "C1")
    cfg = Config(desk=DeskConfig(url="https://qa.example.internal:8765/"))
    before = build_report(warehouse, "2026-W47", cfg)
    assert f'href="https://qa.example.internal:8765/call/C1#e-{event_id}"' in before
    assert "本周尚无复核" in before and 'alt="trend"' in before
    review_finding(warehouse, ScoringConfig(), event_id, "overturned", "王组长")
    after = build_report(warehouse, "2026-W47", cfg)
    assert f"#e-{event_id}" not in after  # no longer among the worst moments
    assert "<td>1</td><td>1</td><td>100%</td>" in after
    assert "已复核 1 条（推翻 1 条，不扣分），待复核 0 条" in after
    assert "href=" not in build_report(warehouse, "2026-W47", Config())
