from datetime import datetime, timedelta, timezone

from pipeline.records import CallMetrics, CallRef, CallResult, Event, RoleAssignment, Utterance, Word


def test_call_result_round_trips_through_a_plain_dict():
    ref = CallRef(
        "C1", "/share/c1.wav", "A1", datetime(2026, 11, 16, 9, 0, tzinfo=timezone(timedelta(hours=8))), "mono"
    )
    utterance = Utterance(
        "C1", 0, "agent", 0.5, 1.5, "您好", (Word("您好", 0.5, 1.0, 0.9),), 0.9, "spk0", ("x",)
    )
    event = Event("C1", "A1", "greeting.missing", "", "major", 0.5, 1.5, "agent", "喂", 0.9, "1+lex.abc")
    metrics = CallMetrics("C1", "A1", 10.0, 4.0, 5.0, 1.0, 0.2, 4.5, 1)
    result = CallResult(
        ref, "m", "lex", RoleAssignment("spk0", 0.9, "cues"), (utterance,), (event,), metrics, {"decode": 0.1}
    )
    data = result.to_dict()
    assert data["call"]["started_at"] == "2026-11-16T09:00:00+08:00"
    assert CallResult.from_dict(data) == result


def test_call_date_is_the_local_date_of_the_start():
    ref = CallRef(
        "C1", "p", "A1", datetime(2026, 11, 16, 23, 30, tzinfo=timezone(timedelta(hours=8))), "mono"
    )
    assert ref.call_date == "2026-11-16"
    assert CallRef("C2", "p", "A1", None, "mono").call_date == "unknown"
