"""A clause in the other party's words, given back to that party (pipeline.speakers.registers)."""

from dataclasses import replace

from pipeline.records import VOICES_MIXED, Turn
from pipeline.speakers.clustering import infer_roles
from pipeline.speakers.registers import foreign_clauses, move_foreign_clauses
from tests.speakers.test_handover import said

# The agent's reply after the caller's complaint, with the caller's question inside it.
_REPLY = (
    ("我们会安排人去看的，", 11.0, 13.0),
    ("那你们什么时候来？", 13.5, 15.0),
    ("这两天吧，", 15.5, 16.3),
    ("再见。", 16.4, 17.0),
)


def _call_with_a_slip(*reply: tuple[str, float, float]):
    """E021's shape: the caller's short question between two replies of the agent, clustered
    with the agent (spk0), so the agent's voice speaks both registers. ``reply``: the agent's
    second utterance as (word, start, end), ``_REPLY`` by default."""
    agent_open = said(
        "spk0", ("您好，", 1.0, 1.5), ("阳光物业客服中心，", 1.9, 3.5), ("请问有什么可以帮您？", 3.9, 6.0)
    )
    caller = said("spk1", ("我要反映一下，", 6.5, 8.0), ("我家门口的灯坏了。", 8.4, 10.5))
    turns = [
        Turn("spk0", "unknown", 1.0, 6.0),
        Turn("spk1", "unknown", 6.5, 10.5),
        Turn("spk0", "unknown", 11.0, 17.0),
    ]
    return turns, [agent_open, caller, said("spk0", *(reply or _REPLY))]


def test_the_callers_question_in_the_agents_voice_goes_to_the_caller(lexicon):
    turns, utterances = _call_with_a_slip()
    roles = infer_roles(utterances, lexicon, turns)
    assert VOICES_MIXED in roles.reason and roles.confidence < 0.5
    assert foreign_clauses(utterances, lexicon, turns) == [(2, 1, 2, "spk1")]
    new_turns, new_utterances, new_roles = move_foreign_clauses(turns, utterances, lexicon, roles)
    assert [(u.speaker, u.text) for u in new_utterances[2:]] == [
        ("spk0", "我们会安排人去看的，"),
        ("spk1", "那你们什么时候来？"),
        ("spk0", "这两天吧，再见。"),
    ]
    # The agent's reply keeps its turn's start, the caller's question is a turn of its own.
    assert new_utterances[2].start == 11.0 and new_utterances[4].end == 17.0
    assert [(t.speaker, t.start, t.end) for t in new_turns][2:] == [
        ("spk0", 11.0, 13.5),
        ("spk1", 13.5, 15.0),
        ("spk0", 15.0, 17.0),
    ]
    assert new_roles.agent_speaker == "spk0" and new_roles.confidence >= 0.5
    assert VOICES_MIXED not in new_roles.reason and "那你们什么时候来" in new_roles.reason


def test_voices_that_are_not_mixed_are_left_alone(lexicon):
    turns, utterances = _call_with_a_slip(_REPLY[0], ("您看可以吗？", 13.5, 15.0), *_REPLY[2:])
    roles = infer_roles(utterances, lexicon, turns)
    assert VOICES_MIXED not in roles.reason
    assert move_foreign_clauses(turns, utterances, lexicon, roles) is None


def test_a_clause_that_only_sounds_like_the_other_party_does_not_move(lexicon):
    # 安排人 sounds like the caller's 派人: not enough to take the agent's words away.
    turns, utterances = _call_with_a_slip()
    clauses = foreign_clauses(utterances, lexicon, turns)
    assert all("安排人" not in "".join(w.text for w in utterances[i].words[a:b]) for i, a, b, _ in clauses)


def test_a_merged_voice_with_many_foreign_clauses_keeps_abstaining(lexicon):
    # Three of the caller's questions in the agent's voice: not a slip but two voices merged.
    turns, utterances = _call_with_a_slip(
        *_REPLY[:2], ("你们能不能快一点？", 15.5, 17.0), ("我要投诉你们。", 17.5, 19.0)
    )
    roles = infer_roles(utterances, lexicon, turns)
    assert VOICES_MIXED in roles.reason
    assert len(foreign_clauses(utterances, lexicon, turns)) == 3
    assert move_foreign_clauses(turns, utterances, lexicon, roles) is None


def test_a_rescore_gives_the_clause_back_as_the_nightly_run_does(tmp_path, cfg, lexicon):
    from datetime import datetime, timedelta, timezone

    from pipeline.records import CallRef
    from pipeline.run.process import score_call
    from pipeline.run.rescore import rescore
    from pipeline.warehouse.store import read_table, store_call

    # A call stored before the move existed (or before a lexicon fix made its voices mixed).
    turns, utterances = _call_with_a_slip()
    utterances = [replace(u, idx=i, call_id="M1") for i, u in enumerate(utterances)]
    ref = CallRef(
        "M1",
        "/s/M1.flac",
        "A1",
        datetime(2026, 11, 3, 9, 0, tzinfo=timezone(timedelta(hours=8))),
        "mono",
        "h",
    )
    roles = infer_roles(utterances, lexicon, turns)
    store_call(tmp_path, score_call(ref, 18.0, turns, utterances, roles, cfg, lexicon, "m"))
    assert rescore(tmp_path, cfg) == 1
    call = read_table(tmp_path, "calls").iloc[0]
    assert call.role_confidence >= 0.5 and "那你们什么时候来" in call.role_reason
    stored = read_table(tmp_path, "utterances").sort_values("idx")
    assert list(stored.idx) == list(range(5)) and call.n_utterances == 5  # the figures follow
    assert list(zip(stored.speaker, stored.role, stored.text, strict=True))[2:] == [
        ("spk0", "agent", "我们会安排人去看的，"),
        ("spk1", "caller", "那你们什么时候来？"),
        ("spk0", "agent", "这两天吧，再见。"),
    ]


def test_a_move_that_leaves_the_voice_mixed_is_not_made(lexicon):
    # 我们会派人去你们家 speaks both registers in one clause: it stays, and with it the agent's
    # voice still speaks the caller's words after the question moves.
    turns, utterances = _call_with_a_slip(("我们会派人去你们家看的，", 11.0, 13.0), *_REPLY[1:])
    roles = infer_roles(utterances, lexicon, turns)
    assert foreign_clauses(utterances, lexicon, turns) == [(2, 1, 2, "spk1")]
    assert move_foreign_clauses(turns, utterances, lexicon, roles) is None


def test_a_clause_at_the_end_of_an_utterance_leaves_the_rest_its_start(lexicon):
    turns, utterances = _call_with_a_slip(*_REPLY[:2])
    utterances[2] = replace(utterances[2], start=10.8)  # the turn began before its first word
    _, moved, _ = move_foreign_clauses(turns, utterances, lexicon, infer_roles(utterances, lexicon, turns))
    assert [(u.speaker, u.start, u.end) for u in moved[2:]] == [("spk0", 10.8, 13.0), ("spk1", 13.5, 15.0)]
