import io
import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from pipeline.batch import CallOutcome, ProgressReport, RunLock, RunLocked, plan_run, process_one
from pipeline.config import Config, ShareConfig
from pipeline.records import CallRef


def test_one_run_at_a_time_per_warehouse(tmp_path):
    with RunLock(tmp_path), pytest.raises(RunLocked, match=f"pid {os.getpid()}"), RunLock(tmp_path):
        pass
    with RunLock(tmp_path):  # released on exit
        pass


def test_a_crashed_holder_does_not_keep_the_lock(tmp_path):
    code = (
        "import os, sys; from pathlib import Path; from pipeline.batch import RunLock; "
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
    from pipeline.scan import scan_share

    (tmp_path / "2026" / "11").mkdir(parents=True)
    (tmp_path / "2026/11/A207_20261116091200_C9001.wav").write_bytes(b"RIFF")
    (tmp_path / "2026/11/unnamed.wav").write_bytes(b"RIFF")
    pattern = r"(?P<agent_id>A\d+)_(?P<started_at>\d{14})_(?P<call_id>\w+)\.wav$"
    scan = scan_share(tmp_path, filename_pattern=pattern)
    named = next(c for c in scan.calls if c.call_id == "C9001")
    assert named.agent_id == "A207" and named.started_at.isoformat() == "2026-11-16T09:12:00+08:00"
    assert [p.split("/")[-1] for p in scan.without_metadata] == ["unnamed.wav"]
    assert replace(named, path="x").call_date == "2026-11-16"
