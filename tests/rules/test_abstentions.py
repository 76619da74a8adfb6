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
