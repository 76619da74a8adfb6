"""callqa serve's schedule in simulated time: due times, a missed night caught up once, a run that
outlasts the next due time, and the schedules that cannot fire."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import pipeline.run.flows  # noqa: F401  (Prefect sets up logging on import; before caplog, not over it)
from pipeline.config import Config, ScheduleConfig
from pipeline.run.batch import RunLock
from pipeline.run.schedule import (
    NIGHTLY,
    WEEKLY_REPORT,
    Scheduler,
    ServeLock,
    ServeRefused,
    check_cron,
    latest_due,
    next_due,
    plan_start,
)
from pipeline.warehouse.runlog import RunLog

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=TZ)


def test_due_times_follow_the_cron_in_the_centres_zone():
    assert next_due("0 2 * * *", at(4, 1, 59, 30)) == at(4, 2)
    assert next_due("0 2 * * *", at(4, 2)) == at(5, 2)  # strictly after
    assert latest_due("0 2 * * *", at(4, 2)) == at(4, 2)  # at or before
    assert latest_due("0 2 * * *", at(4, 1, 59)) == at(3, 2)
    assert latest_due("* * * * *", at(4, 9, 30, 45)) == at(4, 9, 30)


def test_a_first_start_waits_for_the_first_due_time():
    plan = plan_start("0 2 * * *", None, at(4, 9))
    assert plan.catch_up is None and plan.next_due == at(5, 2)


def test_a_missed_night_is_caught_up_once_however_many_were_missed():
    one = plan_start("0 2 * * *", at(3, 2), at(4, 9))
    assert one.catch_up == at(4, 2) and one.missed == 1 and one.next_due == at(5, 2)
    three = plan_start("0 2 * * *", at(1, 2), at(4, 9))
    assert three.catch_up == at(4, 2) and three.missed == 3
    served = plan_start("0 2 * * *", at(4, 2), at(4, 9))
    assert served.catch_up is None and served.next_due == at(5, 2)


@pytest.mark.parametrize("cron", ["61 * * * *", "0 0 31 2 *", "every night", "0 2 * *"])
def test_a_schedule_that_cannot_fire_is_refused(cron):
    with pytest.raises(ServeRefused, match="cannot fire"):
        check_cron("nightly", cron, TZ, at(4, 9))


class SimulatedNight:
    """A clock that only moves when the loop sleeps or a job runs; stops after ``runs`` jobs."""

    def __init__(self, start: datetime, runs: int, run_minutes: float = 0.5) -> None:
        self.now, self.runs, self.run_minutes = start, runs, run_minutes
        self.ran: list[tuple[str, str, datetime, datetime]] = []
        self.stop = threading.Event()

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def action(self, name: str):
        def run(cfg, warehouse, share, trigger, due):
            assert not any(s <= self.now < e for *_, s, e in self.ran), "two runs at once"
            started = self.now
            self.now += timedelta(minutes=self.run_minutes)
            self.ran.append((name, trigger, due, started))
            if len(self.ran) >= self.runs:
                self.stop.set()

        return run

    def scheduler(self, tmp_path: Path, cfg: Config) -> Scheduler:
        return Scheduler(
            cfg,
            tmp_path / "wh",
            tmp_path,
            actions={NIGHTLY: self.action(NIGHTLY), WEEKLY_REPORT: self.action(WEEKLY_REPORT)},
            clock=self.clock,
            sleep=self.sleep,
            stop=self.stop,
            poll_s=3600,
        )


def test_the_nightly_run_starts_at_its_due_time_and_the_weekly_report_on_monday(tmp_path):
    night = SimulatedNight(at(5, 12), runs=4)  # a Saturday noon
    night.scheduler(tmp_path, Config()).serve_forever()
    assert [(name, trigger, due) for name, trigger, due, _ in night.ran] == [
        (NIGHTLY, "schedule", at(6, 2)),
        (NIGHTLY, "schedule", at(7, 2)),
        (WEEKLY_REPORT, "schedule", at(7, 7)),  # Monday 07:00
        (NIGHTLY, "schedule", at(8, 2)),
    ]
    assert all(started == due for _, _, due, started in night.ran)


def test_serve_started_again_after_a_missed_night_catches_up_once(tmp_path):
    first = SimulatedNight(at(3, 12), runs=1)
    first.scheduler(tmp_path, Config()).serve_forever()
    assert [r[:3] for r in first.ran] == [(NIGHTLY, "schedule", at(4, 2))]
    # The machine is off from the 4th, 03:00 until the 7th, 09:00 (nights of the 5th, 6th, 7th).
    again = SimulatedNight(at(7, 9), runs=2)
    again.scheduler(tmp_path, Config()).serve_forever()
    assert [r[:3] for r in again.ran] == [
        (NIGHTLY, "catch-up", at(7, 2)),
        (WEEKLY_REPORT, "catch-up", at(7, 7)),
    ]
    with RunLog(tmp_path / "wh") as runlog:
        schedule = runlog.schedules()
    assert schedule[NIGHTLY].last_due == at(7, 2).isoformat()
    assert schedule[NIGHTLY].next_due == at(8, 2).isoformat()
    # And once more: nothing was missed since, so nothing runs at start.
    third = SimulatedNight(at(7, 10), runs=1)
    third.scheduler(tmp_path, Config()).serve_forever()
    assert [r[:3] for r in third.ran] == [(NIGHTLY, "schedule", at(8, 2))]


def test_a_run_that_outlasts_the_next_due_time_is_not_started_twice(tmp_path, caplog):
    every_minute = Config(schedule=ScheduleConfig(nightly_cron="* * * * *"))
    night = SimulatedNight(at(4, 9, 0, 30), runs=2, run_minutes=2.5)
    with caplog.at_level(logging.WARNING, logger="callqa.serve"):
        night.scheduler(tmp_path, every_minute).serve_forever()
    # 09:01 runs until 09:03:30; 09:02 and 09:03 passed meanwhile: skipped, logged; next is 09:04.
    assert [r[2] for r in night.ran] == [at(4, 9, 1), at(4, 9, 4)]
    assert (
        "due 2026-12-04T09:02:00+08:00 not started: the run due 2026-12-04T09:01:00+08:00 was still going (2 due times skipped)"
        in caplog.text
    )


def test_a_run_refused_by_the_warehouse_lock_is_logged_with_its_holder(tmp_path, caplog):
    from pipeline.run.schedule import _run_nightly_job

    warehouse, share = tmp_path / "wh", tmp_path / "share"
    share.mkdir()
    with RunLock(warehouse), caplog.at_level(logging.WARNING, logger="callqa.serve"):
        _run_nightly_job(Config(), warehouse, share, "schedule", at(4, 2))
    assert "nightly due 2026-12-04T02:00:00+08:00 not started: another callqa run is using" in caplog.text
    assert "pid " in caplog.text
    with RunLog(warehouse) as runlog:
        (row,) = runlog.recent()
    assert row.status == "locked" and row.trigger == "schedule" and row.due_at == at(4, 2).isoformat()


def test_a_second_serve_on_the_same_warehouse_is_refused(tmp_path):
    with ServeLock(tmp_path):
        assert "pid" in ServeLock.holder(tmp_path)
        with pytest.raises(ServeRefused, match="already running"):
            ServeLock(tmp_path).__enter__()
    assert ServeLock.holder(tmp_path) is None


def test_serve_refuses_an_unreachable_prefect_server(tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    scheduler = Scheduler(Config(), tmp_path / "wh", tmp_path)
    unreachable = {PREFECT_API_URL: "http://127.0.0.1:9/api"}  # the discard port: nobody answers
    with temporary_settings(unreachable), pytest.raises(ServeRefused, match="does not answer"):
        scheduler.check()


def test_serve_refuses_a_missing_share(tmp_path):
    with pytest.raises(ServeRefused, match="share not found"):
        Scheduler(Config(), tmp_path / "wh", tmp_path / "nowhere").check()


def test_a_run_that_died_reads_interrupted(tmp_path):
    with RunLog(tmp_path) as runlog:
        run_id = runlog.start(NIGHTLY, "manual")
        runlog._db.execute("UPDATE runs SET pid = 2147483646 WHERE id = ?", (run_id,))
        runlog._db.commit()
        (row,) = runlog.recent()
    assert row.status == "interrupted"


def test_a_changed_schedule_is_not_caught_up_at_once(tmp_path):
    first = SimulatedNight(at(3, 12), runs=1)
    first.scheduler(tmp_path, Config()).serve_forever()  # 02:00 on the 4th served
    # 0 2 * * * becomes 0 3 * * *; serve restarts on the 5th at 10:00 (03:00 has passed).
    later = SimulatedNight(at(5, 10), runs=1)
    later.scheduler(tmp_path, Config(schedule=ScheduleConfig(nightly_cron="0 3 * * *"))).serve_forever()
    assert [r[:3] for r in later.ran] == [(NIGHTLY, "schedule", at(6, 3))]
