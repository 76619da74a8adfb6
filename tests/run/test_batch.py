import io
import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from pipeline.config import Config, ShareConfig
from pipeline.records import CallRef
from pipeline.run.batch import CallOutcome, ProgressReport, RunLock, RunLocked, plan_run, process_one


def test_one_run_at_a_time_per_warehouse(tmp_path):
    with RunLock(tmp_path), pytest.raises(RunLocked, match=f"pid {os.getpid()}"), RunLock(tmp_path):
        pass
    with RunLock(tmp_path):  # released on exit
        pass


def test_a_crashed_holder_does_not_keep_the_lock(tmp_path):
    code = (
        "import os, sys; from pathlib import Path; from pipeline.run.batch import RunLock; "
        f"RunLock(Path({str(tmp_path)!r})).__enter__(); print('held', flush=True); os._exit(9)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "held" and out.returncode == 9
    with RunLock(tmp_path):
        pass


def test_files_still_being_written_wait_for_the_next_run(tmp_path, sample_share):
    import shutil

    share = tmp_path / "share"
    shutil.copytree(sample_share, share)
    cfg = Config(share=ShareConfig(quiet_period_s=60))
    fresh = share / "recordings/2026-11-16/S001.flac"
    now = time.time()
    old = now - 3600
    for path in share.rglob("*.*"):
        os.utime(path, (old, old))
    os.utime(fresh, (now, now))
    plan = plan_run(share, tmp_path / "wh", cfg, "m", now=now)
    assert plan.waiting == [str(fresh.resolve())]
    assert len(plan.todo) == 9
    later = plan_run(share, tmp_path / "wh", cfg, "m", now=now + 61)
    assert later.waiting == [] and len(later.todo) == 10


def test_a_file_whose_size_changed_since_the_scan_waits(tmp_path):
    path = tmp_path / "growing.wav"
    path.write_bytes(b"x" * 100)
    ref = CallRef("G1", str(path), "A1", None, "mono", size=50)
    outcome, result = process_one(ref, Config(), models=None)
    assert outcome.status == "waiting" and result is None


def test_progress_lines_show_calls_audio_and_eta():
    stream = io.StringIO()
    report = ProgressReport(4, stream)
    report.update(CallOutcome("C1", "/p/c1", "ok", audio_s=1800))
    report.update(CallOutcome("C2", "/p/c2", "failed", "cannot decode c2.wav"))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[1/4] C1 ok | audio 0.50 h")
    assert "ETA" in lines[0]
    assert lines[1].startswith("[2/4] C2 failed (cannot decode c2.wav)")


def test_filename_pattern_gives_metadata_without_a_manifest(tmp_path):
    from pipeline.run.scan import scan_share

    (tmp_path / "2026" / "11").mkdir(parents=True)
    (tmp_path / "2026/11/A207_20261116091200_C9001.wav").write_bytes(b"RIFF")
    (tmp_path / "2026/11/unnamed.wav").write_bytes(b"RIFF")
    pattern = r"(?P<agent_id>A\d+)_(?P<started_at>\d{14})_(?P<call_id>\w+)\.wav$"
    scan = scan_share(tmp_path, filename_pattern=pattern)
    named = next(c for c in scan.calls if c.call_id == "C9001")
    assert named.agent_id == "A207" and named.started_at.isoformat() == "2026-11-16T09:12:00+08:00"
    assert [p.split("/")[-1] for p in scan.without_metadata] == ["unnamed.wav"]
    assert replace(named, path="x").call_date == "2026-11-16"


def _copy_share(tmp_path, sample_share, rows):
    import shutil

    share = tmp_path / "share"
    share.mkdir()
    for name in {r.split(",")[0] for r in rows}:
        shutil.copy(sample_share / "recordings/2026-11-16/S002.flac", share / name)
    (share / "manifest.csv").write_text(
        "path,call_id,agent_id,started_at,channel_layout\n" + "".join(r + "\n" for r in rows)
    )
    return share


def test_duplicate_call_ids_first_by_path_then_the_stored_one_keeps_it():
    from pipeline.run.batch import duplicate_call_ids

    a, b, c = (CallRef("X", f"/s/{n}.wav", "A1", None, "mono") for n in "abc")
    refused = duplicate_call_ids([c, b, a, CallRef("Y", "/s/y.wav", "A1", None, "mono")], {})
    assert sorted(r.path for r, _ in refused) == ["/s/b.wav", "/s/c.wav"]
    assert all("duplicate call_id 'X': /s/a.wav already has it" in why for _, why in refused)
    # The file already stored under X keeps it; once it leaves the share, the next one takes X.
    assert sorted(r.path for r, _ in duplicate_call_ids([a, b, c], {"X": "/s/c.wav"})) == [
        "/s/a.wav",
        "/s/b.wav",
    ]
    assert duplicate_call_ids([a], {"X": "/s/c.wav"}) == []


def test_rejections_are_recorded_and_dropped_once_the_manifest_is_fixed(tmp_path, sample_share):
    from pipeline.warehouse.ledger import Ledger

    day = "2026-11-16T09:00:00+08:00"
    share = _copy_share(tmp_path, sample_share, [f"a.flac,D1,A1,{day},mono", f"b.flac,D1,A1,{day},mono"])
    cfg = Config(share=ShareConfig(quiet_period_s=0))
    plan = plan_run(share, tmp_path / "wh", cfg, "m")
    assert [r.path.split("/")[-1] for r in plan.todo] == ["a.flac"]
    assert [(r.path.split("/")[-1], "duplicate call_id 'D1'" in why) for r, why in plan.rejected] == [
        ("b.flac", True)
    ]
    with Ledger(tmp_path / "wh") as ledger:
        assert [(f["call_id"], f["attempts"]) for f in ledger.failures()] == [("D1", 0)]
    (share / "manifest.csv").write_text(
        f"path,call_id,agent_id,started_at,channel_layout\na.flac,D1,A1,{day},mono\nb.flac,D2,A1,{day},mono\n"
    )
    fixed = plan_run(share, tmp_path / "wh", cfg, "m")
    assert fixed.rejected == [] and len(fixed.todo) == 2
    with Ledger(tmp_path / "wh") as ledger:
        assert ledger.failures() == []


def test_a_link_out_of_the_share_is_refused(tmp_path, sample_share):
    share = _copy_share(tmp_path, sample_share, ["a.flac,C1,A1,2026-11-16T09:00:00+08:00,mono"])
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF")
    (share / "innocent.wav").symlink_to(secret)
    plan = plan_run(share, tmp_path / "wh", Config(share=ShareConfig(quiet_period_s=0)), "m")
    assert [r.call_id for r in plan.todo] == ["C1"]
    ((ref, why),) = plan.rejected
    assert ref.call_id == "innocent" and f"resolves outside the share ({secret})" in why


def test_the_warehouse_being_a_file_is_a_clear_error(tmp_path):
    from pipeline.warehouse.store import WarehouseWriteError

    path = tmp_path / "warehouse"
    path.write_text("not a folder")
    with (
        pytest.raises(WarehouseWriteError, match=r"cannot use .*warehouse as the warehouse: it is a file"),
        RunLock(path),
    ):
        pass
    assert path.read_text() == "not a folder"
