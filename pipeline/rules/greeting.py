"""``greeting.missing``: the agent's first words must contain a greeting (您好, 早上好 ...).

Measured from the agent's first speech, not the file start: ringback, IVR prompts and silence
come first on many recordings. Abstains (no event) when the agent never speaks. Abstains too on a
mono call whose first words are a greeting given to the other voice right before the agent's
opening (``greeting_given_away``): most often the agent's own 您好, clustered with the caller.

Where the roles are not trusted (a mono call whose two voices the speaker models could not tell
apart), the opening is read from the words alone (``answer_without_greeting``): the first words
that answer for the centre (喂，物业 / 客服中心，什么事) are the agent's whoever the clustering gave them
to, and an answer with no greeting before or in it is flagged; anything less clear abstains.
"""

from __future__ import annotations

import re

from pipeline.asr.text import han_count
from pipeline.lexicon import Lexicon
from pipeline.records import Event, Utterance
from pipeline.rules import CallContext

RULE_ID = "greeting.missing"
VERSION = "1"


def greeting_missing(ctx: CallContext) -> list[Event]:
    found = opening_without_greeting(ctx)
    if found is None or greeting_heard(ctx, found[0]):
        return []
    opening, confidence = found
    return [
        ctx.event(
            RULE_ID,
            VERSION,
            start=opening.start,
            end=min(opening.end, opening.start + ctx.config.greeting_window_s),
            evidence=opening.text,
            severity="major",
            confidence=confidence,
        )
    ]


def opening_without_greeting(ctx: CallContext) -> tuple[Utterance, float | None] | None:
    """The agent's opening whose words hold no greeting, with the confidence of a finding on it
    (None: the roles'), or None where the rule has nothing to flag or abstains."""
    if not ctx.roles_trusted:
        answer = answer_without_greeting(ctx)
        # The roles behind it are unsure; the words are not: a finding carries the confidence of
        # the opening's reading, not the roles'.
        return None if answer is None else (answer, OPENING_CONFIDENCE)
    agent = ctx.by_role("agent")
    if not agent or greeting_given_away(ctx):
        return None
    first = agent[0]
    window_end = first.start + ctx.config.greeting_window_s
    opening = [u for u in agent if u.start < window_end]
    if any(ctx.lexicon["greetings"].find(_text_until(u, window_end)) for u in opening):
        return None
    return first, None


def greeting_heard(ctx: CallContext, opening: Utterance) -> bool:
    """Whether the sound of ``opening`` was read (``pipeline.asr.hearing``) and fits a reading that
    starts with a greeting within ``greeting_heard_margin`` of the best without one: the words may
    have lost the agent's 您好 (the call's first syllable, on a degraded line), so the rule
    abstains."""
    heard = ctx.greeting_heard
    return (
        heard is not None
        and abs(heard.at - opening.start) < 0.01
        and heard.margin >= ctx.config.greeting_heard_margin
    )


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
    first, _ = _first_clause(opening.text)
    if not first or not greetings.is_whole(first):
        return False
    return _may_be_agents_greeting(opening.text, ctx.lexicon)


def _may_be_agents_greeting(text: str, lexicon: Lexicon) -> bool:
    """What follows a greeting says whose it is: nothing, or the centre's introduction (您好，阳光
    物业…, 您好，请问有什么可以帮您), could be the agent's; a sentence of the speaker's own (你好，我是
    新搬来的租户) cannot, and the agent who answered it without a greeting is flagged."""
    _, rest = _first_clause(text)
    return han_count(rest) <= 2 or lexicon["self_intro"].find(rest) is not None


def _first_clause(text: str) -> tuple[str, str]:
    """The first clause of ``text`` and what follows it."""
    parts = re.split(r"[，。？！、,.?!\s]", text.strip(), maxsplit=1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _text_until(utterance, limit: float) -> str:
    """The words of an utterance spoken before ``limit`` (all of it when there are no word times)."""
    if not utterance.words:
        return utterance.text
    return "".join(w.text for w in utterance.words if w.start < limit)


# The confidence of a finding read from the opening's words alone (``answer_without_greeting``):
# the roles behind the call are unsure, but only the centre answers for the centre.
OPENING_CONFIDENCE = 0.8
# How many of the call's first utterances are read for the opening.
_OPENING_UTTERANCES = 3
# A clause that names the centre and asks for or about it is the caller's (喂，是物业吗？我找物业).
_ASKING = ("吗", "找", "是不是", "是物业", "是客服")


def answer_without_greeting(ctx: CallContext) -> Utterance | None:
    """The call's answer for the centre, read from the words alone, when it carries no greeting.

    For calls whose roles are not trusted: the voices were merged or could not be told apart, yet
    the opening says who answered. The first utterance among the call's first three (within
    ``greeting_window_s`` of the first speech) with a clause naming the centre (``self_intro``:
    物业, 客服中心, 工号 ...), not asking for it, is the agent's answer. It is returned when neither
    it nor anything before it greets, except a caller's own greeting (你好，我是五栋的业主: a greeting
    followed by words of the speaker's own and no introduction of the centre). Anything else (a
    bare 您好 before the answer, which may be the agent's own given to another voice, or no answer
    for the centre at all, as in 什么事？) returns None: the rule abstains.
    """
    greetings, intro = ctx.lexicon["greetings"], ctx.lexicon["self_intro"]
    speech = sorted((u for u in ctx.utterances if u.scorable and u.text.strip()), key=lambda u: u.start)
    if not speech:
        return None
    until = speech[0].start + ctx.config.greeting_window_s
    for u in [u for u in speech if u.start < until][:_OPENING_UTTERANCES]:
        text = _text_until(u, u.start + ctx.config.greeting_window_s)
        clauses = [c for c in re.split(r"[，。？！、,.?!\s]", text) if c]
        answers = any(intro.find(c) and not any(a in c for a in _ASKING) for c in clauses)
        if greetings.find(text):
            if answers or _may_be_agents_greeting(text, ctx.lexicon):
                return None  # the agent greeted, or perhaps did and it went to another voice
            continue  # the caller greeting first and saying who they are
        if answers:
            # A greeting of the centre's after the answer, within the window, may still be the
            # agent's (喂，物业。…您好，请讲): only a caller's greeting back (你好，我家…) leaves it bare.
            window = u.start + ctx.config.greeting_window_s
            for later in (v for v in speech if u.start < v.start < window):
                later_text = _text_until(later, window)
                if greetings.find(later_text) and _may_be_agents_greeting(later_text, ctx.lexicon):
                    return None
            return u
    return None
