"""Per-agent scorecards per day and per ISO week, from the calls and events tables.

For every call: its deduction = the sum of the weights (``[scoring.weights]``) of its events. For an
agent and period: ``score = max(0, 100 - mean deduction per call)``, so every point lost can be
traced to rows of the events table.

Scorecards are Hive-partitioned as ``scorecards/period=day|week/period_label=<label>/data.parquet``;
after a night's run only the days and weeks whose call dates changed are recomputed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.config import ScoringConfig
from pipeline.warehouse import schemas
from pipeline.warehouse.store import partition_dates, read_table, write_atomic

PERIODS = ("day", "week")
# Banned-phrase categories of the guide, as scorecard columns.
BANNED_COLUMNS = {
    "无礼": "banned_rude",
    "傲慢": "banned_arrogant",
    "不负责任": "banned_irresponsible",
    "不耐烦/粗鲁": "banned_impatient",
    "不当答复": "banned_improper",
}
_CALL_COLUMNS = ["call_id", "agent_id", "talk_agent_ms", "agent_chars_per_s", "polite_total", "status"]
_EVENT_COLUMNS = ["call_id", "rule_id", "category"]


def iso_week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def week_days(label: str) -> list[str]:
    monday = date.fromisocalendar(int(label[:4]), int(label[6:]), 1)
    return [(monday + timedelta(days=i)).isoformat() for i in range(7)]


def per_call(calls: pd.DataFrame, events: pd.DataFrame, scoring: ScoringConfig) -> pd.DataFrame:
    """One row per scored call: its event counts per rule and category, and its deduction."""
    calls = calls[calls["status"] == "scored"].set_index("call_id")
    counts = events.groupby(["call_id", "rule_id"]).size().unstack(fill_value=0)
    banned = events[events["rule_id"] == "phrase.banned"]
    by_category = banned.groupby(["call_id", "category"]).size().unstack(fill_value=0)
    frame = calls.join(counts, how="left").join(by_category, how="left")
    rule_ids = list(counts.columns)
    frame[rule_ids + list(by_category.columns)] = frame[rule_ids + list(by_category.columns)].fillna(0)
    weights = pd.Series({r: scoring.weights.get(r, 0.0) for r in rule_ids}, dtype=float)
    frame["deduction"] = frame[rule_ids].to_numpy(dtype=float) @ weights.to_numpy() if rule_ids else 0.0
    frame["n_events"] = frame[rule_ids].sum(axis=1) if rule_ids else 0
    return frame.reset_index()


def _count(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column] if column in frame else pd.Series(0, index=frame.index)


def aggregate(calls: pd.DataFrame, period_label: pd.Series, period_start: pd.Series) -> pd.DataFrame:
    """Scorecard rows from per-call rows (``per_call``) and each call's period."""
    f = calls.assign(
        period_label=period_label.to_numpy(),
        period_start=period_start.to_numpy(),
        greeting_ok=_count(calls, "greeting.missing") == 0,
        closing_ok=_count(calls, "closing.missing") == 0,
        self_intro_ok=_count(calls, "self_intro.missing") == 0,
        interruptions=_count(calls, "interruption.agent"),
        impatient=_count(calls, "conduct.impatient") > 0,
        domineering=_count(calls, "conduct.domineering") > 0,
        hangups=_count(calls, "hangup.premature"),
        **{col: _count(calls, cat) for cat, col in BANNED_COLUMNS.items()},
    )
    grouped = f.groupby(["agent_id", "period_label", "period_start"], observed=True, sort=True)
    out = grouped.agg(
        n_calls=("call_id", "size"),
        talk_ms=("talk_agent_ms", "sum"),
        greeting_compliance=("greeting_ok", "mean"),
        closing_compliance=("closing_ok", "mean"),
        self_intro_compliance=("self_intro_ok", "mean"),
        interruptions=("interruptions", "sum"),
        calls_impatient=("impatient", "sum"),
        calls_domineering=("domineering", "sum"),
        premature_hangups=("hangups", "sum"),
        median_agent_chars_per_s=("agent_chars_per_s", "median"),
        polite=("polite_total", "sum"),
        n_events=("n_events", "sum"),
        deduction=("deduction", "sum"),
        **{col: (col, "sum") for col in BANNED_COLUMNS.values()},
    ).reset_index()
    out["schema_version"] = schemas.SCHEMA_VERSION
    out["talk_minutes"] = out["talk_ms"] / 60000
    out["interruptions_per_call"] = out["interruptions"] / out["n_calls"]
    out["banned_total"] = out[list(BANNED_COLUMNS.values())].sum(axis=1)
    out["polite_per_call"] = out["polite"] / out["n_calls"]
    out["events_per_call"] = out["n_events"] / out["n_calls"]
    out["deduction_per_call"] = out["deduction"] / out["n_calls"]
    out["score"] = np.maximum(0.0, 100 - out["deduction_per_call"])
    return out


def _frames(warehouse: Path, days: Iterable[str], scoring: ScoringConfig) -> pd.DataFrame:
    days = sorted(set(days))
    calls = read_table(warehouse, "calls", days, _CALL_COLUMNS)
    events = read_table(warehouse, "events", days, _EVENT_COLUMNS)
    return per_call(calls, events, scoring)


def _write(warehouse: Path, period: str, label: str, rows: pd.DataFrame) -> None:
    folder = warehouse / "scorecards" / f"period={period}" / f"period_label={label}"
    if rows.empty:
        shutil.rmtree(folder, ignore_errors=True)
        return
    table = pa.Table.from_pandas(
        rows[schemas.SCORECARDS.names], schema=schemas.SCORECARDS, preserve_index=False
    )
    write_atomic(table, folder / "data.parquet")


def update_scorecards(
    warehouse: Path, scoring: ScoringConfig, dates: Iterable[str] | None = None
) -> dict[str, int]:
    """Recompute the day and week scorecards of ``dates`` (None: all); returns rows per period."""
    all_days = partition_dates(warehouse)
    days = sorted(set(all_days if dates is None else dates))
    weeks = sorted({iso_week(d) for d in days})
    frame = _frames(warehouse, {d for w in weeks for d in week_days(w)}, scoring)
    written = dict.fromkeys(PERIODS, 0)
    call_day = frame["call_date"].astype(str)
    for period, labels in (("day", days), ("week", weeks)):
        if period == "day":
            label = call_day
            start = pd.to_datetime(call_day).dt.date
        else:
            label = call_day.map(iso_week)
            start = label.map(lambda w: date.fromisoformat(week_days(w)[0]))
        cards = aggregate(frame, label, start) if not frame.empty else pd.DataFrame(columns=["period_label"])
        for wanted in labels:
            rows = cards[cards["period_label"] == wanted]
            _write(warehouse, period, wanted, rows)
            written[period] += len(rows)
    if dates is None:  # a full rebuild also drops scorecards of dates no longer stored
        for period, labels in (("day", set(days)), ("week", set(weeks))):
            for folder in (warehouse / "scorecards" / f"period={period}").glob("period_label=*"):
                if folder.name.split("=", 1)[1] not in labels:
                    shutil.rmtree(folder)
    return written
