"""The quality team's verdicts on findings: ``reviews/``, append-only, the latest verdict wins.

A reviewer who listened to a finding upholds it or overturns it (a false alarm). Each verdict is
one small Parquet file, ``reviews/<time>-<id>.parquet``, written to a temp name and renamed: a
verdict is never half-written, never rewrites another, and needs no lock, so it is safe beside a
running nightly batch (which never writes this folder). An overturned finding deducts nothing:
the scorecards of its day and week are recomputed at once, or, while a batch holds the
warehouse, marked for the batch (or the next one) to recompute.

Verdicts are keyed by ``events.event_id``, which a rescore gives the same finding again, so they
survive rescoring; a verdict on a finding that a rescore no longer raises simply has nothing left
to apply to.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline.config import ScoringConfig
from pipeline.warehouse.schemas import REVIEWS
from pipeline.warehouse.store import append_record, read_appended, read_table

# "reopened" takes a verdict back (the desk's undo): the finding is open again. Nothing is deleted;
# a finding's history is every verdict it was given, and the latest counts.
VERDICTS = ("upheld", "overturned", "reopened")
NOTE_MAX_CHARS = 500  # a reviewer's note: what the desk's form allows, refused beyond (never cut)


def charged_rules(scoring: ScoringConfig) -> frozenset[str]:
    """The rules whose findings cost the agent points today (a weight in ``[scoring.weights]``,
    not in shadow mode: ``pipeline.rules.modes``).

    This is what "open" means in the scorecards' ``events_open`` and the weekly report: a finding
    of one of these rules with no verdict yet. The desk's queue also lists the findings of rules in
    shadow mode (试运行), whose verdicts measure the rule and cost nothing. Other findings (a
    caller's interruption) are context, shown with the call but never waiting for a verdict.
    """
    from pipeline.rules.modes import rule_mode

    return frozenset(rule for rule in scoring.weights if rule_mode(rule, scoring) == "scoring")


class UnknownEventError(KeyError):
    """No stored finding has this id."""


@dataclass(frozen=True)
class Review:
    review_id: str
    event_id: str
    call_id: str
    agent_id: str
    rule_id: str
    category: str
    call_date: str
    verdict: str
    reviewer: str
    note: str
    reviewed_at: datetime


def find_event(warehouse: Path, event_id: str) -> pd.Series:
    """The stored finding with this id (and its ``call_date``); UnknownEventError if none."""
    # Only the columns a verdict and a clip need: a year of findings is millions of rows.
    columns = ["event_id", "call_id", "agent_id", "rule_id", "category", "start_ms", "end_ms"]
    events = read_table(warehouse, "events", columns=columns)
    match = events[events["event_id"] == event_id]
    if match.empty:
        raise UnknownEventError(f"no finding {event_id!r} in {warehouse / 'events'}")
    return match.iloc[0]


def record_review(
    warehouse: Path,
    event_id: str,
    verdict: str,
    reviewer: str,
    note: str = "",
    now: datetime | None = None,
) -> Review:
    """Append one verdict on a stored finding (see the module's docstring); returns it."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    if not reviewer.strip():
        raise ValueError("a verdict needs the reviewer's name")
    if len(note) > NOTE_MAX_CHARS:
        raise ValueError(f"备注最多 {NOTE_MAX_CHARS} 字，这条有 {len(note)} 字：请缩短后再提交")
    event = find_event(warehouse, event_id)
    review = Review(
        review_id=uuid.uuid4().hex,
        event_id=event_id,
        call_id=str(event["call_id"]),
        agent_id=str(event["agent_id"]),
        rule_id=str(event["rule_id"]),
        category=str(event["category"] or ""),
        call_date=str(event["call_date"]),
        verdict=verdict,
        reviewer=reviewer.strip(),
        note=note,
        reviewed_at=now or datetime.now(UTC),
    )
    append_record(warehouse / "reviews", REVIEWS, review.__dict__, review.reviewed_at, review.review_id)
    return review


def read_reviews(warehouse: Path) -> pd.DataFrame:
    """Every verdict ever recorded, oldest first."""
    table = read_appended(warehouse / "reviews", REVIEWS)
    return table.to_pandas().sort_values(["reviewed_at", "review_id"]).reset_index(drop=True)


def latest_verdicts(warehouse: Path) -> pd.DataFrame:
    """One row per reviewed finding: its latest verdict (a finding whose latest is "reopened" is
    open again, and has none)."""
    latest = read_reviews(warehouse).drop_duplicates("event_id", keep="last")
    return latest[latest["verdict"] != "reopened"].reset_index(drop=True)


def history(warehouse: Path, event_ids: Collection[str]) -> pd.DataFrame:
    """Every verdict given on these findings, oldest first (who, when, what, why)."""
    reviews = read_reviews(warehouse)
    return reviews[reviews["event_id"].isin(set(event_ids))].reset_index(drop=True)


def overturned_ids(warehouse: Path) -> set[str]:
    latest = latest_verdicts(warehouse)
    return set(latest.loc[latest["verdict"] == "overturned", "event_id"])


def reviewed_precision(warehouse: Path) -> pd.DataFrame:
    """Precision per rule as the reviewers measured it: upheld / (upheld + overturned) of the
    findings they ruled on; the real-world counterpart of the corpus figures."""
    latest = latest_verdicts(warehouse)
    if latest.empty:
        return pd.DataFrame(columns=["rule_id", "reviewed", "upheld", "overturned", "precision"])
    out = (
        latest.assign(upheld=latest["verdict"] == "upheld", overturned=latest["verdict"] == "overturned")
        .groupby("rule_id")
        .agg(reviewed=("event_id", "size"), upheld=("upheld", "sum"), overturned=("overturned", "sum"))
        .reset_index()
    )
    out["precision"] = out["upheld"] / out["reviewed"]
    return out
