"""Recording a reviewer's verdict and making the scores follow it (``callqa review``, the desk)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import ScoringConfig
from pipeline.warehouse.reviews import Review, record_review

# A verdict waits this long for another writer (a verdict's recompute, a rescore) to let go of the
# warehouse; a nightly run holds it longer: the scores are then pending, and whoever holds the
# warehouse next (the run itself as it ends, the desk, the next verdict) recomputes them.
VERDICT_LOCK_WAIT_S = 5.0


@dataclass(frozen=True)
class ReviewOutcome:
    review: Review
    # True: the day's and week's scorecards now count this verdict; False: another writer holds
    # the warehouse, and the date is marked for whoever holds it next to recompute (pending).
    scorecards_updated: bool


def review_finding(
    warehouse: Path,
    scoring: ScoringConfig,
    event_id: str,
    verdict: str,
    reviewer: str,
    note: str = "",
    wait_s: float = VERDICT_LOCK_WAIT_S,
) -> ReviewOutcome:
    """Append the verdict (UnknownEventError for an unknown id), mark its day's scorecards as
    behind, then recompute every day marked so (``settle_scorecards``) if the warehouse's lock can
    be had within ``wait_s``; otherwise its holder or the next one does."""
    from pipeline.run.batch import RunLock, RunLocked
    from pipeline.warehouse.ledger import Ledger
    from pipeline.warehouse.scorecards import settle_scorecards

    review = record_review(warehouse, event_id, verdict, reviewer, note)
    # Marked before the lock is tried: a holder that is recomputing now takes the mark in its
    # next round, so the verdict counts even if this call gives up waiting.
    with Ledger(warehouse) as ledger:
        ledger.mark_dirty({review.call_date})
    try:
        with RunLock(warehouse, wait_s=wait_s):
            settle_scorecards(warehouse, scoring)
        return ReviewOutcome(review, True)
    except RunLocked:
        return ReviewOutcome(review, False)


def decide_appeal(
    warehouse: Path, scoring: ScoringConfig, appeal_id: str, granted: bool, reviewer: str, note: str = ""
) -> ReviewOutcome:
    """A lead's decision on an agent's appeal: the verdict it means (granted: the finding is
    overturned; denied: upheld), then the decision itself (``pipeline.warehouse.appeals``). The
    verdict comes first: should the decision not be written, the appeal stays open and the lead
    decides again, adding one more verdict, never a decision without its verdict."""
    from pipeline.warehouse import appeals

    appeal = appeals.open_appeal(warehouse, appeal_id, note)
    reason = f"申诉{'成立' if granted else '不成立'}" + (f"：{note.strip()}" if note.strip() else "")
    verdict = "overturned" if granted else "upheld"
    outcome = review_finding(warehouse, scoring, str(appeal["event_id"]), verdict, reviewer, reason)
    appeals.record_decision(warehouse, appeal, granted, reviewer, note)
    return outcome
