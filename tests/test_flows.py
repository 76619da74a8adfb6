from datetime import date
from pathlib import Path

from pipeline.config import Config, RunConfig
from pipeline.flows import deployments, previous_week, task_runner


def test_serve_schedules_nightly_and_weekly_in_the_centres_time_zone(tmp_path):
    nightly, weekly = deployments(Config(), tmp_path / "wh", Path("data/sample_share"))
    assert nightly.name == "callqa-nightly" and weekly.name == "callqa-weekly-report"
    (n_schedule,) = nightly.schedules
    (w_schedule,) = weekly.schedules
    assert n_schedule.schedule.cron == "0 2 * * *" and n_schedule.schedule.timezone == "Asia/Shanghai"
    assert w_schedule.schedule.cron == "0 7 * * 1" and w_schedule.schedule.timezone == "Asia/Shanghai"
    assert nightly.parameters["share"].endswith("data/sample_share")


def test_task_runner_follows_the_config():
    assert type(task_runner(Config())).__name__ == "ThreadPoolTaskRunner"
    assert type(task_runner(Config(run=RunConfig(workers=4)))).__name__ == "ProcessPoolTaskRunner"
    dask = task_runner(Config(run=RunConfig(dask_address="tcp://scheduler:8786")))
    assert type(dask).__name__ == "DaskTaskRunner" and dask.address == "tcp://scheduler:8786"


def test_the_weekly_report_covers_the_previous_iso_week():
    assert previous_week(date(2026, 11, 23)) == "2026-W47"  # a Monday
    assert previous_week(date(2027, 1, 4)) == "2026-W53"
