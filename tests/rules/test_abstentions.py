import pytest

from pipeline.config import RulesConfig
from pipeline.records import RoleAssignment
from pipeline.rules import CallContext, abstentions
from tests.conftest import TRUSTED, utt

SAID = (
    utt("agent", 0.5, 4.0, "您好，阳光物业客服中心，请问有什么可以帮您？", speaker="spk0"),
    utt("caller", 4.5, 7.0, "我家门口的灯坏了。", speaker="spk1"),
)


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        ("words: spk0 intro 1, greeting 1, service 4, caller 3; voices mixed", "两个声音在分段时混在一起"),
        ("one voice: two clusters 0.86 alike, words of one party", "两个声音听起来很像"),
        ("single speaker", "只听到一个声音"),
        ("no speech", "没有检测到说话"),
        (
            "words: spk0 intro 0, greeting 0, service 1, caller 1; no evidence either way",
            "看不出哪个声音是坐席",
        ),
    ],
)
def test_why_the_role_rules_abstained_is_said_in_the_teams_language(lexicon, reason, cause):
    ctx = CallContext("T1", "A1", 8.0, SAID, RoleAssignment("spk0", 0.4, reason), lexicon, RulesConfig())
    first = abstentions(ctx)[0]
    assert first.startswith("依赖角色的规则未评分：") and cause in first
    assert "0.40，低于 0.50" in first and reason in first  # the figures and the technical reason stay


def test_a_call_with_trusted_roles_and_nothing_unread_has_no_abstention(lexicon):
    assert abstentions(CallContext("T1", "A1", 8.0, SAID, TRUSTED, lexicon, RulesConfig())) == []


def test_utterances_the_rules_do_not_read_are_counted(lexicon):
    said = (*SAID, utt("caller", 7.5, 9.0, "谢谢观看。", speaker="spk1", flags=("hallucination",)))
    reasons = abstentions(CallContext("T1", "A1", 10.0, said, TRUSTED, lexicon, RulesConfig()))
    assert reasons == ["1 句话未评分：疑似语音识别幻觉（无声处生成的文字或重复循环）"]


def test_every_rule_says_what_the_guide_asks_and_which_thresholds_it_reads():
    import dataclasses

    from pipeline.config import RulesConfig
    from pipeline.rules import RULE_GUIDE, RULE_NAMES, RULE_THRESHOLDS

    assert set(RULE_GUIDE) == set(RULE_NAMES)
    fields = {f.name for f in dataclasses.fields(RulesConfig)}
    assert set(RULE_THRESHOLDS) <= set(RULE_NAMES)
    assert all(set(names) <= fields for names in RULE_THRESHOLDS.values())


def test_rules_the_audio_cannot_support_are_not_scored_and_the_call_says_why(lexicon):
    from pipeline.rules import RULE_NEEDS, UNHEARD, apply_rules

    rude = (utt("agent", 0.5, 3.0, "喂，什么事？", speaker="agent"), SAID[1])
    heard = CallContext("T1", "A1", 8.0, rude, TRUSTED, lexicon, RulesConfig())
    assert "greeting.missing" in {e.rule_id for e in apply_rules(heard)}
    why = "坐席声道噪声过大：语音只比背景高 8 dB（下限 20 dB），背景里的声音会被当成说话"
    noisy = CallContext(
        "T1", "A1", 8.0, rude, TRUSTED, lexicon, RulesConfig(), unheard={"words": why, "timing": why}
    )
    assert not {e.rule_id for e in apply_rules(noisy)} & {"greeting.missing", "interruption.agent"}
    assert "voice.flat" not in noisy.not_scored  # the voice can still be read
    assert set(noisy.not_scored) == {r for r, needs in RULE_NEEDS.items() if needs & {"words", "timing"}}
    (reason,) = abstentions(noisy)  # one line for one cause, naming the rules in the guide's words
    assert reason.startswith(UNHEARD) and why in reason and "未使用问候语" in reason and "坐席抢话" in reason


def test_the_nightly_summary_counts_the_calls_the_audio_kept_from_scoring_by_cause():
    from pipeline.rules import unheard_summary

    noisy = "录音质量不足，未使用问候语、坐席抢话未评分：坐席声道噪声过大：语音只比背景高 8 dB（下限 20 dB）"
    doubted = "录音质量不足，未使用问候语未评分：语音识别把握低：70% 的字词识别概率低于 50%（上限 50%）"
    roles = "依赖角色的规则未评分：只听到一个声音，分不出坐席和客户"
    assert unheard_summary([[noisy], [noisy, roles], [doubted], [roles], []]) == (
        "3 通通话录音质量不足，部分规则未评分（坐席声道噪声过大 2，语音识别把握低 1）"
    )
    assert unheard_summary([[roles], []]) is None


def test_a_greeting_finding_read_from_the_opening_is_said_beside_the_unsure_roles(lexicon):
    said = (
        utt("agent", 0.5, 1.6, "喂，物业。", speaker="spk0"),
        utt("agent", 2.0, 5.0, "我家门口的灯坏了。", speaker="spk0"),
    )
    roles = RoleAssignment("spk0", 0.3, "one voice: two clusters 0.86 alike, words of one party")
    reasons = abstentions(CallContext("T1", "A1", 6.0, said, roles, lexicon, RulesConfig()))
    assert reasons[0].startswith("依赖角色的规则未评分")
    assert any(r.startswith("greeting.missing") and "开场白" in r for r in reasons)
    # The agent greeted: nothing read from the opening, nothing said about it.
    greeted = (utt("agent", 0.5, 3.0, "您好，阳光物业。", speaker="spk0"), said[1])
    reasons = abstentions(CallContext("T1", "A1", 6.0, greeted, roles, lexicon, RulesConfig()))
    assert not any("开场白" in r for r in reasons)


def _voice(voiced_s: float, range_st: float):
    from pipeline.audio.prosody import VoiceMeasures

    return VoiceMeasures(voiced_s, 180.0, range_st, -20.0, 6.0, 0.0)


def test_a_flat_voice_is_found_and_one_too_short_to_hear_is_not_scored(lexicon):
    from pipeline.rules import apply_rules

    def call(voice):
        return CallContext("T1", "A1", 60.0, SAID, TRUSTED, lexicon, RulesConfig(), agent_voice=voice)

    flat = call(_voice(14.0, 2.5))
    (finding,) = [e for e in apply_rules(flat) if e.rule_id == "voice.flat"]
    assert "2.5 个半音（低于 4）" in finding.evidence and "有声 14 秒" in finding.evidence
    assert "voice.flat" not in flat.not_scored and abstentions(flat) == []
    assert not [e for e in apply_rules(call(_voice(14.0, 7.5))) if e.rule_id == "voice.flat"]
    # Four seconds of voice say nothing of a tone either way: neither a finding nor a pass (an
    # evaluation counts it apart, as abstained); the desk is not told of every short call.
    short = call(_voice(4.0, 2.5))
    assert not [e for e in apply_rules(short) if e.rule_id == "voice.flat"]
    assert short.not_scored == ("voice.flat",) and abstentions(short) == []
    assert call(None).not_scored == ()  # not measured (roles unsure, older calls): nothing to say
