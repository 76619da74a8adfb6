"""Aggregation at scale: a year of a 200-agent centre (about 1.5 million calls, 10 million events).

Generates the calls and events tables in the warehouse's real layout (one partition file per day,
the real schemas), then, each in a fresh process so peak memory is its own:
  full:    every day and ISO-week scorecard rebuilt from the whole year;
  nightly: one new day stored, and only its day and week recomputed (what the nightly flow does).
Prints wall time and peak resident memory of each, and their ratio.

    .venv/bin/python benchmarks/warehouse_scale.py [--dir /tmp/callqa-scale] [--agents 200] [--days 365]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CALLS_PER_AGENT_DAY = 20.5  # 200 agents x 365 days x 20.5 = 1.5 million calls
EVENTS_PER_CALL = 6.7  # 10 million events
RULES = [
    ("interruption.agent", "", 0.30),
    ("pace.fast", "", 0.20),
    ("closing.missing", "", 0.12),
    ("self_intro.missing", "", 0.10),
    ("greeting.missing", "", 0.08),
    ("phrase.banned", "傲慢", 0.06),
    ("phrase.banned", "不耐烦/粗鲁", 0.04),
    ("conduct.impatient", "急躁", 0.04),
    ("interruption.caller", "", 0.03),
    ("hold.no_notice", "", 0.02),
    ("conduct.domineering", "独断专横", 0.007),
    ("hangup.premature", "", 0.003),
]


def generate(folder: Path, agents: int, days: int, first: date) -> dict:
    import numpy as np
    import pyarrow as pa

    from pipeline.warehouse import schemas
    from pipeline.warehouse.store import write_atomic

    rng = np.random.default_rng(7)
    probs = np.array([p for _, _, p in RULES])
    probs /= probs.sum()
    agent_ids = np.array([f"A{i:04d}" for i in range(agents)])
    n_calls = n_events = 0
    for d in range(days):
        day = (first + timedelta(days=d)).isoformat()
        n = rng.poisson(CALLS_PER_AGENT_DAY * agents)
        call_ids = np.char.add(f"{day}-", np.arange(n).astype(str))
        agent_of = agent_ids[rng.integers(0, agents, n)]
        calls = {
            "schema_version": np.full(n, 1, np.int16),
            "call_id": call_ids,
            "agent_id": agent_of,
            "talk_agent_ms": rng.integers(20_000, 200_000, n),
            "agent_chars_per_s": rng.normal(4.2, 0.6, n).astype(np.float32),
            "polite_total": rng.integers(0, 8, n).astype(np.int32),
            "status": np.full(n, "scored"),
        }
        table = pa.table(
            {
                f.name: pa.array(calls[f.name], f.type) if f.name in calls else pa.nulls(n, f.type)
                for f in schemas.CALLS
            }
        )
        write_atomic(table, folder / "calls" / f"call_date={day}" / "data.parquet")
        per_call = rng.poisson(EVENTS_PER_CALL, n)
        owner = np.repeat(np.arange(n), per_call)
        which = rng.choice(len(RULES), len(owner), p=probs)
        events = {
            "schema_version": np.full(len(owner), 1, np.int16),
            "call_id": call_ids[owner],
            "agent_id": agent_of[owner],
            "rule_id": np.array([r for r, _, _ in RULES])[which],
            "category": np.array([c for _, c, _ in RULES])[which],
            "start_ms": rng.integers(0, 300_000, len(owner)),
        }
        table = pa.table(
            {
                f.name: pa.array(events[f.name], f.type) if f.name in events else pa.nulls(len(owner), f.type)
                for f in schemas.EVENTS
            }
        )
        write_atomic(table, folder / "events" / f"call_date={day}" / "data.parquet")
        n_calls += n
        n_events += len(owner)
    return {"calls": n_calls, "events": n_events}


def measure(folder: Path, mode: str, last_day: str) -> None:
    """Run in a child process: one aggregation, then print its time and peak memory as JSON."""
    from pipeline.config import ScoringConfig
    from pipeline.warehouse.scorecards import update_scorecards

    t = time.perf_counter()
    dates = None if mode == "full" else {last_day}
    rows = update_scorecards(folder, ScoringConfig(), dates)
    seconds = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "seconds": round(seconds, 2), "peak_mb": round(peak_mb), "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default="/tmp/callqa-scale")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--measure", choices=["full", "nightly"])
    parser.add_argument("--last-day", default="")
    args = parser.parse_args()
    folder = Path(args.dir)
    first = date(2025, 11, 24)
    last_day = (first + timedelta(days=args.days - 1)).isoformat()
    if args.measure:
        measure(folder, args.measure, args.last_day)
        return
    stamp = folder / "generated.json"
    wanted = {"agents": args.agents, "days": args.days}
    if not stamp.exists() or json.loads(stamp.read_text()).get("shape") != wanted:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        sizes = generate(folder, args.agents, args.days, first)
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"shape": wanted, **sizes}))
        print(
            f"generated {sizes['calls']:,} calls and {sizes['events']:,} events in {time.perf_counter() - t:.0f} s"
        )
    sizes = json.loads(stamp.read_text())
    disk = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 1e6
    print(
        f"warehouse: {sizes['calls']:,} calls, {sizes['events']:,} events, {args.agents} agents, {args.days} days, {disk:.0f} MB"
    )
    results = {}
    for mode in ("full", "nightly"):
        out = subprocess.run(
            [sys.executable, __file__, "--dir", str(folder), "--measure", mode, "--last-day", last_day],
            check=True,
            capture_output=True,
            text=True,
        )
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[mode]
        print(f"{mode:8} {r['seconds']:7.2f} s  peak {r['peak_mb']:5d} MB  scorecard rows {r['rows']}")
    print(f"nightly / full time: {results['nightly']['seconds'] / results['full']['seconds']:.3f}")


if __name__ == "__main__":
    main()
