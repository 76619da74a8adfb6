from datetime import date

from pipeline.config import Config, RunConfig
from pipeline.run.flows import previous_week, task_runner


def test_task_runner_follows_the_config():
    assert type(task_runner(Config())).__name__ == "ThreadPoolTaskRunner"
    assert type(task_runner(Config(run=RunConfig(workers=4)))).__name__ == "ProcessPoolTaskRunner"
    dask = task_runner(Config(run=RunConfig(dask_address="tcp://scheduler:8786")))
    assert type(dask).__name__ == "DaskTaskRunner" and dask.address == "tcp://scheduler:8786"


def test_the_weekly_report_covers_the_previous_iso_week():
    assert previous_week(date(2026, 11, 23)) == "2026-W47"  # a Monday
    assert previous_week(date(2027, 1, 4)) == "2026-W53"
