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
    plan_run,
    process_and_store,
    record_outcomes,
    summarize,
    unexpected_error,
    write_failures,
)
from pipeline.process import Models  # noqa: E402
from pipeline.records import CallRef  # noqa: E402
from pipeline.warehouse.scorecards import rebuild_scorecards  # noqa: E402


@task(name="process-call", retries=1, retry_delay_seconds=2, task_run_name="call-{call_id}")
def process_call_task(call_id: str, ref: dict, warehouse: str, config: dict) -> dict:
    cfg = Config.from_dict(config)
    outcome = process_and_store(CallRef.from_dict(ref), Path(warehouse), cfg, Models.load(cfg))
    return outcome.__dict__


@flow(name="nightly", log_prints=True)
def nightly(share: str, warehouse: str, config: dict | None = None) -> dict:
    """Scan the share, process each new or changed recording, store, rebuild scorecards."""
    started = time.perf_counter()
    cfg = Config.from_dict(config or {})
    wh = Path(warehouse)
    plan = plan_run(Path(share), wh, cfg, cfg.whisper_dir.name)
    refs = {r.path: r for r in plan.todo}
    outcomes: list[CallOutcome] = []
    for ref in plan.todo:
        state: State = process_call_task(
            ref.call_id, ref.to_dict(), str(wh), cfg.to_dict(), return_state=True
        )
        if state.is_completed():
            outcomes.append(CallOutcome(**state.result()))
        else:
            try:
                state.result()
                reason = f"task ended in state {state.type.value}"
            except BaseException as exc:  # the task's own exception, after its retries
                reason = unexpected_error(exc)
            outcomes.append(CallOutcome(ref.call_id, ref.path, "failed", reason))
        record_outcomes(wh, refs, outcomes[-1:], cfg.whisper_dir.name)
    rebuild_scorecards(wh, cfg.scoring, cfg.timezone)
    write_failures(wh)
    return summarize(plan, outcomes, wh, started)


def run_nightly(share: Path, warehouse: Path, cfg: Config) -> dict:
    """``callqa run``: the nightly flow once, on Prefect's local API unless PREFECT_API_URL is set."""
    return nightly(str(share.resolve()), str(warehouse.resolve()), cfg.to_dict())
