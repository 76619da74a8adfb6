"""The utterances the segmentation model is trained on: many voices, never the test part's.

The pool is a folder of 16 kHz float32 ``.npy`` clips named ``<voice>-<anything>.npy``; conversations
are mixed from it at training time (``simulate``), at the cost of a sum. Two sources:

- ``clips_from_calls`` (the recipe since 2026-12-06): every sentence of generated calls of the
  benchmark's *development* part numbered past the ones evaluated (BD1001 on), cut from its
  party's channel. Each party is a blend of the part's voices (four of Kokoro's native Mandarin
  voices and the five Japanese ones) at random weights, shifted in pitch and formants: 128
  voices in the recipe's 64 calls. The test part's voices and wording are never read; the development part's evaluated
  calls share the base voices and the phrase banks, so its figures are no longer a test of new
  voices (the test part's are).

      .venv/bin/callqa generate data/train/bench-dev-1001 --part dev --first 1001 --calls 64 --kinds stereo
      .venv/bin/python -m pipeline.speakers.segmentation.pool data/train/pool --from-calls data/train/bench-dev-1001

- ``build_pool`` (the recipe until then): every sentence of the sample-share scripts synthesized
  with the five Japanese voices blended two by two (``a*0.7+b*0.3``), 30 voices, cached by name.

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


def clips_from_calls(share: Path, out: Path, pad_s: float = 0.05) -> int:
    """Each utterance of the stereo calls under ``share`` cut from its party's channel, as
    ``g<voice hash>-<call>-<n>.npy``; returns how many clips were written.

    Only the development part is read: a truth file of any other part is an error, since the
    model is judged on the test part's voices.
    """
    import json

    import soundfile

    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for truth_path in sorted((share / "truth").glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth.get("part") != "dev":
            raise ValueError(
                f"{truth_path}: part {truth.get('part')!r}; only the development part is trained on"
            )
        stereo = [v for v in truth["variants"].values() if v["format"] == "stereo"]
        if not stereo:
            continue
        samples, sr = soundfile.read(share / stereo[0]["audio"], dtype="float32", always_2d=True)
        if sr != 16000:
            raise ValueError(f"{truth_path}: {sr} Hz, expected 16000")
        agent_channel = 0 if stereo[0]["layout"] == "stereo-agent-left" else 1
        for n, u in enumerate(truth["utterances"]):
            channel = agent_channel if u["role"] == "agent" else 1 - agent_channel
            a = max(0, int((u["start"] - pad_s) * sr))
            b = min(len(samples), int((u["end"] + pad_s) * sr))
            if b - a < int(0.2 * sr):
                continue
            voice = "g" + hashlib.sha256(u["voice"].encode()).hexdigest()[:10]
            path = out / f"{voice}-{truth['call_id']}-{n:02d}.npy"
            if not path.exists():
                np.save(path, samples[a:b, channel].copy())
                written += 1
    return written


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build the segmentation model's training pool.")
    parser.add_argument("out", type=Path, nargs="?", default=Path("data/train/pool"))
    parser.add_argument(
        "--from-calls",
        type=Path,
        help="cut the utterances of these generated dev calls (instead of the blends)",
    )
    args = parser.parse_args(sys.argv[1:])
    if args.from_calls:
        print(f"{clips_from_calls(args.from_calls, args.out)} clips from {args.from_calls}", flush=True)
    else:
        build_pool(args.out)
