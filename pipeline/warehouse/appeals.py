"""Agents' appeals (申诉) against findings, and the quality lead's decisions: ``appeals/``.

An agent who thinks a finding is wrong appeals it with a reason; a quality lead hears the moment
and grants the appeal (the finding is overturned: it deducts nothing) or denies it (the finding is
upheld), with a note. Like ``reviews/``, every action is one small Parquet file written to a temp
name and renamed, ``appeals/<time>-<id>.parquet``: append-only, never rewritten, safe beside a
nightly run. An appeal's latest action is its state. A decision is also a verdict
(``pipeline.review.verdicts``), so the scores follow the same way as any other verdict.

One open appeal per finding at a time; a finding can be appealed again after a decision only if
it is upheld again later (a new verdict), which the desk shows with its history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline.warehouse.reviews import find_event
from pipeline.warehouse.schemas import APPEALS
from pipeline.warehouse.store import append_record, read_appended

ACTIONS = ("filed", "granted", "denied")
REASON_MAX_CHARS = 500
# A decision's note goes into its verdict's note (500 at most) after 申诉成立： / 申诉不成立：.
DECISION_NOTE_MAX_CHARS = 480


class AppealError(ValueError):
    """An appeal that cannot be filed or decided (the message says why, in Chinese)."""


@dataclass(frozen=True)
class AppealAction:
    appeal_id: str
    action: str
    event_id: str
    call_id: str
    agent_id: str
    rule_id: str
    call_date: str
    by: str
    text: str
    at: datetime


def _write(warehouse: Path, action: AppealAction) -> AppealAction:
    append_record(warehouse / "appeals", APPEALS, action.__dict__, action.at, uuid.uuid4().hex[:8])
    return action


def read_appeals(warehouse: Path) -> pd.DataFrame:
    """Every action on every appeal, oldest first."""
    table = read_appended(warehouse / "appeals", APPEALS)
    return table.to_pandas().sort_values("at", kind="stable").reset_index(drop=True)


def appeal_states(warehouse: Path) -> pd.DataFrame:
    """One row per appeal: what was filed (event, agent, reason, when, by whom) and its latest
    state (``state``: filed, granted or denied; ``decided_by``, ``decision_note``, ``decided_at``)."""
    actions = read_appeals(warehouse)
    filed = actions[actions["action"] == "filed"].drop(columns=["action", "schema_version"])
    filed = filed.rename(columns={"by": "filed_by", "text": "reason", "at": "filed_at"})
    decisions = actions[actions["action"] != "filed"].drop_duplicates("appeal_id", keep="last")
    decisions = decisions[["appeal_id", "action", "by", "text", "at"]].rename(
        columns={"action": "state", "by": "decided_by", "text": "decision_note", "at": "decided_at"}
    )
    out = filed.merge(decisions, on="appeal_id", how="left")
    out["state"] = out["state"].fillna("filed")
    return out.fillna({"decided_by": "", "decision_note": ""}).reset_index(drop=True)


def file_appeal(
    warehouse: Path, event_id: str, agent_id: str, by: str, reason: str, now: datetime | None = None
) -> AppealAction:
    """An agent's appeal of their own finding (UnknownEventError for an unknown id)."""
    reason = reason.strip()
    if not reason:
        raise AppealError("申诉需要写明理由")
    if len(reason) > REASON_MAX_CHARS:
        raise AppealError(f"申诉理由最多 {REASON_MAX_CHARS} 字，这条有 {len(reason)} 字：请缩短后再提交")
    event = find_event(warehouse, event_id)
    if str(event["agent_id"]) != agent_id:
        raise AppealError("只能申诉自己通话里的问题")
    states = appeal_states(warehouse)
    if ((states["event_id"] == event_id) & (states["state"] == "filed")).any():
        raise AppealError("这条问题已有待处理的申诉")
    return _write(
        warehouse,
        AppealAction(
            uuid.uuid4().hex,
            "filed",
            event_id,
            str(event["call_id"]),
            agent_id,
            str(event["rule_id"]),
            str(event["call_date"]),
            by.strip(),
            reason,
            now or datetime.now(UTC),
        ),
    )


def open_appeal(warehouse: Path, appeal_id: str, note: str = "") -> pd.Series:
    """The filed appeal a lead is about to decide with ``note``: KeyError for an unknown id,
    AppealError when it was decided already or the note is too long."""
    states = appeal_states(warehouse)
    match = states[states["appeal_id"] == appeal_id]
    if match.empty:
        raise KeyError(appeal_id)
    if match.iloc[0]["state"] != "filed":
        raise AppealError("这条申诉已经处理过了")
    if len(note) > DECISION_NOTE_MAX_CHARS:
        raise AppealError(f"处理意见最多 {DECISION_NOTE_MAX_CHARS} 字，这条有 {len(note)} 字")
    return match.iloc[0]


def record_decision(
    warehouse: Path, appeal: pd.Series, granted: bool, by: str, note: str = "", now: datetime | None = None
) -> AppealAction:
    """The lead's decision on an appeal ``open_appeal`` gave (the caller also records the
    matching verdict: ``pipeline.review.verdicts.decide_appeal``)."""
    return _write(
        warehouse,
        AppealAction(
            str(appeal["appeal_id"]),
            "granted" if granted else "denied",
            str(appeal["event_id"]),
            str(appeal["call_id"]),
            str(appeal["agent_id"]),
            str(appeal["rule_id"]),
            str(appeal["call_date"]),
            by.strip(),
            note.strip(),
            now or datetime.now(UTC),
        ),
    )


def appeal_summary(warehouse: Path, days: list[str]) -> dict[str, float | int | None]:
    """Appeals on findings of ``days``: filed, granted, denied, still open, and the median days
    from filing to decision (the weekly report's figures)."""
    states = appeal_states(warehouse)
    week = states[states["call_date"].isin(days)]
    decided = week[week["state"] != "filed"]
    waits = (decided["decided_at"] - decided["filed_at"]).dt.total_seconds() / 86400
    return {
        "filed": len(week),
        "granted": int((week["state"] == "granted").sum()),
        "denied": int((week["state"] == "denied").sum()),
        "open": int((week["state"] == "filed").sum()),
        "median_days_to_decide": round(float(waits.median()), 1) if len(waits) else None,
    }
