from pipeline.config import RulesConfig
from pipeline.records import RoleAssignment
from pipeline.rules import CallContext, abstentions
from pipeline.rules.conduct import (
    closing_missing,
    hold_etiquette,
    pace_fast,
    polite_counts,
    self_intro_missing,
)
from tests.conftest import TRUSTED, utt


def ctx(utterances, lexicon, roles=TRUSTED):
    return CallContext("T1", "A1", 120.0, tuple(utterances), roles, lexicon, RulesConfig())


def ids(events):
    return [e.rule_id for e in events]


def test_self_introduction_in_the_opening(lexicon):
    assert self_intro_missing(ctx([utt("agent", 1, 4, "您好，这里是阳光物业。")], lexicon)) == []
    assert (
        self_intro_missing(
            ctx([utt("agent", 1, 2, "您好。"), utt("agent", 5, 7, "工号一零一为您服务。")], lexicon)
        )
        == []
    )
    assert ids(self_intro_missing(ctx([utt("agent", 1, 2, "您好，请讲。")], lexicon))) == [
        "self_intro.missing"
    ]


def test_closing_at_the_end_of_the_call(lexicon):
    ok = [utt("agent", 1, 3, "您好。"), utt("agent", 50, 52, "感谢您的来电，再见。")]
    assert closing_missing(ctx(ok, lexicon)) == []
    curt = [utt("agent", 1, 3, "您好。"), utt("caller", 40, 45, "那我挂了"), utt("agent", 46, 47, "嗯。")]
    (event,) = closing_missing(ctx(curt, lexicon))
    assert event.rule_id == "closing.missing" and event.evidence == "嗯。"


def test_fast_agent_turns_only(lexicon):
    fast = utt("agent", 0, 3, "您这个季度的物业费是八百六十元可以在手机上缴纳")  # 22 chars in 3 s
    normal = utt("agent", 10, 16, "您这个季度的物业费是八百六十元可以在手机上缴纳")
    short = utt("agent", 20, 20.5, "好的好的")
    caller = utt("caller", 30, 32, "我想问一下这个季度的物业费是多少钱呢谢谢")
    assert ids(pace_fast(ctx([fast, normal, short, caller], lexicon))) == ["pace.fast"]


def test_a_fast_turn_is_fast_however_whisper_writes_its_numbers(lexicon):
    # E004's agent: 12点 in one decode, 十二点 in another; both 5.5 字/秒 and more.
    for text in ("早上八点以前和中午十二点到两点都不能施工", "早上八点以前和中午12点到两点都不能施工"):
        assert ids(pace_fast(ctx([utt("agent", 0, 3.4, text)], lexicon))) == ["pace.fast"], text


def test_hold_with_notice_and_apology_is_fine(lexicon):
    calls = [
        utt("agent", 1, 3, "好的，请您稍等，我帮您查一下。"),
        utt("agent", 20, 23, "让您久等了，维修师傅下午到。"),
    ]
    assert hold_etiquette(ctx(calls, lexicon)) == []


def test_hold_without_notice_or_apology(lexicon):
    calls = [
        utt("agent", 1, 3, "好的。"),
        utt("caller", 3.2, 3.5, "嗯"),
        utt("agent", 20, 23, "维修师傅下午到。"),
    ]
    events = hold_etiquette(ctx(calls, lexicon))
    assert ids(events) == ["hold.no_notice", "hold.no_apology"]
    assert (events[0].start, events[0].end) == (3.5, 20)


def test_short_pauses_are_not_holds(lexicon):
    calls = [utt("agent", 1, 3, "好的。"), utt("agent", 6, 8, "师傅下午到。")]
    assert hold_etiquette(ctx(calls, lexicon)) == []


def test_polite_words_of_the_agent_are_counted(lexicon):
    calls = [
        utt("agent", 1, 3, "您好，请问有什么可以帮您？"),
        utt("caller", 4, 5, "谢谢"),
        utt("agent", 6, 8, "谢谢，再见。"),
    ]
    counts = polite_counts(calls, lexicon["polite"].phrases)
    assert counts == {"您好": 1, "请": 1, "谢谢": 1, "对不起": 0, "再见": 1}


def test_abstentions_say_why(lexicon):
    low = ctx(
        [utt("agent", 1, 2, "喂", flags=("hallucination",))],
        lexicon,
        RoleAssignment("spk0", 0.3, "single speaker"),
    )
    reasons = abstentions(low)
    assert "0.30" in reasons[0] and "single speaker" in reasons[0]
    assert "识别幻觉" in reasons[1]
    for rule in (self_intro_missing, closing_missing, pace_fast, hold_etiquette):
        assert rule(low) == []


def test_a_closing_given_to_the_other_voice_right_after_the_agent_abstains(lexicon):
    # E006 at 16 kHz mono: the agent's closing 再见 was clustered with the caller.
    clustered = RoleAssignment("spk0", 0.95, "words")
    calls = [
        utt("agent", 40.0, 45.0, "您好，阳光物业客服中心。"),
        utt("caller", 45.5, 46.0, "好的。"),
        utt("agent", 46.3, 49.2, "好，记下了，下午会有人联系你。"),
        utt("caller", 49.7, 50.3, "再见。"),
    ]
    assert closing_missing(ctx(calls, lexicon, clustered)) == []
    assert any(
        r.startswith("closing.missing（未使用告别语）未评分")
        for r in abstentions(ctx(calls, lexicon, clustered))
    )
    # Stereo (the channel says who spoke), a later 再见, or a caller who says more: the agent did not close.
    assert ids(closing_missing(ctx(calls, lexicon))) == ["closing.missing"]
    later = [*calls[:3], utt("caller", 50.5, 51.0, "再见。")]
    assert ids(closing_missing(ctx(later, lexicon, clustered))) == ["closing.missing"]
    more = [*calls[:3], utt("caller", 49.7, 52.3, "那我就等你们的电话了，再见。")]
    assert ids(closing_missing(ctx(more, lexicon, clustered))) == ["closing.missing"]
