"""Peak memory of one worker, and throughput with one and two worker processes.

memory:     one worker process handles every sample call and then one long call (the sample calls
            laid end to end, about 2.5 minutes), and reports its peak resident memory;
throughput: the nightly flow on the sample share with 1 worker x 2 threads, 2 workers x 1 thread
            and 2 workers x 2 threads, each into a fresh warehouse; audio seconds per wall second
            (the flow's own wall time, Prefect's start-up excluded).

    .venv/bin/python benchmarks/workers.py [memory [REPEAT]|throughput]   (REPEAT x 153 s long call)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARE = ROOT / "data" / "sample_share"


def _long_call(folder: Path, repeat: int) -> Path:
    """The stereo sample calls laid end to end (``repeat`` times) as one recording."""
    import numpy as np
    import soundfile as sf

    from pipeline.audio.decode import decode
    from pipeline.run.scan import scan_share

    parts = [decode(r.path).samples.T for r in scan_share(SHARE).calls if r.layout == "stereo-agent-left"]
    path = folder / "long.flac"
    # Written part by part: the benchmark must not hold the long call itself and inflate the peak.
    with sf.SoundFile(path, "w", 16000, 2, format="FLAC", subtype="PCM_16") as out:
        for _ in range(repeat):
            for part in parts:
                out.write(np.ascontiguousarray(part))
    return path


def memory(repeat: int) -> None:
    from pipeline.config import Config
    from pipeline.records import CallRef
    from pipeline.run.process import Models, process_call
    from pipeline.run.scan import scan_share

    cfg = Config()
    models = Models.load(cfg)
    after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for ref in scan_share(SHARE).calls:
        process_call(ref, cfg, models)
    after_calls = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        path = _long_call(Path(tmp), repeat)
        result = process_call(CallRef("LONG", str(path), "A1", None, "stereo-agent-left"), cfg, models)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "after_model_load_mb": round(after_load),
                "after_10_sample_calls_mb": round(after_calls),
                "long_call_s": round(result.metrics.duration),
                "peak_mb": round(peak),
            }
        )
    )


def throughput() -> None:
    from pipeline.config import Config, ModelConfig, RunConfig, ShareConfig
    from pipeline.run.flows import run_nightly

    base = Config(share=ShareConfig(quiet_period_s=0))
    setups = {
        "1 worker x 2 threads": replace(base, run=RunConfig(workers=1), model=ModelConfig(cpu_threads=2)),
        "2 workers x 1 thread": replace(base, run=RunConfig(workers=2), model=ModelConfig(cpu_threads=1)),
        "2 workers x 2 threads": replace(base, run=RunConfig(workers=2), model=ModelConfig(cpu_threads=2)),
    }
    for name, cfg in setups.items():
        with tempfile.TemporaryDirectory() as tmp:
            summary = run_nightly(SHARE, Path(tmp) / "wh", cfg)
        speed = summary["audio_s"] / summary["wall_s"]
        print(
            f"{name:24} {summary['processed']} calls, {summary['audio_s']:.0f} s audio in {summary['wall_s']:.1f} s: {speed:.1f} x real time"
        )


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "both"
    if what in ("memory", "both"):
        # A fresh process, so the peak is the worker's own.
        repeat = sys.argv[2] if len(sys.argv) > 2 else "1"
        out = subprocess.run(
            [sys.executable, __file__, "_memory", repeat], check=True, capture_output=True, text=True
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"worker memory: {figures['after_model_load_mb']} MB after loading the model, "
            f"{figures['after_10_sample_calls_mb']} MB after the 10 sample calls, "
            f"peak {figures['peak_mb']} MB after a {figures['long_call_s']} s call"
        )
    if what in ("throughput", "both"):
        throughput()
    if what == "_memory":
        memory(int(sys.argv[2]))


if __name__ == "__main__":
    main()
