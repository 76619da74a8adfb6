"""Prefect 3 flows. Prefect's local ephemeral API is the default: nothing to install or start.

One task per call (Prefect costs milliseconds per task run), never per segment. The task body is
``pipeline.batch.process_and_store``: the flow only arranges plain functions.
"""

from __future__ import annotations

import os
import time
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
from prefect.states import State  # noqa: E402

from pipeline.batch import (  # noqa: E402
    CallOutcome,
    StoreBuffer,
    plan_run,
    process_one,
    summarize,
    unexpected_error,
    write_failures,
)
from pipeline.process import Models  # noqa: E402
from pipeline.records import CallRef, CallResult  # noqa: E402
from pipeline.warehouse.scorecards import update_scorecards  # noqa: E402


@task(name="process-call", retries=1, retry_delay_seconds=2, task_run_name="call-{call_id}")
def process_call_task(call_id: str, ref: dict, config: dict) -> dict:
    cfg = Config.from_dict(config)
    outcome, result = process_one(CallRef.from_dict(ref), cfg, Models.load(cfg))
    return {"outcome": outcome.__dict__, "result": result.to_dict() if result else None}


@flow(name="nightly", log_prints=True)
def nightly(share: str, warehouse: str, config: dict | None = None) -> dict:
    """Scan the share, process each new or changed recording, store, rebuild scorecards."""
    started = time.perf_counter()
    cfg = Config.from_dict(config or {})
    wh = Path(warehouse)
    plan = plan_run(Path(share), wh, cfg, cfg.whisper_dir.name)
    buffer = StoreBuffer(wh, {r.path: r for r in plan.todo}, cfg.whisper_dir.name, cfg.store_batch_calls)
    outcomes: list[CallOutcome] = []
    for ref in plan.todo:
        state: State = process_call_task(ref.call_id, ref.to_dict(), cfg.to_dict(), return_state=True)
        result = None
        if state.is_completed():
            payload = state.result()
            outcome = CallOutcome(**payload["outcome"])
            result = CallResult.from_dict(payload["result"]) if payload["result"] else None
        else:
            try:
                state.result()
                reason = f"task ended in state {state.type.value}"
            except BaseException as exc:  # the task's own exception, after its retries
                reason = unexpected_error(exc)
            outcome = CallOutcome(ref.call_id, ref.path, "failed", reason)
        outcomes.append(outcome)
        buffer.add(outcome, result)
    buffer.flush()
    update_scorecards(wh, cfg.scoring, buffer.touched_dates)
    write_failures(wh)
    return summarize(plan, outcomes, wh, started)


def run_nightly(share: Path, warehouse: Path, cfg: Config) -> dict:
    """``callqa run``: the nightly flow once, on Prefect's local API unless PREFECT_API_URL is set."""
    return nightly(str(share.resolve()), str(warehouse.resolve()), cfg.to_dict())
