"""Opening, closing, pace and hold etiquette of the agent (the guide's 电话接听程序 and 礼貌用语)."""

from __future__ import annotations

import itertools

from pipeline.asr.text import for_scoring, han_count, spoken_count
from pipeline.records import Event, Utterance
from pipeline.rules import CallContext
from pipeline.rules.greeting import HANDOVER_GAP_S

VERSION = "1"


def self_intro_missing(ctx: CallContext) -> list[Event]:
    """The agent names the centre, the company or their staff number early in the call."""
    agent = ctx.by_role("agent")
    if not ctx.roles_trusted or not agent:
        return []
    limit = agent[0].start + ctx.config.self_intro_window_s
    opening = [u for u in agent if u.start < limit]
    if ctx.lexicon["self_intro"].find("".join(u.text for u in opening)):
        return []
    return [
        ctx.event(
            "self_intro.missing",
            VERSION,
            start=agent[0].start,
            end=opening[-1].end,
            evidence=agent[0].text,
            severity="minor",
        )
    ]


def closing_missing(ctx: CallContext) -> list[Event]:
    """The agent ends the call with a closing (再见, 感谢您的来电 ...)."""
    agent = ctx.by_role("agent")
    if not ctx.roles_trusted or not agent:
        return []
    last_end = agent[-1].end
    tail = [u for u in agent if u.end > last_end - ctx.config.closing_window_s]
    if ctx.lexicon["closings"].find("".join(u.text for u in tail)) or closing_given_away(ctx):
        return []
    return [
        ctx.event(
            "closing.missing",
            VERSION,
            start=tail[0].start,
            end=last_end,
            evidence=agent[-1].text,
            severity="minor",
        )
    ]


# A closing said alone is short (再见, 好的再见, 谢谢再见); a caller who says more is talking.
_LONE_CLOSING_CHARS = 6


def closing_given_away(ctx: CallContext) -> bool:
    """The call ends with the other voice saying nothing but a closing (再见, 谢谢再见) right after
    the agent's last words: on a mono call that short 再见 is as often the agent's own, clustered
    with the caller, as the caller's answer to one. Who said it is unsure, and closing.missing
    abstains. With one party per channel (stereo, confidence 1) it never applies."""
    if ctx.roles.confidence >= 1.0:
        return False
    speech = sorted((u for u in ctx.utterances if u.scorable), key=lambda u: u.end)
    if len(speech) < 2 or speech[-1].role == "agent" or speech[-2].role != "agent":
        return False
    last, agent = speech[-1], speech[-2]
    closings = ctx.lexicon["closings"]
    return (
        last.start - agent.end <= HANDOVER_GAP_S
        and closings.find(last.text) is not None
        and han_count(last.text) <= _LONE_CLOSING_CHARS
    )


def chars_per_second(u: Utterance) -> float:
    """Speaking rate in 字/秒: syllables said (numbers in digits counted as said) a second."""
    seconds = u.end - u.start
    return spoken_count(u.text) / seconds if seconds > 0 else 0.0


def pace_fast(ctx: CallContext) -> list[Event]:
    """Agent turns spoken faster than a caller can follow."""
    if not ctx.roles_trusted:
        return []
    cfg = ctx.config
    return [
        ctx.event(
            "pace.fast",
            VERSION,
            start=u.start,
            end=u.end,
            evidence=f"{u.text} ({chars_per_second(u):.1f} 字/秒)",
            severity="minor",
        )
        for u in ctx.by_role("agent")
        if spoken_count(u.text) >= cfg.pace_min_chars and chars_per_second(u) > cfg.pace_fast_chars_per_s
    ]


def hold_etiquette(ctx: CallContext) -> list[Event]:
    """Before a hold the agent says 请您稍等; after it, 让您久等了."""
    if not ctx.roles_trusted:
        return []
    speech = sorted((u for u in ctx.utterances if u.role in ("agent", "caller")), key=lambda u: u.start)
    events = []
    reach = 0.0
    for i, (before, after) in enumerate(itertools.pairwise(speech)):
        reach = max(reach, before.end)
        if after.start - reach < ctx.config.hold_min_s:
            continue
        # A hold: silence between the agent's last words and the agent taking up the call again.
        went = next((u for u in reversed(speech[: i + 1]) if u.role == "agent"), None)
        came_back = next((u for u in speech[i + 1 :] if u.role == "agent"), None)
        if went is None or came_back is None:
            continue
        if not ctx.lexicon["hold_notice"].find(went.text):
            events.append(
                ctx.event(
                    "hold.no_notice",
                    VERSION,
                    start=reach,
                    end=after.start,
                    evidence=went.text,
                    severity="minor",
                )
            )
        if not ctx.lexicon["hold_apology"].find(came_back.text):
            events.append(
                ctx.event(
                    "hold.no_apology",
                    VERSION,
                    start=came_back.start,
                    end=came_back.end,
                    evidence=came_back.text,
                    severity="minor",
                )
            )
    return events


def polite_counts(
    utterances: list[Utterance] | tuple[Utterance, ...], phrases: tuple[str, ...]
) -> dict[str, int]:
    """How often the agent uses each of the guide's 基本礼貌用语 (您好, 请, 谢谢, 对不起, 再见)."""
    text = "".join(for_scoring(u.text) for u in utterances if u.role == "agent" and u.scorable)
    return {p: text.count(p) for p in phrases}
