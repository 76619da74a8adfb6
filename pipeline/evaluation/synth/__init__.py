"""Rendered test calls: YAML scripts -> recordings + ground truth (dev extra ``[synth]``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.evaluation.synth.render import (
    VARIANTS,
    RenderedCall,
    render_call,
    write_all_variants,
    write_share,
)
from pipeline.evaluation.synth.script import CallScript, load_scripts, parse_script

__all__ = ["CallScript", "RenderedCall", "load_scripts", "parse_script", "render_call", "synthesize_folder"]


def synthesize_folder(
    scripts_dir: Path,
    out_dir: Path,
    models_dir: Path,
    *,
    all_variants: bool = False,
    threads: int = 2,
    reuse: bool = False,
    tts_cache: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Render every ``*.yaml`` script in ``scripts_dir``; returns the manifest written.

    With ``reuse``, a folder already rendered from these very scripts (same bytes, same options)
    is kept as it is: rendering takes about 4 s per sentence, an evaluation corpus half an hour.
    With ``tts_cache``, every synthesized sentence is kept there (keyed by its text, voice, speed,
    the TTS model and the synthesis code), so a changed script or a new recording kind re-renders
    in seconds: only new sentences are synthesized.
    """
    import hashlib

    import soxr

    from pipeline.evaluation.synth.tts import SAMPLE_RATE, KokoroTTS
    from pipeline.models.store import require

    scripts = load_scripts(scripts_dir)
    if not scripts:
        raise ValueError(f"no *.yaml call scripts in {scripts_dir}")
    digest = hashlib.sha256(f"all_variants={all_variants} kinds={sorted(VARIANTS)}".encode())
    for path in sorted(scripts_dir.glob("*.yaml")):
        digest.update(path.name.encode() + path.read_bytes())
    stamp, manifest = out_dir / ".rendered-from", out_dir / "manifest.csv"
    if reuse and manifest.exists() and stamp.exists() and stamp.read_text().strip() == digest.hexdigest():
        if progress:
            progress(f"{out_dir} is already rendered from these scripts")
        return manifest
    model_dir = require("kokoro-82m-int8", models_dir)
    tts = None

    def synthesize(text: str, voice: str, speed: float):
        nonlocal tts
        if tts is None:
            tts = KokoroTTS(model_dir, threads=threads)
        return soxr.resample(tts.synthesize(text, voice, speed), SAMPLE_RATE, 16000)

    if tts_cache is not None:
        synthesize = _cached(synthesize, tts_cache, model_dir)

    rendered = []
    for script in scripts:
        rendered.append(render_call(script, synthesize))
        if progress:
            progress(f"{script.call_id}: {rendered[-1].truth['duration']:.1f} s")
    writer = write_all_variants if all_variants else write_share
    manifest = writer(rendered, out_dir)
    stamp.write_text(digest.hexdigest() + "\n")
    return manifest


def _cached(synthesize, cache_dir: Path, model_dir: Path):
    """``synthesize`` with every sentence kept as a .npy in ``cache_dir``."""
    import hashlib

    import numpy as np

    from pipeline.evaluation.synth import tts

    cache_dir.mkdir(parents=True, exist_ok=True)
    # The sentence depends on the model files and on the phonemizer/synthesis code: both are keyed.
    base = hashlib.sha256(Path(tts.__file__).read_bytes())
    for path in sorted(model_dir.iterdir()):
        base.update(path.name.encode() + str(path.stat().st_size).encode())

    def cached(text: str, voice: str, speed: float):
        key = base.copy()
        key.update(f"{text}\0{voice}\0{speed!r}".encode())
        path = cache_dir / f"{key.hexdigest()[:32]}.npy"
        if path.exists():
            return np.load(path)
        audio = synthesize(text, voice, speed)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, audio)
        tmp.replace(path)
        return audio

    return cached
