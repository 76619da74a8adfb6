"""Prefect 3 flows. Prefect's local ephemeral API is the default: nothing to install or start.
Their schedules are kept by ``pipeline.run.schedule`` (``callqa serve``), not by a Prefect server.

One task per call (Prefect costs milliseconds per task run), never per segment. The task body is
``pipeline.run.batch.process_one``: the flows only arrange plain functions. Where the calls run is the
task runner's business: one process (default), N worker processes on this machine
(``[run] workers``), or the workers of an existing Dask cluster (``[run] dask_address``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from pipeline.config import Config

# Offline and quiet by default; a deployment may override any of these in its environment.
_PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def configure_prefect() -> None:
    for key, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


configure_prefect()

from prefect import flow, task  # noqa: E402
from prefect.futures import as_completed  # noqa: E402

from pipeline.records import CallRef, CallResult  # noqa: E402
from pipeline.run.batch import (  # noqa: E402
    CallOutcome,
    ProgressReport,
    RunLock,
    RunLocked,
    StoreBuffer,
    plan_run,
    process_one,
    summarize,
    unexpected_error,
    write_failures,
)
from pipeline.run.process import Models  # noqa: E402
from pipeline.warehouse.perms import output_permissions  # noqa: E402
from pipeline.warehouse.scorecards import iso_week, settle_scorecards, week_days  # noqa: E402
from pipeline.warehouse.store import ensure_writable, remove_stale_temps  # noqa: E402


def _retry_unless_timed_out(task, task_run, state) -> bool:
    """A call that ran out of time would only run out of time again: no retry."""
    return not isinstance(state.data, TimeoutError)


class _ThreadTimeoutNotice(logging.Filter):
    """Prefect warns, per call, that a timeout in a worker thread takes effect only between blocking
    operations. Known and accepted here (every stage works in bounded chunks): not logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Timeout of %s seconds configured for this task")


logging.getLogger("prefect.task_runs").addFilter(_ThreadTimeoutNotice())


@task(
    name="process-call",
    retries=1,
    retry_delay_seconds=5,
    retry_condition_fn=_retry_unless_timed_out,
    task_run_name="call-{call_id}",
)
def process_call_task(call_id: str, ref: dict, config: dict) -> dict:
    """Runs in a worker (thread, process or Dask worker), which keeps its models between calls."""
    cfg = Config.from_dict(config)
    outcome, result = process_one(CallRef.from_dict(ref), cfg, Models.load(cfg))
    return {"outcome": outcome.__dict__, "result": result.to_dict() if result else None}


def _collect(future, ref: CallRef, timeout_s: float) -> tuple[CallOutcome, CallResult | None]:
    try:
        payload = future.result()
    except TimeoutError:
        error = f"timed out: still running after {timeout_s:g} s (run.call_timeout_s); stopped"
        return CallOutcome(ref.call_id, ref.path, "failed", error), None
    except BaseException as exc:  # the task's own exception, after its retries
        return CallOutcome(ref.call_id, ref.path, "failed", unexpected_error(exc)), None
    result = CallResult.from_dict(payload["result"]) if payload["result"] else None
    return CallOutcome(**payload["outcome"]), result


@flow(name="nightly")
def nightly(share: str, warehouse: str, config: dict | None = None) -> dict:
    """Scan the share, process each new or changed recording, store, update the scorecards.

    Raises RunLocked when another run holds the warehouse, WarehouseWriteError when the warehouse
    cannot be written (before any work if it cannot be written at all; what was stored is kept).
    """
    started = time.perf_counter()
    cfg = Config.from_dict(config or {})
    wh = Path(warehouse)
    with RunLock(wh), output_permissions(wh, Path(share)):
        ensure_writable(wh)
        remove_stale_temps(wh)  # a killed run's; no other run can be writing (the lock)
        plan = plan_run(Path(share), wh, cfg, cfg.whisper_dir.name)
        buffer = StoreBuffer(
            wh, {r.path: r for r in plan.todo}, cfg.whisper_dir.name, cfg.run.store_batch_calls
        )
        progress = ProgressReport(len(plan.todo))
        # Enforced by every task runner: in a worker process by an alarm signal, in a thread (the
        # default runner, Dask workers) by an exception raised in it at its next Python step; every
        # stage works in bounded chunks (VAD blocks, transcription passes), so either stops a call.
        timeout_s = cfg.run.call_timeout_s
        run_task = process_call_task.with_options(timeout_seconds=timeout_s)
        config_dict = cfg.to_dict()
        outcomes: list[CallOutcome] = []
        # A bounded number of calls in flight, results stored as they come (never all held), and
        # a call submitted as each one ends, so that no worker waits for the slowest of a batch.
        window = max(2, 2 * max(cfg.run.workers, 1))
        waiting = iter(plan.todo)
        in_flight: dict = {}

        def submit_next() -> None:
            if (ref := next(waiting, None)) is not None:
                in_flight[run_task.submit(ref.call_id, ref.to_dict(), config_dict)] = ref

        for _ in range(window):
            submit_next()
        while in_flight:
            future = next(as_completed(list(in_flight)))
            ref = in_flight.pop(future)
            submit_next()
            outcome, result = _collect(future, ref, timeout_s)
            if outcome.error:  # stored in the ledger, the failures table and the run log
                outcome = replace(outcome, error=plan.safe_message(ref, outcome.error))
            outcomes.append(outcome)
            buffer.add(outcome, result)
            progress.update(outcome)
        buffer.flush()
        settle_scorecards(wh, cfg.scoring, buffer.touched_dates)
        write_failures(wh)
        return summarize(plan, outcomes, wh, started)


def previous_week(today: date) -> str:
    return iso_week((today - timedelta(days=7)).isoformat())


@flow(name="weekly_report")
def weekly_report(
    warehouse: str, week: str | None = None, config: dict | None = None, out: str | None = None
) -> str:
    """The week's scorecards, recomputed, and the HTML report built from them; returns its path."""
    from zoneinfo import ZoneInfo

    from pipeline.report import write_report

    cfg = Config.from_dict(config or {})
    wh = Path(warehouse)
    week = week or previous_week(datetime.now(ZoneInfo(cfg.timezone)).date())
    # No wider than the warehouse (which the nightly run keeps to the share's); the lock, because
    # the week's scorecards are rewritten (and any verdict still pending is counted).
    with output_permissions(wh), RunLock(wh, wait_s=cfg.run.lock_wait_s):
        settle_scorecards(wh, cfg.scoring, week_days(week))
        return str(write_report(wh, week, cfg, Path(out) if out else None))


def share_local_api() -> None:
    """Worker processes report to the Prefect API this process reports to. Without PREFECT_API_URL
    (or a profile's) each worker process started a local API of its own (a uvicorn server: about
    7 s of a core each, and its first call waited for it); now the one this process starts, once,
    is named to them in PREFECT_API_URL, which they inherit."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's client starts and uses in this process
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url


def task_runner(cfg: Config):
    """Where the calls run: this process, worker processes, or a Dask cluster."""
    if cfg.run.dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=cfg.run.dask_address)
    if cfg.run.workers > 1:
        from prefect.task_runners import ProcessPoolTaskRunner

        share_local_api()
        return ProcessPoolTaskRunner(max_workers=cfg.run.workers)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=1)


class _Recorded:
    """A run's row in the warehouse's run log. Best effort: a warehouse that cannot be written is
    refused by the flow itself, in its own words, so the log's failure to write is not the error."""

    def __init__(self, warehouse: Path, job: str, trigger: str, due: datetime | None) -> None:
        from pipeline.warehouse.runlog import RunLog
        from pipeline.warehouse.store import WarehouseWriteError

        self._errors = (WarehouseWriteError, sqlite3.Error)
        self._log, self._id = None, None
        try:
            self._log = RunLog(warehouse)
            self._id = self._log.start(job, trigger, due.isoformat() if due else None)
        except self._errors:
            self.close()

    def finish(self, status: str, summary: dict | None = None, message: str = "") -> None:
        if self._log is not None and self._id is not None:
            with contextlib.suppress(*self._errors):
                self._log.finish(self._id, status, summary, message)
        self.close()

    def close(self) -> None:
        if self._log is not None:
            with contextlib.suppress(sqlite3.Error):
                self._log.close()
            self._log = None


def run_nightly(
    share: Path,
    warehouse: Path,
    cfg: Config,
    runner=None,
    *,
    trigger: str = "manual",
    due: datetime | None = None,
) -> dict:
    """The nightly flow once (``callqa run``, or a due time of ``callqa serve``), on Prefect's local
    API unless PREFECT_API_URL is set; recorded in the warehouse's run log.

    Raises RunLocked, without starting a flow run, when another run holds the warehouse."""
    holder = RunLock.holder(warehouse)
    record = _Recorded(warehouse, "nightly", trigger, due)
    if holder is not None:
        message = f"another callqa run is using {warehouse} ({holder}); try again when it ends"
        record.finish("locked", message=message)
        raise RunLocked(message)
    flow_run = nightly.with_options(task_runner=runner or task_runner(cfg))
    try:
        summary = flow_run(str(share.resolve()), str(warehouse.resolve()), cfg.to_dict())
    except RunLocked as exc:  # taken between the look and the flow's own lock
        record.finish("locked", message=str(exc))
        raise
    except KeyboardInterrupt:
        record.finish("interrupted", message="stopped (SIGTERM or Ctrl-C); the next run does the rest")
        raise
    except BaseException as exc:
        record.finish("failed", message=f"{type(exc).__name__}: {exc}")
        raise
    failures = "; ".join(f"{f['call_id']}: {f['error']}" for f in summary["failures"][:5])
    record.finish("ok", summary, failures)
    return summary


def run_weekly_report(
    warehouse: Path, cfg: Config, *, trigger: str = "manual", due: datetime | None = None
) -> str:
    """The weekly report flow once, for the previous ISO week; recorded in the run log."""
    record = _Recorded(warehouse, "weekly_report", trigger, due)
    try:
        path = weekly_report(str(warehouse.resolve()), None, cfg.to_dict())
    except BaseException as exc:
        record.finish("failed", message=f"{type(exc).__name__}: {exc}")
        raise
    record.finish("ok", message=path)
    return path
