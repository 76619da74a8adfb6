"""The stereo channel-map check on stored calls: how often the words of a call's two channels
contradict its configured map as wired (false alarms), and how often they catch the map when the
channels are swapped (detections), per warehouse.

The check reads only the words of each channel (``speakers.attribution.checked_channel_map``),
which swapping the channels does not change: a stored stereo call is checked as it was wired and
with its speakers relabelled ch0 <-> ch1, which is exactly what the nightly run would see on the
swapped recording.

    .venv/bin/python benchmarks/channel_map.py WAREHOUSE [WAREHOUSE ...] [--config callqa.toml]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import Config  # noqa: E402
from pipeline.lexicon import load_lexicon  # noqa: E402
from pipeline.records import CHANNEL_MAP_CONTRADICTED, RoleAssignment  # noqa: E402
from pipeline.run.rescore import utterances_of  # noqa: E402
from pipeline.speakers.attribution import checked_channel_map  # noqa: E402
from pipeline.warehouse.store import read_table  # noqa: E402

SWAP = {"ch0": "ch1", "ch1": "ch0"}


def measure(warehouse: Path, cfg: Config) -> dict[str, int]:
    lexicon = load_lexicon(cfg.lexicons_path)
    calls = read_table(warehouse, "calls")
    stereo = calls[calls["layout"].astype(str).str.startswith("stereo")]
    utterances = read_table(warehouse, "utterances", call_ids=stereo["call_id"])
    by_call = dict(tuple(utterances.groupby("call_id")))
    out = {"calls": 0, "false_alarms": 0, "detected": 0}
    for call in stereo.itertuples():
        said = utterances_of(by_call[call.call_id]) if call.call_id in by_call else ()
        # The map as the call was stored: its own (a stored call already checked keeps the map's).
        agent = call.agent_speaker
        if CHANNEL_MAP_CONTRADICTED in str(call.role_reason):
            agent = SWAP[agent]
        wired = RoleAssignment(agent, 1.0, "channel map")
        out["calls"] += 1
        out["false_alarms"] += checked_channel_map(wired, said, lexicon, cfg) is not wired
        # Swapping the recording's channels moves each voice to the other channel; the map stays.
        relabelled = [replace(u, speaker=SWAP.get(u.speaker, u.speaker)) for u in said]
        out["detected"] += checked_channel_map(wired, relabelled, lexicon, cfg) is not wired
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouses", nargs="+", type=Path)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    cfg = Config.load(args.config)
    print(f"threshold: [speech] channel_map_check_confidence = {cfg.speech.channel_map_check_confidence}\n")
    print("| warehouse | stereo calls | false alarms (as wired) | swapped calls detected |")
    print("|---|---|---|---|")
    for warehouse in args.warehouses:
        m = measure(warehouse, cfg)
        n = m["calls"]
        print(
            f"| {warehouse} | {n} | {m['false_alarms']} ({m['false_alarms'] / max(n, 1):.1%}) "
            f"| {m['detected']} ({m['detected'] / max(n, 1):.1%}) |"
        )


if __name__ == "__main__":
    main()
