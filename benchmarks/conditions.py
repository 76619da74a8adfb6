"""Telephone conditions: labelled stereo calls made worse one way at a time, run and scored.

Takes a labelled share whose truth files list variants (the generated benchmark's parts,
``make eval-bench``, or the evaluation corpus) and writes, for each condition, a share of the same
calls' stereo recordings under that condition, with its truth and manifest; with ``--run`` it runs
the nightly batch on each and scores it with ``callqa evaluate``, and prints one table.

Conditions (each alone):
  clean                   the stereo recording as it is
  babble20/15/10/5        four other conversations of the same share mixed on the agent's channel,
                          20/15/10/5 dB under the agent's speech (the next desks of an open-plan floor)
  alaw                    8 kHz G.711 A-law, both channels (China's network codec)
  swapped                 the agent on the other channel than the manifest says
  twice                   the mixed call stored on both channels

    .venv/bin/python benchmarks/conditions.py data/eval/bench-dev/share /tmp/conditions-dev \\
        --calls 16 --conditions clean,babble20,babble15,babble10 --run
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SR = 16000
CONDITIONS = ("clean", "babble20", "babble15", "babble10", "babble5", "alaw", "swapped", "twice")
BABBLE_VOICES = 4


def _read(path: Path) -> np.ndarray:
    from pipeline.audio.decode import decode

    with decode(path) as audio:
        return audio.samples.astype(np.float32)  # (channels, n) at 16 kHz


def _active_rms(x: np.ndarray) -> float:
    """RMS of the 20 ms frames within 30 dB of the loudest (the speech, not the pauses)."""
    frames = x[: len(x) // 320 * 320].reshape(-1, 320)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    speech = frames[db > db.max() - 30]
    return float(np.sqrt(np.mean(speech**2))) if len(speech) else 0.0


def babble(others: list[np.ndarray], n: int) -> np.ndarray:
    """Four other conversations (each a call's two channels mixed), looped to ``n`` samples, summed."""
    out = np.zeros(n, np.float32)
    for i, other in enumerate(others):
        mixed = other.sum(axis=0)
        start = (i * len(mixed)) // max(1, len(others))  # each starts somewhere else
        looped = np.resize(np.roll(mixed, -start), n)
        out += looped / (_active_rms(looped) + 1e-9)
    return out


def impaired(stereo: np.ndarray, agent: int, condition: str, others: list[np.ndarray]) -> np.ndarray:
    """The (2, n) recording under ``condition`` (the agent on channel ``agent``)."""
    out = stereo.copy()
    if condition.startswith("babble"):
        below = float(condition.removeprefix("babble"))
        noise = babble(others, out.shape[1])
        out[agent] += noise * _active_rms(out[agent]) / (_active_rms(noise) + 1e-9) * 10 ** (-below / 20)
    elif condition == "swapped":
        out = out[::-1].copy()
    elif condition == "twice":
        mixed = out.sum(axis=0) / 2
        out = np.stack([mixed, mixed])
    return np.clip(out, -1, 1)


def _write(path: Path, audio: np.ndarray, condition: str) -> None:
    import soundfile as sf
    import soxr

    path.parent.mkdir(parents=True, exist_ok=True)
    if condition == "alaw":
        narrow = soxr.resample(audio.T, SR, 8000).astype(np.float32)
        sf.write(path, np.clip(narrow, -1, 1), 8000, format="WAV", subtype="ALAW")
    else:
        sf.write(path, audio.T, SR, format="FLAC", subtype="PCM_16")


def build(share: Path, out: Path, conditions: list[str], calls: int) -> list[Path]:
    """One share per condition under ``out``; returns their folders."""
    truths = sorted((share / "truth").glob("*.json"))[:calls]
    loaded = []
    for path in truths:
        truth = json.loads(path.read_text(encoding="utf-8"))
        stereo = next(v for v in truth["variants"].values() if v["format"] == "stereo")
        agent = 1 if stereo["layout"] == "stereo-agent-right" else 0
        loaded.append((truth, stereo, agent, _read(share / stereo["audio"])))
    shares = []
    for condition in conditions:
        folder = out / condition
        rows = []
        for i, (truth, stereo, agent, audio) in enumerate(loaded):
            others = [loaded[(i + k) % len(loaded)][3] for k in range(1, BABBLE_VOICES + 1)]
            call_id = f"{truth['call_id']}.{condition}"
            rel = Path("recordings") / f"{call_id}{'.wav' if condition == 'alaw' else '.flac'}"
            _write(folder / rel, impaired(audio, agent, condition, others), condition)
            layout = stereo["layout"]  # the manifest keeps it, swapped or not
            # The truth is by role, not by channel: a swapped call's agent is still the agent.
            variants = {call_id: {"layout": layout, "format": condition, "audio": str(rel)}}
            record = {**truth, "variants": variants}
            (folder / "truth").mkdir(parents=True, exist_ok=True)
            (folder / "truth" / f"{truth['call_id']}.json").write_text(
                json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            rows.append((str(rel), call_id, truth["agent_id"], truth["started_at"], layout))
        with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "call_id", "agent_id", "started_at", "channel_layout"])
            writer.writerows(rows)
        shares.append(folder)
    return shares


def run_and_score(folder: Path, config: Path) -> dict:
    callqa = str(Path(sys.executable).parent / "callqa")
    warehouse = folder / "warehouse"
    subprocess.run(
        [callqa, "run", str(folder), "--warehouse", str(warehouse), "--config", str(config)], check=True
    )
    report = folder / "eval.json"
    subprocess.run(
        [
            callqa,
            "evaluate",
            str(folder / "truth"),
            "--warehouse",
            str(warehouse),
            "--config",
            str(config),
            "--json",
            str(report),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return json.loads(report.read_text(encoding="utf-8"))


def _f1(rule: dict | None) -> str:
    if not rule or rule.get("f1") is None:
        return "-"
    return f"{rule['f1']:.2f}"


def table(results: dict[str, dict]) -> str:
    rules = ["greeting.missing", "interruption.agent", "interruption.caller", "hangup.premature"]
    lines = [
        "| condition | CER | DER | roles right | " + " | ".join(f"{r} F1" for r in rules) + " |",
        "|---|---|---|---|" + "---|" * len(rules),
    ]
    for condition, report in results.items():
        who = report["diarization"]["all"]
        lines.append(
            f"| {condition} | {report['cer'].get('all') or 0:.3f} | {who.get('der') or 0:.3f} | "
            f"{who.get('role_accuracy') or 0:.2f} | "
            + " | ".join(_f1(report["rules"].get(r)) for r in rules)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("share", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--conditions", default="clean,babble20,babble15,babble10,alaw,swapped,twice")
    parser.add_argument("--config", type=Path, default=ROOT / "data/call_scripts/eval/eval.toml")
    parser.add_argument("--run", action="store_true", help="run and score each condition")
    args = parser.parse_args()
    conditions = args.conditions.split(",")
    if unknown := set(conditions) - set(CONDITIONS):
        parser.error(f"unknown condition(s) {sorted(unknown)}; choose from {', '.join(CONDITIONS)}")
    shares = build(args.share, args.out, conditions, args.calls)
    print(f"{len(shares)} condition(s) of {args.calls} calls under {args.out}")
    if args.run:
        results = {share.name: run_and_score(share, args.config) for share in shares}
        print(table(results))
        (args.out / "conditions.json").write_text(
            json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
