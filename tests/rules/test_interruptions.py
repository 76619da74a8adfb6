from dataclasses import replace

from pipeline.config import RulesConfig
from pipeline.rules import CallContext
from pipeline.rules.interruptions import classify_overlaps, interruption_rules
from tests.conftest import TRUSTED, utt


def ctx(utterances, lexicon, duration=60.0):
    return CallContext("T1", "A1", duration, tuple(utterances), TRUSTED, lexicon, RulesConfig())


def rules(utterances, lexicon, duration=60.0):
    return sorted(e.rule_id for e in interruption_rules(ctx(utterances, lexicon, duration)))


LONG_CALLER = utt("caller", 2.0, 14.0, "楼上每天晚上十二点以后还在装修电钻的声音特别大孩子根本睡不着觉")
# The agent cuts in on LONG_CALLER 0.4 s before the caller's words end.
LATE_AGENT = utt("agent", 13.6, 24.0, "这个事情我们已经知道了我们会去通知他们的你先不要着急等通知就行")


def heard(lexicon, *turns):
    """LONG_CALLER and LATE_AGENT with the turns (role, start, end) the segmentation model heard."""
    from pipeline.records import Turn

    spans = tuple(Turn("spk0" if role == "caller" else "spk1", role, a, b) for role, a, b in turns)
    return CallContext("T1", "A1", 60.0, (LONG_CALLER, LATE_AGENT), TRUSTED, lexicon, RulesConfig(), spans)


def test_caller_backchannels_never_count_against_the_agent(lexicon):
    calls = [
        utt("agent", 1.0, 15.0, "办理固定车位需要带上您的行驶证和身份证到地下车库的管理处填写申请表"),
        utt("caller", 5.0, 5.4, "嗯。"),
        utt("caller", 9.0, 9.6, "对对。"),
        utt("caller", 11.0, 11.5, "好的。"),
    ]
    assert [o.kind for o in classify_overlaps(ctx(calls, lexicon))] == ["backchannel"] * 3
    assert rules(calls, lexicon) == []


def test_a_murmur_misheard_as_words_is_still_a_backchannel_when_the_other_talks_on(lexicon):
    # Whisper heard the caller's 0.6 s 嗯嗯 as 啊能不能呢; the agent talked on for 8 s more.
    agent = utt("agent", 20.0, 40.0, "办理临时停车卡需要带上行驶证到地下车库的管理处")
    murmur = utt("caller", 31.4, 32.0, "啊能不能呢")
    assert [o.kind for o in classify_overlaps(ctx([agent, murmur], lexicon))] == ["backchannel"]
    assert rules([agent, murmur], lexicon) == []
    # The same words said for longer, or as the agent stops, are the caller taking the floor.
    longer = utt("caller", 31.4, 33.4, "啊能不能呢")
    assert rules([agent, longer], lexicon) == ["interruption.caller"]
    last_words = utt("caller", 39.0, 39.6, "啊能不能呢")
    assert [o.kind for o in classify_overlaps(ctx([agent, last_words], lexicon))] == ["competitive"]


def test_agent_cutting_in_then_talking_fast_is_impatient(lexicon):
    fast = utt(
        "agent", 11.0, 16.0, "这个事情我们已经知道了我们会去通知他们的你先不要着急等通知就行"
    )  # 30 chars in 5 s
    assert rules([LONG_CALLER, fast], lexicon) == ["conduct.impatient", "interruption.agent"]


def test_agent_cutting_in_at_normal_pace_is_only_an_interruption(lexicon):
    calm = utt(
        "agent", 11.0, 20.0, "这个事情我们已经知道了我们会去通知他们的你先不要着急等通知就行"
    )  # 3.3 chars/s
    assert rules([LONG_CALLER, calm], lexicon) == ["interruption.agent"]


def test_starting_as_the_other_finishes_is_a_hand_over(lexicon):
    reply = utt("agent", 13.8, 18.0, "好的，我们明天就派人去看一下")
    assert [o.kind for o in classify_overlaps(ctx([LONG_CALLER, reply], lexicon))] == ["hand-over"]
    assert rules([LONG_CALLER, reply], lexicon) == []


def test_the_caller_cutting_in_is_not_the_agents_fault(lexicon):
    agent = utt("agent", 1.0, 12.0, "今天上午九点到下午三点因为二次供水设备检修七栋和八栋暂时停水")
    caller = utt("caller", 10.0, 13.0, "那下午三点以后就能来水了吗")
    assert rules([agent, caller], lexicon) == ["interruption.caller"]


def test_a_speaker_resuming_after_a_short_pause_is_not_a_newcomer(lexicon):
    caller_a = utt("caller", 2.0, 8.0, "楼上那家每天晚上十二点以后还在装修")
    agent = utt("agent", 8.2, 14.0, "这个事情我们已经知道了我们会去通知他们的")
    caller_b = utt("caller", 8.6, 12.0, "我家孩子根本睡不着觉我已经反映过好几次了")
    events = interruption_rules(ctx([caller_a, agent, caller_b], lexicon))
    assert [e.rule_id for e in events] == ["interruption.agent"]


def test_repeated_interruptions_are_domineering(lexicon):
    calls = []
    for k in range(3):
        t = 20.0 * k
        calls.append(utt("caller", t + 1, t + 10, "我想问一下为什么这个月的物业费比上个月多了一百块钱"))
        calls.append(utt("agent", t + 8, t + 14, "公摊费用是按照面积分摊的每户都一样"))
    assert rules(calls, lexicon, duration=70) == ["conduct.domineering"] + ["interruption.agent"] * 3


def test_hanging_up_on_the_caller_is_premature_and_domineering(lexicon):
    calls = [
        utt("agent", 1.0, 3.0, "您好，物业客服中心。"),
        utt("caller", 3.5, 9.0, "可是我家里有老人每天上下楼很不方便"),
    ]
    assert rules(calls, lexicon, duration=9.0) == ["conduct.domineering", "hangup.premature"]


def test_a_call_that_ends_after_the_callers_thanks_or_after_a_pause_is_fine(lexicon):
    thanks = [utt("agent", 1.0, 3.0, "好的，明天上门。"), utt("caller", 3.5, 5.0, "好的，谢谢。")]
    assert rules(thanks, lexicon, duration=5.2) == []
    pause = [utt("agent", 1.0, 3.0, "好的。"), utt("caller", 3.5, 6.0, "那我等你们电话")]
    assert rules(pause, lexicon, duration=8.0) == []


def test_the_strict_preset_makes_any_agent_cut_in_impatient(lexicon):
    said = (
        utt("caller", 0.0, 4.0, "我家厨房的水管漏水了，你们能不能派人来看看"),
        utt("agent", 3.0, 4.5, "好的我们安排师傅"),  # a short, calm cut-in
    )

    def rules_of(cfg):
        context = CallContext("T1", "A1", 10.0, said, TRUSTED, lexicon, cfg)
        return sorted({e.rule_id for e in interruption_rules(context)})

    assert rules_of(RulesConfig()) == ["interruption.agent"]
    assert rules_of(RulesConfig.preset("strict")) == ["conduct.impatient", "interruption.agent"]


def test_a_cut_in_during_the_other_partys_pause_never_ends_before_it_starts(lexicon):
    said = [
        utt("caller", 0.0, 3.0, "楼上每天晚上十二点以后还在装修"),
        utt("caller", 3.6, 8.0, "电钻的声音特别大孩子根本睡不着觉"),  # she holds the floor over a 0.6 s pause
        utt("agent", 3.2, 9.0, "这个事情我们已经知道了我们会去通知他们的"),  # he starts in that pause
    ]
    events = [e for e in interruption_rules(ctx(said, lexicon)) if e.rule_id == "interruption.agent"]
    assert events and all(e.end >= e.start for e in events)


def test_a_caller_talking_on_without_words_under_the_agent_makes_the_cut_in_competitive(lexicon):
    # Mono at 8 kHz (E016 of the evaluation corpus): the agent cut in 0.4 s before the caller's
    # words end, and the caller talked on for another second that the segmentation model heard
    # as the caller's (a turn) while Whisper gave every word to the louder agent.
    words_only = heard(lexicon)
    assert [o.kind for o in classify_overlaps(words_only)] == ["hand-over"]
    talking_on = heard(lexicon, ("caller", 2.0, 14.0), ("agent", 13.6, 24.0), ("caller", 14.45, 15.4))
    assert [o.kind for o in classify_overlaps(talking_on)] == ["competitive"]
    assert [e.rule_id for e in interruption_rules(talking_on)] == ["interruption.agent"]
    # A wordless turn of the caller's that ends with the caller's words changes nothing.
    same = heard(lexicon, ("caller", 2.0, 14.0), ("agent", 13.6, 24.0))
    assert [o.kind for o in classify_overlaps(same)] == ["hand-over"]


def test_a_blip_of_the_other_voice_does_not_extend_its_floor(lexicon):
    # On real voices the segmentation model hears 0.1-0.4 s of the other voice inside a turn that
    # is one speaker's alone: such a blip right after the caller stopped is not the caller talking on.
    ctx = heard(lexicon, ("caller", 2.0, 14.0), ("agent", 13.6, 24.0), ("caller", 14.5, 14.8))
    assert [o.kind for o in classify_overlaps(ctx)] == ["hand-over"]


def test_a_reply_over_speech_without_words_names_no_one_as_cut_off(lexicon):
    # Real voices on stereo (RC04): the agent's first sentence was flagged as doubtful, so only its
    # turn says the agent was speaking when the caller started; the rules used to fail the call.
    from pipeline.records import Turn

    doubtful = utt("agent", 0.3, 4.56, "欢迎大家来体验达摩院推出的语音十别模型", flags=("hallucination",))
    caller = utt("caller", 4.0, 13.8, "吃燕窝就选燕之屋本节目由二十六年专注高品质燕窝的燕之屋冠名播出")
    turns = (Turn("ch0", "agent", 0.3, 4.56, 0), Turn("ch1", "caller", 4.0, 13.8, 1))
    context = CallContext("T1", "A1", 20.0, (doubtful, caller), TRUSTED, lexicon, RulesConfig(), turns)
    assert classify_overlaps(context) == []
    assert interruption_rules(context) == []


def test_on_mono_an_overlap_must_exceed_what_the_segmentation_model_can_resolve(lexicon):
    from dataclasses import replace

    caller = utt("caller", 2.0, 10.0, "楼上每天晚上十二点以后还在装修电钻的声音特别大")
    for start, stereo, mono in ((9.4, "competitive", "hand-over"), (9.0, "competitive", "competitive")):
        agent = utt("agent", start, 16.0, "这个事情我们已经知道了我们会去通知他们的")
        context = ctx([caller, agent], lexicon)
        assert [o.kind for o in classify_overlaps(context)] == [stereo]
        assert [o.kind for o in classify_overlaps(replace(context, layout="mono"))] == [mono], start


def _ending(lexicon, caller_end: float, duration: float, layout: str = "mono", words=()):
    """The agent's 没别的事了吧，再见 (30.0-31.4 s), then a turn of the caller's (31.6 s to
    ``caller_end``) whose words Whisper lost, unless ``words`` are given."""
    from pipeline.records import Turn

    said = (
        utt("caller", 20.0, 29.0, "电梯上个星期刚修过怎么又坏了"),
        utt("agent", 30.0, 31.4, "没别的事了吧，再见。"),
        *words,
    )
    turns = (
        Turn("spk0", "caller", 20.0, 29.0),
        Turn("spk1", "agent", 30.0, 31.4),
        Turn("spk0", "caller", 31.6, caller_end),
    )
    cfg = RulesConfig()
    return CallContext("T1", "A1", duration, said, TRUSTED, lexicon, cfg, turns, layout=layout)


def test_a_caller_cut_off_with_no_words_is_still_hung_up_on(lexicon):
    # The line drops on the caller's 等会儿，你们总得… and Whisper wrote none of it.
    events = interruption_rules(_ending(lexicon, caller_end=33.2, duration=33.25))
    assert sorted(e.rule_id for e in events) == ["conduct.domineering", "hangup.premature"]
    (hangup,) = [e for e in events if e.rule_id == "hangup.premature"]
    assert (hangup.start, hangup.end) == (31.6, 33.25) and "未能转写" in hangup.evidence
    # On stereo too: Whisper reads both channels' speech in one stream and loses a cut-off
    # sentence there as well (the next desks' voices behind the agent, a street behind the caller).
    stereo = interruption_rules(_ending(lexicon, caller_end=33.2, duration=33.25, layout="stereo"))
    assert sorted(e.rule_id for e in stereo) == ["conduct.domineering", "hangup.premature"]


def test_a_wordless_turn_that_ends_before_the_recording_or_has_words_is_not_a_cut(lexicon):
    # A moment of silence after it: the caller's own 再见 (lost) and then the line dropped.
    assert interruption_rules(_ending(lexicon, caller_end=32.5, duration=33.4)) == []
    # Its words are there, and they are a closing: read from the words, as on stereo.
    bye = (utt("caller", 31.6, 33.2, "好的，再见。"),)
    assert interruption_rules(_ending(lexicon, caller_end=33.2, duration=33.25, words=bye)) == []
    # Too short to be more than a breath or a click of the line.
    assert interruption_rules(_ending(lexicon, caller_end=31.9, duration=31.95)) == []
    # Off where hangup_cut_s is 0.
    off = replace(_ending(lexicon, caller_end=33.2, duration=33.25), config=RulesConfig(hangup_cut_s=0.0))
    assert interruption_rules(off) == []


def test_a_newcomer_whose_first_words_went_to_the_other_voice_starts_at_its_own_turn(lexicon):
    # 8 kHz mono (BD0015 of the generated benchmark's development part): the agent cut in at
    # 13.0 s, the segmentation model placed the agent's turn there, but the first words under the
    # caller went to the caller's utterance, and the agent's words start where the caller's end.
    from pipeline.records import Turn

    caller = utt("caller", 2.0, 14.0, "楼上每天晚上十二点以后还在装修电钻的声音特别大孩子根本睡不着觉")
    agent = utt("agent", 14.05, 20.0, "这个小区有统一规定您按流程来就可以了请问是哪一户")
    turns = (
        Turn("spk0", "caller", 2.0, 14.0),
        Turn("spk1", "agent", 13.0, 14.0),
        Turn("spk1", "agent", 14.05, 20.0),
    )

    def kinds(layout: str, spans=turns):
        context = CallContext(
            "T1", "A1", 30.0, (caller, agent), TRUSTED, lexicon, RulesConfig(), spans, layout=layout
        )
        return [o.kind for o in classify_overlaps(context)]

    assert kinds("mono") == ["competitive"]
    # Without the model's turn there is no overlap to read; on stereo a turn is the agent's own
    # channel, whose words Whisper heard alone.
    assert kinds("mono", turns[:1] + turns[2:]) == []
    assert kinds("stereo") == []
    # The agent's own floor going on (words 0.5 s before the turn) is not a new start.
    earlier = utt("agent", 12.0, 12.5, "好的好的")
    context = CallContext(
        "T1", "A1", 30.0, (caller, earlier, agent), TRUSTED, lexicon, RulesConfig(), turns, layout="mono"
    )
    assert "competitive" not in [o.kind for o in classify_overlaps(context) if o.newcomer is agent]
