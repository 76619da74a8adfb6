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
