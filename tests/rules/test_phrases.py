from dataclasses import replace

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


def events_of(utterances, lexicon, roles=TRUSTED):
    ctx = CallContext("T1", "A1", 60.0, tuple(utterances), roles, lexicon, RulesConfig())
    return sorted(banned_phrases(ctx), key=lambda e: e.start)


def test_one_event_per_utterance_and_category_spanning_the_words_of_its_phrases(lexicon):
    # 声音大点 (chars 2-5) and 你说什么 (6-9), both 不耐烦/粗鲁: one moment, counted once.
    (event,) = events_of([utt("agent", 10.0, 15.0, "好的声音大点你说什么", words=True)], lexicon)
    assert (round(event.start, 2), round(event.end, 2)) == (11.0, 15.0)
    assert event.category == "不耐烦/粗鲁" and event.evidence.endswith("〔声音大点、你说什么〕")
    # Two categories in one reply are two findings.
    both = events_of([utt("agent", 1, 4, "不知道。随便。")], lexicon)
    assert sorted(e.category for e in both) == ["不负责任", "傲慢"]


def test_a_curt_reply_is_caught_as_a_whole_clause_inside_a_longer_utterance(lexicon):
    assert found([utt("agent", 1, 3, "随便，你自己看着办吧。")], lexicon) == [("不负责任", 1.0)]
    assert found([utt("agent", 1, 3, "小李今天没有来，你改天再打。")], lexicon) == [("不当答复", 1.0)]
    # Not a clause of its own: an ordinary sentence.
    assert found([utt("agent", 1, 3, "我随便问一下您的房号。")], lexicon) == []
    assert found([utt("agent", 1, 3, "师傅还没有来吗？我帮您催一下。")], lexicon) == []


def test_a_pause_in_the_words_ends_a_clause_as_a_comma_would(lexicon):
    from pipeline.records import Word

    words = (Word("随便", 1.0, 1.4), Word("你", 2.0, 2.1), Word("自己", 2.1, 2.4), Word("看着办", 2.4, 2.9))
    u = utt("agent", 1.0, 2.9, "随便你自己看着办")
    assert found([u], lexicon) == []  # no punctuation and no timings: one clause
    assert found([replace(u, words=words)], lexicon) == [("不负责任", 1.0)]


def test_a_long_phrase_survives_one_damaged_syllable(lexicon):
    # 下班了明天再打 with its first syllable lost and 再 heard as 在: still the banned reply.
    assert found([utt("agent", 1, 3, "班了，明天在打。")], lexicon) == [("不耐烦/粗鲁", 0.6)]
    assert found([utt("agent", 1, 3, "我已经说了。")], lexicon) == [("傲慢", 0.6)]  # 过 dropped


def test_an_unless_context_cancels_the_entry(tmp_path, lexicon):
    import shutil

    from pipeline.lexicon import load_lexicon

    folder = tmp_path / "lexicons"
    shutil.copytree(lexicon.folder, folder)
    banned = folder / "banned.toml"
    banned.write_text(
        banned.read_text(encoding="utf-8").replace(
            'phrase = "我已经说过了"\ncategory = "傲慢"\nrole = "agent"\nmatch = "contains"',
            'phrase = "我已经说过了"\ncategory = "傲慢"\nrole = "agent"\nmatch = "contains"\nunless = ["我已经说过了会帮"]',
        ),
        encoding="utf-8",
    )
    custom = load_lexicon(folder)
    said = [utt("agent", 1, 3, "我已经说过了会帮您处理的。")]
    assert found(said, lexicon) == [("傲慢", 1.0)] and found(said, custom) == []


def test_a_banned_phrase_of_a_voice_whose_role_is_unsure_is_left_for_a_listener(lexicon):
    # Mono, two alike voices whose words mixed: the rule abstains, and says what it heard.
    from pipeline.rules import UNATTRIBUTED_BANNED, abstentions

    said = (
        utt("agent", 1.0, 5.0, "您好，阳光物业客服中心，请问有什么可以帮您？", speaker="spk0"),
        utt("caller", 5.5, 9.0, "我找一下工程部的张师傅，他今天来上班了吗？", speaker="spk1"),
        utt("caller", 9.5, 10.3, "不在。", speaker="spk1"),
    )
    mixed = RoleAssignment("spk0", 0.4, "voices mixed")
    ctx = CallContext("T1", "A1", 60.0, said, mixed, lexicon, RulesConfig())
    assert banned_phrases(ctx) == []
    heard = [r for r in abstentions(ctx) if r.startswith(UNATTRIBUTED_BANNED)]
    assert len(heard) == 1 and "「不在」" in heard[0] and "9.5-10.3 秒" in heard[0]
    trusted = CallContext(
        "T1", "A1", 60.0, said, RoleAssignment("spk0", 0.95, "words"), lexicon, RulesConfig()
    )
    assert not any(r.startswith("phrase.banned") for r in abstentions(trusted))
