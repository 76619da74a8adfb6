"""The utterances the segmentation model is trained on: new voices, never the evaluated ones.

Every sentence of the sample-share scripts (``data/call_scripts/sample``; the evaluation corpus's
scripts are not read) is synthesized with Kokoro voices *blended* two by two (``a*0.6+b*0.4``):
voices that no evaluated call uses. The pool is a folder of 16 kHz float32 ``.npy`` clips,
one per (sentence, voice, speed) named ``v<voice>-<key>.npy``, cached by name, so a rerun synthesizes only what is missing.
Conversations are mixed from it at training time (``simulate``), at the cost of a sum.

    .venv/bin/python -m pipeline.speakers.segmentation.pool data/train/pool
"""

from __future__ import annotations

import hashlib
import itertools
import sys
from pathlib import Path

import numpy as np

from pipeline.config import ROOT

BASE_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
WEIGHTS = (0.5, 0.7)  # a blend a*w + b*(1-w)
SPEEDS = (0.9, 1.1)


def blended_voices() -> list[str]:
    """Every pair of base voices at every weight, both ways round: 30 voices."""
    out = []
    for a, b in itertools.permutations(BASE_VOICES, 2):
        for w in WEIGHTS:
            if w == 0.5 and a > b:
                continue  # a*0.5+b*0.5 is b*0.5+a*0.5
            out.append(f"{a}*{w}+{b}*{round(1 - w, 2)}")
    return out


def training_sentences(scripts_dir: Path = ROOT / "data" / "call_scripts" / "sample") -> list[str]:
    from pipeline.evaluation.synth import load_scripts

    return sorted({line.text for script in load_scripts(scripts_dir) for line in script.lines})


def build_pool(out: Path, models_dir: Path = ROOT / "models", per_sentence: int = 5, seed: int = 0) -> Path:
    """Synthesize each sentence with ``per_sentence`` blended voices (chosen by a seeded draw)."""
    import soxr

    from pipeline.evaluation.synth.tts import SAMPLE_RATE, KokoroTTS
    from pipeline.models.store import require

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    voices = blended_voices()
    tts = None
    for text in training_sentences():
        for voice in rng.choice(voices, size=per_sentence, replace=False):
            speed = float(rng.choice(SPEEDS))
            key = hashlib.sha256(f"{text}\0{voice}\0{speed}".encode()).hexdigest()[:24]
            path = out / f"v{voices.index(voice):02d}-{key}.npy"  # v..: the voice, for simulate
            if path.exists():
                continue
            if tts is None:
                tts = KokoroTTS(require("kokoro-82m-int8", models_dir))
            audio = soxr.resample(tts.synthesize(text, str(voice), speed), SAMPLE_RATE, 16000)
            np.save(path, audio.astype(np.float32))
            print(path.name, f"{len(audio) / 16000:.1f} s", flush=True)
    return out


if __name__ == "__main__":
    build_pool(Path(sys.argv[1] if len(sys.argv) > 1 else "data/train/pool"))
