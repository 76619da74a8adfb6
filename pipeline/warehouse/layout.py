"""Stereo calls whose words contradicted the configured channel map, counted per agent, per day
and over a set of calls: a site that wired the agent to the other side shows as most of an
agent's or a day's calls, which the nightly summary and the weekly report say in words."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.records import CHANNEL_MAP_CONTRADICTED


@dataclass(frozen=True)
class LayoutWarning:
    scope: str  # "agent", "day" or "all"
    key: str  # the agent id, the call date, or "" for all
    contradicted: int
    calls: int  # stereo calls in the scope

    def message(self) -> str:
        where = {"agent": f"坐席 {self.key} 的", "day": f"{self.key} 的", "all": ""}[self.scope]
        return (
            f"{where}立体声通话中有 {self.contradicted}/{self.calls} 通的话语与配置的声道不符"
            "（坐席像是在另一个声道）：这些通话已按话语判定坐席，请检查录音设备的声道接线"
            "或 callqa.toml 的声道配置（layout）"
        )


def contradicted_layouts(calls: pd.DataFrame, min_calls: int = 2) -> list[LayoutWarning]:
    """Where most stereo calls (more than half, ``min_calls`` at least) of an agent, a day, or all
    of ``calls`` (rows of the calls table: ``layout``, ``role_reason``, ``agent_id``,
    ``call_date``) contradicted the channel map; the whole set first, then days, then agents."""
    if calls.empty:
        return []
    stereo = calls[calls["layout"].astype(str).str.startswith("stereo")]
    if stereo.empty:
        return []
    stereo = stereo.assign(
        contradicted=stereo["role_reason"].fillna("").str.contains(CHANNEL_MAP_CONTRADICTED, regex=False),
        everything="",
    )
    out: list[LayoutWarning] = []
    for scope, column in (("all", "everything"), ("day", "call_date"), ("agent", "agent_id")):
        if column not in stereo:
            continue
        for key, group in stereo.groupby(column):
            n, bad = len(group), int(group["contradicted"].sum())
            if n >= min_calls and 2 * bad > n:
                out.append(LayoutWarning(scope, str(key), bad, n))
    return out
