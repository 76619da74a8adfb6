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
from pipeline.records import CallRef
from pipeline.scan import scan_share
from pipeline.warehouse.ledger import Ledger
from pipeline.warehouse.store import store_call


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


def plan_run(share: Path, warehouse: Path, cfg: Config, model_id: str) -> Plan:
    scan = scan_share(share, cfg.default_layout, cfg.timezone)
    with Ledger(warehouse) as ledger:
        todo = ledger.pending(scan.calls, model_id)
    return Plan(todo, len(scan.calls), scan.without_metadata, scan.problems)


def process_and_store(ref: CallRef, warehouse: Path, cfg: Config, models: Models) -> CallOutcome:
    """One call, end to end. A recording that cannot be decoded is a failed outcome, not an exception."""
    try:
        ref = replace(ref, sha256=sha256_file(Path(ref.path)))
        result = process_call(ref, cfg, models)
    except (DecodeError, FileNotFoundError) as exc:
        return CallOutcome(ref.call_id, ref.path, "failed", str(exc))
    store_call(warehouse, result)
    return CallOutcome(ref.call_id, ref.path, "ok", audio_s=result.metrics.duration, timings=result.timings)


def record_outcomes(
    warehouse: Path, refs: dict[str, CallRef], outcomes: list[CallOutcome], model_id: str
) -> None:
    with Ledger(warehouse) as ledger:
        for outcome in outcomes:
            ref = refs[outcome.path]
            if outcome.status == "ok":
                ledger.record_ok(ref, model_id)
            else:
                ledger.record_failure(ref, outcome.error)


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


def summarize(plan: Plan, outcomes: list[CallOutcome], warehouse: Path, started: float) -> dict:
    wall = time.perf_counter() - started
    audio = sum(o.audio_s for o in outcomes)
    failed = [o for o in outcomes if o.status != "ok"]
    return {
        "warehouse": str(warehouse),
        "scanned": plan.scanned,
        "processed": len(outcomes) - len(failed),
        "skipped": plan.scanned - len(plan.todo),
        "failed": len(failed),
        "failures": [{"call_id": o.call_id, "path": o.path, "error": o.error} for o in failed],
        "without_metadata": plan.without_metadata,
        "manifest_problems": plan.problems,
        "audio_s": round(audio, 2),
        "wall_s": round(wall, 2),
        "rtf": round(wall / audio, 4) if audio else 0.0,
    }
