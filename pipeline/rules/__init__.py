"""Conduct rules: pure functions from a call's utterances to events.

Each rule has a stable id (analysts, notebooks and reports depend on it) and a version; the
``rule_version`` stored on an event is ``<rule version>+lex.<lexicon hash>`` so a change of either
is visible in the data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.audio.prosody import VoiceMeasures
from pipeline.config import RETIRED_RULES, RulesConfig
from pipeline.lexicon import Lexicon
from pipeline.records import VOICES_MIXED, Event, GreetingHearing, RoleAssignment, Turn, Utterance

# The guide's names for the rules, as the quality team reads them (report, desk, abstentions).
RULE_NAMES = {
    "greeting.missing": "未使用问候语",
    "self_intro.missing": "未自报家门",
    "closing.missing": "未使用告别语",
    "interruption.agent": "坐席抢话",
    "interruption.caller": "客户抢话",
    "conduct.impatient": "急躁",
    "conduct.domineering": "独断专横",
    "hangup.premature": "未等对方说完就挂线",
    "phrase.banned": "不礼貌用语",
    "pace.fast": "语速过快",
    "hold.no_notice": "等候前未说“请您稍等”",
    "hold.no_apology": "等候后未说“让您久等了”",
    # In shadow mode (试运行) until the quality lead promotes them (pipeline.rules.modes).
    "courtesy.ni": "未用敬语“您”",
    "transfer.no_identity": "转接前未问清对方",
    "voice.flat": "语气平淡、有气无力",
    # The reply reader's (pipeline.rules.reader): three clauses read by a learned model.
    "hesitation.unsure_learned": "优柔寡断（模型判读）",
    "message.not_offered_learned": "未主动提出留言（模型判读）",
    "refusal.no_apology_learned": "拒绝前未致歉（模型判读）",
    # Retired (pipeline.config.RETIRED_RULES): no longer run; named for the findings they stored.
    "hesitation.unsure": "优柔寡断（词表，已停用）",
    "message.not_offered": "未主动提出留言（词表，已停用）",
    "refusal.no_apology": "拒绝前未致歉（词表，已停用）",
}


# What the etiquette guide asks, with its section (as docs/rules.md quotes it), for the desk's
# finding context; and the ``[rules]`` thresholds each rule's detection reads.
RULE_GUIDE = {
    "greeting.missing": ("电话接听的规范语言 1，问候语", "接听电话先问候：您好、早上好、下午好……"),
    "self_intro.missing": ("电话接听服务的基本程序", "接听后报出单位或工号（自报家门）"),
    "closing.missing": ("感谢语句；告别语", "结束通话时道别或致谢：再见、感谢您的来电……"),
    "interruption.agent": ("注意事项 9 D、E", "让对方把话说完，不抢话"),
    "interruption.caller": ("注意事项 9 D、E", "客户打断坐席：记录情况，不扣坐席的分"),
    "conduct.impatient": ("注意事项 9 D", "急躁：不等对方说完，自己抢话说且一口气说得太多太快"),
    "conduct.domineering": ("注意事项 9 E", "独断专横：不断地随意打断别人的叙述或未等对方说完就挂线"),
    "hangup.premature": ("注意事项 9 E", "未等对方说完就挂线"),
    "phrase.banned": ("注意事项 9 A、B、C、G", "避免无礼、傲慢、不负责任、不耐烦或不当的答复"),
    "pace.fast": ("注意事项 5", "语言要简练、清楚、明了，不说得太快"),
    "hold.no_notice": ("转接 3；道歉语句", "让客户等候前说“对不起，请稍等”"),
    "hold.no_apology": ("转接 3；道歉语句", "等候之后说“让您久等了”"),
    "courtesy.ni": ("基本礼貌用语；注意事项 3", "口气要谦虚、客气、友好：称对方“您”"),
    "transfer.no_identity": ("转接 1", "转接前一定要问清对方的姓名和单位"),
    "voice.flat": ("注意事项 3、9 C", "语气要和蔼，避免有气无力、冷淡的语气"),
    "hesitation.unsure_learned": ("注意事项 9 F", "优柔寡断、拖泥带水：回答犹犹豫豫，毫无把握"),
    "message.not_offered_learned": (
        "上司或同事外出后的电话接听",
        "对方要找的人不在时，主动提出“需要给他留言吗？”",
    ),
    "refusal.no_apology_learned": ("注意事项：婉拒", "无法满足对方要求时，应先道歉再解释缘由，不可断然拒绝"),
}
# A retired rule's stored findings are shown with its successor's clause: they read the same one.
RULE_GUIDE.update({old: RULE_GUIDE[new] for old, (new, _) in RETIRED_RULES.items()})
# What each rule reads of the recording: a call whose audio-quality reading lacks one of these
# (pipeline.audio.quality.unheard) is not scored for the rule, and says why.
_W, _T, _V = "words", "timing", "voice"
RULE_NEEDS: dict[str, frozenset[str]] = {
    "greeting.missing": frozenset({_W}),
    "self_intro.missing": frozenset({_W}),
    "closing.missing": frozenset({_W}),
    "interruption.agent": frozenset({_T, _W}),  # a cut-in is known by its words (嗯/对 are not)
    "interruption.caller": frozenset({_T, _W}),
    "conduct.impatient": frozenset({_T, _W}),
    "conduct.domineering": frozenset({_T, _W}),
    "hangup.premature": frozenset({_T, _W}),
    "phrase.banned": frozenset({_W}),
    "pace.fast": frozenset({_T, _W}),
    "hold.no_notice": frozenset({_T, _W}),
    "hold.no_apology": frozenset({_T, _W}),
    "courtesy.ni": frozenset({_W}),
    "transfer.no_identity": frozenset({_W}),
    "voice.flat": frozenset({_V}),
    "hesitation.unsure_learned": frozenset({_W}),
    "message.not_offered_learned": frozenset({_W}),
    "refusal.no_apology_learned": frozenset({_W}),
}
RULE_THRESHOLDS = {
    "greeting.missing": ("greeting_window_s", "greeting_heard_margin"),
    "self_intro.missing": ("self_intro_window_s",),
    "closing.missing": ("closing_window_s",),
    "interruption.agent": (
        "interruption_min_overlap_s",
        "mono_overlap_resolution_s",
        "interruption_min_chars",
        "backchannel_max_s",
    ),
    "interruption.caller": (
        "interruption_min_overlap_s",
        "mono_overlap_resolution_s",
        "interruption_min_chars",
        "backchannel_max_s",
    ),
    "conduct.impatient": ("impatient_min_chars", "impatient_min_chars_per_s"),
    "conduct.domineering": ("domineering_min_interruptions", "hangup_margin_s"),
    "hangup.premature": ("hangup_margin_s", "hangup_cut_s", "hangup_wordless_min_s"),
    "pace.fast": ("pace_min_chars", "pace_fast_chars_per_s"),
    "hold.no_notice": ("hold_min_s",),
    "hold.no_apology": ("hold_min_s",),
    "courtesy.ni": ("ni_min_count", "ni_max_nin_share"),
    "voice.flat": ("flat_pitch_range_st", "flat_min_voiced_s"),
    "hesitation.unsure_learned": ("unsure_reader_threshold",),
    "message.not_offered_learned": ("absence_reader_threshold",),
    "refusal.no_apology_learned": ("refusal_reader_threshold",),
}


@dataclass(frozen=True)
class CallContext:
    """What a rule sees of one call."""

    call_id: str
    agent_id: str
    duration: float
    utterances: tuple[Utterance, ...]
    roles: RoleAssignment
    lexicon: Lexicon
    config: RulesConfig
    # Who spoke when, with roles: speech the segmentation model heard under the other party's
    # turn on mono has no words of its own (they went to the louder voice), only a turn.
    turns: tuple[Turn, ...] = ()
    # The agent's pitch and loudness over the call (pipeline.audio.prosody), None where not
    # measured (roles not trusted; calls stored before 2026-12-05 and rescored).
    agent_voice: VoiceMeasures | None = None
    # What the recording lets no rule read (pipeline.audio.quality.unheard: "words", "timing",
    # "voice"), each with its reason in Chinese; the rules that need it are not scored.
    unheard: Mapping[str, str] = field(default_factory=dict)
    # The recording's layout (``CallRef.layout``: "stereo", "mono"; "" where unknown): what the
    # timing was measured from.
    layout: str = ""
    # What the sound of a flagged opening says of a greeting its words lost (pipeline.asr.hearing;
    # AudioQuality.greeting), None where it was not read.
    greeting_heard: GreetingHearing | None = None

    @property
    def not_scored(self) -> tuple[str, ...]:
        """The rules this call's audio cannot be scored for (``RULE_NEEDS``), and voice.flat
        where the agent said too little to hear a tone in (``too_little_voice``)."""
        return tuple(
            r
            for r, needs in RULE_NEEDS.items()
            if needs & self.unheard.keys() or (r == "voice.flat" and self.too_little_voice)
        )

    @property
    def too_little_voice(self) -> bool:
        """The agent's voice was measured, over less voiced speech than voice.flat needs
        (``flat_min_voiced_s``): the rule can say nothing either way. Kept in ``not_scored`` (an
        evaluation counts it as abstained), not said on the desk: most short calls would say it."""
        voice = self.agent_voice
        return voice is not None and voice.voiced_s < self.config.flat_min_voiced_s

    def by_role(self, role: str, *, scorable_only: bool = True) -> list[Utterance]:
        return [u for u in self.utterances if u.role == role and (u.scorable or not scorable_only)]

    @property
    def roles_trusted(self) -> bool:
        return (
            self.roles.agent_speaker is not None and self.roles.confidence >= self.config.role_min_confidence
        )

    def event(
        self,
        rule_id: str,
        version: str,
        *,
        start: float,
        end: float,
        evidence: str,
        category: str = "",
        severity: str = "major",
        role: str = "agent",
        confidence: float | None = None,
    ) -> Event:
        return Event(
            call_id=self.call_id,
            agent_id=self.agent_id,
            rule_id=rule_id,
            category=category,
            severity=severity,
            start=start,
            end=end,
            role=role,
            evidence=evidence,
            confidence=round(self.roles.confidence if confidence is None else confidence, 3),
            rule_version=f"{version}+lex.{self.lexicon.version}",
        )


Rule = Callable[[CallContext], Sequence[Event]]


def default_rules() -> list[Rule]:
    from pipeline.rules.conduct import closing_missing, hold_etiquette, pace_fast, self_intro_missing
    from pipeline.rules.courtesy import courtesy_ni, transfer_no_identity
    from pipeline.rules.greeting import greeting_missing
    from pipeline.rules.interruptions import interruption_rules
    from pipeline.rules.phrases import banned_phrases
    from pipeline.rules.reader.rule import learned_replies
    from pipeline.rules.voice import voice_flat

    return [
        greeting_missing,
        self_intro_missing,
        closing_missing,
        banned_phrases,
        interruption_rules,
        pace_fast,
        hold_etiquette,
        # In shadow mode (试运行) until promoted: pipeline.rules.modes.
        courtesy_ni,
        transfer_no_identity,
        voice_flat,
        learned_replies,
    ]


def abstentions(ctx: CallContext) -> list[str]:
    """Why rules said nothing where they might have, in the quality team's language: stored with
    the call and shown in the report and on the desk."""
    reasons = []
    by_reason: dict[str, set[str]] = {}
    for need, why in ctx.unheard.items():
        by_reason.setdefault(why, set()).add(need)
    for why, lacking in by_reason.items():
        rules = [RULE_NAMES[r] for r, needs in RULE_NEEDS.items() if needs & lacking]
        reasons.append(f"{UNHEARD}，{'、'.join(rules)}未评分：{why}")
    if not ctx.roles_trusted:
        reasons.append(
            f"依赖角色的规则未评分：{_why_roles_unsure(ctx.roles.reason)}（坐席角色可信度 "
            f"{ctx.roles.confidence:.2f}，低于 {ctx.config.role_min_confidence:.2f}；依据：{ctx.roles.reason}）"
        )
        reasons += unattributed_phrases(ctx)
    from pipeline.rules.greeting import greeting_given_away, greeting_heard, opening_without_greeting

    opening = opening_without_greeting(ctx)
    if opening is not None and greeting_heard(ctx, opening[0]):
        reasons.append(
            f"greeting.missing（{RULE_NAMES['greeting.missing']}）未评分：坐席开场白的文字里没有问候语，"
            "但开场的声音与以“您好”开头的读法同样吻合（线路音质多半让语音识别漏掉了第一个词）"
        )
    elif not ctx.roles_trusted and opening is not None:
        reasons.append(
            f"greeting.missing（{RULE_NAMES['greeting.missing']}）按开场白的话语判断：通话第一句代表中心"
            "应答的话（如“喂，物业”）只能是坐席说的，其前后都没有问候语"
        )

    if ctx.roles_trusted and greeting_given_away(ctx):
        reasons.append(
            f"greeting.missing（{RULE_NAMES['greeting.missing']}）未评分：通话开头的问候语被分给了"
            "坐席第一句话之前的另一个声音（单声道录音中多半就是坐席自己说的）"
        )
    from pipeline.rules.conduct import closing_given_away

    if ctx.roles_trusted and closing_given_away(ctx):
        reasons.append(
            f"closing.missing（{RULE_NAMES['closing.missing']}）未评分：通话结尾的告别语被分给了"
            "坐席最后一句话之后的另一个声音（单声道录音中也常是坐席自己说的）"
        )
    flagged = [u for u in ctx.utterances if not u.scorable]
    if flagged:
        kinds = sorted({_FLAG_NAMES.get(f, f) for u in flagged for f in u.flags})
        reasons.append(f"{len(flagged)} 句话未评分：{'、'.join(kinds)}")
    return reasons


# How an utterance the rules do not read was flagged (speakers.utterances.HALLUCINATION).
_FLAG_NAMES = {
    "hallucination": "疑似语音识别幻觉（无声处生成的文字或重复循环）",
    "prompt": "录音提示音（语音导航、“本次通话可能会被录音”等，不是坐席说的）",
}


def _why_roles_unsure(reason: str) -> str:
    """The cause behind a role assignment's technical reason (speakers.infer_roles), in words."""
    if reason.startswith("one voice"):
        return "两个声音听起来很像，话语也只像一方，按一个声音处理"
    if reason == "single speaker":
        return "只听到一个声音，分不出坐席和客户"
    if reason == "no speech":
        return "录音中没有检测到说话"
    if VOICES_MIXED in reason:
        return "两个声音在分段时混在一起，每个声音里都有对方的话"
    return "从话语中看不出哪个声音是坐席"


UNHEARD = "录音质量不足"  # how an abstention for the audio starts (pipeline.audio.quality)


def unheard_summary(abstentions_per_call: Iterable[Sequence[str]]) -> str | None:
    """One line for the nightly summary and the weekly report: how many calls had rules not scored
    for their audio, by cause (``坐席声道噪声过大 3，语音识别把握低 1``); None when none had."""
    causes: Counter[str] = Counter()
    calls = 0
    for reasons in abstentions_per_call:
        heard = [r for r in reasons if r.startswith(UNHEARD)]
        calls += bool(heard)
        # "录音质量不足，<rules>未评分：<cause>：<figures>"
        causes.update({r.partition("未评分：")[2].partition("：")[0] for r in heard})
    if not calls:
        return None
    by_cause = "，".join(f"{cause} {n}" for cause, n in causes.most_common())
    return f"{calls} 通通话录音质量不足，部分规则未评分（{by_cause}）"


UNATTRIBUTED_BANNED = "禁用语未归属"  # how such an abstention starts (callqa evaluate counts them)


def unattributed_phrases(ctx: CallContext) -> list[str]:
    """Banned phrases said by a voice whose role is not trusted, for a listener to attribute:
    phrase.banned abstains there (it must not blame a caller's words on the agent), but the QA
    team should still hear a 不在 or a 下班了 that may be the agent's (the desk plays them)."""
    from pipeline.rules.phrases import banned_by_any_voice, load_banned

    entries = load_banned(str(ctx.lexicon.folder), ctx.lexicon.version)
    return [
        f"{UNATTRIBUTED_BANNED}（{entry.category}）：「{entry.phrase}」见于「{u.text}」，"
        f"{u.start:.1f}-{u.end:.1f} 秒；说这句话的声音角色不确定，请先听录音再判断"
        for u, entry in banned_by_any_voice(ctx.utterances, entries, ctx.lexicon.tokenizer())
    ]


def apply_rules(ctx: CallContext, rules: Sequence[Rule] | None = None) -> list[Event]:
    events: list[Event] = []
    unscored = set(ctx.not_scored)
    for rule in default_rules() if rules is None else rules:
        events.extend(e for e in rule(ctx) if e.rule_id not in unscored)
    return sorted(events, key=lambda e: (e.start, e.rule_id))
