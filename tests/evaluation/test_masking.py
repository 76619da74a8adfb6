import io
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from pipeline.evaluation.masking import check_recording, masking_report, personal_items
from pipeline.records import CallMetrics, CallRef, CallResult, RoleAssignment
from pipeline.warehouse.store import store_call
from tests.conftest import utt

PHONE = "我的手机号是一三八零零一二三四五六。"  # 13800123456


def said(*texts: str, role: str = "caller") -> list[dict]:
    return [{"role": role, "start": float(i), "end": i + 1.0, "text": t} for i, t in enumerate(texts)]


def outcome(reference: list[dict], stored: list[str], kind: str):
    (found,) = [o for o in check_recording("C1.stereo", reference, stored) if o.kind == kind]
    return found


def test_items_are_what_redact_masks_in_the_reference_as_digits_or_names():
    items = personal_items(said(PHONE, "我姓孙，住三栋二单元一零零二。", "对，一三八零零一二三四五六。"))
    by_kind = {i.kind: i for i in items}
    assert sorted(by_kind) == ["name", "phone", "unit"]
    assert (
        by_kind["phone"].secret == "13800123456" and len(by_kind["phone"].spans) == 2
    )  # said twice: one item
    assert by_kind["unit"].secret == "1002"  # building 3 and entrance 2 are too short to identify
    assert by_kind["name"].secret == "孙"
    assert "13800123456" not in repr(by_kind["phone"])  # the secret is never in a repr


def test_a_phone_masked_in_the_stored_text_is_not_leaked():
    o = outcome(said(PHONE), ["我的手机号是＊＊＊＊＊＊＊＊＊＊＊。"], "phone")
    assert not o.leaked and o.exposed == 0


def test_a_damaged_phone_in_the_clear_is_leaked():
    # 幺 heard as 以, ten digits left, grouped by Whisper's spaces: the masker would have to catch it.
    o = outcome(said(PHONE), ["我的手机号是以380 0123 456。"], "phone")
    assert o.leaked and o.exposed == 10 and o.length == 11
    assert not any(ch.isdigit() for ch in o.context) and "#" in o.context


def test_the_mask_breaks_a_run_so_a_partly_masked_phone_shows_too_few_digits():
    # Five digits in the clear on each side of the mask: no six of them stand together.
    o = outcome(said(PHONE), ["我的手机号是13800＊23456。"], "phone")
    assert not o.leaked and o.exposed == 5


def test_a_number_garbled_beyond_recognition_is_not_a_leak():
    o = outcome(said(PHONE), ["我的手机号是以山巴林林一二山寺无路。"], "phone")
    assert not o.leaked


def test_a_name_in_the_clear_is_leaked_where_it_was_said():
    reference = said("你好，我姓孙，六栋的，想问一下快递。")
    # 姓 heard as 星: the cue is gone, the surname stands in the clear.
    assert outcome(reference, ["你好，我星孙，＊栋的，想问一下快递。"], "name").leaked
    assert not outcome(reference, ["你好，我姓＊，＊栋的，想问一下快递。"], "name").leaked
    # A surname alone is looked for only where it was said: 孙 elsewhere is not this leak.
    assert not outcome(reference, ["你好，我姓＊，＊栋的，想问一下快递。孙子在家。"], "name").leaked


def test_a_room_in_the_clear_next_to_a_misheard_word_is_leaked_and_a_short_unit_is_no_item():
    reference = said("我家是九栋一单元八零一，一年交多少钱？")
    stored = ["我家是＊栋＊单元801一年交多少钱？"]  # the room run into the next word's 一
    o = outcome(reference, stored, "unit")
    assert o.leaked and o.exposed == 3
    assert [
        o.kind for o in check_recording("C1", said("我是三栋二单元的业主。"), ["我是3栋2单元的业主"])
    ] == []


def test_a_short_secret_elsewhere_in_the_recording_is_not_its_leak():
    # The agent's staff number 801 is not the caller's room, which was masked.
    reference = [
        {"role": "agent", "start": 0.0, "end": 1.0, "text": "您好，工号八零一，请讲。"},
        {"role": "caller", "start": 1.0, "end": 2.0, "text": "我家是九栋一单元八零一。"},
    ]
    assert not outcome(reference, ["您好，工号801，请讲。", "我家是＊栋＊单元＊＊＊。"], "unit").leaked


def test_report_per_recording_kind_with_clean_text_and_no_secret_in_the_leaks():
    reference = said(PHONE, "我姓孙，九栋一单元八零一。")
    report = masking_report(
        [
            (
                "C1.stereo",
                "stereo",
                reference,
                ["我的手机号是＊＊＊＊＊＊＊＊＊＊＊。", "我姓＊，＊栋＊单元＊＊＊。"],
            ),
            ("C1.mono", "mono", reference, ["我的手机号是以3800123456。", "我姓＊，＊栋＊单元＊＊＊。"]),
        ],
        [("C1", reference)],
    )
    assert report["by_kind"]["stereo"]["all"] == {
        "items": 3,
        "leaked": 0,
        "recall": 1.0,
        "recall_ci": (0.4385, 1.0),
    }
    mono = report["by_kind"]["mono"]
    assert (mono["phone"]["leaked"], mono["unit"]["leaked"], mono["name"]["leaked"]) == (1, 0, 0)
    assert report["by_kind"]["all"]["all"]["items"] == 6 and report["by_kind"]["all"]["all"]["leaked"] == 1
    assert report["by_kind"]["all"]["id_number"]["recall"] is None
    assert report["clean"]["all"]["leaked"] == 0 and report["clean"]["all"]["items"] == 3
    (leak,) = report["leaks"]
    assert (leak["call_id"], leak["kind"], leak["role"], leak["exposed"]) == (
        "C1.mono",
        "phone",
        "caller",
        "10 of 11",
    )
    assert "3800" not in json.dumps(report, ensure_ascii=False)


CST = timezone(timedelta(hours=8))


def test_evaluate_reports_and_renders_masking_for_truths_with_text(tmp_path):
    from rich.console import Console

    from pipeline.evaluation.evaluate import evaluate, render_report

    wh, tr = tmp_path / "wh", tmp_path / "truth"
    tr.mkdir()
    for call_id, stored_text, score_text in (
        ("C1", "我的手机号是以3800123456。", True),
        ("C2", "我的手机号是以3800123456。", False),  # who spoke when only: not measured
    ):
        data = {
            "schema": "callqa.truth/1",
            "call_id": call_id,
            "agent_id": "A1",
            "format": "mono",
            "score_text": score_text,
            "expected_flags": [],
            "utterances": said(PHONE),
        }
        (tr / f"{call_id}.json").write_text(json.dumps(data, ensure_ascii=False))
        ref = CallRef(call_id, f"/s/{call_id}.flac", "A1", datetime(2026, 11, 16, 9, tzinfo=CST), "mono")
        u = replace(utt("caller", 0, 1, stored_text), call_id=call_id)
        metrics = CallMetrics(call_id, "A1", 10, 1, 1, 8, 0, 4, 1)
        store_call(wh, CallResult(ref, "m", "l", RoleAssignment("spk0", 0.9, "cues"), (u,), (), metrics))

    report = evaluate(tr, wh)
    masking = report["masking"]
    assert masking["by_kind"]["mono"]["phone"] == {
        "items": 1,
        "leaked": 1,
        "recall": 0.0,
        "recall_ci": (0.0, 0.7935),
    }
    assert [leak["call_id"] for leak in masking["leaks"]] == ["C1"]
    assert masking["clean"]["all"]["leaked"] == 0
    assert "cer" in report and "calls" in report  # the other keys are as before

    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(render_report(report))
    text = console.export_text()
    assert "Personal data masked as transcribed" in text and "1 / 1" in text
    assert "3800" not in text
