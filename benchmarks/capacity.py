"""Nightly capacity: audio hours per core-hour, callqa against plain faster-whisper, side by side.

For each recording kind of SHARE (by default the generated benchmark's test part, calls nobody
tuned on: ``make eval-bench`` renders it, about 63 minutes a kind) and each worker layout
(processes x threads), one after the other on the same files:

  plain:   faster-whisper at its defaults, what a user of it would run: ``WhisperModel(...,
           cpu_threads=T).transcribe(path, language="zh")`` (beam 5, whole file, no VAD) with its
           segments consumed, in P processes that load the model once each;
  callqa:  ``callqa run`` in a fresh process on a share of those files alone, into a fresh warehouse:
           everything a night costs (Python's and Prefect's start, the scan, the models' loading,
           every stage, the store, the scorecards).

Prints, per kind and layout, the wall time of each side, audio hours per core-hour (audio hours /
(wall hours x P x T)), callqa's time as a ratio of plain's, and the peak resident memory of the
largest process of each side (sampled every 0.2 s over the side's process tree: for callqa with
one worker, the whole run's process; with more, the largest worker). A JSON line per measurement
with ``--json FILE``.

    .venv/bin/python benchmarks/capacity.py [SHARE] [--kinds stereo,ulaw8k-mono] [--layouts 1x2,2x1]
        [--minutes 63] [--set model.first_beam_size=0] [--json FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_SHARE = ROOT / "data" / "eval" / "bench-test" / "share"


class PeakMemory:
    """The largest resident set of any process in a tree (``root`` and its descendants), sampled."""

    def __init__(self, root: int, include_root: bool = True) -> None:
        self._root, self._include_root = root, include_root
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        root = psutil.Process(self._root)
        while not self._stop.is_set():
            try:
                tree = root.children(recursive=True) + ([root] if self._include_root else [])
                for process in tree:
                    with contextlib.suppress(psutil.Error):  # a process that has just ended
                        self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
            except psutil.Error:
                return
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def kind_share(share: Path, kind: str, minutes: float, out: Path) -> tuple[Path, float]:
    """A share of ``share``'s recordings of one kind (call ids ending ``.kind``), their first
    ``minutes`` of audio at most, linked into ``out``; and its audio seconds."""
    import soundfile as sf

    with open(share / "manifest.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    keep, seconds = [], 0.0
    for row in sorted(rows, key=lambda r: r["call_id"]):
        if row["call_id"].split(".", 1)[-1] != kind:
            continue
        length = sf.info(share / row["path"]).duration
        if seconds + length > minutes * 60 and keep:
            break
        keep.append(row)
        seconds += length
    if not keep:
        raise SystemExit(f"no recordings of kind {kind} in {share}")
    (out / "recordings").mkdir(parents=True)
    for row in keep:
        # Hard links (or copies across file systems): callqa refuses a link that leads outside its share.
        try:
            os.link(share / row["path"], out / row["path"])
        except OSError:
            shutil.copy2(share / row["path"], out / row["path"])
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(keep[0]))
        writer.writeheader()
        writer.writerows(keep)
    return out, seconds


_plain_model = None


def _load_plain(model_dir: str, threads: int) -> None:
    global _plain_model
    from faster_whisper import WhisperModel

    _plain_model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)


def _transcribe_plain(path: str) -> int:
    segments, _ = _plain_model.transcribe(path, language="zh")
    return sum(len(s.text) for s in segments)


def run_plain(paths: list[str], model_dir: str, processes: int, threads: int) -> tuple[float, float]:
    """(wall seconds, peak MB of the largest worker): plain faster-whisper over ``paths``."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # fresh processes, as callqa's workers are
    with PeakMemory(os.getpid(), include_root=False) as peak:
        clock = time.perf_counter()
        with context.Pool(processes, initializer=_load_plain, initargs=(model_dir, threads)) as pool:
            # The longest files first, so no worker is left alone with a long one at the end.
            order = sorted(paths, key=lambda p: -os.path.getsize(p))
            list(pool.imap_unordered(_transcribe_plain, order))
        wall = time.perf_counter() - clock
    return wall, peak.peak_mb


def run_callqa(share: Path, processes: int, threads: int, extra: dict[str, dict]) -> tuple[float, float, str]:
    """(wall seconds, peak MB of the largest process, the run's summary table): ``callqa run`` on
    ``share`` in a fresh process, into a fresh warehouse."""
    with tempfile.TemporaryDirectory() as tmp:
        sections = {
            "share": {"quiet_period_s": 0},
            "run": {"workers": processes},
            "model": {"cpu_threads": threads},
        }
        for section, values in extra.items():
            sections.setdefault(section, {}).update(values)
        toml = Path(tmp) / "capacity.toml"
        toml.write_text(
            "".join(
                f"[{section}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
                for section, values in sections.items()
            ),
            encoding="utf-8",
        )
        command = [str(Path(sys.executable).parent / "callqa"), "run", str(share)]
        command += ["--warehouse", str(Path(tmp) / "wh"), "--config", str(toml)]
        clock = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with PeakMemory(process.pid) as peak:
            out, errors = process.communicate()
        wall = time.perf_counter() - clock
        if process.returncode != 0:
            raise SystemExit(f"callqa run failed ({process.returncode}):\n{out[-2000:]}{errors[-2000:]}")
        return wall, peak.peak_mb, out


def _count(summary: str, key: str) -> int | None:
    """A count from the summary table ``callqa run`` prints (│ processed │ 100 │)."""
    import re

    match = re.search(rf"{key}\W+(\d+)", summary)
    return int(match.group(1)) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("share", nargs="?", default=str(DEFAULT_SHARE))
    parser.add_argument("--kinds", default="stereo,ulaw8k-mono", help="recording kinds (call id suffixes)")
    parser.add_argument("--layouts", default="1x2,2x1", help="processes x threads, comma-separated")
    parser.add_argument("--minutes", type=float, default=63.0, help="audio of each kind, at most")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=JSON",
        help="a setting for callqa's side, e.g. model.first_beam_size=0 (repeatable)",
    )
    parser.add_argument("--json", default=None, help="append one JSON line per kind and layout to this file")
    args = parser.parse_args()

    from pipeline.config import Config

    share = Path(args.share)
    extra: dict[str, dict] = {}
    for setting in args.set:
        name, value = setting.split("=", 1)
        section, key = name.split(".", 1)
        extra.setdefault(section, {})[key] = json.loads(value)
    model_dir = str(Config().whisper_dir)
    layouts = [tuple(int(n) for n in layout.split("x")) for layout in args.layouts.split(",")]
    print(
        f"{'kind':12} {'layout':7} {'audio h':>7} {'plain s':>8} {'callqa s':>9} {'ratio':>6} "
        f"{'plain h/core-h':>14} {'callqa h/core-h':>15} {'plain MB':>8} {'callqa MB':>9}"
    )
    for kind in args.kinds.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            subset, seconds = kind_share(share, kind, args.minutes, Path(tmp) / "share")
            paths = [str(p) for p in sorted((subset / "recordings").iterdir())]
            for processes, threads in layouts:
                plain_s, plain_mb = run_plain(paths, model_dir, processes, threads)
                callqa_s, callqa_mb, summary = run_callqa(subset, processes, threads, extra)
                if _count(summary, "processed") != len(paths):
                    raise SystemExit(f"callqa processed fewer than the {len(paths)} recordings:\n{summary}")
                cores = processes * threads
                hours = seconds / 3600
                row = {
                    "kind": kind,
                    "layout": f"{processes}x{threads}",
                    "recordings": len(paths),
                    "audio_h": round(hours, 3),
                    "plain_s": round(plain_s, 1),
                    "callqa_s": round(callqa_s, 1),
                    "ratio": round(callqa_s / plain_s, 3),
                    "plain_h_per_core_h": round(hours / (plain_s / 3600 * cores), 2),
                    "callqa_h_per_core_h": round(hours / (callqa_s / 3600 * cores), 2),
                    "plain_peak_mb": round(plain_mb),
                    "callqa_peak_mb": round(callqa_mb),
                    "callqa_processed": _count(summary, "processed"),
                    "callqa_failed": _count(summary, "failed"),
                }
                print(
                    f"{kind:12} {row['layout']:7} {hours:7.2f} {plain_s:8.1f} {callqa_s:9.1f} {row['ratio']:6.2f} "
                    f"{row['plain_h_per_core_h']:14.2f} {row['callqa_h_per_core_h']:15.2f} "
                    f"{plain_mb:8.0f} {callqa_mb:9.0f}",
                    flush=True,
                )
                if args.json:
                    with open(args.json, "a", encoding="utf-8") as f:
                        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
