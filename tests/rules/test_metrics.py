import pytest

from pipeline.records import Turn
from pipeline.rules.metrics import call_metrics
from tests.conftest import utt


def test_talk_silence_overlap_and_pace_per_role():
    utterances = [
        utt("agent", 1.0, 5.0, "您好这里是阳光物业客服中心"),  # 13 Han characters in 4 s
        utt("caller", 4.0, 9.0, "我家漏水了"),  # cuts in at 4.0: 1 s of overlap started by the caller
        utt("agent", 8.5, 10.0, "好的"),  # cuts in at 8.5: 0.5 s started by the agent
    ]
    turns = [Turn(u.role, u.role, u.start, u.end) for u in utterances]
    m = call_metrics("C1", "A1", 12.0, turns, utterances)
    assert m.talk_agent == 5.5 and m.talk_caller == 5.0
    assert m.silence == pytest.approx(12.0 - 9.0)
    assert m.overlap == 1.5
    assert (m.overlap_started_by_caller, m.overlap_started_by_agent) == (1.0, 0.5)
    assert m.agent_chars_per_s == pytest.approx(15 / 5.5, abs=1e-3)  # stored rounded to 3 places
