"""Words into utterances where two voices' turns overlap (a cut-in on a mono recording)."""

from pipeline.records import Turn, Word
from pipeline.speakers.utterances import assign_words


def _words(spec: list[tuple[str, float, float]]):
    return [(Word(text, start, end), False) for text, start, end in spec]


def test_a_word_after_a_sentence_ends_inside_an_overlap_is_the_newcomers():
    # The caller 21.4-24.7 s; the agent cuts in at 23.6 s. Whisper writes the caller's sentence to
    # its end (两个小时？) and then the agent's words, all within the overlap.
    turns = [Turn("spk0", "caller", 21.4, 24.7), Turn("spk1", "agent", 23.6, 27.3)]
    words = _words(
        [
            ("能不能", 21.5, 21.8),
            ("停下来", 23.2, 23.6),
            ("两个小时？", 23.8, 24.2),
            ("请让我", 24.26, 24.3),
            ("先解释", 24.3, 24.7),
            ("这个费用", 25.0, 25.5),
        ]
    )
    caller, agent = assign_words(turns, words)
    assert [w.text for w, _ in caller] == ["能不能", "停下来", "两个小时？"]
    assert [w.text for w, _ in agent] == ["请让我", "先解释", "这个费用"]


def test_without_a_sentence_end_the_overlapped_words_stay_with_the_voice_before_them():
    turns = [Turn("spk0", "caller", 21.4, 24.7), Turn("spk1", "agent", 23.6, 27.3)]
    words = _words(
        [("能不能", 21.5, 21.8), ("停下来", 23.7, 24.0), ("休息", 24.1, 24.5), ("这个费用", 25.0, 25.5)]
    )
    caller, agent = assign_words(turns, words)
    assert [w.text for w, _ in caller] == ["能不能", "停下来", "休息"]
    assert [w.text for w, _ in agent] == ["这个费用"]


def test_a_clause_end_inside_an_overlap_hands_over_once():
    # The agent's 不客气，感谢您的来电，再见 and the caller's 那就麻烦你们了，谢谢 start under its
    # end. Whisper closes the agent's clause with a comma and writes the caller's words after it;
    # the caller's own comma later in the overlap does not hand the words back to the agent.
    turns = [Turn("spk1", "agent", 47.0, 51.2), Turn("spk0", "caller", 50.1, 52.4)]
    words = _words(
        [
            ("不客气，", 47.1, 47.6),
            ("感谢您的来电，", 49.0, 49.9),
            ("再见，", 50.0, 50.3),
            ("那就", 50.35, 50.6),
            ("麻烦你们了，", 50.6, 51.0),
            ("谢谢", 51.0, 51.1),
            ("好的", 51.6, 52.0),
        ]
    )
    agent, caller = assign_words(turns, words)
    assert [w.text for w, _ in agent] == ["不客气，", "感谢您的来电，", "再见，"]
    assert [w.text for w, _ in caller] == ["那就", "麻烦你们了，", "谢谢", "好的"]


def test_a_word_both_turns_cover_goes_to_the_voice_heard_alone_over_it():
    # The agent's 物业，说吧 (4.4-5.0 s) after the caller's 姓王 with no sentence end: the caller's
    # turn was stretched over it by the overlap that follows. The model hears the agent alone.
    turns = [Turn("spk0", "caller", 1.5, 5.3), Turn("spk1", "agent", 4.4, 6.5)]
    words = _words([("姓王", 3.0, 3.4), ("物业", 4.4, 4.7), ("说吧", 4.7, 5.0), ("好的", 5.6, 6.0)])
    heard = lambda start, end: "spk1" if start >= 4.3 else "spk0"  # noqa: E731
    caller, agent = assign_words(turns, words, heard)
    assert [w.text for w, _ in caller] == ["姓王"]
    assert [w.text for w, _ in agent] == ["物业", "说吧", "好的"]
    # Nobody heard alone: Whisper's order decides, and the words stay with the caller's voice.
    caller, agent = assign_words(turns, words, lambda start, end: None)
    assert [w.text for w, _ in caller] == ["姓王", "物业", "说吧"]


def test_a_recorded_prompt_before_the_agent_is_flagged_and_the_agents_own_words_stay_theirs(lexicon):
    from pipeline.speakers.utterances import PROMPT, build_utterances

    # An IVR's welcome, a second of ringing, then the agent picks up without a greeting.
    ivr = [("您好，", 0.0, 0.5), ("欢迎致电阳光物业，", 0.5, 2.0), ("本次通话可能会被录音。", 2.0, 4.0)]
    agent = [("喂，", 5.2, 5.5), ("什么事？", 5.5, 6.2)]
    words = _words(ivr + agent)
    turn = Turn("ch0", "agent", 0.0, 6.2, channel=0)
    prompt, own = build_utterances("C1", [turn], words, lexicon)
    assert prompt.flags == (PROMPT,) and not prompt.scorable and prompt.end == 4.0
    assert own.scorable and own.text == "喂，什么事？" and own.start == 5.2 and own.end == 6.2
    # Without a prompt among them, a turn's words are one utterance, pauses and all.
    (plain,) = build_utterances("C1", [turn], _words(ivr[:2] + agent), lexicon)
    assert plain.scorable and plain.text.startswith("您好")
