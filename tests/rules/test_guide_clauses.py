"""The guide's later clauses read from phrases and shapes: 敬语 and 转接 (rules in shadow mode), and
the measures of how the agent answers. 优柔寡断, 留言 and 婉拒 are the reply reader's
(tests/rules/test_reply_reader.py)."""

import math

from pipeline.config import RulesConfig
from pipeline.records import RoleAssignment
from pipeline.rules import CallContext, apply_rules
from pipeline.rules.answers import agent_answers, answer_measures, pronoun_counts
from pipeline.rules.courtesy import courtesy_ni, transfer_no_identity
from tests.conftest import TRUSTED, utt

UNSURE = RoleAssignment("S1", 0.3, "no cues")


def ctx(utterances, lexicon, roles=TRUSTED, **rules):
    return CallContext("T1", "A1", 120.0, tuple(utterances), roles, lexicon, RulesConfig(**rules))


def ids(events):
    return [e.rule_id for e in events]


QUESTION = utt("caller", 5, 8, "请问这个月的物业费什么时候截止？")


def test_an_answer_runs_until_the_caller_speaks_again_backchannels_aside(lexicon):
    calls = [
        QUESTION,
        utt("agent", 8.5, 10, "这个嘛，可能是月底。"),
        utt("caller", 10.2, 10.5, "嗯"),
        utt("agent", 10.6, 12, "也说不定是二十号。"),
        utt("caller", 13, 15, "好吧，那我再说说别的。"),
        utt("agent", 15.5, 17, "好的您说。"),  # an answer too, to something that is not a question
    ]
    first, second = agent_answers(ctx(calls, lexicon))
    assert [u.start for u in first.turn] == [8.5, 10.6] and first.to_a_question
    assert [u.start for u in second.turn] == [15.5] and not second.to_a_question


def test_courtesy_ni_counts_the_agents_you(lexicon):
    rude = [
        utt("agent", 1, 3, "你好，物业客服。"),
        utt("caller", 3.5, 5, "我家水管漏了。"),
        utt("agent", 5.5, 8, "你家几栋？你先把总阀关了。"),
        utt("agent", 9, 10, "你们那边师傅下午到，你等着吧。"),
    ]
    (event,) = courtesy_ni(ctx(rude, lexicon))
    assert event.rule_id == "courtesy.ni" and "称“你” 4 次" in event.evidence  # 你们 is not counted
    polite = [
        utt("agent", 1, 3, "您好，物业客服。"),
        utt("agent", 5.5, 8, "您家几栋？您先把总阀关了，你好。"),
    ]
    assert courtesy_ni(ctx(polite, lexicon)) == []
    assert pronoun_counts("你们您你迷你") == (1, 1)


def test_a_transfer_needs_the_callers_name_first(lexicon):
    request = utt("caller", 3, 5, "我想问一下漏水维修的进度。")
    blind = utt("agent", 5.5, 7, "这个我帮您转接工程部，请稍等。")
    (event,) = transfer_no_identity(ctx([request, blind], lexicon))
    assert event.rule_id == "transfer.no_identity"
    asked = [
        utt("agent", 5.5, 6.5, "请问您贵姓？"),
        utt("caller", 7, 8, "我姓黄。"),
        utt("agent", 8.5, 10, "好的黄先生，我帮您转接工程部。"),
    ]
    assert transfer_no_identity(ctx([request, *asked], lexicon)) == []
    named = utt("caller", 1, 3, "你好，我叫马丽，住十二号楼。")
    assert transfer_no_identity(ctx([named, request, blind], lexicon)) == []


def test_putting_through_in_few_words_is_a_transfer(lexicon):
    request = utt("caller", 3, 5, "帮我接一下车管那边吧。")
    for text in ("好，现在转车管。", "行，我把电话转给保安队长。"):
        assert ids(transfer_no_identity(ctx([request, utt("agent", 5.5, 7, text)], lexicon))) == [
            "transfer.no_identity"
        ], text
    # Passing on a message is not putting the call through.
    assert transfer_no_identity(ctx([request, utt("agent", 5.5, 7, "好的，我马上转告车管。")], lexicon)) == []


def test_a_call_handed_over_in_a_reply_is_a_transfer(lexicon):
    # The line or the phone moved to someone, the caller taken there, or the colleague fetched to
    # the phone: read only in a reply to a caller who asked for someone.
    request = utt("caller", 3, 5, "帮我找一下管装修的小吴，我想跟她直接说。")
    for text in (
        "好，电话切到装修组了，您跟她说。",
        "小吴就在旁边，我把听筒递给她。",
        "我这就把您送到装修组那条线上，听到嘟声别挂。",
        "稍等，电话给您过到小吴那里。",
        "我喊一下小吴过来接，您别挂。",
        "行，我给您搭个线到装修管理组。",
    ):
        assert ids(transfer_no_identity(ctx([request, utt("agent", 5.5, 7, text)], lexicon))) == [
            "transfer.no_identity"
        ], text
    # Not the line that cannot be reached, a caller asked to hold, or a reply to no such request.
    for text in ("小吴的电话打不通。", "电话先别挂，我查一下。"):
        assert transfer_no_identity(ctx([request, utt("agent", 5.5, 7, text)], lexicon)) == [], text
    question = utt("caller", 3, 5, "物业费在哪交？")
    online = utt("agent", 5.5, 7, "您可以在线上交，电话里也能交。")
    assert transfer_no_identity(ctx([question, online], lexicon)) == []
    # 帮我叫他 asks for someone; it names nobody.
    fetch = utt("caller", 3, 5, "上次修马桶的刘师傅，帮我叫他接一下电话。")
    blind = utt("agent", 5.5, 7, "我喊一下老刘过来接，您别挂。")
    assert ids(transfer_no_identity(ctx([fetch, blind], lexicon))) == ["transfer.no_identity"]


def test_the_new_rules_abstain_without_trusted_roles(lexicon):
    calls = [
        QUESTION,
        utt("agent", 8.5, 12, "呃，可能是月底吧，我也不太清楚。", speaker="S1"),
        utt("agent", 13, 14, "不行，你等着吧你你。", speaker="S1"),
    ]
    assert apply_rules(ctx(calls, lexicon, roles=UNSURE)) == []


def test_answer_measures(lexicon):
    calls = [
        QUESTION,
        utt("agent", 10, 16, "呃，可能是月底吧，您也可以问问管家。"),
        utt("caller", 17, 19, "那停车费呢？"),
        utt("agent", 20, 22, "停车费也是月底，你在手机上交。"),
    ]
    m = answer_measures(calls, lexicon, agent_answers(ctx(calls, lexicon)))
    assert m.answer_latency_s == 1.5  # median of 2.0 and 1.0
    assert m.nin_share == 0.5
    assert m.hedges_per_min == 7.5  # one hedge in 8 s of agent speech
    assert m.fillers_per_min == 7.5
    none = answer_measures([utt("caller", 0, 2, "喂？")], lexicon)
    assert (
        math.isnan(none.answer_latency_s) and math.isnan(none.nin_share) and math.isnan(none.hedges_per_min)
    )


def test_the_name_must_be_asked_for_the_transfer_it_covers(lexicon):
    # A name asked for a message earlier in the call, and never given, does not cover a later
    # transfer; a name the caller gave does, whenever it was given.
    earlier = [
        utt("caller", 3, 5, "周经理在吗？"),
        utt("agent", 5.5, 8, "周经理去开会了，您留下姓名和电话，我让他回来后给您回电。"),
        utt("caller", 8.5, 9, "好的。"),
    ]
    who = utt("caller", 10, 13, "我想问问装修审批的事，这个归哪个部门管？")
    blind = utt("agent", 13.5, 15, "好的，我这就为您转到工程部，请稍等。")
    assert ids(transfer_no_identity(ctx([*earlier, who, blind], lexicon))) == ["transfer.no_identity"]
    named = utt("caller", 8.5, 9, "好的，我姓周，九栋的。")
    assert transfer_no_identity(ctx([*earlier[:2], named, who, blind], lexicon)) == []
    # 别管我行不行 sounds like 我姓 (wo xing): it names nobody.
    loose = utt("caller", 1, 3, "我想在花园里养几只鸡，你们别管我行不行？")
    assert ids(transfer_no_identity(ctx([loose, who, blind], lexicon))) == ["transfer.no_identity"]


def test_words_whisper_got_wrong_are_read_by_their_sound_where_it_is_safe(lexicon):
    # Three syllables or more, and a call put through only in a reply to a caller who asked.
    who = utt("caller", 3, 5, "这个归哪个部门管？")
    misheard = utt("agent", 5.5, 7, "好地握这就为您赚刀工程部，请少等。")
    assert ids(transfer_no_identity(ctx([who, misheard], lexicon))) == ["transfer.no_identity"]
    assert transfer_no_identity(ctx([utt("caller", 3, 5, "物业费多少钱？"), misheard], lexicon)) == []


def test_a_caller_who_gives_their_company_and_name_has_given_their_name(lexicon):
    lines = [
        utt("caller", 1, 3, "请帮我接一下你们总经理。"),
        utt("agent", 3.5, 5, "请问您是哪位？是本小区业主还是哪家单位的？"),
        utt("caller", 5.5, 8, "我是隔壁恒通物流公司的赵建国，找他谈车位租赁合作。"),
        utt("agent", 8.5, 10, "赵总您好，请稍候，我这就为您接通总经理办公室。"),
    ]
    assert transfer_no_identity(ctx(lines, lexicon)) == []
