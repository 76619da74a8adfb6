"""Per-agent scorecards per day and per ISO week, from the calls and events tables.

For an agent and period: ``score = max(0, 100 - deduction per call)``, where the deduction is the
sum of the weights (``[scoring.weights]``) of the period's events and is divided by the period's
calls, so every point lost can be traced to rows of the events table. A finding the quality team
overturned (``reviews/``) deducts nothing; the reviewed, overturned and open findings are counted.

Scorecards are Hive-partitioned as ``scorecards/period=day|week/period_label=<label>/data.parquet``;
after a night's run only the days and weeks whose call dates changed are recomputed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.config import ScoringConfig
from pipeline.rules.modes import rule_mode
from pipeline.warehouse import schemas
from pipeline.warehouse.store import partition_dates, read_arrow, write_atomic

PERIODS = ("day", "week")
# Banned-phrase categories of the guide, as scorecard columns.
BANNED_COLUMNS = {
    "无礼": "banned_rude",
    "傲慢": "banned_arrogant",
    "不负责任": "banned_irresponsible",
    "不耐烦/粗鲁": "banned_impatient",
    "不当答复": "banned_improper",
}
_CALL_COLUMNS = [
    "agent_id",
    "talk_agent_ms",
    "agent_chars_per_s",
    "polite_total",
    "status",
    "agent_answer_latency_s",
    "agent_hedges_per_min",
    "agent_nin_share",
    "agent_pitch_range_st",
]
_EVENT_COLUMNS = ["event_id", "call_id", "agent_id", "rule_id", "category"]
# Rules that fire at most once per call, or whose per-call presence the scorecard reports.
_PER_CALL_RULES = [
    "greeting.missing",
    "self_intro.missing",
    "closing.missing",
    "conduct.impatient",
    "conduct.domineering",
]
_KEYS = ["agent_id", "period_label"]


def iso_week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def _is_date(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def week_days(label: str) -> list[str]:
    monday = date.fromisocalendar(int(label[:4]), int(label[6:]), 1)
    return [(monday + timedelta(days=i)).isoformat() for i in range(7)]


@dataclass(frozen=True)
class DayCounts:
    """What scorecards need of some days, reduced in Arrow: ten million events never become Python
    objects. Counts are per agent and call date, so any period is a sum of days."""

    calls: (
        pd.DataFrame
    )  # one row per scored call: agent_id, call_date, talk_agent_ms, agent_chars_per_s, polite_total
    # agent_id, call_date, rule_id, category, n (events not overturned), points (what they deduct)
    events: pd.DataFrame
    flagged: pd.DataFrame  # agent_id, call_date, rule_id, n (distinct calls with the rule)
    reviews: pd.DataFrame  # agent_id, call_date, findings, reviewed, overturned


def day_counts(warehouse: Path, days: Iterable[str], scoring: ScoringConfig | None = None) -> DayCounts:
    """The counts of ``days``; the reviewed and open findings are those that cost points under
    ``scoring`` (``charged_rules``: one definition of "open" for the scorecards and the desk)."""
    import pyarrow.compute as pc

    from pipeline.rules.modes import points

    days = sorted(set(days))
    calls = read_arrow(warehouse, "calls", days, _CALL_COLUMNS)
    calls = calls.filter(pc.equal(calls["status"], "scored")).drop_columns(["status"])
    from pipeline.warehouse.reviews import latest_verdicts

    everything = read_arrow(warehouse, "events", days, _EVENT_COLUMNS)
    latest = latest_verdicts(warehouse)
    reviewed = pc.is_in(everything["event_id"], value_set=pa.array(latest["event_id"], pa.string()))
    overturned = pc.is_in(
        everything["event_id"],
        value_set=pa.array(latest.loc[latest["verdict"] == "overturned", "event_id"], pa.string()),
    )
    scoring = scoring or ScoringConfig()
    # What each finding deducts on its call's date: nothing in shadow mode (试运行), and a rule
    # promoted out of it counts only from its promotion date (pipeline.rules.modes).
    # Decided once per (rule, date) in Python, spread over the rows in Arrow: a year is 10 M events.
    keys = pc.binary_join_element_wise(everything["rule_id"], everything["call_date"], "|")
    pairs = pc.unique(keys)
    worth = pa.array(
        [points(r, scoring, d) for r, d in (key.split("|", 1) for key in pairs.to_pylist())], pa.float64()
    )
    everything = everything.append_column("points", pc.take(worth, pc.index_in(keys, value_set=pairs)))
    charged = pc.greater(everything["points"], 0.0)
    reviews = (
        everything.append_column("reviewed", pc.cast(reviewed, pa.int64()))
        .append_column("overturned", pc.cast(overturned, pa.int64()))
        .filter(charged)
        .group_by(["agent_id", "call_date"])
        .aggregate([([], "count_all"), ("reviewed", "sum"), ("overturned", "sum")])
        .rename_columns(["agent_id", "call_date", "findings", "reviewed", "overturned"])
    )
    events = everything.filter(pc.invert(overturned))
    per_rule = events.group_by(["agent_id", "call_date", "rule_id", "category"]).aggregate(
        [([], "count_all"), ("points", "sum")]
    )
    once = events.filter(pc.is_in(events["rule_id"], value_set=pa.array(_PER_CALL_RULES)))
    flagged = once.group_by(["agent_id", "call_date", "rule_id"]).aggregate([("call_id", "count_distinct")])
    return DayCounts(
        calls=calls.to_pandas(),
        events=per_rule.rename_columns(
            ["agent_id", "call_date", "rule_id", "category", "n", "points"]
        ).to_pandas(),
        flagged=flagged.rename_columns(["agent_id", "call_date", "rule_id", "n"]).to_pandas(),
        reviews=reviews.to_pandas(),
    )


def _wide(frame: pd.DataFrame, column: str, prefix: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_arrays([[], []], names=_KEYS))
    return frame.groupby([*_KEYS, column])["n"].sum().unstack(fill_value=0).add_prefix(prefix)


def aggregate(counts: DayCounts, label_of: dict[str, str], scoring: ScoringConfig) -> pd.DataFrame:
    """Scorecard rows of every (agent, period) in ``counts``; ``label_of`` maps call date -> period."""
    calls = counts.calls.assign(period_label=counts.calls["call_date"].map(label_of))
    events = counts.events.assign(period_label=counts.events["call_date"].map(label_of))
    flagged = counts.flagged.assign(period_label=counts.flagged["call_date"].map(label_of))
    base = calls.groupby(_KEYS, observed=True).agg(
        n_calls=("agent_id", "size"),
        talk_ms=("talk_agent_ms", "sum"),
        polite=("polite_total", "sum"),
        median_agent_chars_per_s=("agent_chars_per_s", "median"),
        # The agent's measures over the period's calls that have them (docs/warehouse.md).
        median_answer_latency_s=("agent_answer_latency_s", "median"),
        hedges_per_min=("agent_hedges_per_min", "mean"),
        nin_share=("agent_nin_share", "mean"),
        median_pitch_range_st=("agent_pitch_range_st", "median"),
    )
    rules = _wide(events, "rule_id", "n:")
    banned = _wide(events[events["rule_id"] == "phrase.banned"], "category", "cat:")
    with_rule = _wide(flagged, "rule_id", "calls:")
    reviews = counts.reviews.assign(period_label=counts.reviews["call_date"].map(label_of))
    review_counts = reviews.groupby(_KEYS, observed=True)[["findings", "reviewed", "overturned"]].sum()
    out = base.join([rules, banned, with_rule, review_counts], how="left").fillna(0).reset_index()

    def col(name: str) -> pd.Series:
        return out[name] if name in out else pd.Series(0.0, index=out.index)

    rule_cols = [c for c in out.columns if c.startswith("n:")]
    # Findings of rules in shadow mode (试运行) are counted apart: they cost nothing and are not
    # among the period's findings until the rule is promoted.
    shadow_cols = [c for c in rule_cols if rule_mode(c[2:], scoring) == "shadow"]
    scored_cols = [c for c in rule_cols if c not in shadow_cols]
    deduction = (
        events.groupby(_KEYS, observed=True)["points"].sum().reindex(pd.MultiIndex.from_frame(out[_KEYS]))
    )
    deduction = deduction.fillna(0.0).to_numpy(dtype=float)
    n = out["n_calls"]
    out["schema_version"] = schemas.SCHEMA_VERSION
    out["talk_minutes"] = out["talk_ms"] / 60000
    out["greeting_compliance"] = 1 - col("calls:greeting.missing") / n
    out["self_intro_compliance"] = 1 - col("calls:self_intro.missing") / n
    out["closing_compliance"] = 1 - col("calls:closing.missing") / n
    out["interruptions_per_call"] = col("n:interruption.agent") / n
    out["calls_impatient"] = col("calls:conduct.impatient")
    out["calls_domineering"] = col("calls:conduct.domineering")
    out["premature_hangups"] = col("n:hangup.premature")
    for category, name in BANNED_COLUMNS.items():
        out[name] = col(f"cat:{category}")
    out["banned_total"] = col("n:phrase.banned")
    out["polite_per_call"] = out["polite"] / n
    out["n_events"] = out[scored_cols].sum(axis=1) if scored_cols else 0
    out["shadow_findings"] = out[shadow_cols].sum(axis=1) if shadow_cols else 0
    out["events_per_call"] = out["n_events"] / n
    out["deduction_per_call"] = deduction / n
    out["score"] = np.maximum(0.0, 100 - out["deduction_per_call"])
    out["events_reviewed"] = col("reviewed")
    out["events_overturned"] = col("overturned")
    out["events_open"] = col("findings") - col("reviewed")
    return out


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
    """Recompute the day and week scorecards of ``dates`` (None: all); returns rows per period.

    Calls without a date (``call_date=unknown``: no metadata) belong to no day or week.
    """
    days = sorted(d for d in set(partition_dates(warehouse) if dates is None else dates) if _is_date(d))
    weeks = sorted({iso_week(d) for d in days})
    counts = day_counts(warehouse, {d for w in weeks for d in week_days(w)}, scoring)
    stored_days = set(counts.calls["call_date"].unique())
    written = dict.fromkeys(PERIODS, 0)
    for period, labels in (("day", days), ("week", weeks)):
        label_of = {d: (d if period == "day" else iso_week(d)) for d in stored_days}
        cards = aggregate(counts, label_of, scoring)
        starts = {
            label: date.fromisoformat(label if period == "day" else week_days(label)[0]) for label in labels
        }
        for label in labels:
            rows = cards[cards["period_label"] == label].assign(period_start=starts[label])
            _write(warehouse, period, label, rows)
            written[period] += len(rows)
    if dates is None:  # a full rebuild also drops scorecards of dates no longer stored
        for period, labels in (("day", set(days)), ("week", set(weeks))):
            for folder in (warehouse / "scorecards" / f"period={period}").glob("period_label=*"):
                if folder.name.split("=", 1)[1] not in labels:
                    shutil.rmtree(folder)
    return written


def settle_scorecards(warehouse: Path, scoring: ScoringConfig, dates: Iterable[str] = ()) -> set[str]:
    """Recompute the scorecards of ``dates`` and of every date marked dirty in the ledger, round
    after round until none is marked; returns the dates recomputed. The caller holds the
    warehouse's lock (``pipeline.run.batch.RunLock``).

    A verdict is recorded first and its date marked after, so whichever round reads the mark reads
    the verdict: two verdicts given at once (one holding the lock, one waiting or giving up) both
    count. A round unmarks a date only after writing its scorecards and only if it was not marked
    again meanwhile (the ledger counts marks), so a page never shows a stale score as current.
    """
    from pipeline.warehouse.ledger import Ledger

    done: set[str] = set()
    unmarked = set(dates)  # asked for, not marked: marked if the recompute fails
    while True:
        with Ledger(warehouse) as ledger:
            marks = ledger.dirty_marks()
        todo = unmarked | set(marks)
        if not todo:
            return done
        try:
            update_scorecards(warehouse, scoring, todo)
        except BaseException:
            with Ledger(warehouse) as ledger:  # still behind: the next holder recomputes them
                ledger.mark_dirty(unmarked)
            raise
        # Unmarked only now, and only if not marked again meanwhile: until the new scorecards
        # are written, the pages still say the score is pending.
        with Ledger(warehouse) as ledger:
            ledger.clear_marks(marks)
        done |= todo
        unmarked = set()


def pending_dates(warehouse: Path) -> set[str]:
    """Call dates whose scorecards are behind their rows or verdicts (see ``settle_scorecards``)."""
    from pipeline.warehouse.ledger import Ledger

    if not (warehouse / "ledger.sqlite").exists():
        return set()
    with Ledger(warehouse) as ledger:
        return ledger.dirty_dates()
