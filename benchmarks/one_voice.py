"""One voice or two: how alike the two "voices" of a mono recording read when there are two, and
when one voice was split in two, measured from the clustering's regions and from the final turns.

Every stereo recording of a share gives both: its two channels mixed (two voices, as a mono line
records them) and each channel alone (one voice, which the clustering still splits in two), each
at 16 kHz and through 8 kHz µ-law. For each, the mono speakers stage runs up to its turns
(``MonoSpeakersOfCall.diarize``) and prints the clustering's centroid cosine
(``MonoSpeakers.similarity``, from the VAD regions) and ``clustering.turn_voice_similarity`` (each
voice's own turns), with the mix's DER against the truth. ``one_voice`` merges two voices whose
words show one party at a cosine of ``same_speaker`` (0.75) and above; what it should never merge
is a mix whose turns are right.

    .venv/bin/python benchmarks/one_voice.py data/eval/bench-devn-stereo --json /tmp/one_voice.json
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

_MODELS: dict = {}


def _through_ulaw(samples: np.ndarray) -> np.ndarray:
    """``samples`` as an 8 kHz µ-law recording would give them back at 16 kHz."""
    from pipeline.audio.decode import decode
    from pipeline.evaluation.synth.render import _write_audio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "line.wav"
        _write_audio(path, samples, "ulaw8k-mono")
        with decode(path) as audio:
            return np.asarray(audio.tracks[0][0 : audio.n_samples], dtype=np.float32)


def _der(truth: dict, turns, duration: float) -> float:
    from diarization import turns_against_truth  # benchmarks/diarization.py
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference, hypothesis, uem = turns_against_truth(truth, turns, duration)
    return float(DiarizationErrorRate(collar=0.25)(reference, hypothesis, uem=uem))


def _measure(item: tuple[str, str, str, str]) -> list[dict]:
    from pipeline.audio.decode import decode
    from pipeline.audio.speech import speech_regions
    from pipeline.config import Config
    from pipeline.speakers.attribution import (
        MonoSpeakersOfCall,
        load_segmentation_model,
        load_speaker_embedder,
    )
    from pipeline.speakers.clustering import turn_voice_similarity

    share, call_id, path, truth_path = item
    cfg = Config()
    if not _MODELS:
        _MODELS["embedder"] = load_speaker_embedder(cfg)
        _MODELS["segmenter"] = load_segmentation_model(cfg)
    embedder, segmenter = _MODELS["embedder"], _MODELS["segmenter"]
    truth = json.loads(Path(truth_path).read_text(encoding="utf-8")) if truth_path else None
    with decode(Path(share) / path) as audio:
        channels = audio.samples
    tracks = {"two": channels.mean(axis=0)} | {f"one-ch{i}": c for i, c in enumerate(channels)}
    rows = []
    for name, track in tracks.items():
        for rate, samples in (("16k", track), ("8k", _through_ulaw(track))):
            samples = np.ascontiguousarray(samples, dtype=np.float32)
            regions = speech_regions(samples, cfg.speech)
            speakers = MonoSpeakersOfCall(samples, regions, cfg, None, embedder, segmenter)  # type: ignore[arg-type]
            diarized = speakers.diarize()
            assert diarized.speakers is not None
            row = {
                "call_id": call_id,
                "voices": name.split("-")[0],
                "recording": f"{name}.{rate}",
                "rate": rate,
                "regions_similarity": diarized.speakers.similarity,
                "turns_similarity": turn_voice_similarity(samples, diarized.turns, embedder),
                "turns_silhouette": _silhouette(samples, diarized.turns, embedder),
            }
            if name == "two" and truth is not None:
                row["der"] = _der(truth, diarized.turns, len(samples) / 16000)
            rows.append(row)
    return rows


def _silhouette(samples: np.ndarray, turns, embedder) -> float | None:
    """Mean silhouette (cosine distance, in the recording's centred space) of the two voices'
    own pieces, None unless each voice has two."""
    from pipeline.speakers.clustering import centred, cut, own_speech_pieces

    pieces = own_speech_pieces(turns)
    if len(pieces) != 2 or min(len(p) for p in pieces.values()) < 2:
        return None
    vectors = [embedder.embed_many([cut(samples, s, e) for s, e in p]) for p in pieces.values()]
    labels = np.repeat([0, 1], [len(v) for v in vectors])
    z = centred(np.concatenate(vectors))
    distance = 1 - z @ z.T
    scores = []
    for i, label in enumerate(labels):
        same = (labels == label) & (np.arange(len(labels)) != i)
        a, b = distance[i, same].mean(), distance[i, labels != label].mean()
        scores.append((b - a) / max(a, b))
    return float(np.mean(scores))


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    q = np.quantile(values, [0.0, 0.05, 0.5, 0.95, 1.0])
    return " ".join(f"{x:.2f}" for x in q)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shares", type=Path, nargs="+", help="shares with stereo recordings and truth/")
    parser.add_argument("--match", default="", help="only calls whose id matches this regular expression")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write every recording's figures here")
    args = parser.parse_args()
    items = []
    for share in args.shares:
        with (share / "manifest.csv").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if not row["channel_layout"].startswith("stereo") or not re.search(
                    args.match, row["call_id"]
                ):
                    continue
                stem = row["call_id"].split(".")[0]
                truth = share / "truth" / f"{stem}.json"
                items.append((str(share), row["call_id"], row["path"], str(truth) if truth.exists() else ""))
    with Pool(args.workers) as pool:
        rows = [r for rs in pool.map(_measure, items, chunksize=1) for r in rs]
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    print("cosine of the two voices' centroids: min 5% median 95% max (n), and at 0.75 or above")
    for voices in ("two", "one"):
        for rate in ("16k", "8k"):
            group = [r for r in rows if r["voices"] == voices and r["rate"] == rate]
            for key in ("regions_similarity", "turns_similarity"):
                values = [r[key] for r in group if r[key] is not None]
                alike = sum(v >= 0.75 for v in values)
                print(
                    f"  {voices} voice(s) {rate:3s} {key:19s} {_quantiles(values)} ({len(values)}), {alike} alike"
                )
            values = [r["turns_silhouette"] for r in group if r["turns_silhouette"] is not None]
            print(
                f"  {voices} voice(s) {rate:3s} {'turns_silhouette':19s} {_quantiles(values)} ({len(values)})"
            )
    print("\nmixes the regions call alike (0.75 or above), by their turns:")
    for r in sorted(rows, key=lambda r: r["call_id"]):
        if r["voices"] == "two" and (r["regions_similarity"] or 0) >= 0.75:
            turns = "-" if r["turns_similarity"] is None else f"{r['turns_similarity']:.2f}"
            print(
                f"  {r['call_id']:16s} {r['rate']:3s} regions {r['regions_similarity']:.2f} turns {turns}"
                f" silhouette {'-' if r['turns_silhouette'] is None else round(r['turns_silhouette'], 2)}"
                f" DER {r.get('der', float('nan')):.3f}"
            )


if __name__ == "__main__":
    main()
