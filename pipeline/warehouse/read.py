"""A small read API for notebooks: periods, agents, and a call's events with their evidence.

Plain pandas; every function reads only the partitions it needs.

    from pipeline.warehouse import read
    wh = read.Warehouse("data/warehouse")
    wh.scorecards("week", agent_id="A101")
    wh.events(start="2026-11-16", end="2026-11-22", rule_id="phrase.banned")
    wh.call("S004")                         # the call, its turns, utterances and events
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.warehouse import schemas
from pipeline.warehouse.store import partition_dates, read_table


def _iso(value: str | date | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True)
class CallView:
    call: pd.Series
    utterances: pd.DataFrame
    events: pd.DataFrame
    turns: pd.DataFrame  # who spoke when (the diarization), with ``overlapped``


class Warehouse:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def dates(self, start: str | date | None = None, end: str | date | None = None) -> list[str]:
        """Stored call dates between ``start`` and ``end`` (inclusive, YYYY-MM-DD)."""
        lo, hi = _iso(start), _iso(end)
        return [d for d in partition_dates(self.path) if (lo is None or d >= lo) and (hi is None or d <= hi)]

    def calls(self, start=None, end=None, agent_id: str | None = None) -> pd.DataFrame:
        frame = read_table(self.path, "calls", self.dates(start, end))
        return frame if agent_id is None else frame[frame["agent_id"] == agent_id].reset_index(drop=True)

    def events(
        self, start=None, end=None, agent_id: str | None = None, rule_id: str | None = None
    ) -> pd.DataFrame:
        """Events with their evidence and times (seconds too, for listening), newest first."""
        frame = read_table(self.path, "events", self.dates(start, end))
        if agent_id is not None:
            frame = frame[frame["agent_id"] == agent_id]
        if rule_id is not None:
            frame = frame[frame["rule_id"] == rule_id]
        frame = frame.assign(start_s=frame["start_ms"] / 1000, end_s=frame["end_ms"] / 1000)
        return frame.sort_values(
            ["call_date", "call_id", "start_ms"], ascending=[False, True, True]
        ).reset_index(drop=True)

    def scorecards(self, period: str = "week", agent_id: str | None = None) -> pd.DataFrame:
        folder = self.path / "scorecards" / f"period={period}"
        if not folder.exists():
            return pd.DataFrame()
        frame = pd.read_parquet(folder)
        frame["period_label"] = frame["period_label"].astype(str)
        # Scorecards written by an older callqa lack the newer counts: zero until rebuilt.
        for name in schemas.SCORECARDS.names:
            if name not in frame:
                frame[name] = 0
        if agent_id is not None:
            frame = frame[frame["agent_id"] == agent_id]
        return frame.sort_values(["period_label", "agent_id"]).reset_index(drop=True)

    def call(self, call_id: str) -> CallView:
        """One call: its row, its turns and utterances in order, and its events with evidence."""
        from pipeline.warehouse.store import stored_dates

        where = stored_dates(self.path, [call_id])
        if call_id not in where:
            raise KeyError(f"call {call_id!r} is not in {self.path}")
        day, one = [where[call_id]], [call_id]
        calls = read_table(self.path, "calls", day, call_ids=one)
        utterances = read_table(self.path, "utterances", day, call_ids=one)
        events = read_table(self.path, "events", day, call_ids=one)
        turns = read_table(self.path, "turns", day, call_ids=one)
        return CallView(
            call=calls[calls["call_id"] == call_id].iloc[0],
            utterances=utterances[utterances["call_id"] == call_id].sort_values("idx").reset_index(drop=True),
            events=events[events["call_id"] == call_id].sort_values("start_ms").reset_index(drop=True),
            turns=turns[turns["call_id"] == call_id].sort_values("idx").reset_index(drop=True),
        )
