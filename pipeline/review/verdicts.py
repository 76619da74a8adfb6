"""Recording a reviewer's verdict and making the scores follow it (``callqa review``, the desk)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.config import ScoringConfig
from pipeline.warehouse.reviews import Review, record_review


@dataclass(frozen=True)
class ReviewOutcome:
    review: Review
    # True: the day's and week's scorecards were recomputed now; False: a nightly batch holds the
    # warehouse, and the date is marked for it (or the next run) to recompute.
    scorecards_updated: bool


def review_finding(
    warehouse: Path, scoring: ScoringConfig, event_id: str, verdict: str, reviewer: str, note: str = ""
) -> ReviewOutcome:
    """Append the verdict (UnknownEventError for an unknown id), then recompute the scorecards of
    the finding's day and week, or leave that to the run that holds the warehouse."""
    from pipeline.run.batch import RunLock, RunLocked
    from pipeline.warehouse.ledger import Ledger
    from pipeline.warehouse.scorecards import update_scorecards

    review = record_review(warehouse, event_id, verdict, reviewer, note)
    try:
        with RunLock(warehouse):
            update_scorecards(warehouse, scoring, {review.call_date})
        return ReviewOutcome(review, True)
    except RunLocked:
        with Ledger(warehouse) as ledger:
            ledger.mark_dirty({review.call_date})
        return ReviewOutcome(review, False)
