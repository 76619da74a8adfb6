"""A greeting the words missed: the hearing test of ``pipeline.asr.hearing`` on stored runs.

For every ``greeting.missing`` finding a run stored, reads the flagged opening's audio again and
prints the margin of the best reading that starts with a greeting over the best without one,
beside whether the truth labels the call (a finding on a labelled call is right: the agent did not
greet; on an unlabelled one, Whisper lost the agent's greeting). Then, for each margin, how many
right findings would be kept and false ones dropped. Only the flagged openings are read (a clip
of a few seconds each): the words are the run's, the greeting reading is the only new work.

    .venv/bin/python benchmarks/greeting_heard.py data/eval/bench-dev/share data/eval/conditions-dev/*/
    # each argument a share folder holding ``truth/`` and ``warehouse/`` (or a share and, with
    # --warehouse, its warehouse)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.asr.hearing import hear_greeting  # noqa: E402
from pipeline.audio.decode import decode  # noqa: E402
from pipeline.records import Utterance, Word  # noqa: E402

RULE = "greeting.missing"


def labelled(truth: Path, call_id: str) -> bool | None:
    path = truth / f"{call_id.split('.')[0]}.json"
    if not path.exists():
        return None
    return RULE in json.loads(path.read_text(encoding="utf-8"))["expected_flags"]


def flagged_openings(share: Path, warehouse: Path):
    """(call id, audio samples of the flagged voice, the flagged utterance) per opening the run
    flagged for a missing greeting: its stored findings, and the openings whose sound it read
    (``calls.audio_greeting_at_ms``: flagged by the words, then perhaps dropped by the hearing)."""
    from pipeline.warehouse.read import Warehouse

    store = Warehouse(warehouse)
    events = store.events()
    calls = store.calls().set_index("call_id")
    flagged = {e.call_id: int(e.start_ms) for e in events[events.rule_id == RULE].itertuples()}
    if "audio_greeting_at_ms" in calls:
        read = calls.audio_greeting_at_ms.dropna()
        flagged.update({c: int(at) for c, at in read.items() if c not in flagged})
    for call_id, start_ms in sorted(flagged.items()):
        view = store.call(call_id)
        row = calls.loc[call_id]
        rows = view.utterances
        hit = rows[(rows.start_ms - start_ms).abs() < 10]  # the flagged utterance, as the stage finds it
        if hit.empty:
            continue
        u = hit.iloc[0]
        opening = Utterance(
            call_id,
            int(u.idx),
            str(u.role),
            u.start_ms / 1000,
            u.end_ms / 1000,
            str(u.text),
            tuple(Word(w["text"], w["start_ms"] / 1000, w["end_ms"] / 1000, w["prob"]) for w in u.words),
        )
        with decode(share / row.path) as audio:
            if audio.channels == 2 and row.layout != "mono":
                agent = view.turns[view.turns.role == "agent"]
                samples = audio.tracks[int(agent.channel.iloc[0]) if len(agent) else 0]
            else:
                samples = audio.mono()
            yield call_id, np.asarray(samples, dtype=np.float32), opening


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shares", nargs="+", type=Path)
    parser.add_argument("--warehouse", type=Path, help="the warehouse of a single share")
    parser.add_argument("--truth", type=Path, help="the truth folder (default SHARE/truth)")
    parser.add_argument("--margins", default="-8,-6,-4,-3,-2,-1,0,1,2")
    args = parser.parse_args()
    from pipeline.asr.whisper import load_transcriber
    from pipeline.config import Config

    cfg = Config.load(ROOT / "data/call_scripts/eval/eval.toml")
    transcriber = load_transcriber(str(cfg.whisper_dir), cfg.model)
    found: list[tuple[str, bool | None, float, str]] = []
    seconds: list[float] = []
    for share in args.shares:
        warehouse = args.warehouse or share / "warehouse"
        truth = args.truth or share / "truth"
        for call_id, samples, opening in flagged_openings(share, warehouse):
            tick = time.perf_counter()
            heard = hear_greeting(samples, opening, transcriber.reading_logprobs)
            seconds.append(time.perf_counter() - tick)
            label = labelled(truth, call_id)
            found.append((call_id, label, heard.margin, opening.text))
            print(
                f"{call_id:28s} {'right' if label else 'false':5s} {heard.margin:8.2f}  {opening.text[:24]}"
            )
    right = [m for _, label, m, _ in found if label]
    false = [m for _, label, m, _ in found if label is False]
    print(f"\n{len(right)} right findings, {len(false)} false ones; {np.mean(seconds):.2f} s a hearing")
    print("margin | right findings dropped | false findings dropped")
    for margin in (float(m) for m in args.margins.split(",")):
        print(
            f"{margin:6.1f} | {sum(m >= margin for m in right):3d} of {len(right)} | "
            f"{sum(m >= margin for m in false):3d} of {len(false)}"
        )


if __name__ == "__main__":
    main()
