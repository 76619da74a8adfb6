"""The guide's courtesies beyond the opening and closing: 敬语 (您) and asking who is calling
before a transfer.

- ``courtesy.ni`` (基本礼貌用语; 口气要谦虚、客气): the agent calls the caller 你, not 您.
- ``transfer.no_identity`` (转接 1: 一定要问清对方的姓名和单位): the agent puts the call through
  without knowing who is calling.

Each reads the agent's words only (roles trusted). What a turn does (asks for someone, puts the
call through, gives a name) is read in ``speech_acts.py``; the phrases are in ``lexicons/``
(person_request, identity_question, caller_identity, put_through). Taking a message for an absent
colleague and refusing politely are read by the reply reader (``pipeline.rules.reader``).
"""

from __future__ import annotations

from pipeline.records import Event
from pipeline.rules import CallContext
from pipeline.rules.answers import pronoun_counts
from pipeline.rules.speech_acts import asks_for_someone, gives_name, is_request, puts_through

# 2: the shapes of a reply (speech_acts.py), not only the phrase lists; 3: a question of the rules
# is answered (then read by refusal.no_apology, retired 2026-12-07).
VERSION = "3"
_EVIDENCE_UTTERANCES = 3  # utterances quoted as courtesy.ni's evidence


def courtesy_ni(ctx: CallContext) -> list[Event]:
    """One finding per call: the agent said 你 to the caller ``ni_min_count`` times or more, and
    您 was at most ``ni_max_nin_share`` of the two."""
    if not ctx.roles_trusted:
        return []
    agent = ctx.by_role("agent")
    with_ni = [u for u in agent if pronoun_counts(u.text)[1]]
    nin, ni = pronoun_counts("".join(u.text for u in agent))
    if ni < ctx.config.ni_min_count or nin / (nin + ni) > ctx.config.ni_max_nin_share:
        return []
    quoted = "／".join(u.text for u in with_ni[:_EVIDENCE_UTTERANCES])
    return [
        ctx.event(
            "courtesy.ni",
            VERSION,
            start=with_ni[0].start,
            end=with_ni[-1].end,
            evidence=f"{quoted}〔称“你” {ni} 次，“您” {nin} 次〕",
            severity="minor",
        )
    ]


def transfer_no_identity(ctx: CallContext) -> list[Event]:
    """The agent puts the call through before anyone said who is calling: the caller gave no name
    (我姓 ..., 我叫 ...) so far, and the agent did not ask (贵姓, 怎么称呼, 哪个单位 ...) since the
    caller asked for what the transfer answers (a name asked for a message earlier in the call, and
    never given, does not cover a later transfer)."""
    if not ctx.roles_trusted:
        return []
    lex = ctx.lexicon
    speech = sorted((u for u in ctx.utterances if u.scorable), key=lambda u: u.start)
    named, asked_name, asked_for = False, False, False
    for u in speech:
        if u.role == "caller":
            named = named or gives_name(u.text, lex)
            asked_for = asks_for_someone(u.text, lex) or is_request(u.text)
            asked_name = asked_name and not asked_for
            continue
        if u.role != "agent":
            continue
        if lex["identity_question"].find(u.text, sound_min_chars=3):
            asked_name = True
        if puts_through(u.text, lex, in_reply=asked_for) and not (named or asked_name):
            return [
                ctx.event(
                    "transfer.no_identity",
                    VERSION,
                    start=u.start,
                    end=u.end,
                    evidence=f"{u.text}〔转接前未问清对方姓名和单位〕",
                )
            ]
    return []
