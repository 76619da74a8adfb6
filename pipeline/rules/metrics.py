"""Per-call talk, silence, overlap and pace, from turns and utterances."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipeline.asr.text import spoken_count
from pipeline.audio.prosody import VoiceMeasures
from pipeline.records import CallMetrics, Turn, Utterance
from pipeline.rules import CallContext

Interval = tuple[float, float]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def total(intervals: Iterable[Interval]) -> float:
    return sum(end - start for start, end in intervals)


def intersection(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Overlap of two sorted, disjoint interval lists."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def call_metrics(
    call_id: str, agent_id: str, duration: float, turns: Sequence[Turn], utterances: Sequence[Utterance]
) -> CallMetrics:
    by_role = {
        role: union((u.start, u.end) for u in utterances if u.role == role) for role in ("agent", "caller")
    }
    speech = union((t.start, t.end) for t in turns)
    started_by = {"agent": 0.0, "caller": 0.0}
    for start, end in intersection(by_role["agent"], by_role["caller"]):
        # Whoever's stretch of speech began later is the one who cut in.
        began = {role: max(s for s, e in by_role[role] if s <= start) for role in ("agent", "caller")}
        started_by["agent" if began["agent"] > began["caller"] else "caller"] += end - start
    agent_speech = [u for u in utterances if u.role == "agent" and u.scorable]
    agent_seconds = sum(u.end - u.start for u in agent_speech)
    agent_chars = sum(spoken_count(u.text) for u in agent_speech)
    return CallMetrics(
        call_id=call_id,
        agent_id=agent_id,
        duration=round(duration, 3),
        talk_agent=round(total(by_role["agent"]), 3),
        talk_caller=round(total(by_role["caller"]), 3),
        silence=round(max(0.0, duration - total(speech)), 3),
        overlap=round(total(intersection(by_role["agent"], by_role["caller"])), 3),
        agent_chars_per_s=round(agent_chars / agent_seconds, 3) if agent_seconds > 0 else 0.0,
        n_utterances=len(utterances),
        overlap_started_by_agent=round(started_by["agent"], 3),
        overlap_started_by_caller=round(started_by["caller"], 3),
    )


def agent_measures(ctx: CallContext, voice: VoiceMeasures | None = None) -> dict[str, float]:
    """The agent's answer, word and voice measures (``CallMetrics.agent_*``): NaN where the roles
    are not trusted, since whose words and voice they would be is a guess."""
    from pipeline.rules.answers import agent_answers, answer_measures

    if not ctx.roles_trusted:
        return {}
    words = answer_measures(ctx.utterances, ctx.lexicon, agent_answers(ctx))
    out = {
        "agent_hedges_per_min": words.hedges_per_min,
        "agent_fillers_per_min": words.fillers_per_min,
        "agent_answer_latency_s": words.answer_latency_s,
        "agent_nin_share": words.nin_share,
    }
    if voice is not None:
        out |= {f"agent_{name}": round(float(value), 3) for name, value in voice.__dict__.items()}
    return out
