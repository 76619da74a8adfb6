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


def test_the_report_shows_each_rules_mode_and_flags_a_rule_the_reviewers_overturn(tmp_path):
    from tests.review.desk.test_desk_faults import store_findings

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    _, refusal = store_findings(
        share, warehouse, "C1", [("greeting.missing", "agent"), ("refusal.no_apology_learned", "agent")]
    )
    cfg = Config(scoring=ScoringConfig(precision_min_reviews=1))
    report = build_report(warehouse, "2026-W47", cfg)
    assert "问题总数：1（另有试运行规则的问题 1 条，不扣分）" in report
    rules = report[report.index("规则状态") :]
    refusal_row = rules[rules.index("拒绝前未致歉") : rules.index("</tr>", rules.index("拒绝前未致歉"))]
    assert "试运行" in refusal_row and "<td>1</td><td>0</td><td>—</td>" in refusal_row
    worst = report[report.index("本周最需关注的时刻") :]
    assert "第1句" not in worst  # a shadow finding is never among the moments that cost points

    review_finding(warehouse, cfg.scoring, refusal, "overturned", "王组长")
    flagged = build_report(warehouse, "2026-W47", cfg)
    assert "拒绝前未致歉（模型判读）（refusal.no_apology_learned）近四周复核准确率 0%，低于 80%" in flagged

    promoted = Config(scoring=ScoringConfig(promoted={"refusal.no_apology_learned": "2026-11-16"}))
    assert "计分（2026-11-16 起计分）" in build_report(warehouse, "2026-W47", promoted)
