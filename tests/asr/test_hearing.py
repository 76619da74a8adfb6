import numpy as np
import pytest

from pipeline.asr.hearing import GREETINGS, greeting_margin, hear_greeting, readings
from pipeline.records import Utterance, Word


def test_readings_take_away_up_to_three_first_characters_and_put_a_greeting_there():
    without, with_greeting = readings("引号，阳光物业")
    assert without == ["引号阳光物业", "号阳光物业", "阳光物业", "光物业"]
    assert "您好阳光物业" in with_greeting and "你好引号阳光物业" in with_greeting
    assert len(with_greeting) == len(GREETINGS) * 4
    # A one-character opening keeps its character: a reading of nothing is not a reading.
    assert readings("喂") == (["喂"], ["您好喂", "你好喂"])
    assert readings("，。") == ([], ["您好", "你好"])


def _scorer(table):
    """A reading's score from a table, unknown readings -30; checks the audio it was given."""

    def score(samples, texts):
        assert len(samples) > 0
        return [table.get(t, -30.0) for t in texts]

    return score


def test_the_margin_is_the_best_greeting_reading_over_the_best_reading_without():
    table = {"引号阳光物业": -9.0, "阳光物业": -7.0, "您好阳光物业": -4.0}
    assert greeting_margin(np.ones(100), "引号，阳光物业", _scorer(table)) == pytest.approx(3.0)
    table = {"喂阳光物业": -3.0, "您好阳光物业": -21.0}
    assert greeting_margin(np.ones(100), "喂，阳光物业", _scorer(table)) == pytest.approx(-18.0)
    assert greeting_margin(np.ones(100), "", _scorer({})) == float("-inf")


def test_the_opening_is_read_from_its_first_seconds_of_words_and_their_audio():
    sr = 1000
    samples = np.arange(20 * sr, dtype=np.float32)
    words = tuple(Word(c, 2.0 + i * 0.5, 2.4 + i * 0.5) for i, c in enumerate("也好阳光物业服务中心您好"))
    opening = Utterance("C1", 0, "agent", 2.0, 8.0, "也好阳光物业服务中心您好", words)
    seen = {}

    def score(clip, texts):
        seen["clip"], seen["texts"] = clip, texts
        return [0.0] * len(texts)

    heard = hear_greeting(samples, opening, score, sample_rate=sr)
    assert heard.at == 2.0 and heard.margin == 0.0
    # Words that start within 3 s of the opening (six of them), their audio from 0.2 s before to 0.1 s after.
    assert seen["texts"][0] == "也好阳光物业"
    assert seen["clip"][0] == pytest.approx(1.8 * sr) and seen["clip"][-1] == pytest.approx(5.0 * sr - 1)
