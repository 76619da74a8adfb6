"""What the desk's pages show, read from the warehouse and rendered with Jinja2 (autoescaped)."""

from __future__ import annotations

from functools import lru_cache
from html import escape
from pathlib import Path

import pandas as pd

from pipeline.rules import RULE_NAMES
from pipeline.warehouse.read import Warehouse
from pipeline.warehouse.reviews import latest_verdicts
from pipeline.warehouse.scorecards import iso_week, week_days

STATUS = {"upheld": "已确认", "overturned": "已推翻", "open": "待复核"}


@lru_cache(maxsize=1)
def _templates():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("pipeline.review.desk", "templates"), autoescape=select_autoescape()
    )
    env.filters["mmss"] = lambda ms: f"{int(ms) // 60000:02d}:{int(ms) // 1000 % 60:02d}"
    env.globals["rule_name"] = lambda rule_id: RULE_NAMES.get(rule_id, rule_id)
    env.globals["status_name"] = STATUS
    return env


def _render(name: str, **context) -> str:
    return _templates().get_template(name).render(**context)


def _with_status(desk, events: pd.DataFrame) -> pd.DataFrame:
    """Events with their latest verdict (``status``: upheld, overturned or open) and its note."""
    latest = latest_verdicts(desk.warehouse)[["event_id", "verdict", "reviewer", "note"]]
    merged = events.merge(latest, on="event_id", how="left")
    merged["status"] = merged["verdict"].fillna("open")
    return merged.fillna({"reviewer": "", "note": ""})


def latest_week(desk) -> str:
    cards = Warehouse(desk.warehouse).scorecards("week")
    if cards.empty:
        raise KeyError("no scorecards yet: run `callqa run` first")
    return str(cards["period_label"].max())


def week_page(desk, reviewer: str, week: str) -> str:
    wh = Warehouse(desk.warehouse)
    cards = wh.scorecards("week")
    weeks = sorted(cards["period_label"].unique(), reverse=True) if not cards.empty else []
    if week not in weeks:
        raise KeyError(f"no scorecards for week {week}")
    ranked = cards[cards["period_label"] == week].sort_values(["score", "agent_id"], ascending=[False, True])
    return _render("week.html", week=week, weeks=weeks, cards=ranked.to_dict("records"), reviewer=reviewer)


def agent_page(desk, reviewer: str, agent_id: str, week: str) -> str:
    wh = Warehouse(desk.warehouse)
    days = week_days(week)
    calls = wh.calls(days[0], days[-1], agent_id=agent_id)
    if calls.empty:
        raise KeyError(f"no calls of agent {agent_id} in {week}")
    events = _with_status(desk, wh.events(days[0], days[-1], agent_id=agent_id))
    cards = wh.scorecards("week", agent_id=agent_id)
    card = cards[cards["period_label"] == week].iloc[0].to_dict() if not cards.empty else {}
    return _render(
        "agent.html",
        agent_id=agent_id,
        week=week,
        card=card,
        calls=calls.sort_values(["call_date", "call_id"]).to_dict("records"),
        events=events.sort_values(["call_id", "start_ms"]).to_dict("records"),
        reviewer=reviewer,
    )


def timeline_svg(turns: pd.DataFrame, events: pd.DataFrame, duration_ms: int, width: int = 900) -> str:
    """Who spoke when (agent above, caller below, the stretches both talk at once dark) and where
    each finding fired (orange, linked to it), as inline SVG."""
    scale = width / max(1, duration_ms)
    left = 40  # room for the lane names
    span = (width - left) / width
    lanes = {"agent": 10, "caller": 40}

    def x(ms: float) -> float:
        return left + ms * scale * span

    parts = [f'<svg class="timeline" viewBox="0 0 {width} 90" width="{width}" height="90" role="img">']
    parts.append('<text x="0" y="25" class="lane">坐席</text><text x="0" y="55" class="lane">客户</text>')
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
            f'width="{w:.1f}" height="16"><title>{escape(RULE_NAMES.get(e.rule_id, e.rule_id))}</title></rect></a>'
        )
    parts.append("</svg>")
    return "".join(parts)


def call_page(desk, reviewer: str, call_id: str) -> str:
    view = Warehouse(desk.warehouse).call(call_id)  # KeyError: 404
    events = _with_status(desk, view.events)
    call = view.call.to_dict()
    call_date = str(call.get("call_date", ""))
    week = iso_week(call_date) if call_date[:4].isdigit() else ""
    from markupsafe import Markup

    # A warehouse written before the turns table existed: the utterances' spans stand in.
    turns = view.turns if not view.turns.empty else view.utterances
    return _render(
        "call.html",
        call=call,
        week=week,
        timeline=Markup(timeline_svg(turns, events, int(call["duration_ms"]))),
        events=events.to_dict("records"),
        utterances=view.utterances.to_dict("records"),
        abstentions=list(call.get("abstentions") if call.get("abstentions") is not None else []),
        to_hear=_to_hear(desk, call, view.utterances),
        reviewer=reviewer,
        lead_s=desk.config.desk.clip_lead_s,
    )


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


def queue_page(desk, reviewer: str) -> str:
    wh = Warehouse(desk.warehouse)
    events = _with_status(desk, wh.events())
    open_events = events[(events["status"] == "open") & (events["role"] == "agent")]
    by_rule = [
        (rule_id, group.sort_values(["call_date", "call_id", "start_ms"]).to_dict("records"))
        for rule_id, group in open_events.groupby("rule_id")
    ]
    return _render("queue.html", by_rule=by_rule, total=len(open_events), reviewer=reviewer)


def clip_wav(desk, event_id: str) -> bytes:
    """The recording around a finding, decoded on the fly: from ``clip_lead_s`` before it to
    ``clip_tail_s`` after it, as 16 kHz WAV. KeyError when the finding, its call or a recording
    inside the share cannot be found."""
    from pipeline.warehouse.reviews import UnknownEventError, find_event

    try:
        event = find_event(desk.warehouse, event_id)
    except UnknownEventError as exc:
        raise KeyError(event_id) from exc
    call = Warehouse(desk.warehouse).call(str(event["call_id"])).call
    return _clip(desk, call, event["start_ms"], event["end_ms"])


def moment_wav(desk, call_id: str, idx: int) -> bytes:
    """The recording around one stored utterance of a call (a moment left for a listener), as
    ``clip_wav`` cuts a finding's. KeyError when the call, the utterance or the recording cannot
    be found."""
    view = Warehouse(desk.warehouse).call(call_id)
    rows = view.utterances[view.utterances["idx"] == idx]
    if rows.empty:
        raise KeyError(f"{call_id}/{idx}")
    return _clip(desk, view.call, rows.iloc[0]["start_ms"], rows.iloc[0]["end_ms"])


def _clip(desk, call, start_ms: float, end_ms: float) -> bytes:
    from pipeline.audio.decode import SAMPLE_RATE, decode
    from pipeline.review.desk import wav_bytes, within

    path = Path(str(call["path"]))
    if not path.is_absolute():
        path = desk.share / path
    if not path.is_file():  # a stored path whose personal numbers were pseudonymised
        path = _recording(desk, str(call["path"])) or path
    if not within(path, desk.share) or not path.is_file():
        raise KeyError(str(call["call_id"]))  # never a file outside the share, and never say which
    start = max(0.0, start_ms / 1000 - desk.config.desk.clip_lead_s)
    end = end_ms / 1000 + desk.config.desk.clip_tail_s
    with decode(path, spool_after_s=desk.config.run.spool_after_s) as audio:
        a, b = int(start * SAMPLE_RATE), min(audio.n_samples, int(end * SAMPLE_RATE))
        samples = [track[a:b] for track in audio.tracks]
    return wav_bytes(samples, SAMPLE_RATE)


_RECORDINGS: dict[str, dict[str, Path]] = {}


def _recording(desk, stored: str) -> Path | None:
    """The share's file whose stored path is ``stored``, from an index of the share made once
    (again when a file is not in it: a recording added since). None without the pseudonym key."""
    from pipeline.privacy.identifiers import key_file, load_pseudonyms
    from pipeline.run.scan import stored_paths

    if not key_file(desk.config.privacy.pseudonym_key_file).exists():
        return None
    index = _RECORDINGS.get(str(desk.share))
    if index is None or stored not in index:
        pseudonyms = load_pseudonyms(desk.config.privacy.pseudonym_key_file)
        index = _RECORDINGS[str(desk.share)] = stored_paths(desk.share, pseudonyms.scrub)
    return index.get(stored)
