"""A batch run's steps as plain functions: plan, process one call and store it, finish.

The Prefect flows (``pipeline.flows``) only arrange these; tests and notebooks can call them
directly.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.audio import DecodeError
from pipeline.config import Config
from pipeline.modelstore import sha256_file
from pipeline.process import Models, process_call
from pipeline.records import CallRef, CallResult
from pipeline.scan import scan_share
from pipeline.warehouse.ledger import Ledger
from pipeline.warehouse.store import store_calls


@dataclass(frozen=True)
class CallOutcome:
    call_id: str
    path: str
    status: str  # ok | failed
    error: str = ""
    audio_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    todo: list[CallRef]
    scanned: int
    without_metadata: list[str]
    problems: list[str]
    waiting: list[str] = field(default_factory=list)  # files still being written


def plan_run(share: Path, warehouse: Path, cfg: Config, model_id: str, now: float | None = None) -> Plan:
    """What this run must do: new, changed and retryable files that are not still being written."""
    scan = scan_share(share, cfg.default_layout, cfg.timezone, cfg.share.filename_pattern)
    with Ledger(warehouse) as ledger:
        pending = ledger.pending(scan.calls, model_id, cfg.run.max_attempts)
    cutoff = (time.time() if now is None else now) - cfg.share.quiet_period_s
    todo = [r for r in pending if r.mtime <= cutoff]
    waiting = [r.path for r in pending if r.mtime > cutoff]
    return Plan(todo, len(scan.calls), scan.without_metadata, scan.problems, waiting)


def process_one(ref: CallRef, cfg: Config, models: Models) -> tuple[CallOutcome, CallResult | None]:
    """One call through every stage. A recording that cannot be decoded is a failed outcome;
    one whose size changed since the scan is still being written and waits for the next run."""
    try:
        if Path(ref.path).stat().st_size != ref.size:
            return CallOutcome(ref.call_id, ref.path, "waiting", "still being written"), None
        ref = replace(ref, sha256=sha256_file(Path(ref.path)))
        result = process_call(ref, cfg, models)
    except (DecodeError, FileNotFoundError) as exc:
        return CallOutcome(ref.call_id, ref.path, "failed", str(exc)), None
    outcome = CallOutcome(
        ref.call_id, ref.path, "ok", audio_s=result.metrics.duration, timings=result.timings
    )
    return outcome, result


class StoreBuffer:
    """Collects finished calls and stores them a batch at a time.

    A day's partition is rewritten once per batch, not once per call. The ledger records a call as
    done only after its rows are stored: a crash loses at most one unstored batch, which the next run
    processes again.
    """

    def __init__(self, warehouse: Path, refs: dict[str, CallRef], model_id: str, batch_calls: int) -> None:
        self.warehouse, self.refs, self.model_id, self.batch_calls = warehouse, refs, model_id, batch_calls
        self.pending: list[tuple[CallOutcome, CallResult]] = []
        self.touched_dates: set[str] = set()

    def add(self, outcome: CallOutcome, result: CallResult | None) -> None:
        if outcome.status == "waiting":
            return
        if result is None:
            with Ledger(self.warehouse) as ledger:
                ledger.record_failure(self.refs[outcome.path], outcome.error)
            return
        self.pending.append((outcome, result))
        if len(self.pending) >= self.batch_calls:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.touched_dates |= store_calls(self.warehouse, [result for _, result in self.pending])
        with Ledger(self.warehouse) as ledger:
            stored = [replace(self.refs[o.path], sha256=r.call.sha256) for o, r in self.pending]
            ledger.record_ok(stored, self.model_id)
        self.pending.clear()


def write_failures(warehouse: Path) -> int:
    """The ledger's failed files as the ``failures`` Parquet table, for analysts and the report."""
    from datetime import datetime

    import pyarrow as pa

    from pipeline.warehouse import schemas
    from pipeline.warehouse.store import write_atomic

    with Ledger(warehouse) as ledger:
        rows = ledger.failures()
    table = pa.Table.from_pylist(
        [
            {
                "schema_version": schemas.SCHEMA_VERSION,
                "path": r["path"],
                "call_id": r["call_id"],
                "agent_id": r["agent_id"],
                "error": r["error"],
                "attempts": r["attempts"],
                "failed_at": datetime.fromisoformat(r["updated_at"]),
            }
            for r in rows
        ],
        schema=schemas.FAILURES,
    )
    write_atomic(table, warehouse / "failures" / "failures.parquet")
    return len(rows)


def unexpected_error(exc: BaseException) -> str:
    """A one-line reason for the failures table, with where it happened."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


class RunLocked(RuntimeError):
    """Another run holds this warehouse."""


class RunLock:
    """One run at a time per warehouse: an OS file lock, released by the kernel if the holder dies."""

    def __init__(self, warehouse: Path) -> None:
        warehouse.mkdir(parents=True, exist_ok=True)
        self.path = warehouse / ".callqa.lock"
        self._file = None

    def __enter__(self) -> RunLock:
        import fcntl
        import os

        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunLocked(
                f"another callqa run is using {self.path.parent} ({holder}); try again when it ends"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None


class ProgressReport:
    """Calls done of total, audio hours and ETA, one line per call on stderr (never the flow log)."""

    def __init__(self, total: int, stream=None) -> None:
        import sys

        self.total, self.done, self.audio_s = total, 0, 0.0
        self.started = time.perf_counter()
        self.stream = stream or sys.stderr

    def update(self, outcome: CallOutcome) -> None:
        self.done += 1
        self.audio_s += outcome.audio_s
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        detail = "" if outcome.status == "ok" else f" ({outcome.error[:80]})"
        self.stream.write(
            f"[{self.done}/{self.total}] {outcome.call_id} {outcome.status}{detail} | "
            f"audio {self.audio_s / 3600:.2f} h | elapsed {elapsed:.0f} s | ETA {eta:.0f} s\n"
        )
        self.stream.flush()


def summarize(plan: Plan, outcomes: list[CallOutcome], warehouse: Path, started: float) -> dict:
    wall = time.perf_counter() - started
    audio = sum(o.audio_s for o in outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    waiting = plan.waiting + [o.path for o in outcomes if o.status == "waiting"]
    return {
        "warehouse": str(warehouse),
        "scanned": plan.scanned,
        "processed": sum(o.status == "ok" for o in outcomes),
        "skipped": plan.scanned - len(plan.todo) - len(plan.waiting),
        "waiting": len(waiting),
        "waiting_paths": waiting,
        "failed": len(failed),
        "failures": [{"call_id": o.call_id, "path": o.path, "error": o.error} for o in failed],
        "without_metadata": plan.without_metadata,
        "manifest_problems": plan.problems,
        "audio_s": round(audio, 2),
        "wall_s": round(wall, 2),
        "rtf": round(wall / audio, 4) if audio else 0.0,
    }
