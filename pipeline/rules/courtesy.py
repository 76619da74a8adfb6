"""The guide's courtesies beyond the opening and closing: 敬语 (您), taking a message for an absent
colleague, refusing politely and asking who is calling before a transfer.

- ``courtesy.ni`` (基本礼貌用语; 口气要谦虚、客气): the agent calls the caller 你, not 您.
- ``message.not_offered`` (上司或同事外出后的电话接听): the person asked for is absent, and the agent
  does not offer to take a message (需要给他留言吗？/ 我帮您转告).
- ``refusal.no_apology`` (应先道歉再解释缘由，断然拒绝是不礼貌的): the agent turns a request down
  without an apology first.
- ``transfer.no_identity`` (转接 1: 一定要问清对方的姓名和单位): the agent puts the call through
  without knowing who is calling.

Each reads the agent's words only (roles trusted). What a turn does (asks for someone, says they
are away, offers a message, puts the call through) is read in ``speech_acts.py``; the phrases are in
``lexicons/`` (absence, person_request, message_offer, refusal, apology, identity_question,
caller_identity, put_through).
"""

from __future__ import annotations

import math

from pipeline.asr.text import for_scoring
from pipeline.records import Event
from pipeline.rules import CallContext
from pipeline.rules.answers import doubt_shapes, pronoun_counts
from pipeline.rules.speech_acts import (
    asks_for_someone,
    asks_of_the_rules,
    declined,
    gives_name,
    is_away,
    is_request,
    offers_message,
    puts_through,
    takes_it_on,
)

# 2: the shapes of a reply (speech_acts.py), not only the phrase lists; 3: a question of the rules
# is answered, and a hedged no or one after a misheard apology is not flat.
VERSION = "3"
_EVIDENCE_UTTERANCES = 3  # utterances quoted as courtesy.ni's evidence
_ASK_BEFORE_S = 20.0  # a caller's request for a person this long before the agent's 不在 still counts


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


def message_not_offered(ctx: CallContext) -> list[Event]:
    """The agent answers a caller who asked for someone that the person is away, and offers no
    message, call-back or help instead in that reply (which runs until the caller speaks again,
    backchannels aside, and at most ``message_window_s``)."""
    if not ctx.roles_trusted:
        return []
    lex = ctx.lexicon
    backchannels = lex["backchannels"]
    caller = [c for c in ctx.by_role("caller") if not backchannels.is_whole(c.text)]
    agent = ctx.by_role("agent")
    events = []
    for i, u in enumerate(agent):
        # The reply to the caller's last words before it, if those asked for someone.
        before = [c for c in caller if c.start <= u.start]
        asked = before[-1] if before else None
        if asked is None or u.start - asked.start > _ASK_BEFORE_S or not asks_for_someone(asked.text, lex):
            continue
        if not is_away(u.text, lex):
            continue
        reply_end = next((c.start for c in caller if c.start > u.start), math.inf)
        reply = [
            a for a in agent[i:] if a.start < reply_end and a.start <= u.end + ctx.config.message_window_s
        ]
        if any(offers_message(a.text, lex) or takes_it_on(a.text) for a in reply):
            continue
        events.append(
            ctx.event(
                "message.not_offered",
                VERSION,
                start=u.start,
                end=u.end,
                evidence=f"{u.text}〔未主动提出留言或转告〕（来电：{asked.text}）",
            )
        )
    return events[:1]  # one absent colleague per call is the situation; its repeats are one finding


def refusal_no_apology(ctx: CallContext) -> list[Event]:
    """An agent utterance that turns something down with no apology before the refusal in it, nor
    in the agent's utterance just before (the same answer split in two)."""
    if not ctx.roles_trusted:
        return []
    lex = ctx.lexicon
    refusal, apology = lex["refusal"], lex["apology"]
    agent = ctx.by_role("agent")
    events = []
    caller = ctx.by_role("caller")
    for i, u in enumerate(agent):
        asked = [
            c for c in caller if c.end <= u.start + 0.5 and u.start - c.end <= ctx.config.answer_window_s
        ]
        request = asked[-1].text if asked else ""
        found = refusal.find(u.text, homophones=False)
        # A question of the rules that asks nothing for the caller (空调外机可以装在阳台外面吗, 几点到几点
        # 可以施工) is answered, even with a 不可以 or 不允许: the guide's refusal turns down a request
        # (不能满足对方的要求). Asked for oneself (我家狗能不能放前台寄养, 我想在楼道里放个鞋柜，可以吧？), the
        # same words are a request.
        if found is not None and asks_of_the_rules(request):
            found = None
        # Not a reply about a colleague who is away (message.not_offered reads that): a request that
        # names a person and a reply that says they are away. A request's 帮我接一下孩子 or 转给你们 is
        # still a request the agent may turn down.
        if (
            found is None
            and is_request(request)
            and not (asks_for_someone(request, lex) and is_away(u.text, lex))
        ):
            found = declined(u.text)
        # A hedged no (恐怕不太行 …我跟您说不好 …按理说是不行的，我也不晓得) is unsure, not the guide's
        # 断然拒绝: hesitation.unsure reads it. A hedge of three syllables or more is also heard by its
        # sound (案里说 for 按理说), and so is an answer in doubt's shapes (两天三天, 我也不晓得); putting the
        # matter off (明天再说) is no hedge, but a brush-off.
        if (
            found is None
            or lex["hedges"].find(u.text, sound_min_chars=3) is not None
            or doubt_shapes(u.text, lex, but=("put off",))
        ):
            continue
        head = _before(u.text, found) + found  # 给您添不便了: the apology may hold the 不
        previous = agent[i - 1].text if i and u.start - agent[i - 1].end < ctx.config.floor_gap_s else ""
        # An apology misheard (恨包牵 for 很抱歉) is still one: phrases of three syllables by their sound.
        if apology.find(head, sound_min_chars=3) or apology.find(previous, sound_min_chars=3):
            continue
        events.append(
            ctx.event(
                "refusal.no_apology",
                VERSION,
                start=u.start,
                end=u.end,
                evidence=f"{u.text}〔{found}，前无致歉〕",
            )
        )
    return events


def _before(text: str, phrase: str) -> str:
    """``text`` up to where ``phrase`` first appears (its scoring form)."""
    clean = for_scoring(text)
    at = clean.find(phrase)
    return clean[:at] if at >= 0 else clean


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
