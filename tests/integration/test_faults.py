"""Faults through the real nightly flow: a run killed mid-batch, a second run at the same time, a
full disk, an unwritable warehouse, a call that runs past its timeout. Nothing stored is lost or
duplicated, and every error says what happened."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.config import Config, RunConfig, ShareConfig
from tests.integration import recordings as rec

pytestmark = pytest.mark.integration

CONFIG = Config(share=ShareConfig(quiet_period_s=0))


def make_share(root: Path, call_ids: list[str], days: list[int] | None = None) -> Path:
    """One short mono call per id, on its own day (2026-11-16, -17, ...) unless ``days`` says;
    recordings already there are left untouched (only the manifest is rewritten)."""
    clip = rec.speech(False, 0.0, 7.0)
    rows = []
    for i, call_id in enumerate(call_ids):
        if not (root / f"{call_id}.flac").exists():
            rec.write(root / f"{call_id}.flac", clip)
        day = 16 + (i if days is None else days[i])
        rows.append(f"{call_id}.flac,{call_id},A10{i % 3 + 1},2026-11-{day}T09:00:00+08:00,mono")
    rec.manifest(root, rows)
    return root


def config_file(tmp_path: Path, **run: object) -> Path:
    path = tmp_path / "callqa.toml"
    lines = ["[share]", "quiet_period_s = 0", "[run]", *(f"{k} = {v}" for k, v in run.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(*args: str):
    from pipeline.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def ledger_rows(warehouse: Path) -> pd.DataFrame:
    with sqlite3.connect(warehouse / "ledger.sqlite") as db:
        return pd.read_sql("SELECT path, call_id, status FROM files", db)


def snapshot(warehouse: Path) -> dict[str, bytes]:
    return {str(p.relative_to(warehouse)): p.read_bytes() for p in warehouse.rglob("*.parquet")}


def assert_each_call_once(warehouse: Path, call_ids: list[str]) -> None:
    calls = pd.read_parquet(warehouse / "calls")
    assert sorted(calls["call_id"]) == sorted(call_ids) and calls["path"].is_unique
    utterances = pd.read_parquet(warehouse / "utterances")
    events = pd.read_parquet(warehouse / "events")
    turns = pd.read_parquet(warehouse / "turns")
    assert not utterances.duplicated(["call_id", "idx"]).any()
    assert not turns.duplicated(["call_id", "idx"]).any() and set(turns["call_id"]) == set(calls["call_id"])
    assert not events.duplicated(["call_id", "rule_id", "start_ms", "end_ms"]).any()
    per_call_utt, per_call_evt = utterances.groupby("call_id").size(), events.groupby("call_id").size()
    for row in calls.itertuples():
        assert per_call_utt.get(row.call_id, 0) == row.n_utterances > 0
        assert per_call_evt.get(row.call_id, 0) == row.n_events
    ledger = ledger_rows(warehouse)
    assert sorted(ledger.query("status == 'ok'")["path"]) == sorted(calls["path"])
    days = pd.read_parquet(warehouse / "scorecards" / "period=day")
    assert days["n_calls"].sum() == len(call_ids)  # every day's scorecard counts its calls once
    assert not list(warehouse.rglob("*.tmp"))


def wait_for(condition, what: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(0.05)


def test_a_run_killed_mid_batch_and_rerun_stores_every_call_exactly_once(prefect, tmp_path):
    """`callqa run` in its own process, storing each call as it finishes; a second run meanwhile
    exits 75; SIGKILL after the first call is stored; the rerun completes the batch."""
    from prefect.settings import PREFECT_API_URL

    from pipeline.run.flows import run_nightly

    ids = [f"K{i}" for i in range(1, 7)]
    share = make_share(tmp_path / "share", ids)
    warehouse = tmp_path / "wh"
    toml = config_file(tmp_path, store_batch_calls=1)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}  # the test API: no server start
    log = tmp_path / "run.log"
    with open(log, "w") as out:  # a file, not a pipe: nothing can block the run
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "run", share, "--warehouse", warehouse, "-c", toml],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lock = warehouse / ".callqa.lock"
    try:
        wait_for(lambda: lock.exists() and f"pid {proc.pid}" in lock.read_text(), "the run lock", proc, log)
        code, output = cli("run", share, "--warehouse", warehouse, "-c", toml)
        assert (
            code == 75
            and f"another callqa run is using {warehouse}" in output
            and f"pid {proc.pid}" in output
        )
        wait_for(lambda: any((warehouse / "calls").glob("*/data.parquet")), "a stored call", proc, log)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = ledger_rows(warehouse).query("status == 'ok'")
    assert len(done) < len(ids), "the run was not killed mid-batch"
    summary = run_nightly(share, warehouse, CONFIG)
    assert summary["processed"] == len(ids) - len(done) and summary["failed"] == 0
    assert_each_call_once(warehouse, ids)


def test_a_full_disk_midway_leaves_the_warehouse_as_it_was(prefect, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from pipeline.run.flows import run_nightly

    share = make_share(tmp_path / "share", ["F1"])
    warehouse = tmp_path / "wh"
    run_nightly(share, warehouse, CONFIG)
    before = snapshot(warehouse)
    make_share(share, ["F1", "F2", "F3"], days=[0, 0, 1])  # F2 on F1's day: its partitions are rewritten
    real_write = pq.write_table

    def disk_full_at_events(table, where, **kwargs):
        if "/events/" in str(where):  # the utterances are written: the disk fills up now
            Path(where).write_bytes(b"PAR1 half a file")
            raise OSError(errno.ENOSPC, "No space left on device", str(where))
        real_write(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", disk_full_at_events)
    code, output = cli("run", share, "--warehouse", warehouse, "-c", config_file(tmp_path))
    monkeypatch.undo()
    assert code == 74
    assert "warehouse not written: cannot write" in output and "No space left on device" in output
    assert "What was stored before is unchanged" in output
    assert snapshot(warehouse) == before
    assert not list(warehouse.rglob("*.tmp"))
    assert ledger_rows(warehouse).query("status == 'ok'")["call_id"].tolist() == ["F1"]
    summary = run_nightly(share, warehouse, CONFIG)  # space again: the next run does what is missing
    assert summary["processed"] == 2 and summary["skipped"] == 1
    assert_each_call_once(warehouse, ["F1", "F2", "F3"])


def test_a_warehouse_path_that_is_a_file_is_refused_before_any_work(prefect, tmp_path):
    share = make_share(tmp_path / "share", ["W1"])
    not_a_folder = tmp_path / "warehouse"
    not_a_folder.write_text("someone's notes")
    code, output = cli("run", share, "--warehouse", not_a_folder, "-c", config_file(tmp_path))
    assert code == 74
    assert f"cannot use {not_a_folder} as the warehouse: it is a file, not a folder" in output
    assert not_a_folder.read_text() == "someone's notes"


def permissions_bind_us(tmp_path: Path) -> bool:
    """False for root (CAP_DAC_OVERRIDE), who writes into read-only folders anyway."""
    probe = tmp_path / "read-only"
    probe.mkdir(mode=0o555)
    try:
        (probe / "x").touch()
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
    return False


def test_a_read_only_warehouse_is_refused_and_its_data_kept(prefect, tmp_path):
    from prefect.settings import PREFECT_API_URL

    from pipeline.run.flows import run_nightly

    # Root writes into read-only folders anyway (CAP_DAC_OVERRIDE): the run then goes without it.
    drop = (
        []
        if permissions_bind_us(tmp_path)
        else [
            "setpriv",
            "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search",
        ]
    )
    share = make_share(tmp_path / "share", ["R1"])
    warehouse = tmp_path / "wh"
    run_nightly(share, warehouse, CONFIG)
    before = snapshot(warehouse)
    make_share(share, ["R1", "R2"])
    entries = [warehouse, *warehouse.rglob("*")]
    modes = {p: p.stat().st_mode for p in entries}
    for path in entries:
        path.chmod(modes[path] & ~0o222)
    toml = config_file(tmp_path)
    try:
        done = subprocess.run(
            [*drop, sys.executable, "-m", "pipeline.cli", "run", share, "--warehouse", warehouse, "-c", toml],
            env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "400"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        code, output = done.returncode, " ".join((done.stdout + done.stderr).split())
    finally:
        for path in reversed(entries):
            path.chmod(modes[path])
    assert code == 74 and "warehouse not written" in output and "Permission denied" in output
    assert snapshot(warehouse) == before
    assert pd.read_parquet(warehouse / "calls")["call_id"].tolist() == ["R1"]


def test_a_call_past_its_timeout_is_stopped_recorded_and_the_batch_goes_on(prefect, tmp_path, monkeypatch):
    """Ten minutes of speech (one to three minutes of work on 2 cores) with a 20 s timeout, in the
    default runner (a worker thread): stopped at the timeout, not retried, recorded; the next call
    runs in the same worker as usual."""
    import pipeline.run.flows

    endless = np.tile(rec.speech(False, 1.0, 6.4), (110, 1))  # ten minutes of greeting
    share = tmp_path / "share"
    rec.write(share / "a_endless.flac", endless)
    rec.write(share / "b_normal.flac", rec.speech(False))
    day = "2026-11-16T09:00:00+08:00"
    rec.manifest(share, [f"a_endless.flac,E1,A101,{day},mono", f"b_normal.flac,E2,A101,{day},mono"])
    ran: list[tuple[str, float]] = []
    real_process_one = pipeline.run.flows.process_one

    def timed(ref, cfg, models):
        clock = time.perf_counter()
        try:
            return real_process_one(ref, cfg, models)
        finally:
            ran.append((ref.call_id, time.perf_counter() - clock))

    monkeypatch.setattr(pipeline.run.flows, "process_one", timed)
    timeout = 20
    summary = pipeline.run.flows.run_nightly(
        share, tmp_path / "wh", replace(CONFIG, run=RunConfig(call_timeout_s=timeout))
    )
    assert [call_id for call_id, _ in ran] == ["E1", "E2"]  # a call that ran out of time is not retried
    # Stopped, not abandoned to run on: it ends within one chunk of work (a 30 s Whisper window,
    # slow on a loaded machine) after its timeout.
    assert ran[0][1] < timeout + 45, f"E1 ran {ran[0][1]:.0f} s"
    (failure,) = summary["failures"]
    assert failure["call_id"] == "E1"
    assert failure["error"] == f"timed out: still running after {timeout} s (run.call_timeout_s); stopped"
    assert summary["processed"] == 1
    assert pd.read_parquet(tmp_path / "wh" / "calls")["call_id"].tolist() == ["E2"]
    (row,) = pd.read_parquet(tmp_path / "wh" / "failures").itertuples()
    assert row.call_id == "E1" and row.attempts == 1 and "timed out" in row.error
