"""The same nightly flow with calls spread over worker processes, and over a Dask cluster."""

from dataclasses import replace

import pandas as pd
import pytest

from pipeline.config import Config, RunConfig, ShareConfig
from pipeline.run.flows import run_nightly

pytestmark = pytest.mark.integration

CONFIG = Config(share=ShareConfig(quiet_period_s=0))


def check(warehouse, summary):
    assert summary["processed"] == 3 and summary["failed"] == 0
    calls = pd.read_parquet(warehouse / "calls")
    assert sorted(calls["call_id"]) == ["S001", "S002", "S003"]
    events = pd.read_parquet(warehouse / "events")
    # S003's agent greets with nothing and says 你, never 您 (courtesy.ni, on trial).
    assert sorted(events.query("call_id == 'S003'")["rule_id"]) == ["courtesy.ni", "greeting.missing"]
    assert events.query("call_id != 'S003'")["rule_id"].tolist() == []


def test_two_worker_processes(prefect, small_share, tmp_path):
    cfg = replace(CONFIG, run=RunConfig(workers=2))
    warehouse = tmp_path / "wh"
    check(warehouse, run_nightly(small_share, warehouse, cfg))


def test_a_local_dask_cluster_of_two_worker_processes(prefect, small_share, tmp_path):
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True})
    warehouse = tmp_path / "wh"
    check(warehouse, run_nightly(small_share, warehouse, CONFIG, runner=runner))
