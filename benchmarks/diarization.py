"""Who spoke when on mono recordings before any words: DER per recording kind, fast enough to steer by.

Runs what ``callqa run`` runs on a mono call up to the transcription (``speech_regions`` →
``speakers.mono_turns`` → ``segmentation.segmented_turns``) and scores the turns against the truth
with pyannote.metrics (collar 0.25 s, overlap scored), per share and kind. ``one_voice`` and the
roles need the words and are not run: ``callqa evaluate`` gives the whole pipeline's figure.

The development set is the sample share down-mixed (it is not the corpus and not the
real voices, the sets the figures in docs/evaluation.md are reported on):

    .venv/bin/python benchmarks/diarization.py --downmix data/sample_share data/eval/sample-dev
    .venv/bin/python benchmarks/diarization.py data/eval/sample-dev data/eval/corpus-mono \\
        data/eval/real_conversations
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.audio.decode import decode
from pipeline.audio.speech import speech_regions
from pipeline.config import Config
from pipeline.speakers.clustering import load_embedder, mono_turns
from pipeline.speakers.segmentation import segmented_turns
from pipeline.speakers.segmentation.model import load_segmenter
from pipeline.speakers.segmentation.voices import window_voices


def downmix(share: Path, out: Path) -> None:
    """Every call of ``share`` as 16 kHz mono FLAC and 8 kHz µ-law mono WAV, with its truth."""
    from pipeline.evaluation.synth.render import _write_audio

    (out / "truth").mkdir(parents=True, exist_ok=True)
    rows = [("path", "call_id", "agent_id", "started_at", "channel_layout")]
    with (share / "manifest.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            with decode(share / row["path"]) as audio:
                samples = np.asarray(audio.mono()[0 : audio.n_samples], dtype=np.float32)
            samples *= min(1.0, 0.9 / max(float(np.abs(samples).max()), 1e-9))
            for kind, suffix in (("mono", "flac"), ("ulaw8k-mono", "wav")):
                path = f"recordings/{row['call_id']}.{kind}.{suffix}"
                _write_audio(out / path, samples, kind)
                rows.append((path, f"{row['call_id']}.{kind}", row["agent_id"], row["started_at"], "mono"))
            truth = share / "truth" / f"{row['call_id']}.json"
            (out / "truth" / truth.name).write_text(truth.read_text(encoding="utf-8"), encoding="utf-8")
    with (out / "manifest.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def mono_recordings(share: Path):
    """(kind, call id, path, truth) of every mono row of a share's manifest."""
    truths = {}
    for path in (share / "truth").glob("*.json"):
        truth = json.loads(path.read_text(encoding="utf-8"))
        truths[truth["call_id"]] = truth
    with (share / "manifest.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["channel_layout"] != "mono":
                continue
            call_id = row["call_id"]
            truth = truths.get(call_id) or truths.get(call_id.split(".")[0])
            kind = call_id.split(".", 1)[1] if "." in call_id else (truth.get("format") or "mono")
            yield f"{share.name}/{kind}", call_id, share / row["path"], truth


def has_scored_words(truth: dict) -> bool:
    """Whether a truth's words are known and scored (not pyannote's English sample, nor RL01's
    read, whose words are not all known)."""
    return bool(truth.get("score_text", True)) and any(u.get("text") for u in truth.get("utterances", ()))


def worded_mono_recordings(shares: list[Path], speech, match: str = "", worded: bool = True):
    """(call id, 16 kHz samples, speech regions, truth) of every mono recording of ``shares``
    whose truth has words to score (pyannote's English sample has none; every one if not
    ``worded``) and whose call id matches the regular expression ``match``: what the
    transcription benchmarks run over."""
    import re

    from pipeline.audio.speech import speech_regions

    out = []
    for share in shares:
        for _, call_id, path, truth in mono_recordings(share):
            truth = truth or {}
            if not re.search(match, call_id) or (worded and not has_scored_words(truth)):
                continue
            with decode(path) as audio:
                samples = np.asarray(audio.mono()[0 : audio.n_samples], dtype=np.float32)
            out.append((call_id, samples, speech_regions(samples, speech), truth))
    return out


def turns_against_truth(truth: dict, turns, duration: float):
    """(reference, hypothesis, uem) for pyannote.metrics: the truth's utterances by role, the
    turns by speaker, scored over the recording (the truth's duration where it has one)."""
    from pyannote.core import Annotation, Segment, Timeline

    reference, hypothesis = Annotation(), Annotation()
    for i, u in enumerate(truth["utterances"]):
        if u["end"] > u["start"]:
            reference[Segment(u["start"], u["end"]), i] = u["role"]
    for i, t in enumerate(turns):
        hypothesis[Segment(t.start, t.end), i] = t.speaker
    return reference, hypothesis, Timeline([Segment(0, truth.get("duration") or duration)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shares", type=Path, nargs="*")
    parser.add_argument(
        "--embedder", choices=("campplus", "dvector"), help="default: [speech] speaker_embedder"
    )
    parser.add_argument(
        "--unsure-margin", type=float, help="default: [speech] unsure_margin (0: the clustering decides)"
    )
    parser.add_argument(
        "--resegment-min-s",
        type=float,
        help="default: [speech] resegment_min_s (0: no splitting by d-vectors)",
    )
    parser.add_argument("--overlap-bridge-s", type=float, help="default: [speech] overlap_bridge_s")
    parser.add_argument(
        "--window-voices",
        action="store_true",
        help="score the two voices found from the segmentation model's windows "
        "(pipeline.speakers.segmentation.voices: what a mono call whose roles the clustering left "
        "unsure falls back to) instead of the clustering's turns",
    )
    parser.add_argument("--downmix", type=Path, nargs=2, metavar=("SHARE", "OUT"))
    parser.add_argument(
        "--worst", type=int, default=10, help="list this many recordings with the highest DER"
    )
    args = parser.parse_args()
    if args.downmix:
        downmix(*args.downmix)
    if not args.shares:
        return
    from pyannote.metrics.diarization import DiarizationErrorRate

    cfg = Config()
    if args.overlap_bridge_s is not None:
        cfg = replace(cfg, speech=replace(cfg.speech, overlap_bridge_s=args.overlap_bridge_s))
    embedder = load_embedder(args.embedder or cfg.speech.speaker_embedder)
    segmenter = load_segmenter(str(Path(__file__).parents[1] / "models/segmentation/segmentation.onnx"))
    metrics = defaultdict(lambda: DiarizationErrorRate(collar=0.25, skip_overlap=False))
    per_call = []
    for share in args.shares:
        for kind, call_id, path, truth in mono_recordings(share):
            with decode(path) as audio:
                samples = np.asarray(audio.mono()[0 : audio.n_samples], dtype=np.float32)
            speakers = mono_turns(
                samples,
                speech_regions(samples, cfg.speech),
                embedder,
                cfg.speech.max_speakers,
                cfg.speech.turn_merge_gap_s,
                cfg.speech.resegment_min_s if args.resegment_min_s is None else args.resegment_min_s,
                cfg.speech.unsure_margin if args.unsure_margin is None else args.unsure_margin,
            )
            turns = speakers.turns
            if args.window_voices:
                found = window_voices(samples, segmenter(samples), embedder)
                if found is None:
                    print(f"{call_id}: the model's windows hear one voice; the clustering's turns scored")
                else:
                    turns = found.turns
            elif cfg.speech.segmentation:
                turns = segmented_turns(turns, segmenter(samples), cfg.speech, speakers.unsure)
            reference, hypothesis, uem = turns_against_truth(truth, turns, len(samples) / 16000)
            der = metrics[kind](reference, hypothesis, uem=uem)
            per_call.append((der, call_id, kind, speakers.similarity))
    for der, call_id, kind, similarity in sorted(per_call, reverse=True)[: args.worst]:
        alike = "-" if similarity is None else f"{similarity:.2f}"
        print(f"{call_id:24} {kind:32} DER {der:.3f}  voices alike {alike}")
    print()
    for kind, metric in sorted(metrics.items()):
        print(f"{kind:32} DER {abs(metric):.3f}")


if __name__ == "__main__":
    main()
