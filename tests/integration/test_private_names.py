"""A share whose file and folder names carry callers' numbers, through the real nightly flow: no
table, ledger row, run-log line, report or desk page holds any of those numbers (or 7 of their
digits in a row), one caller's calls still group by their pseudonym, the desk still plays them,
and ``callqa privacy check`` passes on it (and fails where a number is stored)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from pipeline.config import Config
from tests.integration import recordings as rec

pytestmark = pytest.mark.integration

NUMBERS = ("13812345678", "13900001111")
PATTERN = r"(?P<agent_id>A\d+)_(?P<started_at>\d{14})_(?P<caller>\d+)\.wav$"


def _seven_digit_runs(number: str) -> list[str]:
    return [number[i : i + 7] for i in range(len(number) - 6)]


def _everything_stored(warehouse: Path) -> str:
    """The text of every table, the ledger and the run log, and the reports, as one string."""
    parts = []
    for folder in sorted(p for p in warehouse.iterdir() if p.is_dir() and p.name != "reports"):
        if any(folder.rglob("*.parquet")):
            parts.append(pd.read_parquet(folder).to_string())
    for db in warehouse.glob("*.sqlite"):
        with sqlite3.connect(db) as con:
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                parts.append(repr(con.execute(f'SELECT * FROM "{table}"').fetchall()))
    parts += [p.read_text() for p in (warehouse / "reports").glob("*.html")]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def numbered(prefect, tmp_path_factory):
    root = tmp_path_factory.mktemp("numbered")
    share = root / "share"
    clip = rec.speech(True, 0.0, 7.0)
    rec.write(share / f"A101_20261116093000_{NUMBERS[0]}.wav", clip)
    rec.write(share / f"A102_20261116100000_{NUMBERS[0]}.wav", clip)  # the same caller again
    rec.write(share / NUMBERS[1] / f"A101_20261117110000_{NUMBERS[1]}.wav", clip)  # a folder per caller
    # A recording that does not decode: its error message names the file, and is stored.
    (share / f"A103_20261117120000_{NUMBERS[0]}.wav").write_bytes(b"RIFF....WAVEfmt not audio" * 40)
    toml = root / "callqa.toml"
    toml.write_text(
        f"[share]\nquiet_period_s = 0\nfilename_pattern = '{PATTERN}'\n"
        f"[privacy]\npseudonym_key_file = '{root / 'secret' / 'pseudonym.key'}'\n"
    )
    warehouse = root / "wh"
    from pipeline.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["run", str(share), "--warehouse", str(warehouse), "-c", str(toml)])
    assert done.exit_code == 0, done.output
    report = runner.invoke(
        app, ["report", "--week", "2026-W47", "--warehouse", str(warehouse), "-c", str(toml)]
    )
    assert report.exit_code == 0, report.output
    return share, warehouse, Config.load(toml)


def test_no_number_of_a_file_name_is_stored_anywhere(numbered):
    _, warehouse, _ = numbered
    stored = _everything_stored(warehouse)
    for number in NUMBERS:
        assert not [run for run in _seven_digit_runs(number) if run in stored], number
    calls = pd.read_parquet(warehouse / "calls")
    assert len(calls) == 3 and not calls["path"].str.startswith("/").any()  # relative to the share
    (failure,) = pd.read_parquet(warehouse / "failures").itertuples()
    assert failure.path.startswith("A103_20261117120000_p-") and "p-" in failure.error


def test_one_callers_calls_group_by_their_pseudonym(numbered):
    _, warehouse, _ = numbered
    calls = pd.read_parquet(warehouse / "calls").sort_values("started_at")
    first, second, third = calls["caller_id"]
    assert first == second != third and first.startswith("p-")
    assert calls["agent_id"].tolist() == ["A101", "A102", "A101"]


def test_privacy_check_passes_here_and_fails_where_a_number_is_stored(numbered, tmp_path):
    from pipeline.cli import app

    _, warehouse, _ = numbered
    ok = CliRunner().invoke(app, ["privacy", "check", "--warehouse", str(warehouse)])
    assert ok.exit_code == 0 and "no phone or ID number found" in ok.output
    # A ledger as callqa wrote it before: the caller's number in the clear in its path.
    leaky = tmp_path / "old"
    leaky.mkdir()
    with sqlite3.connect(leaky / "ledger.sqlite") as con:
        con.execute("CREATE TABLE files (path TEXT, call_id TEXT)")
        con.execute(
            "INSERT INTO files VALUES (?, ?)",
            (f"/srv/share/A101_20261116093000_{NUMBERS[0]}.wav", NUMBERS[0]),
        )
    bad = CliRunner().invoke(app, ["privacy", "check", "--warehouse", str(leaky)], env={"COLUMNS": "200"})
    assert bad.exit_code == 1 and "138••••••••" in bad.output and NUMBERS[0] not in bad.output


def test_the_desk_shows_and_plays_the_calls_without_their_numbers(numbered):
    from pipeline.review.desk import create_app, settings

    share, warehouse, cfg = numbered
    client = TestClient(create_app(settings(warehouse, share, cfg, "127.0.0.1")), base_url="http://127.0.0.1")
    calls = pd.read_parquet(warehouse / "calls")
    events = pd.read_parquet(warehouse / "events")
    pages = [client.get("/"), client.get("/queue")]
    pages += [client.get(f"/call/{call_id}") for call_id in calls["call_id"]]
    for page in pages:
        assert page.status_code == 200
        for number in NUMBERS:
            assert not [run for run in _seven_digit_runs(number) if run in page.text]
    # The recording behind a stored moment is found from its pseudonymised path.
    utterances = pd.read_parquet(warehouse / "utterances")
    first = utterances.iloc[0]
    clip = client.get(f"/moment/{first['call_id']}/{first['idx']}.wav")
    assert clip.status_code == 200 and clip.content[:4] == b"RIFF"
    if not events.empty:
        clip = client.get(f"/clip/{events['event_id'].iloc[0]}.wav")
        assert clip.status_code == 200 and clip.content[:4] == b"RIFF"
