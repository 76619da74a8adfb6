"""What decoding less would cost: callqa's transcriber alone, under variants, time and CER side by side.

Each recording's speech regions are found once as a run finds them (both channels on stereo); then
every variant transcribes the same regions, in rotation. The words of the segments not flagged as
doubtful, in time order, are scored against both parties' words. Prints time (and its ratio to the
first variant) and CER per recording kind, and where the time went: Whisper's encoder (a 30 s
window however little speech it holds), its decoding, and the word timestamps.

Variants (``--variants``, comma-separated; the first is the reference):
  ``beam N``          beam search of width N (``[model] beam_size``);
  ``beam N, speech-only encoder``  the encoder given a window's speech only, not the silence padded
                      after it to 30 s (in steps of 2 s): a shorter input costs the encoder much less.

    .venv/bin/python benchmarks/decoding_cost.py data/eval/bench-dev/share --match '^BD00[0-2][0-9]\\.(stereo|ulaw8k-mono)$'
        [--variants "beam 3,beam 2,beam 1,beam 3 speech-only encoder"]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import types
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENCODER_STEP_FRAMES = 200  # 2 s of Whisper's 10 ms feature frames


def speech_only_encoder(model, encode, step: int = ENCODER_STEP_FRAMES):
    """``encode`` (the model's own) given only a window's filled frames: faster-whisper pads the last
    window of the speech with feature frames of exactly 0.0, which no real frame is."""

    def encode_filled(self, features):
        batch = features if features.ndim == 3 else features[None]
        filled = np.flatnonzero(np.any(batch != 0.0, axis=(0, 1)))
        frames = int(filled[-1]) + 1 if len(filled) else 0
        keep = min(batch.shape[-1], max(step, -(-frames // step) * step))
        return encode(np.ascontiguousarray(batch[..., :keep]))

    return types.MethodType(encode_filled, model)


def main() -> None:
    from pipeline.asr.whisper import Piece
    from pipeline.audio.decode import decode
    from pipeline.audio.speech import speech_regions, stereo_regions
    from pipeline.config import Config
    from pipeline.evaluation.evaluate import (
        char_errors,
        recording_kinds,
        scoring_text,
        truth_text,
        truths_by_recording,
    )
    from pipeline.run.process import Models
    from pipeline.run.scan import scan_share

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("share", type=Path)
    parser.add_argument(
        "--match", default="", help="only recordings whose call id matches this regular expression"
    )
    parser.add_argument("--variants", default="beam 3,beam 2,beam 1,beam 3 speech-only encoder")
    args = parser.parse_args()

    cfg = Config()
    transcriber = Models.load(cfg).transcriber
    model = transcriber._model
    plain_encode = model.encode
    truths = truths_by_recording(args.share / "truth")
    kinds = recording_kinds(args.share / "truth")
    recordings = []
    for ref in scan_share(args.share).calls:
        if not re.search(args.match, ref.call_id) or ref.call_id not in truths:
            continue
        audio = decode(ref.path)
        if audio.channels == 2 and ref.layout != "mono":
            tracks = audio.tracks
            regions = stereo_regions(tracks, cfg.speech)
            pieces = [Piece(ch, a, b) for ch in range(2) for a, b in regions[ch]]
        else:
            tracks = [audio.mono()]
            pieces = [Piece(0, a, b) for a, b in speech_regions(tracks[0], cfg.speech)]
        recordings.append((ref.call_id, tracks, pieces))

    parts = defaultdict(float)  # (variant, part) -> seconds

    def timed(name: str, part: str, function):
        def wrapper(*a, **k):
            clock = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                parts[(name, part)] += time.perf_counter() - clock

        return wrapper

    variants = [v.strip() for v in args.variants.split(",")]
    transcriber.transcribe(recordings[0][1], recordings[0][2][:3])  # warm-up
    totals = defaultdict(lambda: [0.0, 0, 0])  # (variant, kind) -> seconds, errors, characters
    for call_id, tracks, pieces in recordings:
        for name in variants:
            beam = int(re.match(r"beam (\d+)", name).group(1))
            transcriber._options = replace(cfg.model, beam_size=beam)
            model.encode = speech_only_encoder(model, plain_encode) if "speech-only" in name else plain_encode
            model.encode = timed(name, "encoder", model.encode)
            generate, words = model.generate_with_fallback, model.add_word_timestamps
            model.generate_with_fallback = timed(name, "decoding", generate)
            model.add_word_timestamps = timed(name, "word timestamps", words)
            clock = time.perf_counter()
            segments = transcriber.transcribe(tracks, pieces)
            seconds = time.perf_counter() - clock
            model.generate_with_fallback, model.add_word_timestamps = generate, words
            heard = sorted((w for s in segments if not s.suspicious for w in s.words), key=lambda w: w.start)
            e, n = char_errors(
                scoring_text(truth_text(truths[call_id])), scoring_text("".join(w.text for w in heard))
            )
            for kind in (kinds.get(call_id, "unknown"), "all"):
                total = totals[(name, kind)]
                total[0] += seconds
                total[1] += e
                total[2] += n
    model.encode = plain_encode
    print(f"{len(recordings)} recordings from {args.share}")
    print(f"{'kind':12} {'variant':32} {'seconds':>8} {'ratio':>6} {'CER':>7}")
    for kind in sorted({k for _, k in totals}):
        for name in variants:
            seconds, e, n = totals[(name, kind)]
            ratio = seconds / totals[(variants[0], kind)][0]
            print(f"{kind:12} {name:32} {seconds:8.1f} {ratio:6.2f} {e / max(n, 1):7.4f}")
    for name in variants:
        spent = ", ".join(
            f"{part} {parts[(name, part)]:.1f} s" for part in ("encoder", "decoding", "word timestamps")
        )
        print(f"{name}: {spent}")


if __name__ == "__main__":
    main()
