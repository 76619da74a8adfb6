"""The guide's courtesies beyond the opening and closing: 敬语 (您), taking a message for an absent
colleague, refusing politely and asking who is calling before a transfer.

- ``courtesy.ni`` (基本礼貌用语; 口气要谦虚、客气): the agent calls the caller 你, not 您.
- ``message.not_offered`` (上司或同事外出后的电话接听): the person asked for is absent, and the agent
  does not offer to take a message (需要给他留言吗？/ 我帮您转告).
- ``refusal.no_apology`` (应先道歉再解释缘由，断然拒绝是不礼貌的): the agent turns a request down
  without an apology first.
- ``transfer.no_identity`` (转接 1: 一定要问清对方的姓名和单位): the agent puts the call through
  without knowing who is calling.

Each reads the agent's words only (roles trusted); phrases are in ``lexicons/`` (absence,
person_request, message_offer, refusal, apology, identity_question, caller_identity, put_through).
"""

from __future__ import annotations

import re

from pipeline.asr.text import for_scoring
from pipeline.lexicon import Lexicon
from pipeline.records import Event, Utterance
from pipeline.rules import CallContext
from pipeline.rules.answers import pronoun_counts

VERSION = "1"
_EVIDENCE_UTTERANCES = 3  # utterances quoted as courtesy.ni's evidence
_ASK_BEFORE_S = 20.0  # a caller's request for a person this long before the agent's 不在 still counts

# Where the person is instead, in the agent's own words, beyond the phrases of absence.toml: busy
# with something (正在接电话, 在配电房检修), gone somewhere (去银行了, 到现场了), back only later
# (下午才回来). Read only in a reply to a caller who asked for someone.
_AWAY = re.compile(
    r"正在[\u4e00-\u9fff]|(去|到)(?!期|年|账)[\u4e00-\u9fff]{1,6}了|才(能)?回来|"
    r"在[\u4e00-\u9fff]{1,6}(开会|检修|盘点|巡查|巡逻|施工|维修|值班|培训|接待|忙)"
)
# Asking for someone in more words than person_request.toml has: 在办公室吗, 今天还回来吗, 帮我转一下.
_ASKS_FOR = re.compile(r"在[\u4e00-\u9fff]{1,6}吗|回来(了)?吗|回来没|转一下|帮我转|给我转")


def is_away(text: str, lex: Lexicon) -> bool:
    """The agent says the person asked for is not available (absence.toml, or ``_AWAY``)."""
    return lex["absence"].find(text, homophones=False) is not None or bool(_AWAY.search(for_scoring(text)))


def asks_for_someone(text: str, lex: Lexicon) -> bool:
    """The caller asks for a person (person_request.toml, or ``_ASKS_FOR``)."""
    return lex["person_request"].find(text) is not None or bool(_ASKS_FOR.search(for_scoring(text)))


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
    """The agent says the person the caller asked for is absent, and offers no message, call-back
    or passing on within ``message_window_s`` (in that answer or after it)."""
    if not ctx.roles_trusted:
        return []
    lex = ctx.lexicon
    caller = ctx.by_role("caller")
    agent = ctx.by_role("agent")
    events = []
    for i, u in enumerate(agent):
        if not is_away(u.text, lex):
            continue
        asked = [
            c
            for c in caller
            if u.start - _ASK_BEFORE_S <= c.start <= u.start and asks_for_someone(c.text, lex)
        ]
        if not asked:
            continue
        later = [a for a in agent[i:] if a.start <= u.end + ctx.config.message_window_s]
        if any(lex["message_offer"].find(a.text, homophones=False) for a in later):
            continue
        events.append(
            ctx.event(
                "message.not_offered",
                VERSION,
                start=u.start,
                end=u.end,
                evidence=f"{u.text}〔未主动提出留言或转告〕（来电：{asked[-1].text}）",
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
        found = refusal.find(u.text, homophones=False)
        if found is None:
            asked = [
                c for c in caller if c.end <= u.start + 0.5 and u.start - c.end <= ctx.config.answer_window_s
            ]
            request = asked[-1].text if asked else ""
            # Not a reply about a colleague who is away (message.not_offered reads that): a request
            # that names a person and a reply that says they are away. A request's 帮我接一下孩子 or
            # 转给你们 is still a request the agent may turn down.
            if is_request(request) and not (asks_for_someone(request, lex) and is_away(u.text, lex)):
                found = declined(u.text)
        # A hedged no (恐怕不太行 …我跟您说不好) is unsure, not the guide's 断然拒绝: hesitation.unsure
        # reads it.
        if found is None or lex["hedges"].find(u.text, homophones=False) is not None:
            continue
        head = _before(u.text, found)
        previous = agent[i - 1].text if i and u.start - agent[i - 1].end < ctx.config.floor_gap_s else ""
        if apology.find(head, homophones=False) or apology.find(previous, homophones=False):
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


# A request, not a question: the caller asks the centre to do something (帮我, 给我, 你们把, 派个人,
# …吧/呗, 能不能帮…). A question of fact (需要办卡吗) is answered, not refused, even with a 不.
_REQUEST = re.compile(
    r"帮我|给我|替我|帮忙|你们(给|帮|把|派|来|去|赶紧|马上)|把.{1,12}(给|退|免|关|挪|拆|修|开|借|发)|"
    r"让(保安|物业|你们|师傅)|麻烦你们|我要求|我要你们|你们先|呗[。！!]?$|吧[。！!]?$|"
    r"(能不能|可不可以|能否|可以不可以)(帮|给|把|让|派|免|退|借|批|先|直接)|给批|批一下|赶紧|"
    r"能(借|批|免|退|派|替)我?"
)
# The agent's no in their own words (物业不管, 前台不寄养, 没这个权限): 不 or 没 before a verb. Not the
# negations of a helpful answer (不用担心, 没问题, 不客气), of a hedge (不一定, 不太) or of time (不到).
_DECLINE = re.compile(r"(不|没有?|无)([\u4e00-\u9fff])")
_NOT_DECLINING = (
    "不用",
    "不客气",
    "不要紧",
    "不麻烦",
    "不错",
    "不好意思",
    "不少",
    "不久",
    "不过",
    "不仅",
    "不但",
    "不到",
    "不一定",
    "不太",
    "不然",
    "没问题",
    "没关系",
    "没事",
    "没多久",
    "不会的",
    "不管是",
    "不论",
    "不要挂",
    "别挂",
    "不挂",
    "对不起",
    "对不住",
    "了不起",
    "不得不",
)


def is_request(text: str) -> bool:
    return bool(_REQUEST.search(text))


def declined(text: str) -> str | None:
    """The agent's own words of declining (物业不管 → 不管) in a reply to a request, else None."""
    clean = for_scoring(text)
    for phrase in _NOT_DECLINING:
        clean = clean.replace(phrase, " " * len(phrase))
    found = _DECLINE.search(clean)
    return found.group(0) if found else None


def _before(text: str, phrase: str) -> str:
    """``text`` up to where ``phrase`` first appears (its scoring form)."""
    clean = for_scoring(text)
    at = clean.find(phrase)
    return clean[:at] if at >= 0 else clean


def transfer_no_identity(ctx: CallContext) -> list[Event]:
    """The agent puts the call through before anyone said who is calling: the agent did not ask
    (贵姓, 怎么称呼, 哪个单位 ...) and the caller did not give a name (我姓 ..., 我叫 ...)."""
    if not ctx.roles_trusted:
        return []
    lex = ctx.lexicon
    speech = sorted((u for u in ctx.utterances if u.scorable), key=lambda u: u.start)
    known = False
    for u in speech:
        if u.role == "caller" and gives_name(u.text, lex):
            known = True
        if u.role != "agent":
            continue
        if lex["identity_question"].find(u.text, sound_min_chars=3):
            known = True
        if _transfers(u, lex) and not known:
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


# Putting the call through in fewer words than put_through.toml has: 现在转车管, 我直接转楼管, 把电话转给
# 保安队长. Not passing on a message (转告, 转达, 转交) nor money (转账, 转入).
_PUTS_THROUGH = re.compile(
    r"(现在|直接|这就|马上|立刻|就)转(?![告达交账入])[\u4e00-\u9fff]|把(电话|线|您)转(给|到|过去)"
)


def _transfers(u: Utterance, lex) -> bool:
    # put_through.toml is written with 您; an agent who says 你 transfers all the same.
    text = u.text.replace("你", "您")
    return lex["put_through"].find(text, homophones=False) is not None or bool(
        _PUTS_THROUGH.search(for_scoring(text))
    )


# A caller naming themself by title (我是刘女士, 我这边是王经理) or by surname alone at the start of a
# clause (姓刘，五栋的): 我是 alone (我是三号楼的) gives a flat, not a name.
_GIVES_NAME = re.compile(
    r"我(这边)?是.{1,4}(先生|女士|小姐|老师|阿姨|师傅|经理|总)|(^|[，。,、\s])姓[\u4e00-\u9fff]"
)


def gives_name(text: str, lex) -> bool:
    # By sound too: Whisper writes 我性赵 and 性名 as often as 我姓赵 and 姓名.
    return lex["caller_identity"].find(text) is not None or _GIVES_NAME.search(text) is not None
