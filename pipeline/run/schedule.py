"""``callqa serve``: the nightly batch and the weekly report on their cron schedules.

Why callqa keeps the schedule itself rather than Prefect's ``serve``: with no ``PREFECT_API_URL``,
Prefect serves deployments against a temporary in-process API that runs no scheduler service, so no
scheduled run is ever created and the runner polls in silence ("Cannot schedule flows on an
ephemeral server"). Here each due time starts the same Prefect flow that ``callqa run`` starts, so
every run is still a Prefect flow run (in the local API's database, or on the server that
``PREFECT_API_URL`` names, whose UI then shows them) with its retries per call, and a schedule needs
nothing else installed or running.

What serve promises, and how:
- **A missed due time is caught up once.** The last due time served is kept in the warehouse's run
  log; at start, if a later one has passed (the machine was off at 02:00), the job runs once, however
  many were missed.
- **Never two runs at once.** Jobs run one after the other in this process; a due time that passes
  while a run is going is logged as skipped, not queued. A run refused by the warehouse lock (a
  ``callqa run`` by hand, another host) is logged with the lock's holder.
- **A schedule that cannot fire refuses to start**: a bad cron expression, one with no future time,
  an unreachable ``PREFECT_API_URL``, or a second serve on the same warehouse (``ServeRefused``).
- **Stopping leaves nothing behind**: SIGTERM and SIGINT end the loop; a run in progress is stopped
  at its next step (what it stored is kept, the rest is processed by the next run) and Prefect's
  local API process is stopped on exit.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.config import Config
from pipeline.run.batch import RunLock

log = logging.getLogger("callqa.serve")

NIGHTLY, WEEKLY_REPORT = "nightly", "weekly_report"


class ServeRefused(RuntimeError):
    """serve cannot keep its schedule; the message says why and what to do."""


@dataclass(frozen=True)
class Job:
    name: str
    cron: str


@dataclass(frozen=True)
class StartPlan:
    """What a job does when serve starts: run now to catch up (and how many due times were missed),
    then wait for ``next_due``."""

    catch_up: datetime | None
    missed: int
    next_due: datetime


def next_due(cron: str, after: datetime) -> datetime:
    """The first due time strictly after ``after`` (an aware datetime, in the centre's zone)."""
    from cronsim import CronSim

    return next(CronSim(cron, after.replace(second=0, microsecond=0)))


def latest_due(cron: str, at: datetime) -> datetime:
    """The latest due time at or before ``at``."""
    from cronsim import CronSim

    minute = at.replace(second=0, microsecond=0)
    return next(CronSim(cron, minute + timedelta(minutes=1), reverse=True))


def check_cron(name: str, cron: str, tz: ZoneInfo, now: datetime) -> None:
    """A cron expression that does not parse, or that has no due time in the next ten years."""
    from cronsim import CronSimError

    try:
        due = next_due(cron, now.astimezone(tz))
    except (CronSimError, StopIteration, ValueError) as exc:
        raise ServeRefused(
            f"[schedule] {name}_cron = {cron!r} cannot fire ({exc or 'no due time'}); "
            "write five fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * *'"
        ) from exc
    if due - now > timedelta(days=3660):
        raise ServeRefused(f"[schedule] {name}_cron = {cron!r} has no due time in the next ten years")


def plan_start(cron: str, last_due: datetime | None, now: datetime) -> StartPlan:
    """At serve's start: catch up once if a due time passed since the last one served.

    A job with no last due time (serve's first start on this warehouse) has missed nothing: it
    waits for its first due time."""
    following = next_due(cron, now)
    if last_due is None:
        return StartPlan(None, 0, following)
    latest = latest_due(cron, now)
    if latest <= last_due:
        return StartPlan(None, 0, following)
    missed, due = 0, last_due
    while due < latest and missed < 1000:  # counted for the log only
        due = next_due(cron, due)
        missed += 1
    return StartPlan(latest, missed, following)


def skipped_during(cron: str, due: datetime, finished: datetime) -> list[datetime]:
    """Due times that passed while the run for ``due`` was going: not started twice."""
    times, t = [], next_due(cron, due)
    while t <= finished and len(times) < 1000:
        times.append(t)
        t = next_due(cron, t)
    return times


def check_prefect_api() -> None:
    """The Prefect API the runs will report to must answer now, not fail at 02:00: the server that
    PREFECT_API_URL names (in the environment or a Prefect profile), or else Prefect's local API,
    which is started here once for the life of serve (its start then costs no run anything)."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:  # starts the local API in this process
            error = client.api_healthcheck()
        if error is not None:
            raise ServeRefused(f"Prefect's local API did not start ({error})")
        return
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=15).raise_for_status()
    except httpx.HTTPError as exc:
        raise ServeRefused(
            f"PREFECT_API_URL={url} does not answer ({exc}); start that server, or unset "
            "PREFECT_API_URL to keep the runs in Prefect's local database"
        ) from exc


class ServeLock(RunLock):
    """One serve per warehouse: a second would run every job twice. ``holder`` says who serves."""

    FILE = ".callqa-serve.lock"

    def busy(self, holder: str) -> Exception:
        return ServeRefused(
            f"callqa serve is already running for {self.path.parent} ({holder}); stop it first"
        )


def _run_nightly_job(cfg: Config, warehouse: Path, share: Path, trigger: str, due: datetime) -> None:
    from pipeline.run.batch import RunLocked
    from pipeline.run.flows import run_nightly
    from pipeline.warehouse.store import WarehouseWriteError

    try:
        summary = run_nightly(share, warehouse, cfg, trigger=trigger, due=due)
    except RunLocked as exc:
        log.warning("nightly due %s not started: %s", due.isoformat(), exc)
        return
    except WarehouseWriteError as exc:
        log.error("nightly due %s: warehouse not written: %s", due.isoformat(), exc)
        return
    log.info(
        "nightly due %s done: %d processed, %d failed, %d rejected, %d waiting, %d skipped (%.0f s)",
        due.isoformat(),
        summary["processed"],
        summary["failed"],
        summary["rejected"],
        summary["waiting"],
        summary["skipped"],
        summary["wall_s"],
    )
    for failure in summary["failures"]:
        log.warning("  failed %s (%s): %s", failure["call_id"], failure["path"], failure["error"])
    for warning in summary.get("layout_warnings", []):
        log.warning("  layout: %s", warning)
    if summary.get("quality_warning"):
        log.warning("  audio: %s", summary["quality_warning"])


def _run_weekly_job(cfg: Config, warehouse: Path, share: Path, trigger: str, due: datetime) -> None:
    from pipeline.run.flows import run_weekly_report

    path = run_weekly_report(warehouse, cfg, trigger=trigger, due=due)
    log.info("weekly report due %s written: %s", due.isoformat(), path)


JobAction = Callable[[Config, Path, Path, str, datetime], None]
ACTIONS: dict[str, JobAction] = {NIGHTLY: _run_nightly_job, WEEKLY_REPORT: _run_weekly_job}


class Scheduler:
    """The loop: wait for the earliest due time, run that job, record it; until ``stop`` is set.

    ``actions``, ``clock`` and ``sleep`` are parameters so that tests can drive the loop in
    simulated time."""

    def __init__(
        self,
        cfg: Config,
        warehouse: Path,
        share: Path,
        *,
        actions: dict[str, JobAction] | None = None,
        clock: Callable[[], datetime] | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], object] | None = None,
        poll_s: float = 1.0,
    ) -> None:
        self.cfg, self.warehouse, self.share = cfg, warehouse, share
        self.tz = ZoneInfo(cfg.timezone)
        self.jobs = [Job(NIGHTLY, cfg.schedule.nightly_cron), Job(WEEKLY_REPORT, cfg.schedule.weekly_cron)]
        self.actions = actions or ACTIONS
        self.clock = clock or (lambda: datetime.now(self.tz))
        self.stop = stop or threading.Event()
        self.sleep = sleep or self.stop.wait
        self.poll_s = poll_s
        self.next: dict[str, datetime] = {}
        self.running = False  # a job's run is going

    def check(self) -> None:
        """Everything that would keep a due time from firing, before serve says it is serving."""
        now = self.clock()
        for job in self.jobs:
            check_cron(job.name, job.cron, self.tz, now)
        if not self.share.is_dir():
            raise ServeRefused(f"share not found or not a folder: {self.share} ([schedule] share or --share)")
        from pipeline.warehouse.store import WarehouseWriteError, ensure_writable

        try:
            ensure_writable(self.warehouse)
        except WarehouseWriteError as exc:
            raise ServeRefused(f"{exc} (--warehouse or warehouse in callqa.toml)") from exc
        check_prefect_api()

    def _record(self, job: Job, last_due: datetime | None) -> None:
        from pipeline.warehouse.runlog import RunLog

        with RunLog(self.warehouse) as runlog:
            runlog.set_schedule(
                job.name,
                job.cron,
                self.cfg.timezone,
                last_due.isoformat() if last_due else None,
                self.next[job.name].isoformat(),
            )

    def _last_due(self, job: Job) -> datetime | None:
        from pipeline.warehouse.runlog import RunLog

        with RunLog(self.warehouse) as runlog:
            record = runlog.schedules().get(job.name)
        if record is None or record.last_due is None:
            return None
        if (record.cron, record.timezone) != (job.cron, self.cfg.timezone):
            # A new schedule: its first due time is ahead, not a missed one to catch up at once
            # (0 2 * * * changed to 0 3 * * * and serve restarted at 10:00 runs at 03:00).
            return None
        return datetime.fromisoformat(record.last_due).astimezone(self.tz)

    def _run(self, job: Job, trigger: str, due: datetime) -> None:
        log.info("%s due %s: starting (%s)", job.name, due.isoformat(), trigger)
        self.running = True  # a stop signal now ends the run at its next step
        try:
            self.actions[job.name](self.cfg, self.warehouse, self.share, trigger, due)
        except Exception:  # a failed run is logged and recorded; serve keeps its schedule
            log.exception("%s due %s failed", job.name, due.isoformat())
        finally:
            self.running = False
        finished = self.clock()
        skipped = skipped_during(job.cron, due, finished)
        if skipped:
            log.warning(
                "%s due %s not started: the run due %s was still going (%d due time%s skipped)",
                job.name,
                skipped[0].isoformat(),
                due.isoformat(),
                len(skipped),
                "s" if len(skipped) > 1 else "",
            )
        self.next[job.name] = next_due(job.cron, finished)
        self._record(job, skipped[-1] if skipped else due)

    def start(self) -> list[tuple[Job, StartPlan]]:
        """Plan each job's start and record its next due time; returns the plans."""
        now = self.clock()
        plans = []
        for job in self.jobs:
            plan = plan_start(job.cron, self._last_due(job), now)
            self.next[job.name] = plan.next_due
            if plan.catch_up is None:
                self._record(job, self._last_due(job) or latest_due(job.cron, now))
            plans.append((job, plan))
        return plans

    def serve_forever(self) -> None:
        for job, plan in self.start():
            log.info("%s: cron %r (%s), next due %s", job.name, job.cron, self.cfg.timezone, plan.next_due)
            if plan.catch_up is not None and not self.stop.is_set():
                log.warning(
                    "%s: %d due time%s missed while serve was not running (latest %s): catching up once",
                    job.name,
                    plan.missed,
                    "s" if plan.missed > 1 else "",
                    plan.catch_up.isoformat(),
                )
                self._run(job, "catch-up", plan.catch_up)
        while not self.stop.is_set():
            job = min(self.jobs, key=lambda j: self.next[j.name])
            due = self.next[job.name]
            wait = (due - self.clock()).total_seconds()
            if wait > 0:
                self.sleep(min(wait, self.poll_s))
                continue
            self._run(job, "schedule", due)


def serve(cfg: Config, warehouse: Path, share: Path) -> None:
    """``callqa serve``: keep both schedules until SIGTERM or SIGINT. Raises ServeRefused."""
    stop = threading.Event()
    scheduler = Scheduler(cfg, warehouse.resolve(), share.resolve(), stop=stop)
    scheduler.check()

    def _stop(signum: int, frame: object) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()
        if scheduler.running:  # a run in progress stops at its next step
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with ServeLock(scheduler.warehouse):
        try:
            scheduler.serve_forever()
        except KeyboardInterrupt:
            log.warning("stopped during a run: what it stored is kept; the next run processes the rest")
    log.info("serve stopped")
