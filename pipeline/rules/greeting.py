"""``greeting.missing``: the agent's first words must contain a greeting (您好, 早上好 ...).

Measured from the agent's first speech, not the file start: ringback, IVR prompts and silence
come first on many recordings. Abstains (no event) when the roles are not trusted or the agent
never speaks: an unknown role must not blame anyone. Abstains too on a mono call whose first
words are a greeting given to the other voice right before the agent's opening
(``greeting_given_away``): most often the agent's own 您好, clustered with the caller.
"""

from __future__ import annotations

import re

from pipeline.lexicon import PhraseList
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
    if greeting_given_away(ctx):
        return []
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


# The other voice's greeting ends at most this long before the agent's opening (a pause inside one
# speaker's 您好，阳光物业… is shorter than a change of speaker with an answer); closing.missing
# reads a closing given away after the agent's last words the same way.
HANDOVER_GAP_S = 0.6


def greeting_given_away(ctx: CallContext) -> bool:
    """The call opens with the other voice greeting (您好, or 您好，阳光物业… that begins with one),
    and the agent's opening follows it within ``HANDOVER_GAP_S``: on a mono call that greeting is
    most often the agent's own, clustered with the caller. Who said it is then unsure, and the
    rule abstains. With one party per channel (stereo: the roles come from the channel map,
    confidence 1) it never applies."""
    if ctx.roles.confidence >= 1.0:
        return False
    speech = sorted((u for u in ctx.utterances if u.scorable), key=lambda u: u.start)
    if len(speech) < 2 or speech[0].role == "agent" or speech[1].role != "agent":
        return False
    opening, agent = speech[0], speech[1]
    return agent.start - opening.end <= HANDOVER_GAP_S and _begins_with(
        ctx.lexicon["greetings"], opening.text
    )


def _begins_with(phrases: PhraseList, text: str) -> bool:
    """``text`` opens with one of ``phrases`` (its first clause is nothing but the phrase)."""
    first = re.split(r"[，。？！、,.?!\s]", text.strip(), maxsplit=1)[0]
    return bool(first) and phrases.is_whole(first)


def _text_until(utterance, limit: float) -> str:
    """The words of an utterance spoken before ``limit`` (all of it when there are no word times)."""
    if not utterance.words:
        return utterance.text
    return "".join(w.text for w in utterance.words if w.start < limit)
