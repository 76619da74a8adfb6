"""Each rule's standing: its mode, weight, recent findings and reviewed precision.

What ``callqa rules`` prints and the weekly report's rules table shows. Reviewed precision is the
share of a rule's reviewed findings (of calls in the window, latest verdict each; a reopened
finding is unreviewed again) that the quality team upheld: how often the rule is right when
someone listened. It is what a rule in shadow mode (试运行) earns before the quality lead promotes
it, and what flags a scoring rule that has started to go wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from pipeline.config import ScoringConfig

WINDOW_DAYS = 28  # "the last 4 weeks" of the rules table


@dataclass(frozen=True)
class RuleStanding:
    rule_id: str
    name: str  # the guide's name (RULE_NAMES)
    mode: str  # scoring | shadow | context (pipeline.rules.modes)
    weight: float  # points a finding costs once scoring (0: none)
    promoted: str  # the first call date it scores from, "" if never promoted
    findings: int  # findings of calls in the window
    reviewed: int
    upheld: int
    overturned: int
    below_floor: bool  # enough verdicts, and precision under [scoring] precision_floor

    @property
    def precision(self) -> float | None:
        return self.upheld / self.reviewed if self.reviewed else None


def rule_standings(
    warehouse: Path, scoring: ScoringConfig, today: date | None = None, days: int = WINDOW_DAYS
) -> list[RuleStanding]:
    """Every known rule (registered, weighted or seen in the window), in the guide's order; a
    retired rule only where it has findings in the window."""
    from pipeline.config import RETIRED_RULES
    from pipeline.rules import RULE_NAMES
    from pipeline.rules.modes import SHADOW_BY_DEFAULT, rule_mode
    from pipeline.warehouse.read import Warehouse
    from pipeline.warehouse.reviews import latest_verdicts

    today = today or date.today()
    since = (today - timedelta(days=days - 1)).isoformat()
    events = (
        Warehouse(warehouse).events(since, today.isoformat()) if (warehouse / "events").exists() else None
    )
    if events is None or events.empty:
        events = pd.DataFrame({"event_id": pd.Series(dtype=str), "rule_id": pd.Series(dtype=str)})
    latest = latest_verdicts(warehouse)[["event_id", "verdict"]]
    judged = events[["event_id", "rule_id"]].merge(latest, on="event_id", how="left")
    judged = judged[judged["verdict"] != "reopened"]
    counts = judged.groupby("rule_id").agg(
        findings=("event_id", "size"),
        upheld=("verdict", lambda v: int((v == "upheld").sum())),
        overturned=("verdict", lambda v: int((v == "overturned").sum())),
    )
    order = list(RULE_NAMES) + sorted(
        (set(scoring.weights) | SHADOW_BY_DEFAULT | set(counts.index)) - set(RULE_NAMES)
    )
    out = []
    for rule in order:
        row = counts.loc[rule] if rule in counts.index else None
        if row is None and rule in RETIRED_RULES:
            continue  # no longer run, and nothing of it in the window
        upheld = int(row["upheld"]) if row is not None else 0
        overturned = int(row["overturned"]) if row is not None else 0
        reviewed = upheld + overturned
        out.append(
            RuleStanding(
                rule_id=rule,
                name=RULE_NAMES.get(rule, rule),
                mode=rule_mode(rule, scoring, today.isoformat()),
                weight=float(scoring.weights.get(rule, 0.0)),
                promoted=scoring.promoted.get(rule, ""),
                findings=int(row["findings"]) if row is not None else 0,
                reviewed=reviewed,
                upheld=upheld,
                overturned=overturned,
                below_floor=reviewed >= scoring.precision_min_reviews
                and upheld / reviewed < scoring.precision_floor,
            )
        )
    return out
