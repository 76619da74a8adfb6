from pipeline.config import RulesConfig
from pipeline.records import RoleAssignment
from pipeline.rules import CallContext
from pipeline.rules.phrases import banned_phrases
from tests.conftest import TRUSTED, utt


def found(utterances, lexicon, roles=TRUSTED):
    ctx = CallContext("T1", "A1", 60.0, tuple(utterances), roles, lexicon, RulesConfig())
    return [(e.category, e.confidence) for e in banned_phrases(ctx)]


def test_curt_whole_replies_are_banned_only_when_they_are_the_whole_reply(lexicon):
    assert found([utt("agent", 1, 2, "不知道。")], lexicon) == [("傲慢", 1.0)]
    assert found([utt("agent", 1, 2, "随便吧。")], lexicon) == [("不负责任", 1.0)]
    assert found([utt("agent", 1, 3, "我随便问一下您的房号。")], lexicon) == []
    assert found([utt("agent", 1, 3, "这个我不知道怎么处理，我帮您问一下。")], lexicon) == []


def test_contains_respects_word_boundaries(lexicon):
    assert found([utt("agent", 1, 3, "他不在乎这些。")], lexicon) == []
    assert found([utt("agent", 1, 3, "你有什么事就说嘛，快点。")], lexicon) == [("无礼", 1.0)]


def test_homophone_asr_errors_are_caught_at_lower_confidence(lexicon):
    assert found([utt("agent", 1, 3, "我已经讲了，明天再打赖。")], lexicon) == [("傲慢", 0.8)]


def test_accent_merges_and_the_polite_pronoun_are_caught_at_lower_confidence(lexicon):
    # 姓名 heard as 信明 (-ng as -n): the 模糊音 an input method forgives.
    assert found([utt("agent", 1, 3, "你不报信明，我是不会给你接转的。")], lexicon) == [("无礼", 0.7)]
    assert found([utt("agent", 1, 3, "您有什么事就说吗？")], lexicon) == [("无礼", 0.8)]  # 您, and 吗 for 嘛
    # The merges do not make ordinary replies curt.
    assert found([utt("agent", 1, 3, "请您说一下姓名和电话。")], lexicon) == []
    assert found([utt("agent", 1, 3, "师傅现在在路上，马上到。")], lexicon) == []


def test_only_the_agent_is_held_to_the_agent_list(lexicon):
    assert found([utt("caller", 1, 2, "不知道。")], lexicon) == []


def test_flagged_text_and_untrusted_roles_never_produce_events(lexicon):
    assert found([utt("agent", 1, 2, "不知道。", flags=("hallucination",))], lexicon) == []
    assert (
        found([utt("agent", 1, 2, "不知道。")], lexicon, RoleAssignment("spk0", 0.3, "single speaker")) == []
    )


def test_event_times_come_from_the_words_of_the_phrase(lexicon):
    ctx = CallContext(
        "T1",
        "A1",
        60.0,
        (utt("agent", 10.0, 15.0, "好的声音大点你说什么", words=True),),
        TRUSTED,
        lexicon,
        RulesConfig(),
    )
    events = sorted(banned_phrases(ctx), key=lambda e: e.start)
    assert [round(e.start, 2) for e in events] == [11.0, 13.0]  # 声音大点 at chars 2-5, 你说什么 at 6-9
