"""``callqa serve`` as operations run it: its own process, Prefect's local API (no server to
install), a schedule due within the minute, the real nightly flow; then stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.warehouse.runlog import RunLog

pytestmark = pytest.mark.integration


def nightly_runs(warehouse: Path) -> list:
    if not (warehouse / "runs.sqlite").exists():
        return []
    with RunLog(warehouse) as runlog:
        return [r for r in reversed(runlog.recent(50, job="nightly")) if r.status != "running"]


def session_processes(sid: int) -> list[int]:
    """Every live process of the session ``sid`` (serve and whatever it started)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def test_serve_runs_the_nightly_batch_when_due_and_stops_leaving_nothing(tmp_path, small_share):
    warehouse = tmp_path / "wh"
    toml = tmp_path / "callqa.toml"
    toml.write_text('[share]\nquiet_period_s = 0\n[schedule]\nnightly_cron = "* * * * *"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")  # its own local database
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "pipeline.cli", "serve", "--share", small_share]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*command, "--warehouse", warehouse, "-c", toml],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 420
        while len(nightly_runs(warehouse)) < 2:
            assert proc.poll() is None, f"serve exited {proc.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"two nightly runs not done in time:\n{log.read_text()}"
            time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert session_processes(proc.pid) == [], "serve left processes behind"
    first, second = nightly_runs(warehouse)[:2]
    assert (first.trigger, first.status, first.processed, first.failed) == ("schedule", "ok", 3, 0)
    assert (second.trigger, second.status, second.processed, second.scanned) == ("schedule", "ok", 0, 3)
    assert first.due_at.endswith(":00+08:00") and second.due_at > first.due_at
    assert sorted(pd.read_parquet(warehouse / "calls")["call_id"]) == ["S001", "S002", "S003"]
    output = log.read_text()
    assert "nightly: cron '* * * * *' (Asia/Shanghai), next due" in output
    assert "done: 3 processed, 0 failed" in output and "done: 0 processed" in output
    assert "serve stopped" in output

    from pipeline.cli import app

    status = CliRunner().invoke(app, ["status", "--warehouse", str(warehouse)], env={"COLUMNS": "300"})
    assert status.exit_code == 0, status.output
    assert "callqa serve: not running" in status.output and "schedule" in status.output


def test_serve_refuses_a_schedule_that_cannot_fire(tmp_path, small_share):
    from pipeline.cli import app

    toml = tmp_path / "callqa.toml"
    toml.write_text('[schedule]\nnightly_cron = "0 2 31 2 *"\n')
    args = ["serve", "--share", str(small_share), "--warehouse", str(tmp_path / "wh"), "-c", str(toml)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 78
    assert "callqa serve refused to start" in result.output and "cannot fire" in result.output
