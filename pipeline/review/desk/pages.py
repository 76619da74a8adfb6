"""What the desk's pages show, read from the warehouse and rendered with Jinja2 (autoescaped)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from html import escape
from zoneinfo import ZoneInfo

import pandas as pd

from pipeline.records import CHANNEL_MAP_CONTRADICTED
from pipeline.rules import RULE_NAMES
from pipeline.rules.modes import MODE_NAMES, REVIEWED_MODES, points, rule_mode
from pipeline.warehouse.read import Warehouse
from pipeline.warehouse.reviews import NOTE_MAX_CHARS, latest_verdicts
from pipeline.warehouse.scorecards import iso_week, pending_dates, week_days

# "context": a finding that costs no points (a caller's interruption): shown, never waiting.
STATUS = {"upheld": "已确认", "overturned": "已推翻", "open": "待复核", "context": "不扣分"}
QUEUE_STATUSES = ("open", "upheld", "overturned", "all")
QUEUE_SORTS = {
    "date": (["call_date", "call_id", "start_ms"], [True, True, True]),
    "confidence": (["confidence", "call_date", "call_id"], [True, True, True]),
    "agent": (["agent_id", "call_date", "call_id", "start_ms"], [True, True, True, True]),
    "rule": (["rule_id", "call_date", "call_id", "start_ms"], [True, True, True, True]),
}
QUEUE_PAGE_SIZE = 50


@dataclass(frozen=True)
class Viewer:
    """Who is looking (signs the verdicts and appeals), the token their forms carry, and, for an
    agent (``[desk] agents``), their agent id: they see only their own calls and may appeal."""

    reviewer: str
    token: str = ""
    agent_id: str | None = None

    @property
    def is_agent(self) -> bool:
        return self.agent_id is not None


class Forbidden(PermissionError):
    """What this viewer may not see or do (the message says so, in Chinese)."""


def _own(viewer: Viewer, agent_id: str) -> None:
    if viewer.is_agent and viewer.agent_id != agent_id:
        raise Forbidden("坐席只能查看自己的通话和问题")


@lru_cache(maxsize=1)
def _templates():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("pipeline.review.desk", "templates"), autoescape=select_autoescape()
    )
    env.filters["mmss"] = lambda ms: f"{int(ms) // 60000:02d}:{int(ms) // 1000 % 60:02d}"
    env.globals["rule_name"] = lambda rule_id: RULE_NAMES.get(rule_id, rule_id)
    env.globals["status_name"] = STATUS
    env.globals["mode_name"] = MODE_NAMES
    env.globals["note_max"] = NOTE_MAX_CHARS
    env.globals["appeal_state_name"] = lambda state: APPEAL_STATES.get(state, state)
    return env


def render(name: str, **context) -> str:
    return _templates().get_template(name).render(**context)


def _with_status(desk, events: pd.DataFrame) -> pd.DataFrame:
    """Events with their latest verdict (``status``: upheld, overturned, open, or context for a
    finding that costs no points), its reviewer and note, and the points each costs."""
    latest = latest_verdicts(desk.warehouse)[["event_id", "verdict", "reviewer", "note"]]
    merged = events.merge(latest, on="event_id", how="left")
    scoring = desk.config.scoring
    merged["mode"] = [rule_mode(r, scoring) for r in merged["rule_id"]]
    # Findings of rules in shadow mode (试运行) wait for a verdict too: verdicts are what measure a
    # rule before it may cost anyone a point.
    waits = merged["mode"].isin(REVIEWED_MODES)
    merged["status"] = merged["verdict"].fillna("open").where(waits | merged["verdict"].notna(), "context")
    dates = (
        merged["call_date"] if "call_date" in merged else pd.Series([None] * len(merged), index=merged.index)
    )
    merged["points"] = [points(r, scoring, d) for r, d in zip(merged["rule_id"], dates, strict=True)]
    return merged.fillna({"reviewer": "", "note": ""})


def _local_times(desk, times: pd.Series) -> list[str]:
    """UTC timestamps as the centre's local time (``timezone``), to the minute."""
    tz = ZoneInfo(desk.config.timezone)
    return [t.astimezone(tz).strftime("%Y-%m-%d %H:%M") for t in times]


def _pending_in(desk, days: list[str]) -> list[str]:
    """The days of ``days`` whose scorecards do not yet count every verdict (being recomputed)."""
    return sorted(pending_dates(desk.warehouse) & set(days))


def latest_week(desk) -> str:
    cards = Warehouse(desk.warehouse).scorecards("week")
    if cards.empty:
        raise KeyError("no scorecards yet: run `callqa run` first")
    return str(cards["period_label"].max())


def week_page(desk, viewer: Viewer, week: str) -> str:
    wh = Warehouse(desk.warehouse)
    cards = wh.scorecards("week")
    weeks = sorted(cards["period_label"].unique(), reverse=True) if not cards.empty else []
    if week not in weeks:
        raise KeyError(f"no scorecards for week {week}")
    ranked = cards[cards["period_label"] == week].sort_values(["score", "agent_id"], ascending=[False, True])
    days = week_days(week)
    return render(
        "week.html",
        week=week,
        weeks=weeks,
        cards=ranked.to_dict("records"),
        viewer=viewer,
        pending=_pending_in(desk, days),
        first_day=days[0],
        last_day=days[-1],
    )


def agent_page(desk, viewer: Viewer, agent_id: str, week: str) -> str:
    _own(viewer, agent_id)
    wh = Warehouse(desk.warehouse)
    days = week_days(week)
    calls = wh.calls(days[0], days[-1], agent_id=agent_id)
    if calls.empty:
        raise KeyError(f"no calls of agent {agent_id} in {week}")
    events = _with_status(desk, wh.events(days[0], days[-1], agent_id=agent_id))
    cards = wh.scorecards("week", agent_id=agent_id)
    card = cards[cards["period_label"] == week].iloc[0].to_dict() if not cards.empty else {}
    return render(
        "agent.html",
        agent_id=agent_id,
        week=week,
        card=card,
        calls=calls.sort_values(["call_date", "call_id"]).to_dict("records"),
        events=events.sort_values(["call_id", "start_ms"]).to_dict("records"),
        appeals=_appeals_by_event(desk, events["event_id"]),
        viewer=viewer,
        pending=_pending_in(desk, days),
        first_day=days[0],
        last_day=days[-1],
    )


def _tick_step_s(duration_s: float) -> int:
    """A time axis step that gives 6-12 labels."""
    for step in (5, 10, 15, 30, 60, 120, 300, 600):
        if duration_s / step <= 12:
            return step
    return 1200


def timeline_svg(turns: pd.DataFrame, events: pd.DataFrame, duration_ms: int, width: int = 900) -> str:
    """Who spoke when (agent above, caller below, the stretches both talk at once dark), where each
    finding fired (orange, linked to it), a time axis and a legend, as inline SVG. The plot spans
    ``data-left`` to ``data-right`` pixels for ``data-duration`` seconds: a click there seeks the
    call's player (the page's script)."""
    left, right = 40, width - 10  # room for the lane names
    span_ms = max(1, duration_ms)

    def x(ms: float) -> float:
        return left + (right - left) * min(max(ms, 0), span_ms) / span_ms

    parts = [
        f'<svg class="timeline" viewBox="0 0 {width} 136" width="{width}" height="136" role="img" '
        f'aria-label="通话时间线" data-left="{left}" data-right="{right}" data-duration="{span_ms / 1000:.3f}">'
    ]
    parts.append('<text x="0" y="25" class="lane">坐席</text><text x="0" y="55" class="lane">客户</text>')
    parts.append('<text x="0" y="80" class="lane">问题</text>')
    lanes = {"agent": 10, "caller": 40}
    spans = {role: [(t.start_ms, t.end_ms) for t in turns.itertuples() if t.role == role] for role in lanes}
    for role, y in lanes.items():
        for a, b in spans[role]:
            parts.append(
                f'<rect class="turn {role}" x="{x(a):.1f}" y="{y}" width="{max(1.0, x(b) - x(a)):.1f}" height="22"/>'
            )
    for a, b in spans["agent"]:
        for c, d in spans["caller"]:
            lo, hi = max(a, c), min(b, d)
            if lo < hi:
                for y in lanes.values():
                    parts.append(
                        f'<rect class="turn overlap" x="{x(lo):.1f}" y="{y}" width="{max(1.0, x(hi) - x(lo)):.1f}" height="22"/>'
                    )
    for e in events.itertuples():
        w = max(3.0, x(e.end_ms) - x(e.start_ms))
        parts.append(
            f'<a href="#e-{e.event_id}"><rect class="finding {e.status}" x="{x(e.start_ms):.1f}" y="68" '
            f'width="{w:.1f}" height="16" data-start="{e.start_ms / 1000:.2f}">'
            f"<title>{escape(RULE_NAMES.get(e.rule_id, e.rule_id))}</title></rect></a>"
        )
    # The time axis.
    step = _tick_step_s(span_ms / 1000)
    parts.append(f'<line class="axis" x1="{left}" y1="90" x2="{right}" y2="90"/>')
    for second in range(0, int(span_ms / 1000) + 1, step):
        tx = x(second * 1000)
        parts.append(f'<line class="tick" x1="{tx:.1f}" y1="90" x2="{tx:.1f}" y2="94"/>')
        parts.append(
            f'<text class="tick" x="{tx:.1f}" y="105" text-anchor="middle">{second // 60:02d}:{second % 60:02d}</text>'
        )
    parts.append('<line class="playhead" x1="-10" y1="6" x2="-10" y2="90"/>')
    # The legend.
    for i, (cls, label) in enumerate(
        (
            ("turn agent", "坐席说话"),
            ("turn caller", "客户说话"),
            ("turn overlap", "同时说话"),
            ("finding open", "问题"),
        )
    ):
        lx = left + i * 110
        parts.append(f'<rect class="{cls}" x="{lx}" y="118" width="14" height="10"/>')
        parts.append(f'<text class="legend" x="{lx + 18}" y="127">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def call_page(desk, viewer: Viewer, call_id: str) -> str:
    from markupsafe import Markup

    from pipeline.warehouse.reviews import history

    view = Warehouse(desk.warehouse).call(call_id)  # KeyError: 404
    _own(viewer, str(view.call["agent_id"]))
    events = _with_status(desk, view.events)
    call = view.call.to_dict()
    call_date = str(call.get("call_date", ""))
    week = iso_week(call_date) if call_date[:4].isdigit() else ""
    verdicts = history(desk.warehouse, events["event_id"])
    verdicts["when"] = _local_times(desk, verdicts["reviewed_at"])
    by_event = {eid: group.to_dict("records") for eid, group in verdicts.groupby("event_id")}
    # A warehouse written before the turns table existed: the utterances' spans stand in.
    turns = view.turns if not view.turns.empty else view.utterances
    context = finding_context(desk, events, str(call["agent_id"]), week)
    return render(
        "call.html",
        context=context,
        call=call,
        week=week,
        timeline=Markup(timeline_svg(turns, events, int(call["duration_ms"]))),
        events=events.to_dict("records"),
        history=by_event,
        appeals=_appeals_by_event(desk, events["event_id"]),
        utterances=view.utterances.to_dict("records"),
        abstentions=list(call.get("abstentions") if call.get("abstentions") is not None else []),
        hearing=hearing(call),
        to_hear=_to_hear(desk, call, view.utterances),
        viewer=viewer,
        pending=_pending_in(desk, [call_date]),
        map_contradicted=CHANNEL_MAP_CONTRADICTED in str(call.get("role_reason") or ""),
        lead_s=desk.config.desk.clip_lead_s,
    )


_BEHIND_SHOWN_DB = -30.0


def hearing(call: dict) -> list[str]:
    """The call's audio-quality reading (``calls.audio_*``) in the quality team's words, one line per
    channel and one for the file; empty for a call stored before the reading existed."""
    snr = call.get("audio_snr_db")
    if snr is None or len(snr) == 0:
        return []
    if len(snr) == 2:
        agent_right = call.get("layout") == "stereo-agent-right"
        names = ("客户声道", "坐席声道") if agent_right else ("坐席声道", "客户声道")
    else:
        names = ("录音",)
    lines = []
    for i, name in enumerate(names):
        level, band = call["audio_speech_dbfs"][i], call["audio_bandwidth_hz"][i]
        clipped, lost = call["audio_clipped_share"][i], call["audio_dropout_share"][i]
        parts = [f"语音电平 {level:.0f} dBFS", f"信噪比 {snr[i]:.0f} dB", f"频宽 {band / 1000:.1f} kHz"]
        if clipped:
            parts.append(f"削波 {clipped:.0%}")
        if lost:
            parts.append(f"丢包 {lost:.0%}")
        behind = call.get("audio_behind_db")
        behind = behind[i] if behind is not None and len(behind) == len(snr) else None
        # Shown where it can be heard: a clean line reads -80 dB, a quiet room's hiss -25 to -40.
        if behind is not None and behind == behind and behind > _BEHIND_SHOWN_DB:
            parts.append(f"双方都不说话时背景声只比说话人低 {-behind:.0f} dB")
        lines.append(f"{name}：{'，'.join(parts)}")
    doubted = call.get("audio_doubted_share")
    tail = f"{call.get('audio_codec')}，{int(call.get('audio_source_rate') or 0) // 1000} kHz"
    if doubted is not None and doubted == doubted:
        tail += f"；识别把握低的字词 {doubted:.0%}"
    lines.append(f"文件：{tail}")
    return lines


def finding_context(desk, events: pd.DataFrame, agent_id: str, week: str) -> dict[str, dict]:
    """Per finding: what the guide asks (and its section), the thresholds its detection read, the
    points it costs, and the agent's week score now and after the verdict that would change it
    (overturn an open or upheld finding, uphold an overturned one)."""
    from pipeline.rules import RULE_GUIDE, RULE_THRESHOLDS

    cards = Warehouse(desk.warehouse).scorecards("week", agent_id=agent_id) if week else pd.DataFrame()
    card = cards[cards["period_label"] == week] if not cards.empty else cards
    out: dict[str, dict] = {}
    for e in events.itertuples():
        section, ask = RULE_GUIDE.get(e.rule_id, ("", ""))
        thresholds = [
            f"{name} = {getattr(desk.config.rules, name)}" for name in RULE_THRESHOLDS.get(e.rule_id, ())
        ]
        now = after = None
        if not card.empty and e.points:
            row = card.iloc[0]
            n, deduction = float(row["n_calls"]), float(row["deduction_per_call"]) * float(row["n_calls"])
            change = e.points if e.status == "overturned" else -e.points
            now, after = float(row["score"]), max(0.0, 100 - (deduction + change) / n)
        out[e.event_id] = {
            "section": section,
            "ask": ask,
            "thresholds": thresholds,
            "score_now": now,
            "score_after": after,
            "after_verdict": "确认" if e.status == "overturned" else "推翻",
        }
    return out


def _to_hear(desk, call: dict, utterances: pd.DataFrame) -> list[dict]:
    """On a call whose roles were not trusted, the utterances that say a banned phrase read as
    the agent's (phrase.banned abstained there): a reviewer listens and decides who said it."""
    if float(call["role_confidence"]) >= desk.config.rules.role_min_confidence or utterances.empty:
        return []
    from pipeline.lexicon import load_lexicon
    from pipeline.rules.phrases import banned_by_any_voice, load_banned
    from pipeline.run.rescore import utterances_of

    lexicon = load_lexicon(desk.config.lexicons_path)
    entries = load_banned(str(lexicon.folder), lexicon.version)
    heard: dict[int, dict] = {}
    for u, entry in banned_by_any_voice(utterances_of(utterances), entries, lexicon.tokenizer()):
        row = heard.setdefault(
            u.idx,
            {"idx": u.idx, "start_ms": u.start * 1000, "end_ms": u.end * 1000, "text": u.text, "hits": []},
        )
        row["hits"].append(f"{entry.phrase}（{entry.category}）")
    return list(heard.values())


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters, sort and page, as the URL's query string gives them (anything not
    understood falls back to its default, so an edited URL never fails)."""

    rule: str = ""
    agent: str = ""
    since: str = ""
    until: str = ""
    status: str = "open"
    min_confidence: float = 0.0
    q: str = ""
    sort: str = "date"
    page: int = 1

    @classmethod
    def parse(cls, params) -> QueueQuery:
        def day(value: str) -> str:
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                return ""

        def number(value: str, default: float) -> float:
            try:
                parsed = float(value)
            except ValueError:
                return default
            return parsed if math.isfinite(parsed) else default

        status = params.get("status", "open")
        sort = params.get("sort", "date")
        return cls(
            rule=params.get("rule", "").strip(),
            agent=params.get("agent", "").strip(),
            since=day(params.get("since", "")),
            until=day(params.get("until", "")),
            status=status if status in QUEUE_STATUSES else "open",
            min_confidence=min(1.0, max(0.0, number(params.get("min_confidence", ""), 0.0))),
            q=params.get("q", "").strip()[:100],
            sort=sort if sort in QUEUE_SORTS else "date",
            page=max(1, int(number(params.get("page", ""), 1))),
        )

    def link(self, **changes) -> str:
        """This query with ``changes``, as a URL of the queue (defaults left out)."""
        from urllib.parse import urlencode

        values = {**self.__dict__, **changes}
        defaults = QueueQuery().__dict__
        kept = {k: v for k, v in values.items() if v != defaults[k]}
        return "/queue" + ("?" + urlencode(kept) if kept else "")


def queue_rows(desk, query: QueueQuery) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The findings the query selects, sorted: open ones by default (``charged_rules``, the same
    definition the scorecards' ``events_open`` counts); and every finding that costs points in
    its date range (what the filters can choose from)."""
    wh = Warehouse(desk.warehouse)
    events = _with_status(desk, wh.events(query.since or None, query.until or None))
    events = events[events["status"] != "context"]
    keep = pd.Series(True, index=events.index)
    if query.status != "all":
        keep &= events["status"] == query.status
    if query.rule:
        keep &= events["rule_id"] == query.rule
    if query.agent:
        keep &= events["agent_id"] == query.agent
    if query.min_confidence:
        keep &= events["confidence"] >= query.min_confidence
    if query.q:
        keep &= events["evidence"].str.contains(query.q, regex=False, na=False)
    columns, ascending = QUEUE_SORTS[query.sort]
    return events[keep].sort_values(columns, ascending=ascending).reset_index(drop=True), events


def queue_page(desk, viewer: Viewer, query: QueueQuery | None = None) -> str:
    query = query or QueueQuery()
    rows, in_range = queue_rows(desk, query)
    pages = max(1, math.ceil(len(rows) / QUEUE_PAGE_SIZE))
    page = min(query.page, pages)
    shown = rows.iloc[(page - 1) * QUEUE_PAGE_SIZE : page * QUEUE_PAGE_SIZE]
    return render(
        "queue.html",
        rows=shown.to_dict("records"),
        total=len(rows),
        page=page,
        pages=pages,
        query=query,
        rules=sorted(set(in_range["rule_id"])),
        agents=sorted(set(in_range["agent_id"])),
        statuses=QUEUE_STATUSES,
        sorts=list(QUEUE_SORTS),
        here=query.link(page=page),
        viewer=viewer,
        lead_s=desk.config.desk.clip_lead_s,
    )


def _appeals_by_event(desk, event_ids) -> dict[str, list[dict]]:
    """Each finding's appeals, oldest first, with their state and decision."""
    from pipeline.warehouse.appeals import appeal_states

    states = appeal_states(desk.warehouse)
    states = states[states["event_id"].isin(set(event_ids))]
    states = states.assign(filed=_local_times(desk, states["filed_at"]))
    return {eid: group.to_dict("records") for eid, group in states.groupby("event_id")}


APPEAL_STATES = {"filed": "待处理", "granted": "申诉成立（已推翻）", "denied": "申诉不成立（维持）"}


def appeals_page(desk, viewer: Viewer, state: str = "filed") -> str:
    """The appeals for a lead to decide (``state`` filed), or those decided."""
    from pipeline.warehouse.appeals import appeal_states

    if viewer.is_agent:
        raise Forbidden("申诉由质检主管处理")
    states = appeal_states(desk.warehouse)
    shown = states[states["state"] == "filed"] if state == "filed" else states[states["state"] != "filed"]
    if not shown.empty:
        events = Warehouse(desk.warehouse).events()[
            ["event_id", "start_ms", "end_ms", "evidence", "category"]
        ]
        shown = shown.merge(events, on="event_id", how="left")
    shown = shown.assign(filed=_local_times(desk, shown["filed_at"])).sort_values(
        "filed_at", ascending=state == "filed"
    )
    return render(
        "appeals.html",
        appeals=shown.to_dict("records"),
        state=state,
        state_names=APPEAL_STATES,
        viewer=viewer,
        lead_s=desk.config.desk.clip_lead_s,
    )


def error_page(status: int, message: str, viewer: Viewer | None = None) -> str:
    titles = {
        400: "请求有误",
        401: "需要登录",
        403: "不允许",
        404: "找不到",
        429: "请稍后再试",
        500: "出错了",
    }
    return render(
        "error.html", status=status, title=titles.get(status, "出错了"), message=message, viewer=viewer
    )
