"""``greeting.missing``: the agent's first words must contain a greeting (您好, 早上好 ...).

Measured from the agent's first speech, not the file start: ringback, IVR prompts and silence
come first on many recordings. Abstains (no event) when the roles are not trusted or the agent
never speaks: an unknown role must not blame anyone. Abstains too on a mono call whose first
words are a greeting given to the other voice right before the agent's opening
(``greeting_given_away``): most often the agent's own 您好, clustered with the caller.
"""

from __future__ import annotations

import re

from pipeline.asr.text import han_count
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
    """The call opens with the other voice greeting (您好 alone, or 您好，阳光物业… that begins with
    one; or its last word and the agent's first make a greeting), and the agent's opening follows
    it within ``HANDOVER_GAP_S``: on a mono call that greeting is most often the agent's own,
    clustered with the caller. Who said it is then unsure, and the
    rule abstains. With one party per channel (stereo: the roles come from the channel map,
    confidence 1) it never applies."""
    if ctx.roles.confidence >= 1.0:
        return False
    speech = sorted((u for u in ctx.utterances if u.scorable), key=lambda u: u.start)
    if len(speech) < 2 or speech[0].role == "agent" or speech[1].role != "agent":
        return False
    opening, agent = speech[0], speech[1]
    if agent.start - opening.end > HANDOVER_GAP_S:
        return False
    greetings = ctx.lexicon["greetings"]
    # A greeting cut in two at the change of voice (the agent's 您 given to the caller, 好，阳光物业…
    # to the agent: word times are a syllable off at a change with no pause).
    if opening.words and greetings.find(_first_clause(opening.words[-1].text + agent.text)[0]):
        return True
    first, rest = _first_clause(opening.text)
    if not first or not greetings.is_whole(first):
        return False
    # What follows the greeting says whose it is: nothing, or the centre's introduction (您好，阳光
    # 物业…, 您好，请问有什么可以帮您), could be the agent's; a sentence of the caller's own (你好，我是
    # 新搬来的租户) cannot, and the agent who answered it without a greeting is flagged.
    return han_count(rest) <= 2 or ctx.lexicon["self_intro"].find(rest) is not None


def _first_clause(text: str) -> tuple[str, str]:
    """The first clause of ``text`` and what follows it."""
    parts = re.split(r"[，。？！、,.?!\s]", text.strip(), maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _text_until(utterance, limit: float) -> str:
    """The words of an utterance spoken before ``limit`` (all of it when there are no word times)."""
    if not utterance.words:
        return utterance.text
    return "".join(w.text for w in utterance.words if w.start < limit)
