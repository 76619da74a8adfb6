"""``greeting.missing``: the agent's first words must contain a greeting (您好, 早上好 ...).

Measured from the agent's first speech, not the file start: ringback, IVR prompts and silence
come first on many recordings. Abstains (no event) when the roles are not trusted or the agent
never speaks: an unknown role must not blame anyone.
"""

from __future__ import annotations

from pipeline.records import Event
from pipeline.rules import CallContext

RULE_ID = "greeting.missing"
VERSION = "1"


def greeting_missing(ctx: CallContext) -> list[Event]:
    if not ctx.roles_trusted:
        return []
    agent = ctx.by_role("agent")
    if not agent:
        return []
    first = agent[0]
    window_end = first.start + ctx.config.greeting_window_s
    opening = [u for u in agent if u.start < window_end]
    if any(ctx.lexicon["greetings"].find(_text_until(u, window_end)) for u in opening):
        return []
    return [
        ctx.event(
            RULE_ID,
            VERSION,
            start=first.start,
            end=min(first.end, window_end),
            evidence=first.text,
            severity="major",
        )
    ]


def _text_until(utterance, limit: float) -> str:
    """The words of an utterance spoken before ``limit`` (all of it when there are no word times)."""
    if not utterance.words:
        return utterance.text
    return "".join(w.text for w in utterance.words if w.start < limit)
