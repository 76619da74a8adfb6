"""Scanning a share of 100,000 recordings and looking them up in the ledger.

Creates the files (empty: scanning never opens them) in day folders with one manifest per day,
fills a ledger that has seen them all, then times, side by side in one run:
  scan:    listing the share, reading the manifests, stat of every file;
  ledger:  deciding what is new or changed for all of them (nothing is);
  plan:    both, as the nightly flow does.

    .venv/bin/python benchmarks/scan_scale.py [--files 100000] [--dir /tmp/callqa-scan]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(share: Path, n: int) -> None:
    per_day = 1000
    first = date(2026, 1, 1)
    for d in range((n + per_day - 1) // per_day):
        day = (first + timedelta(days=d)).isoformat()
        folder = share / day
        folder.mkdir(parents=True)
        rows = ["path,call_id,agent_id,started_at,channel_layout"]
        for i in range(min(per_day, n - d * per_day)):
            name = f"{day}-{i:04d}.wav"
            (folder / name).touch()
            rows.append(f"{name},{day}-{i:04d},A{i % 200:03d},{day}T09:00:00+08:00,stereo-agent-left")
        (folder / "manifest.csv").write_text("\n".join(rows) + "\n")


def main() -> None:
    from pipeline.config import Config
    from pipeline.run.scan import scan_share
    from pipeline.warehouse.ledger import Ledger

    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--dir", default="/tmp/callqa-scan")
    args = parser.parse_args()
    root = Path(args.dir)
    shutil.rmtree(root, ignore_errors=True)
    share, warehouse = root / "share", root / "wh"
    t = time.perf_counter()
    build(share, args.files)
    print(f"created {args.files:,} files in {time.perf_counter() - t:.1f} s")
    cfg = Config()
    refs = scan_share(share).calls
    with Ledger(warehouse) as ledger:
        t = time.perf_counter()
        ledger.record_ok(refs, "whisper-base-ct2")
        print(f"ledger filled with {len(refs):,} rows in {time.perf_counter() - t:.1f} s")
    timings: dict[str, list[float]] = {"scan": [], "ledger": [], "plan": []}
    from pipeline.run.batch import plan_run

    for _ in range(3):
        t = time.perf_counter()
        refs = scan_share(share).calls
        timings["scan"].append(time.perf_counter() - t)
        with Ledger(warehouse) as ledger:
            t = time.perf_counter()
            todo = ledger.pending(refs, "whisper-base-ct2")
            timings["ledger"].append(time.perf_counter() - t)
        assert not todo
        t = time.perf_counter()
        plan = plan_run(share, warehouse, cfg, "whisper-base-ct2")
        timings["plan"].append(time.perf_counter() - t)
        assert plan.scanned == args.files and not plan.todo
    for name, values in timings.items():
        print(
            f"{name:7} median {statistics.median(values):6.2f} s over {len(values)} runs ({args.files:,} files)"
        )


if __name__ == "__main__":
    main()
