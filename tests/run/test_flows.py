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


def test_prefect_is_started_by_the_runs_only_not_by_evaluate_or_the_desk():
    """Prefect's import and start cost a few seconds: paid once by a run (one task a call), never by
    `callqa evaluate`, `callqa desk` or the report's readers."""
    import subprocess
    import sys

    probe = (
        "import sys; from typer.testing import CliRunner; from pipeline.cli import app; "
        "CliRunner().invoke(app, ['evaluate', '--help']); CliRunner().invoke(app, ['desk', '--help']); "
        "import pipeline.evaluation.evaluate, pipeline.review.desk.app, pipeline.warehouse.scorecards; "
        "print('prefect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_worker_processes_report_to_the_local_api_of_the_run_not_each_their_own(tmp_path):
    """Each worker process started a Prefect API of its own (7 s of a core each); now the run's one
    is named to them."""
    import os
    import subprocess
    import sys

    from pipeline.config import ROOT

    probe = """
import multiprocessing, os, httpx
from pipeline.run.flows import share_local_api

def worker_url():
    from prefect.settings import PREFECT_API_URL
    return PREFECT_API_URL.value()

if __name__ == "__main__":
    os.environ.pop("PREFECT_API_URL", None)
    share_local_api()
    url = os.environ["PREFECT_API_URL"]
    assert httpx.get(url.rstrip("/") + "/health", timeout=30).status_code == 200
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(worker_url) == url
    print("ok", url)
"""
    script = tmp_path / "probe.py"  # a file: spawned workers import what they run from it
    script.write_text(probe, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok http://127.0.0.1:")
