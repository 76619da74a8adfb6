"""Per-agent scorecards per day and per ISO week, from the calls and events tables.

score = 100 - (sum over the period's events of the rule's weight) / calls in the period,
floored at 0, so every point lost can be traced to event rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.config import ScoringConfig
from pipeline.warehouse import schemas
from pipeline.warehouse.store import read_table, write_atomic

PERIODS = ("day", "week")


def _period_columns(started_at: pd.Series, period: str, timezone: str) -> tuple[pd.Series, pd.Series]:
    # Periods follow the call centre's local calendar: started_at is stored in UTC.
    local = started_at.dt.tz_convert(timezone)
    if period == "day":
        start = local.dt.normalize().dt.date
        return start, pd.Series([d.isoformat() for d in start], index=started_at.index)
    iso = local.dt.isocalendar()
    start = (local.dt.normalize() - pd.to_timedelta(local.dt.weekday, unit="D")).dt.date
    label = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    return start, label


def compute_scorecards(
    calls: pd.DataFrame,
    events: pd.DataFrame,
    scoring: ScoringConfig,
    period: str,
    timezone: str = "Asia/Shanghai",
) -> pd.DataFrame:
    if calls.empty:
        return schemas.SCORECARDS.empty_table().to_pandas()
    calls = calls[calls["status"] == "scored"].copy()
    calls["period_start"], calls["period_label"] = _period_columns(calls["started_at"], period, timezone)
    ev = events.merge(calls[["call_id", "period_start", "period_label"]], on="call_id", how="inner")
    ev["weight"] = ev["rule_id"].map(scoring.weights).fillna(0.0)
    keys = ["agent_id", "period_start", "period_label"]
    per_call_greeting = ev[ev["rule_id"] == "greeting.missing"].groupby("call_id").size()
    calls["greeting_missing"] = calls["call_id"].map(per_call_greeting).fillna(0) > 0
    base = calls.groupby(keys, observed=True).agg(
        n_calls=("call_id", "nunique"),
        talk_ms=("talk_agent_ms", "sum"),
        greeting_missing=("greeting_missing", "sum"),
    )
    ev_agg = ev.groupby(keys, observed=True).agg(n_events=("rule_id", "size"), deduction=("weight", "sum"))
    out = base.join(ev_agg, how="left").fillna({"n_events": 0, "deduction": 0.0}).reset_index()
    out["schema_version"] = schemas.SCHEMA_VERSION
    out["talk_minutes"] = out["talk_ms"] / 60000
    out["greeting_compliance"] = 1 - out["greeting_missing"] / out["n_calls"]
    out["events_per_call"] = out["n_events"] / out["n_calls"]
    out["deduction_per_call"] = out["deduction"] / out["n_calls"]
    out["score"] = (100 - out["deduction_per_call"]).clip(lower=0)
    table = pa.Table.from_pandas(
        out[schemas.SCORECARDS.names], schema=schemas.SCORECARDS, preserve_index=False
    )
    return table.to_pandas()


def rebuild_scorecards(
    warehouse: Path, scoring: ScoringConfig, timezone: str = "Asia/Shanghai"
) -> dict[str, int]:
    """Recompute the day and week scorecards; returns rows written per period."""
    calls = read_table(warehouse, "calls")
    events = read_table(warehouse, "events")
    written = {}
    for period in PERIODS:
        frame = compute_scorecards(calls, events, scoring, period, timezone)
        table = pa.Table.from_pandas(frame, schema=schemas.SCORECARDS, preserve_index=False)
        write_atomic(table, warehouse / "scorecards" / f"period={period}" / "scorecards.parquet")
        written[period] = len(frame)
    return written
