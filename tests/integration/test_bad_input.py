"""Bad input through the real nightly flow: each recording is processed or recorded in ``failures``
with a clear reason, the batch goes on, nothing else is lost, no call is stored twice, and the
warehouse holds no audio and is readable by no more people than the share."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Config, ShareConfig
from tests.integration import recordings as rec

pytestmark = pytest.mark.integration

CONFIG = Config(share=ShareConfig(quiet_period_s=0))
DAY = "2026-11-16T09:00:00+08:00"
# call_id -> ("ok", check on its calls row) or ("failed", words its reason must contain)
PROCESSED = {
    "H01": "a 0.5 s recording",
    "Q01": "silence only",
    "Q02": "noise only",
    "L01": "two hours, mostly silent",
    "G01": "8 kHz A-law",
    "G02": "8 kHz µ-law stereo",
    "W01": "48 kHz stereo",
    "M01": "MP3",
    "U01": "unicode and spaces in the path",
    "D01": "the first of two files with one call id",
    "未登记 通话 #1": "unicode file name, listed in no manifest",
}
FAILED = {
    "Z01": ("zero bytes", ["empty file", "zero.wav"]),
    "T01": ("truncated WAV", ["truncated", "announces 8.0 s", "holds 4.0 s"]),
    "T02": ("truncated MP3", ["truncated", "truncated.mp3"]),
    "N01": ("not audio, .wav name", ["cannot decode", "not_audio.wav", "Invalid data"]),
    "C01": ("four channels", ["4 channels", "mono or two-channel"]),
}
REJECTED = {
    "P01": ("path outside the share", ["../../etc/passwd", "outside the share"]),
    "D01": ("the second file with call id D01", ["duplicate call_id 'D01'", "dup_a.flac"]),
    "B01": ("bad date", ["started_at '2026-13-45T10:00:00'", "not an ISO 8601 time"]),
    "m1": ("manifest without started_at, channel_layout", ["missing column(s) started_at, channel_layout"]),
}


@pytest.fixture(scope="module")
def share(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad") / "share"
    calls = root / "calls"
    mono, stereo = rec.speech(False), rec.speech(True, 0.0, 8.0)
    (calls / "zero.wav").parent.mkdir(parents=True)
    (calls / "zero.wav").write_bytes(b"")
    rec.truncate(rec.write(calls / "truncated.wav", rec.resample(stereo, 8000), 8000, "PCM_16"))
    rec.truncate(rec.write_mp3(calls / "truncated.mp3", mono))
    (calls / "not_audio.wav").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 16)
    rec.write(calls / "half_second.flac", rec.speech(False, 2.0, 2.5))
    rec.write(calls / "silence.flac", np.zeros((30 * rec.RATE, 2), np.float32))
    noise = np.random.default_rng(7).normal(0, 0.1, (20 * rec.RATE, 2)).astype(np.float32)
    rec.write(calls / "noise.flac", noise)
    rec.long_call(calls / "two_hours.flac", 2.0, mono)
    rec.write(calls / "alaw_8k.wav", rec.resample(mono, 8000), 8000, "ALAW")
    rec.write(calls / "mulaw_8k_stereo.wav", rec.resample(stereo, 8000), 8000, "ULAW")
    rec.write(calls / "stereo_48k.wav", rec.resample(rec.speech(True, 0.0, 16.0), 48000), 48000, "PCM_16")
    rec.write(calls / "four_channels.wav", np.concatenate([stereo, stereo * 0.5], axis=1), subtype="PCM_16")
    rec.write_mp3(calls / "complete.mp3", mono)
    rec.write(calls / "录音 2026" / "坐席 A101 通话.flac", mono)
    rec.write(calls / "dup_a.flac", mono)
    rec.write(calls / "dup_b.flac", mono)
    rec.write(calls / "bad_date.flac", mono)
    rec.write(root / "loose" / "未登记 通话 #1.flac", mono)
    rec.write(root / "broken" / "m1.flac", mono)
    rec.manifest(root / "broken", ["m1.flac,K01,A109"], header="path,call_id,agent_id\n")
    rows = {
        "zero.wav": "Z01,A101,{day},mono",
        "truncated.wav": "T01,A101,{day},stereo-agent-left",
        "truncated.mp3": "T02,A101,{day},mono",
        "not_audio.wav": "N01,A101,{day},mono",
        "half_second.flac": "H01,A101,{day},mono",
        "silence.flac": "Q01,A102,{day},stereo-agent-left",
        "noise.flac": "Q02,A102,{day},stereo-agent-left",
        "two_hours.flac": "L01,A102,{day},mono",
        "alaw_8k.wav": "G01,A103,{day},mono",
        "mulaw_8k_stereo.wav": "G02,A103,{day},stereo-agent-left",
        "stereo_48k.wav": "W01,A104,{day},stereo-agent-left",
        "four_channels.wav": "C01,A104,{day},stereo-agent-left",
        "complete.mp3": "M01,A104,{day},mono",
        "录音 2026/坐席 A101 通话.flac": "U01,A101,{day},mono",
        "dup_a.flac": "D01,A105,{day},mono",
        "dup_b.flac": "D01,A105,{day},mono",
        "bad_date.flac": "B01,A105,2026-13-45T10:00:00,mono",
        "../../etc/passwd": "P01,A105,{day},mono",
    }
    rec.manifest(calls, [f"{path},{row.format(day=DAY)}" for path, row in rows.items()])
    root.chmod(0o750)  # the share is not world-readable: neither may the warehouse be
    return root


@pytest.fixture(scope="module")
def runs(prefect, share, tmp_path_factory):
    """The nightly flow twice on the same share: the second must change nothing."""
    from pipeline.run.flows import run_nightly

    warehouse = tmp_path_factory.mktemp("bad_wh") / "warehouse"
    first = run_nightly(share, warehouse, CONFIG)
    tables = {name: _read(warehouse, name) for name in ("calls", "turns", "utterances", "events", "failures")}
    second = run_nightly(share, warehouse, CONFIG)
    return warehouse, first, second, tables


def _read(warehouse: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(warehouse / name)


def _failure(tables, call_id: str, path_part: str = "") -> dict:
    failures = tables["failures"]
    rows = failures[(failures["call_id"] == call_id) & failures["path"].str.contains(path_part, regex=False)]
    assert len(rows) == 1, f"{call_id}: {len(rows)} failure rows"
    return rows.iloc[0].to_dict()


@pytest.mark.parametrize("call_id", sorted(PROCESSED))
def test_processed(runs, call_id):
    _, _, _, tables = runs
    calls = tables["calls"].set_index("call_id")
    assert call_id in calls.index, f"{PROCESSED[call_id]} was not processed"
    row = calls.loc[call_id]
    assert row["status"] == "scored"
    assert (tables["failures"]["call_id"] != call_id).all() or call_id == "D01"
    expected_ms = {"H01": 500, "Q01": 30_000, "Q02": 20_000, "L01": 7_200_000, "W01": 16_000}
    if call_id in expected_ms:
        assert abs(row["duration_ms"] - expected_ms[call_id]) <= 20
    utterances = tables["utterances"].query("call_id == @call_id")
    events = tables["events"].query("call_id == @call_id")
    if call_id in ("Q01", "Q02"):  # nothing heard: nothing said, nobody blamed
        assert utterances[~utterances["flags"].map(lambda f: "hallucination" in f)].empty
        assert events.empty
    if call_id in ("G01", "G02", "W01", "M01", "U01", "D01", "L01", "未登记 通话 #1"):
        assert "阳光" in "".join(utterances["text"])  # 您好，(这里是)阳光物业客服中心
    if call_id == "W01":  # both channels of the 48 kHz file: agent left, caller right
        assert set(utterances["role"]) == {"agent", "caller"}
    if call_id == "L01":  # the greeting repeated at the very end of the two hours is found there
        assert utterances["start_ms"].min() < 10_000 and utterances["start_ms"].max() > 7_190_000
    if call_id == "未登记 通话 #1":
        assert row["agent_id"] == "unknown" and row["path"].endswith("loose/未登记 通话 #1.flac")
    if call_id == "U01":
        assert row["path"].endswith("calls/录音 2026/坐席 A101 通话.flac")


@pytest.mark.parametrize("call_id", sorted(FAILED))
def test_failed_with_a_clear_reason(runs, call_id):
    _, first, _, tables = runs
    what, words = FAILED[call_id]
    failure = _failure(tables, call_id)
    for word in words:
        assert word in failure["error"], f"{what}: {failure['error']!r}"
    assert failure["attempts"] == 1
    assert call_id not in set(tables["calls"]["call_id"])
    assert call_id in {f["call_id"] for f in first["failures"]}


@pytest.mark.parametrize("call_id", sorted(REJECTED))
def test_refused_with_a_clear_reason(runs, call_id):
    _, first, _, tables = runs
    what, words = REJECTED[call_id]
    failure = _failure(tables, call_id, "dup_b" if call_id == "D01" else "")
    for word in words:
        assert word in failure["error"], f"{what}: {failure['error']!r}"
    assert failure["attempts"] == 0  # never processed
    if call_id != "D01":
        assert call_id not in set(tables["calls"]["call_id"])
    assert any(r["call_id"] == call_id for r in first["rejections"])


def test_the_outside_file_is_never_read(runs, share):
    _, _, _, tables = runs
    (row,) = tables["failures"].query("call_id == 'P01'").itertuples()
    # Stored by its name only: neither the server's layout nor the share's root is stored.
    assert row.path == "outside-the-share/passwd" and not row.path.startswith(str(share))
    assert "root:" not in row.error and not tables["utterances"]["text"].str.contains("root").any()


def test_the_batch_went_on_and_the_summary_counts_everything(runs):
    _, first, _, tables = runs
    assert first["processed"] == len(PROCESSED)
    assert first["failed"] == len(FAILED)
    assert first["rejected"] == len(REJECTED)
    assert len(tables["failures"]) == len(FAILED) + len(REJECTED)
    assert any("missing column(s) started_at, channel_layout" in p for p in first["manifest_problems"])
    (unlisted,) = first["without_metadata"]
    assert unlisted.endswith("loose/未登记 通话 #1.flac")


def test_no_call_is_stored_twice(runs):
    _, _, _, tables = runs
    calls = tables["calls"]
    assert calls["call_id"].is_unique and calls["path"].is_unique
    assert not tables["utterances"].duplicated(["call_id", "idx"]).any()
    assert not tables["events"].duplicated(["call_id", "rule_id", "start_ms", "end_ms"]).any()
    assert tables["failures"]["path"].is_unique
    n_utt = tables["utterances"].groupby("call_id").size()
    for row in calls.itertuples():
        assert n_utt.get(row.call_id, 0) == row.n_utterances
    assert calls.loc[calls.call_id == "D01", "path"].item().endswith("dup_a.flac")


def test_a_second_run_changes_nothing(runs):
    warehouse, _, second, tables = runs
    assert second["processed"] == 0
    assert second["failed"] == len(FAILED)  # retried (up to run.max_attempts), failing again
    assert second["rejected"] == len(REJECTED)
    for name in ("calls", "turns", "utterances", "events"):
        before = tables[name].sort_values(["call_id"]).reset_index(drop=True)
        after = _read(warehouse, name).sort_values(["call_id"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(before, after)
    failures = _read(warehouse, "failures")
    assert failures["path"].is_unique and len(failures) == len(FAILED) + len(REJECTED)
    assert set(failures.query("attempts > 0")["attempts"]) == {2}


def test_scorecards_count_each_dated_call_once(runs):
    warehouse, _, _, tables = runs
    days = pd.read_parquet(warehouse / "scorecards" / "period=day")
    dated = tables["calls"].query("call_date != 'unknown'")
    assert days["n_calls"].sum() == len(dated)
    assert (tables["calls"].query("call_date == 'unknown'")["call_id"] == "未登记 通话 #1").all()


def test_no_audio_in_the_warehouse(runs):
    warehouse, *_ = runs
    suffixes = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".amr"}
    assert [p for p in warehouse.rglob("*") if p.suffix.lower() in suffixes] == []
    assert sum(p.stat().st_size for p in warehouse.rglob("*") if p.is_file()) < 5_000_000


def test_warehouse_files_are_no_wider_than_the_share(runs):
    from pipeline.run.flows import weekly_report

    warehouse, *_ = runs
    report = Path(weekly_report(str(warehouse), "2026-W47", CONFIG.to_dict()))
    assert report.is_relative_to(warehouse) and report.exists()
    paths = [warehouse, *warehouse.rglob("*")]
    assert any(p.name == "ledger.sqlite" for p in paths)
    wide = {
        str(p.relative_to(warehouse)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in paths
        if p.stat().st_mode & 0o007
    }
    assert wide == {}, "world-accessible though the share is 0750"
    assert stat.S_IMODE(report.stat().st_mode) == 0o640


def test_two_hour_call_decodes_and_finds_speech_in_bounded_memory(share):
    """Decoded in memory, two hours at 16 kHz would take 460 MB: spooled, the worker stays far below."""
    code = (
        "import re, sys; from pipeline.audio.decode import decode; from pipeline.config import Config; "
        "from pipeline.audio.speech import speech_regions; "
        "audio = decode(sys.argv[1]); regions = speech_regions(audio.mono(), Config().speech); "
        # VmHWM: this process's peak (ru_maxrss would count the forking parent's memory too)
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]) // 1024; "
        "print(audio.spooled, round(audio.duration), regions[0][0] < 5, regions[-1][1] > 7190, peak)"
    )
    path = share / "calls" / "two_hours.flac"
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True, env=os.environ
    ).stdout.split()
    assert out[:4] == ["True", "7200", "True", "True"]
    assert int(out[4]) < 300, f"peak {out[4]} MB"
