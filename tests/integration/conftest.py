import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def prefect():
    """Prefect's test harness (a temporary local API), started once for all integration tests."""
    from pipeline.run.flows import configure_prefect

    configure_prefect()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=300):
        yield


@pytest.fixture
def small_share(tmp_path, sample_share) -> Path:
    """Three calls of the sample share: stereo 16 kHz, mono, and 8 kHz µ-law."""
    share = tmp_path / "small"
    rows = (sample_share / "manifest.csv").read_text().splitlines()
    keep = [rows[0]] + [r for r in rows[1:] if r.split(",")[1] in ("S001", "S002", "S003")]
    for row in keep[1:]:
        rel = row.split(",")[0]
        (share / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_share / rel, share / rel)
    (share / "manifest.csv").write_text("\n".join(keep) + "\n")
    return share
