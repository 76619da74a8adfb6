import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.evaluation.evaluate import compare_reports, evaluate
from pipeline.records import CallMetrics, CallRef, CallResult, Event, RoleAssignment
from pipeline.warehouse.store import store_call
from tests.conftest import utt

CST = timezone(timedelta(hours=8))


def stored(warehouse, call_id, texts, rules):
    ref = CallRef(call_id, f"/s/{call_id}.flac", "A1", datetime(2026, 11, 16, 9, tzinfo=CST), "mono")
    utterances = tuple(
        replace(utt(role, i, i + 1, text, idx=i), call_id=call_id) for i, (role, text) in enumerate(texts)
    )
    events = tuple(Event(call_id, "A1", r, "", "major", 0, 1, "agent", "", 1.0, "1") for r in rules)
    metrics = CallMetrics(call_id, "A1", 10, 1, 1, 8, 0, 4, len(texts))
    store_call(
        warehouse, CallResult(ref, "m", "l", RoleAssignment("spk0", 0.9, "cues"), utterances, events, metrics)
    )


def truth(folder, call_id, texts, flags, fmt="mono"):
    data = {
        "schema": "callqa.truth/1",
        "call_id": call_id,
        "agent_id": "A1",
        "format": fmt,
        "expected_flags": flags,
        "utterances": [{"role": r, "start": i, "end": i + 1, "text": t} for i, (r, t) in enumerate(texts)],
    }
    (folder / f"{call_id}.json").write_text(json.dumps(data, ensure_ascii=False))


def test_cer_and_flag_precision_recall(tmp_path):
    wh, tr = tmp_path / "wh", tmp_path / "truth"
    tr.mkdir()
    truth(tr, "C1", [("agent", "您好，物业。"), ("caller", "我家漏水了。")], [])
    stored(wh, "C1", [("agent", "您好物业"), ("caller", "我家露水了")], [])  # 1 substitution in 9 characters
    truth(tr, "C2", [("agent", "什么事？")], ["greeting.missing"], fmt="ulaw8k")
    stored(wh, "C2", [("agent", "什么事")], ["greeting.missing"])
    truth(tr, "C3", [("agent", "您好。")], [])
    stored(wh, "C3", [("agent", "您好")], ["greeting.missing"])  # a false alarm
    truth(tr, "C4", [("agent", "您好。")], [])  # never processed

    report = evaluate(tr, wh)
    assert report["summary"]["missing_calls"] == ["C4"]
    assert report["cer"]["mono"] == pytest.approx(1 / 11, abs=1e-4)  # C1 and C3: 1 edit in 9 + 2 characters
    assert report["cer"]["ulaw8k"] == 0.0
    greeting = report["rules"]["greeting.missing"]
    assert (greeting["tp"], greeting["fp"], greeting["fn"]) == (1, 1, 0)
    assert greeting["precision"] == 0.5 and greeting["recall"] == 1.0
    assert report["summary"]["greeting_accuracy"] == pytest.approx(2 / 3)
    assert report["summary"]["agent_id_accuracy"] == 1.0


def test_a_truth_without_labelled_flags_scores_its_words_and_no_flags(tmp_path):
    # Real sentences laid out as a conversation on stereo: every etiquette rule applies and fires,
    # but nobody labelled the flags, so none may count as a false alarm.
    wh, tr = tmp_path / "wh", tmp_path / "truth"
    tr.mkdir()
    truth(tr, "R1", [("agent", "甚至出现交易几乎停滞的情况。")], [], fmt="stereo")
    data = json.loads((tr / "R1.json").read_text())
    (tr / "R1.json").write_text(json.dumps({**data, "score_flags": False}, ensure_ascii=False))
    stored(wh, "R1", [("agent", "甚至出现交易几乎停止的情况")], ["greeting.missing", "closing.missing"])

    report = evaluate(tr, wh)
    assert report["cer"]["stereo"] == pytest.approx(1 / 13, abs=1e-4)
    assert report["rules"] == {}
    assert report["calls"][0]["predicted"] == [] and report["calls"][0]["expected"] == []


def test_floor_flags_next_to_a_listeners_backchannel_are_counted_as_its_false_alarms(tmp_path):
    from pipeline.evaluation.evaluate import backchannel_false_alarms, truth_backchannels

    said = {
        "utterances": [
            {"role": "agent", "start": 0.0, "end": 6.0, "text": "您好，我们明天上午安排师傅上门。"},
            {"role": "caller", "start": 2.0, "end": 2.4, "text": "嗯。"},  # during the agent: a backchannel
            {"role": "caller", "start": 6.5, "end": 7.0, "text": "好的。"},  # an answer of its own, not one
            {"role": "caller", "start": 4.0, "end": 5.5, "text": "那几点到呢？"},  # a real cut-in
        ]
    }
    tokens = {"嗯", "好的"}
    found = truth_backchannels(said, lambda t: t.strip("。") in tokens)
    assert [b["start"] for b in found] == [2.0]
    import pandas as pd

    events = pd.DataFrame(
        [
            {"rule_id": "interruption.caller", "start_ms": 2000, "end_ms": 2400},  # raised by the 嗯
            {"rule_id": "interruption.caller", "start_ms": 4000, "end_ms": 5500},  # expected below
            {"rule_id": "greeting.missing", "start_ms": 1500, "end_ms": 2000},  # not a floor rule
        ]
    )
    assert backchannel_false_alarms(events, set(), found) == 1  # the cut-in is far from the 嗯
    assert backchannel_false_alarms(events, {"interruption.caller"}, found) == 0
    assert backchannel_false_alarms(events.iloc[[0]], set(), []) == 0


def test_cer_compares_numbers_in_one_normal_form(tmp_path):
    wh, tr = tmp_path / "wh", tmp_path / "truth"
    tr.mkdir()
    truth(tr, "C1", [("caller", "一二线城市，两千零二十六年。")], [])
    stored(wh, "C1", [("caller", "12线城市2026年")], [])
    truth(tr, "C2", [("agent", "来了二十三个人。")], [])
    stored(wh, "C2", [("agent", "来了二十二个人")], [])  # one number wrong is still an error
    report = evaluate(tr, wh)
    # C1: no error; C2: 23 vs 22 is one substitution in 6 characters (来了23个人).
    assert report["cer"]["mono"] == pytest.approx(1 / (len("12线城市2026年") + 6), abs=1e-4)


def test_compare_reports_lists_every_changed_figure():
    before = {
        "summary": {"truth_calls": 2, "greeting_accuracy": 1.0},
        "cer": {"stereo": 0.14, "mono": 0.2},
        "rules": {"greeting.missing": {"precision": 1.0, "recall": 0.5}},
        "calls": [{"call_id": "S1", "cer": 0.1, "cer_agent": 0.1, "der": 0.0}],
    }
    after = {
        "summary": {"truth_calls": 2, "greeting_accuracy": 1.0},
        "cer": {"stereo": 0.15, "mono": 0.2, "ulaw8k": 0.3},
        "rules": {"greeting.missing": {"precision": 1.0, "recall": None}},
        "calls": [{"call_id": "S1", "cer": 0.12, "cer_agent": 0.1, "der": 0.0}],
    }
    assert compare_reports(before, after) == [
        ("calls.S1.cer", 0.1, 0.12),
        ("cer.stereo", 0.14, 0.15),
        ("cer.ulaw8k", None, 0.3),
        ("rules.greeting.missing.recall", 0.5, None),
    ]
    assert compare_reports(before, before) == []


def test_overlap_frames_mark_two_speakers_at_once():
    from pipeline.evaluation.evaluate import overlap_frames

    frames = overlap_frames([("a", 0.0, 1.0), ("b", 0.5, 1.5), ("a", 2.0, 3.0)], 3.0)
    assert len(frames) == 300 and frames.sum() == 50 and frames[50:100].all()
    assert overlap_frames([("a", 0.0, 1.0), ("a", 0.5, 1.5)], 2.0).sum() == 0  # one speaker


def test_overlap_detection_trusted_roles_and_flags_per_recording_kind(tmp_path):
    wh, tr = tmp_path / "wh", tmp_path / "truth"
    tr.mkdir()
    said = [
        {"role": "agent", "start": 0.0, "end": 4.0, "text": "您好，物业。"},
        {"role": "caller", "start": 3.0, "end": 6.0, "text": "我家漏水了。"},  # 1 s of overlap
    ]
    data = {
        "schema": "callqa.truth/1",
        "call_id": "C1",
        "agent_id": "A1",
        "expected_flags": ["interruption.caller"],
        "variants": {"C1.stereo": {"format": "stereo"}, "C1.mono": {"format": "mono"}},
        "utterances": said,
    }
    (tr / "C1.json").write_text(json.dumps(data, ensure_ascii=False))

    def store(call_id, spans, agent_speaker, confidence, rules):
        ref = CallRef(call_id, f"/s/{call_id}.flac", "A1", datetime(2026, 11, 16, 9, tzinfo=CST), "mono")
        utterances = tuple(
            replace(utt(role, a, b, text, speaker=speaker, idx=i), call_id=call_id)
            for i, (role, speaker, a, b, text) in enumerate(spans)
        )
        events = tuple(Event(call_id, "A1", r, "", "major", 3, 4, "caller", "", 1.0, "1") for r in rules)
        metrics = CallMetrics(call_id, "A1", 6, 4, 3, 0, 1, 4, len(spans))
        roles = RoleAssignment(agent_speaker, confidence, "test")
        store_call(wh, CallResult(ref, "m", "l", roles, utterances, events, metrics))

    # Stereo: both turns found, the overlap half found (3.5-4.0), the interruption flagged.
    store(
        "C1.stereo",
        [("agent", "L", 0.0, 4.0, "您好物业"), ("caller", "R", 3.5, 6.0, "我家漏水了")],
        "L",
        1.0,
        ["interruption.caller"],
    )
    # Mono: no overlap seen, and the roles trusted but swapped: a confident role error.
    store(
        "C1.mono",
        [("caller", "spk0", 0.0, 3.0, "您好物业"), ("agent", "spk1", 3.0, 6.0, "我家漏水了")],
        "spk1",
        0.9,
        [],
    )
    report = evaluate(tr, wh)
    assert report["overlap"]["stereo"] == {
        "reference_s": 1.0,
        "detected_s": 0.5,
        "precision": 1.0,
        "recall": 0.5,
    }
    assert report["overlap"]["mono"]["recall"] == 0.0 and report["overlap"]["mono"]["precision"] is None
    assert report["diarization"]["stereo"]["confident_role_errors"] == 0
    assert report["diarization"]["mono"]["roles_trusted"] == 1
    assert report["diarization"]["mono"]["confident_role_errors"] == 1
    # Below the trust threshold the same swap is an abstention, not a confident error.
    assert evaluate(tr, wh, role_min_confidence=0.95)["diarization"]["mono"]["confident_role_errors"] == 0
    by_kind = report["rules_by_kind"]
    assert by_kind["stereo"]["interruption.caller"]["recall"] == 1.0
    assert by_kind["mono"]["interruption.caller"]["recall"] == 0.0
    assert report["rules"]["interruption.caller"]["recall"] == 0.5


def test_who_spoke_when_is_scored_on_the_turns_and_overlap_also_as_the_rules_read_it(tmp_path):
    from pipeline.records import Turn

    wh, tr = tmp_path / "wh", tmp_path / "truth"
    tr.mkdir()
    said = [
        {"role": "agent", "start": 0.0, "end": 4.0, "text": "您好，物业。"},
        {"role": "caller", "start": 3.0, "end": 3.6, "text": "嗯。"},  # under the agent
        {"role": "caller", "start": 4.5, "end": 7.0, "text": "我家漏水了。"},
    ]
    (tr / "C1.json").write_text(
        json.dumps(
            {
                "schema": "callqa.truth/1",
                "call_id": "C1",
                "agent_id": "A1",
                "format": "mono",
                "expected_flags": [],
                "utterances": said,
            },
            ensure_ascii=False,
        )
    )
    ref = CallRef("C1", "/s/C1.flac", "A1", datetime(2026, 11, 16, 9, tzinfo=CST), "mono")
    # The diarization found the 嗯 as a turn of its own; the ASR heard no words in it.
    turns = (
        Turn("spk0", "agent", 0.0, 4.0),
        Turn("spk1", "caller", 3.0, 3.6),
        Turn("spk1", "caller", 4.5, 7.0),
    )
    utterances = tuple(
        replace(utt(role, a, b, text, speaker=spk, idx=i), call_id="C1")
        for i, (role, spk, a, b, text) in enumerate(
            [("agent", "spk0", 0.0, 4.0, "您好物业"), ("caller", "spk1", 4.5, 7.0, "我家漏水了")]
        )
    )
    metrics = CallMetrics("C1", "A1", 7, 4, 3, 0, 1, 4, 2)
    roles = RoleAssignment("spk0", 0.95, "test")
    store_call(wh, CallResult(ref, "m", "l", roles, utterances, (), metrics, turns=turns))
    report = evaluate(tr, wh)
    assert report["diarization"]["mono"]["der"] == 0.0  # the turns are exactly right
    assert report["overlap"]["mono"]["recall"] == 1.0 and report["overlap"]["mono"]["precision"] == 1.0
    assert report["overlap_words"]["mono"]["recall"] == 0.0  # no words: the rules never see it
    assert report["calls"][0]["der"] == 0.0


def test_rttm_of_reference_and_stored_turns(tmp_path):
    from pipeline.evaluation.evaluate import write_rttm
    from pipeline.records import Turn

    wh, tr = tmp_path / "wh", tmp_path / "truth"
    tr.mkdir()
    truth(tr, "C1", [("agent", "您好。"), ("caller", "我家漏水了。")], [])
    ref = CallRef("C1", "/s/C1.flac", "A1", datetime(2026, 11, 16, 9, tzinfo=CST), "mono")
    turns = (Turn("spk0", "agent", 0.0, 1.0), Turn("spk1", "caller", 0.8, 2.0))
    metrics = CallMetrics("C1", "A1", 2, 1, 1, 0, 0.2, 4, 0)
    store_call(wh, CallResult(ref, "m", "l", RoleAssignment("spk0", 0.9, "t"), (), (), metrics, turns=turns))
    assert write_rttm(tr, wh, tmp_path / "rttm") == 1
    hyp = (tmp_path / "rttm" / "hyp" / "C1.rttm").read_text().splitlines()
    assert hyp == [
        "SPEAKER C1 1 0.000 1.000 <NA> <NA> spk0 <NA> <NA>",
        "SPEAKER C1 1 0.800 1.200 <NA> <NA> spk1 <NA> <NA>",
    ]
    assert (tmp_path / "rttm" / "ref" / "C1.rttm").read_text().splitlines()[1].split()[7] == "caller"


def test_double_events_are_counted():
    import pandas as pd

    from pipeline.evaluation.evaluate import double_events

    def event(call_id, category, start_ms, end_ms):
        return {
            "call_id": call_id,
            "rule_id": "phrase.banned",
            "category": category,
            "start_ms": start_ms,
            "end_ms": end_ms,
        }

    events = pd.DataFrame(
        [
            event("C1", "傲慢", 1000, 3000),
            event("C1", "傲慢", 2000, 2500),  # overlaps the first: a double
            event("C1", "无礼", 2000, 2500),  # another category: its own finding
            event("C1", "傲慢", 5000, 5500),  # same utterance (4-7 s) as the next: a double
            event("C1", "傲慢", 6000, 6500),
            event("C1", "傲慢", 9000, 9500),  # an utterance of its own
            event("C2", "傲慢", 1000, 3000),
        ]
    )
    utterances = pd.DataFrame(
        {"call_id": ["C1", "C1", "C1"], "start_ms": [1000, 4000, 8500], "end_ms": [3500, 7000, 10000]}
    )
    assert double_events(events, utterances) == 2


def test_preset_rules_are_scored_against_the_labels_of_the_runs_preset():
    from pipeline.evaluation.evaluate import expected_flags

    truth = {
        "expected_flags": ["interruption.agent", "phrase.banned:傲慢"],
        "expected_flags_by_preset": {"strict": ["conduct.impatient"]},
    }
    guide, scored = expected_flags(truth, "guide")
    assert scored and guide == {"interruption.agent", "phrase.banned", "phrase.banned:傲慢"}
    strict, scored = expected_flags(truth, "strict")
    assert scored and strict == guide | {"conduct.impatient"}
    # No labels for that preset: its rules are left out of the scoring, never mixed.
    unlabelled, scored = expected_flags({"expected_flags": ["conduct.domineering"]}, "strict")
    assert not scored and unlabelled == set()


def test_banned_phrases_left_for_a_listener_on_untrusted_calls_are_counted(tmp_path):
    from pipeline.rules import UNATTRIBUTED_BANNED

    wh, tr = tmp_path / "wh", tmp_path / "truth"
    tr.mkdir()
    said = [("agent", "您好，物业。"), ("caller", "他在吗？"), ("agent", "不在。")]
    for call_id, flags in (("C1", ["phrase.banned:傲慢"]), ("C2", ["phrase.banned:傲慢"]), ("C3", [])):
        truth(tr, call_id, said, flags)

    def store(call_id, listed):
        ref = CallRef(call_id, f"/s/{call_id}.flac", "A1", datetime(2026, 11, 16, 9, tzinfo=CST), "mono")
        utterances = tuple(
            replace(utt(r, i, i + 1, t, idx=i), call_id=call_id) for i, (r, t) in enumerate(said)
        )
        reasons = (f"{UNATTRIBUTED_BANNED} (傲慢): 不在 in 「不在。」",) if listed else ()
        result = CallResult(
            ref,
            "m",
            "l",
            RoleAssignment("spk0", 0.4, "voices mixed"),
            utterances,
            (),
            CallMetrics(call_id, "A1", 3, 2, 1, 0, 0, 4, 3),
            abstentions=reasons,
        )
        store_call(wh, result)

    store("C1", True)  # expected and left for a listener
    store("C2", False)  # expected, and nobody will hear it
    store("C3", True)  # left for a listener where there was none
    assert evaluate(tr, wh)["banned_for_listener"]["mono"] == {"listed": 1, "missed": 1, "false": 1}


def test_an_opening_is_right_only_where_the_first_turn_is_the_first_speakers_alone():
    from pipeline.evaluation.evaluate import opening_right

    # The agent's 喂，物业 (1.0-1.7 s), the caller's first sentence from 1.5 s.
    truth = [
        {"role": "agent", "start": 1.0, "end": 1.7},
        {"role": "caller", "start": 1.5, "end": 5.3},
        {"role": "agent", "start": 6.0, "end": 9.0},
    ]
    party = {"spk0": "agent", "spk1": "caller"}
    assert opening_right(truth, [("spk0", 1.0, 1.8), ("spk1", 1.6, 5.3)], party)
    # Run together into one turn: of the caller's voice, or of the agent's over the caller's words.
    assert not opening_right(truth, [("spk1", 1.0, 5.3), ("spk0", 6.0, 9.0)], party)
    assert not opening_right(truth, [("spk0", 1.0, 5.3), ("spk0", 6.0, 9.0)], party)
    # Up to a second of the other party's speech is the overlap of a quick reply.
    assert opening_right(truth, [("spk0", 1.0, 2.4), ("spk1", 2.4, 5.3)], party)
    # A voice the mapping gave no party (a third cluster) is not the first speaker.
    assert not opening_right(truth, [("spk2", 1.0, 1.7)], party)
    assert opening_right([], [], party) and not opening_right(truth, [], party)
