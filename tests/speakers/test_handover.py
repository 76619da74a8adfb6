"""A change of speaker heard in the words (pipeline.speakers.handover), on hand-made mono turns."""

from pipeline.records import Turn, Utterance, Word
from pipeline.speakers.handover import handovers, move_handovers


def said(speaker: str, *words: tuple[str, float, float]) -> Utterance:
    ws = tuple(Word(t, a, b) for t, a, b in words)
    return Utterance(
        "C1", 0, "unknown", ws[0].start, ws[-1].end, "".join(w.text for w in ws), ws, 1.0, speaker
    )


def test_the_callers_greeting_after_the_agents_question_goes_to_the_caller(lexicon):
    # 请问有什么可以帮您？您好 in one turn: the 您好 is the caller's, whose turn follows.
    agent = said(
        "spk1",
        ("您好，", 1.0, 1.5),
        ("阳光物业，", 1.6, 2.6),
        ("请问有什么可以帮您？", 3.0, 5.0),
        ("您好，", 5.6, 6.0),
    )
    caller = said("spk0", ("我家", 6.4, 6.8), ("漏水了。", 6.8, 7.6))
    turns = [Turn("spk1", "unknown", 1.0, 6.0), Turn("spk0", "unknown", 6.4, 7.6)]
    assert handovers([agent, caller], lexicon) == [(0, 1, 1)]
    new_turns, (a, c) = move_handovers(turns, [agent, caller], lexicon)
    assert a.text == "您好，阳光物业，请问有什么可以帮您？" and a.end == 5.0
    assert c.text == "您好，我家漏水了。" and c.start == 5.6 and c.speaker == "spk0"
    assert [(t.speaker, t.start, t.end) for t in new_turns] == [("spk1", 1.0, 5.6), ("spk0", 5.6, 7.6)]


def test_the_agents_question_at_the_start_of_the_callers_turn_goes_to_the_agent(lexicon):
    agent = said("spk0", ("您好，", 1.0, 1.5), ("阳光物业。", 1.6, 2.6))
    caller = said(
        "spk1", ("请问有什么可以帮您？", 3.0, 5.0), ("你好，", 5.1, 5.5), ("我家漏水了。", 5.6, 7.0)
    )
    turns = [Turn("spk0", "unknown", 1.0, 2.6), Turn("spk1", "unknown", 3.0, 7.0)]
    new_turns, (a, c) = move_handovers(turns, [agent, caller], lexicon)
    assert a.text == "您好，阳光物业。请问有什么可以帮您？" and c.text == "你好，我家漏水了。"
    assert [(t.speaker, t.start, t.end) for t in new_turns] == [("spk0", 1.0, 5.0), ("spk1", 5.0, 7.0)]


def test_a_greeting_that_follows_no_question_or_no_other_voice_stays(lexicon):
    # 阳光物业，您好 is how many centres answer; the greeting is the agent's own.
    agent = said("spk1", ("阳光物业，", 1.0, 2.0), ("您好，", 2.1, 2.6))
    caller = said("spk0", ("我家漏水了。", 3.0, 4.0))
    assert handovers([agent, caller], lexicon) == []
    # A question and a greeting, with the other voice 3 s later: no hand-over to move.
    asks = said("spk1", ("什么事？", 1.0, 1.8), ("您好，", 2.4, 2.8))
    late = said("spk0", ("我家漏水了。", 5.8, 7.0))
    assert handovers([asks, late], lexicon) == []


def test_a_turn_that_is_only_a_question_and_a_greeting_is_left_alone(lexicon):
    # Either clause could be this voice's own: nothing is moved.
    agent = said("spk1", ("您好，阳光物业。", 1.0, 2.6))
    middle = said("spk0", ("请问有什么可以帮您？", 3.0, 5.0), ("您好，", 5.4, 5.8))
    caller = said("spk1", ("我找一下工程部。", 6.2, 7.4))
    assert handovers([agent, middle, caller], lexicon) == []


def test_a_callers_hello_on_the_line_is_no_question(lexicon):
    agent = said("spk1", ("您好，阳光物业。", 1.0, 2.6))
    caller = said("spk0", ("喂？", 3.0, 3.4), ("你好，", 3.5, 3.9), ("我家漏水了。", 4.0, 5.2))
    assert handovers([agent, caller], lexicon) == []


def test_moves_found_on_neighbouring_turns_are_made_once_and_lose_no_word(lexicon):
    # The agent's turn ends with the caller's 您好; the caller's turn starts with a question: both
    # moves were found on the turns as they were, so only the first is made.
    agent = said("spk1", ("阳光物业，", 1.0, 2.0), ("请问有什么可以帮您？", 2.2, 4.0), ("您好，", 4.5, 4.9))
    caller = said("spk0", ("请问你们几点下班？", 5.2, 6.6), ("您好，", 7.0, 7.4), ("我家漏水了。", 7.6, 8.6))
    turns = [Turn("spk1", "unknown", 1.0, 4.9), Turn("spk0", "unknown", 5.2, 8.6)]
    assert [(s, d) for s, d, _ in handovers([agent, caller], lexicon)] == [(0, 1), (1, 0)]
    _, (a, c) = move_handovers(turns, [agent, caller], lexicon)
    assert a.text == "阳光物业，请问有什么可以帮您？"
    assert c.text == "您好，请问你们几点下班？您好，我家漏水了。"
    assert [w.start for w in a.words + c.words] == sorted(w.start for w in agent.words + caller.words)
