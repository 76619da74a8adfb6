"""The weekly QA report: one self-contained HTML file in Chinese, charts embedded.

Built from the warehouse only (scorecards, events, calls, failures), so every number in it is a
number of those tables: the team summary, the agents ranked by score with the change from the
previous week, charts, the week's worst moments with evidence and time, and the calls that could not
be scored and why.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.rules import RULE_NAMES
from pipeline.warehouse.appeals import appeal_summary
from pipeline.warehouse.read import Warehouse
from pipeline.warehouse.reviews import latest_verdicts
from pipeline.warehouse.scorecards import week_days

CJK_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "SimHei"]


def previous_iso_week(week: str) -> str:
    monday = date.fromisoformat(week_days(week)[0])
    year, number, _ = date.fromordinal(monday.toordinal() - 7).isocalendar()
    return f"{year}-W{number:02d}"


def _cjk_font() -> str:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    raise RuntimeError(
        "no CJK font for the report's charts: install fonts-wqy-microhei (`make system`) or set one of "
        + ", ".join(CJK_FONTS)
    )


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


@dataclass(frozen=True)
class WeekData:
    week: str
    cards: pd.DataFrame  # this week's scorecards, ranked
    previous: pd.DataFrame  # last week's scorecards
    events: pd.DataFrame  # the week's findings, without those the quality team overturned
    calls: pd.DataFrame
    failures: pd.DataFrame
    trend: pd.DataFrame  # weekly scorecards of the eight weeks ending with this one
    reviews: pd.DataFrame  # per rule: the week's findings reviewed and overturned
    appeals: dict  # the week's appeals: filed, granted, denied, open, median days to decide


TREND_WEEKS = 8


def recent_weeks(week: str, n: int = TREND_WEEKS) -> list[str]:
    """``week`` and the ``n - 1`` ISO weeks before it, oldest first."""
    weeks = [week]
    while len(weeks) < n:
        weeks.insert(0, previous_iso_week(weeks[0]))
    return weeks


def load_week(warehouse: Path, week: str) -> WeekData:
    wh = Warehouse(warehouse)
    days = week_days(week)
    cards = wh.scorecards("week")
    this = cards[cards["period_label"] == week] if not cards.empty else cards
    prev = cards[cards["period_label"] == previous_iso_week(week)] if not cards.empty else cards
    failures_path = warehouse / "failures" / "failures.parquet"
    failures = pd.read_parquet(failures_path) if failures_path.exists() else pd.DataFrame()
    events = wh.events(days[0], days[-1])
    latest = latest_verdicts(warehouse)
    week_verdicts = latest[latest["call_date"].isin(days)]
    reviews = (
        week_verdicts.assign(overturned=week_verdicts["verdict"] == "overturned")
        .groupby("rule_id")
        .agg(reviewed=("event_id", "size"), overturned=("overturned", "sum"))
        .reset_index()
    )
    events = events[~events["event_id"].isin(set(latest.loc[latest["verdict"] == "overturned", "event_id"]))]
    trend = cards[cards["period_label"].isin(recent_weeks(week))] if not cards.empty else cards
    return WeekData(
        week=week,
        cards=this.sort_values(["score", "agent_id"], ascending=[False, True]).reset_index(drop=True),
        previous=prev,
        events=events,
        calls=wh.calls(days[0], days[-1]),
        failures=failures,
        trend=trend,
        reviews=reviews,
        appeals=appeal_summary(warehouse, days),
    )


def _appeals_line(appeals: dict) -> str:
    """The week's appeals (申诉) in one line of the summary."""
    if not appeals["filed"]:
        return '<li id="appeals">坐席申诉：0 条</li>'
    days = appeals["median_days_to_decide"]
    waited = f"，从申诉到处理中位 {days} 天" if days is not None else ""
    return (
        f'<li id="appeals">坐席申诉：{appeals["filed"]} 条（成立 {appeals["granted"]} 条、'
        f"不成立 {appeals['denied']} 条、待处理 {appeals['open']} 条{waited}）</li>"
    )


def charts(data: WeekData) -> dict[str, str]:
    """Base64 PNGs: score distribution, events by rule and category, interruptions vs speaking rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = _cjk_font()
    plt.rcParams["axes.unicode_minus"] = False
    out = {}
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.hist(data.cards["score"], bins=range(0, 105, 5), color="#3b7dd8", edgecolor="white")
    ax.set_xlabel("得分")
    ax.set_ylabel("坐席人数")
    ax.set_title("本周得分分布")
    out["scores"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    labels = (
        data.events.apply(
            lambda e: (
                RULE_NAMES.get(e["rule_id"], e["rule_id"])
                + (f"（{e['category']}）" if e["rule_id"] == "phrase.banned" else "")
            ),
            axis=1,
        )
        if not data.events.empty
        else pd.Series(dtype=str)
    )
    counts = labels.value_counts().sort_values()
    ax.barh(counts.index, counts.values, color="#d8713b")
    ax.set_xlabel("次数")
    ax.set_title("本周问题按规则与类别")
    out["events"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.scatter(data.cards["median_agent_chars_per_s"], data.cards["interruptions_per_call"], color="#3b7dd8")
    for row in data.cards.itertuples():
        ax.annotate(row.agent_id, (row.median_agent_chars_per_s, row.interruptions_per_call), fontsize=8)
    ax.set_xlabel("语速（字/秒，中位数）")
    ax.set_ylabel("每通电话坐席抢话次数")
    ax.set_title("抢话与语速")
    out["pace"] = _png(fig)
    plt.close(fig)

    weeks = recent_weeks(data.week)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    by_agent = data.trend.pivot_table(index="period_label", columns="agent_id", values="score").reindex(weeks)
    for agent in by_agent.columns:
        ax.plot(range(len(weeks)), by_agent[agent], marker=".", linewidth=1, alpha=0.6, label=agent)
    team = data.trend.assign(weighted=data.trend["score"] * data.trend["n_calls"]).groupby("period_label")
    team_score = (team["weighted"].sum() / team["n_calls"].sum()).reindex(weeks)
    ax.plot(range(len(weeks)), team_score, color="#222", linewidth=2.5, marker="o", label="团队")
    ax.set_xticks(range(len(weeks)), [w[5:] for w in weeks])
    ax.set_ylim(0, 105)
    ax.set_ylabel("得分")
    ax.set_title("近八周得分走势（团队按通话加权）")
    ax.legend(fontsize=7, ncol=3)
    out["trend"] = _png(fig)
    plt.close(fig)
    return out


def worst_moments(data: WeekData, cfg: Config, limit: int = 10) -> pd.DataFrame:
    """The week's events that cost the most points, heaviest first, with evidence and time."""
    if data.events.empty:
        return data.events
    from pipeline.rules.modes import points

    # What each finding costs on its call's day: a rule in shadow mode (试运行) costs nothing.
    weight = [
        points(r, cfg.scoring, d)
        for r, d in zip(data.events["rule_id"], data.events["call_date"], strict=True)
    ]
    events = data.events.assign(weight=weight)
    events = events[events["weight"] > 0]
    events = events[events["role"] == "agent"]
    return events.sort_values(["weight", "confidence", "call_id"], ascending=[False, False, True]).head(limit)


def _mmss(ms: int) -> str:
    return f"{ms // 60000:02d}:{ms // 1000 % 60:02d}"


def build_report(warehouse: Path, week: str, cfg: Config) -> str:
    data = load_week(warehouse, week)
    e = html.escape
    prev_score = (
        data.previous.set_index("agent_id")["score"] if not data.previous.empty else pd.Series(dtype=float)
    )
    n_calls = int(data.cards["n_calls"].sum()) if not data.cards.empty else 0
    team_score = (
        float((data.cards["score"] * data.cards["n_calls"]).sum() / n_calls) if n_calls else float("nan")
    )
    rows = []
    for rank, card in enumerate(data.cards.itertuples(), start=1):
        before = prev_score.get(card.agent_id)
        change = "—" if before is None or pd.isna(before) else f"{card.score - before:+.1f}"
        rows.append(
            f"<tr><td>{rank}</td><td>{e(card.agent_id)}</td><td>{card.score:.1f}</td><td>{change}</td>"
            f"<td>{card.n_calls}</td><td>{card.greeting_compliance:.0%}</td><td>{card.closing_compliance:.0%}</td>"
            f"<td>{card.interruptions_per_call:.2f}</td><td>{card.calls_impatient}</td><td>{card.calls_domineering}</td>"
            f"<td>{card.premature_hangups}</td><td>{card.banned_total}</td><td>{card.median_agent_chars_per_s:.1f}</td></tr>"
        )
    moments = []
    desk = cfg.desk.url.rstrip("/")
    for ev in worst_moments(data, cfg).itertuples():
        name = RULE_NAMES.get(ev.rule_id, ev.rule_id) + (
            f"（{e(ev.category)}）" if ev.rule_id == "phrase.banned" else ""
        )
        moments.append(
            f"<tr><td>{e(ev.call_date)}</td><td>"
            + (
                f'<a href="{e(desk)}/call/{e(ev.call_id)}#e-{e(ev.event_id)}">{e(ev.call_id)}</a>'
                if desk
                else e(ev.call_id)
            )
            + f"</td><td>{e(ev.agent_id)}</td>"
            f"<td>{_mmss(ev.start_ms)}–{_mmss(ev.end_ms)}</td><td>{name}</td><td>{e(ev.evidence)}</td></tr>"
        )
    unscored = []
    for f in data.failures.itertuples() if not data.failures.empty else []:
        unscored.append(
            f"<tr><td>{e(f.call_id)}</td><td>{e(f.agent_id or '')}</td><td>未能处理</td><td>{e(f.error)}</td></tr>"
        )
    for c in data.calls.itertuples() if not data.calls.empty else []:
        for reason in c.abstentions if c.abstentions is not None else []:
            unscored.append(
                f"<tr><td>{e(c.call_id)}</td><td>{e(c.agent_id)}</td><td>部分规则未评分</td><td>{e(reason)}</td></tr>"
            )
    overturn_rows = "".join(
        f"<tr><td>{e(RULE_NAMES.get(r.rule_id, r.rule_id))}</td><td>{r.reviewed}</td><td>{r.overturned}</td>"
        f"<td>{r.overturned / r.reviewed:.0%}</td></tr>"
        for r in data.reviews.itertuples()
    )
    rules_table, rule_warnings = _rules_section(warehouse, week, cfg)
    from pipeline.rules.modes import rule_mode

    n_shadow = (
        sum(
            rule_mode(r, cfg.scoring, d) == "shadow"
            for r, d in zip(data.events["rule_id"], data.events["call_date"], strict=True)
        )
        if not data.events.empty
        else 0
    )
    from pipeline.warehouse.layout import contradicted_layouts

    layout_warnings = "".join(
        f'<p class="warning">⚠ {e(w.message())}</p>' for w in contradicted_layouts(data.calls)
    )
    from pipeline.rules import unheard_summary

    heard = (
        unheard_summary(list(a) if a is not None else [] for a in data.calls["abstentions"])
        if "abstentions" in data.calls
        else None
    )
    if heard:
        layout_warnings += f'<p class="warning">⚠ {e(heard)}：这些规则的问题没有记录，也不扣分</p>'
    images = charts(data) if not data.cards.empty else {}
    figures = "".join(f'<img alt="{k}" src="data:image/png;base64,{v}">' for k, v in images.items())
    summary = (
        f"<li>通话数：{n_calls}</li><li>坐席数：{len(data.cards)}</li>"
        f"<li>团队平均得分（按通话加权）：{team_score:.1f}</li>"
        f"<li>问题总数：{len(data.events) - n_shadow}"
        + (f"（另有试运行规则的问题 {n_shadow} 条，不扣分）" if n_shadow else "")
        + f"</li><li>未能评分的通话：{len(unscored)}</li>"
        + (
            f"<li>质检复核：已复核 {int(data.cards['events_reviewed'].sum())} 条"
            f"（推翻 {int(data.cards['events_overturned'].sum())} 条，不扣分），"
            f"待复核 {int(data.cards['events_open'].sum())} 条</li>"
            if not data.cards.empty
            else ""
        )
        + _appeals_line(data.appeals)
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "排名",
            "坐席",
            "得分",
            "较上周",
            "通话",
            "问候语",
            "告别语",
            "抢话/通",
            "急躁",
            "独断专横",
            "挂线",
            "不礼貌用语",
            "语速",
        )
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>客服通话质检周报 {e(week)}</title>
<style>
body {{ font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px; font-size: 14px; }}
th {{ background: #eef3fb; }} img {{ max-width: 48%; margin: 0.5em; vertical-align: top; }}
.warning {{ background: #fff4d6; border: 1px solid #e0b84c; padding: 0.4em 0.7em; }}
</style></head><body>
<h1>客服通话质检周报 · {e(week)}</h1>
<p>{e(week_days(week)[0])} 至 {e(week_days(week)[-1])}，依据《物业客服接电话礼仪》。得分 = 100 − 每通电话平均扣分。</p>
<h2>团队概况</h2><ul>{summary}</ul>{layout_warnings}
<h2>坐席排名</h2><table><tr>{head}</tr>{"".join(rows)}</table>
<h2>图表</h2>{figures}
<h2>复核：各规则的推翻率</h2>
<table><tr><th>规则</th><th>已复核</th><th>推翻</th><th>推翻率</th></tr>{overturn_rows or '<tr><td colspan="4">本周尚无复核</td></tr>'}</table>
<h2>规则状态（近四周）</h2>{rule_warnings}
<p>试运行规则的问题照常记录并复核，但不扣分；质检主管依据复核准确率决定是否转为计分。</p>
<table><tr><th>规则</th><th>状态</th><th>扣分</th><th>问题数</th><th>已复核</th><th>复核准确率</th></tr>{rules_table}</table>
<h2>本周最需关注的时刻</h2>
<table><tr><th>日期</th><th>通话</th><th>坐席</th><th>时间</th><th>问题</th><th>原话</th></tr>{"".join(moments)}</table>
<h2>未能评分的通话及原因</h2>
<table><tr><th>通话</th><th>坐席</th><th>情况</th><th>原因</th></tr>{"".join(unscored) or '<tr><td colspan="4">无</td></tr>'}</table>
</body></html>
"""


def _rules_section(warehouse: Path, week: str, cfg: Config) -> tuple[str, str]:
    """Each rule's mode (and promotion date), findings and reviewed precision over the four weeks
    up to the report's week; a warning per rule under ``[scoring] precision_floor``."""
    from datetime import date

    from pipeline.review.standing import rule_standings
    from pipeline.rules.modes import MODE_NAMES, REVIEWED_MODES

    e = html.escape
    rows, warnings = [], []
    for s in rule_standings(warehouse, cfg.scoring, date.fromisoformat(week_days(week)[-1])):
        if s.mode not in REVIEWED_MODES and not s.findings:
            continue
        mode = MODE_NAMES[s.mode] + (
            f"（{e(s.promoted)} 起计分）" if s.promoted and s.mode == "scoring" else ""
        )
        precision = "—" if s.precision is None else f"{s.precision:.0%}"
        if s.below_floor:
            precision = f'<span class="warning">{precision}</span>'
            warnings.append(
                f'<p class="warning">⚠ {e(s.name)}（{e(s.rule_id)}）近四周复核准确率 {s.precision:.0%}，'
                f"低于 {cfg.scoring.precision_floor:.0%}（{s.reviewed} 条复核）：请检查该规则"
                + ("或改为试运行" if s.mode == "scoring" else "")
                + "。</p>"
            )
        rows.append(
            f"<tr><td>{e(s.name)}<br><small>{e(s.rule_id)}</small></td><td>{mode}</td>"
            f"<td>{s.weight:g}</td><td>{s.findings}</td><td>{s.reviewed}</td><td>{precision}</td></tr>"
        )
    return "".join(rows), "".join(warnings)


def write_report(warehouse: Path, week: str, cfg: Config, out: Path | None = None) -> Path:
    out = out or warehouse / "reports" / f"callqa-{week}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build_report(warehouse, week, cfg), encoding="utf-8")
    return out
