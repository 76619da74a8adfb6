from dataclasses import replace

from pipeline.config import RulesConfig
from pipeline.records import GreetingHearing, RoleAssignment
from pipeline.rules import CallContext, abstentions, apply_rules
from pipeline.rules.greeting import greeting_missing
from tests.conftest import TRUSTED, utt


def ctx(utterances, lexicon, roles=TRUSTED, window=6.0):
    return CallContext(
        "T1", "A1", 60.0, tuple(utterances), roles, lexicon, RulesConfig(greeting_window_s=window)
    )


def test_greeting_in_first_agent_utterance_passes(lexicon):
    calls = [utt("agent", 3.0, 6.0, "您好，阳光物业客服中心。"), utt("caller", 6.5, 8.0, "你好")]
    assert greeting_missing(ctx(calls, lexicon)) == []


def test_missing_greeting_is_flagged_with_evidence_and_time(lexicon):
    calls = [utt("agent", 2.0, 4.0, "物业客服，什么事？"), utt("caller", 4.5, 7.0, "我的门禁卡坏了")]
    (event,) = greeting_missing(ctx(calls, lexicon))
    assert event.rule_id == "greeting.missing"
    assert (event.start, event.end) == (2.0, 4.0)
    assert event.evidence == "物业客服，什么事？"
    assert event.role == "agent" and event.agent_id == "A1"
    assert event.rule_version.endswith(lexicon.version)


def test_window_counts_from_the_agents_first_speech_not_the_file_start(lexicon):
    # Ringback and an IVR prompt fill the first 20 s; the agent then greets at once.
    calls = [utt("caller", 1.0, 3.0, "喂？"), utt("agent", 20.0, 22.0, "您好，物业。")]
    assert greeting_missing(ctx(calls, lexicon)) == []


def test_greeting_said_too_late_is_missing(lexicon):
    calls = [
        utt("agent", 1.0, 2.0, "物业。", words=True),
        utt("caller", 2.5, 8.0, "我家漏水了"),
        utt("agent", 9.0, 10.0, "您好，请讲。", words=True),
    ]
    assert [e.rule_id for e in greeting_missing(ctx(calls, lexicon, window=6.0))] == ["greeting.missing"]


def test_a_greeting_split_over_two_short_utterances_counts(lexicon):
    calls = [utt("agent", 1.0, 1.6, "阳光物业，"), utt("agent", 2.0, 2.8, "您好。")]
    assert greeting_missing(ctx(calls, lexicon)) == []


def test_homophone_of_the_greeting_passes(lexicon):
    # 你好 heard as 拟好 by the recogniser (same pinyin ni hao).
    calls = [utt("agent", 1.0, 3.0, "拟好，物业客服中心")]
    assert greeting_missing(ctx(calls, lexicon)) == []


UNSURE = RoleAssignment("spk0", 0.3, "one voice: two clusters 0.85 alike, words of one party")


def _unsure(said):
    # Roles not trusted: every utterance given to one voice, whoever said it.
    return [utt("agent", s, e, text, speaker="spk0") for s, e, text in said]


def test_abstains_when_roles_are_not_trusted_and_the_opening_does_not_answer_for_the_centre(lexicon):
    calls = [utt("agent", 2.0, 4.0, "什么事？")]
    assert greeting_missing(ctx(calls, lexicon, roles=RoleAssignment("spk0", 0.3, "single speaker"))) == []
    # A caller asking for the centre is not the centre answering.
    asking = _unsure([(1.0, 3.0, "喂，是物业吗？我家漏水了。"), (3.5, 5.0, "对，请讲。")])
    assert greeting_missing(ctx(asking, lexicon, roles=UNSURE)) == []


def test_an_answer_for_the_centre_without_a_greeting_is_flagged_when_the_roles_are_unsure(lexicon):
    # Mono, the two voices merged into one: the words still say who answered, and how.
    calls = _unsure([(1.0, 2.2, "喂，物业。"), (2.6, 6.0, "我家楼下的草坪刚打过药，味道特别大。")])
    (event,) = greeting_missing(ctx(calls, lexicon, roles=UNSURE))
    assert event.evidence == "喂，物业。" and event.start == 1.0
    assert event.confidence >= RulesConfig().role_min_confidence  # the words are sure, not the roles
    # The caller greeting first and saying who they are does not greet for the agent.
    caller_first = _unsure([(0.5, 2.5, "你好，我是五栋的业主，姓王。"), (3.0, 4.2, "客服中心，什么情况？")])
    (event,) = greeting_missing(ctx(caller_first, lexicon, roles=UNSURE))
    assert event.evidence == "客服中心，什么情况？"


def test_a_greeting_before_in_or_after_the_answer_passes_when_the_roles_are_unsure(lexicon):
    for said in (
        [(1.0, 3.0, "您好，阳光物业客服中心。"), (3.5, 6.0, "我家漏水了。")],
        # a bare 您好 before the answer may be the agent's own, given to another voice
        [(1.0, 1.6, "您好。"), (1.8, 3.0, "阳光物业，请讲。")],
        [(1.0, 2.0, "喂，物业。"), (2.3, 3.0, "您好，请讲。")],
    ):
        assert greeting_missing(ctx(_unsure(said), lexicon, roles=UNSURE)) == [], said
    # A caller's greeting back after a bare answer leaves the answer bare.
    greeted_back = _unsure([(1.0, 2.0, "喂，物业。"), (2.5, 5.0, "你好，我家厨房的水管漏水了。")])
    assert [e.rule_id for e in greeting_missing(ctx(greeted_back, lexicon, roles=UNSURE))] == [
        "greeting.missing"
    ]


def test_abstains_when_the_agent_never_speaks(lexicon):
    assert greeting_missing(ctx([utt("caller", 1.0, 5.0, "喂，有人吗")], lexicon)) == []


def test_hallucinated_text_is_never_evidence(lexicon):
    calls = [
        utt("agent", 0.2, 1.0, "请不吝点赞订阅转发打赏", flags=("hallucination",)),
        utt("agent", 2.0, 4.0, "您好，物业客服。"),
    ]
    assert greeting_missing(ctx(calls, lexicon)) == []


def test_apply_rules_runs_the_greeting_rule_among_the_others(lexicon):
    events = apply_rules(ctx([utt("agent", 2.0, 4.0, "说。")], lexicon))
    assert sorted(e.rule_id for e in events) == ["closing.missing", "greeting.missing", "self_intro.missing"]


def test_a_lone_greeting_given_to_the_caller_before_the_agents_opening_is_not_blamed_on_mono(lexicon):
    # Mono: the clustering gave the agent's 0.8 s 您好 to the caller's voice; the agent's opening
    # follows 0.26 s later without a greeting of its own. Who said 您好 is unsure: abstain.
    calls = [
        utt("caller", 1.14, 1.94, "您好，"),
        utt("agent", 2.19, 8.56, "阳光物业客服中心工号二零七，请问有什么可以帮您？"),
        utt("caller", 8.85, 17.2, "我想问一下我的停车月卡是不是到期了？"),
    ]
    clustered = RoleAssignment("spk1", 0.95, "words")
    assert greeting_missing(ctx(calls, lexicon, roles=clustered)) == []
    from pipeline.rules import abstentions

    assert any(
        r.startswith("greeting.missing（未使用问候语）未评分")
        for r in abstentions(ctx(calls, lexicon, roles=clustered))
    )
    # Stereo: the caller's channel said it; the agent did not greet.
    assert [e.rule_id for e in greeting_missing(ctx(calls, lexicon))] == ["greeting.missing"]
    # A caller who says more than a greeting, or an agent who answers later, is not a hand-over.
    late = [calls[0], utt("agent", 3.0, 8.56, "阳光物业客服中心。"), calls[2]]
    assert [e.rule_id for e in greeting_missing(ctx(late, lexicon, roles=clustered))] == ["greeting.missing"]


def test_an_opening_that_begins_with_a_greeting_given_to_the_other_voice_abstains(lexicon):
    # E003 at 8 kHz mono: the agent's 您好，阳光物业客服中心 was clustered with the caller, and the
    # rest of the agent's opening follows 0.5 s later.
    clustered = RoleAssignment("spk1", 0.95, "words")
    calls = [
        utt("caller", 0.95, 3.9, "您好，阳光物业客服中心，"),
        utt("agent", 4.38, 7.7, "工号202，请问有什么可以帮您？"),
        utt("caller", 8.2, 16.0, "您好，我想问一下明年的物业费可以一次交一整年吗？"),
    ]
    assert greeting_missing(ctx(calls, lexicon, roles=clustered)) == []
    # An opening that only ends with a greeting is not one the agent gave away.
    asked = [utt("caller", 0.95, 3.9, "喂，我想问一下，你好"), *calls[1:]]
    assert [e.rule_id for e in greeting_missing(ctx(asked, lexicon, roles=clustered))] == ["greeting.missing"]


def test_a_caller_who_opens_with_a_greeting_and_who_they_are_gave_nothing_away(lexicon):
    # The caller greets first and says who they are; the agent answers 0.35 s later without a
    # greeting (喂，客服中心，什么情况？). The greeting was the caller's own sentence, not the agent's
    # 您好 clustered with the caller: the agent is flagged, on mono too.
    calls = [
        utt("caller", 1.39, 3.79, "你好，我是新搬来的租户，住在八栋。"),
        utt("agent", 4.14, 6.19, "喂，客服中心，什么情况？"),
        utt("caller", 6.6, 10.0, "小区草坪上到处都是狗粪，根本没人清理。"),
    ]
    assert _on_mono(calls, lexicon) == ["greeting.missing"]


def test_a_greeting_cut_in_two_at_the_change_of_voice_is_not_blamed(lexicon):
    # The agent's 您 went to the caller's turn (word times a syllable off where the voices change
    # with no pause): 您 + 好，阳光物业… is the agent's greeting.
    from pipeline.records import Word

    caller = utt("caller", 1.77, 4.97, "您好，我是十二栋的住户，我姓刘。您")
    caller = replace(caller, words=(Word("我姓刘。", 3.7, 4.2, 0.9), Word("您", 4.67, 4.9, 0.9)))
    calls = [caller, utt("agent", 4.97, 9.0, "好，阳光物业客服中心，请问有什么可以帮您？")]
    assert _on_mono(calls, lexicon) == []


def _on_mono(calls, lexicon) -> list[str]:
    """greeting.missing's findings with the roles read from the words of one mixed channel
    (confidence under 1.0: the hand-over checks apply)."""
    clustered = RoleAssignment("spk0", 0.95, "words")
    return [e.rule_id for e in greeting_missing(ctx(calls, lexicon, roles=clustered))]


def _heard(calls, lexicon, at, margin, roles=TRUSTED):
    return replace(ctx(calls, lexicon, roles=roles), greeting_heard=GreetingHearing(at, margin))


def test_an_opening_whose_sound_fits_a_greeting_the_words_lost_abstains(lexicon):
    # 您好 heard as 引号 on a degraded line; the opening's sound fits 您好 better than the words.
    calls = [utt("agent", 2.0, 4.0, "引号，阳光物业客服中心"), utt("caller", 4.5, 7.0, "我家水管漏了")]
    assert greeting_missing(_heard(calls, lexicon, 2.0, 3.5)) == []
    assert any(
        "开场的声音与以“您好”开头的读法同样吻合" in r for r in abstentions(_heard(calls, lexicon, 2.0, 3.5))
    )


def test_an_opening_whose_sound_does_not_fit_a_greeting_is_flagged(lexicon):
    # The agent said 喂: a reading starting with 您好 must explain sounds that are not there.
    calls = [utt("agent", 2.0, 4.0, "喂，阳光物业客服中心"), utt("caller", 4.5, 7.0, "我家水管漏了")]
    margin = RulesConfig().greeting_heard_margin - 0.5
    assert [e.rule_id for e in greeting_missing(_heard(calls, lexicon, 2.0, margin))] == ["greeting.missing"]
    assert not any("您好" in r for r in abstentions(_heard(calls, lexicon, 2.0, margin)))


def test_a_hearing_of_another_utterance_counts_for_nothing(lexicon):
    # A reading stored for an opening the roles no longer name (a rescore with other roles).
    calls = [utt("agent", 2.0, 4.0, "喂，阳光物业客服中心"), utt("caller", 4.5, 7.0, "我家水管漏了")]
    assert [e.rule_id for e in greeting_missing(_heard(calls, lexicon, 4.5, 9.0))] == ["greeting.missing"]


def test_the_hearing_reads_an_answer_for_the_centre_when_the_roles_are_unsure(lexicon):
    calls = _unsure([(1.0, 3.0, "也好，阳光物业客服中心。"), (3.5, 6.0, "我家水管漏了。")])
    assert greeting_missing(_heard(calls, lexicon, 1.0, 0.2, roles=UNSURE)) == []
    flagged = greeting_missing(_heard(calls, lexicon, 1.0, -20.0, roles=UNSURE))
    assert [e.confidence for e in flagged] == [0.8]
