"""CER of callqa's transcriber on mono recordings, with and without two of its changes.

Each mono recording's speech regions go through callqa's transcriber (``WhisperTranscriber``) and
the words of the segments not flagged as hallucinations are scored against the truth, once per
variant, in one run on the same model:

- ``before``: the second pass covers only pieces with no word at all, and a segment that ends in a
  decoding loop is flagged whole (the earlier behaviour, reproduced here);
- ``retry``: the second pass also covers stretches of a piece Whisper skipped;
- ``after``: and a loop that sets in after real words is cut off (today's code).

Whisper's temperature fallback samples, so a recording can differ between variants without any
change applying to it; the per-recording errors are printed for that reason.

    .venv/bin/python benchmarks/transcription_ab.py data/eval/sample-dev
    .venv/bin/python benchmarks/transcription_ab.py data/eval/real_conversations data/eval/corpus-mono
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _whole_pieces_only(pieces, segments):
    """The earlier second pass: pieces no word falls in."""
    import pipeline.asr.whisper as T

    heard = [(ch, w.start, w.end) for seg in segments for w, ch in zip(seg.words, seg.channels, strict=True)]
    return [
        p
        for p in pieces
        if p.end - p.start >= T._RETRY_PIECE_S
        and not any(ch == p.channel and s < p.end and e > p.start for ch, s, e in heard)
    ]


def main() -> None:
    from diarization import worded_mono_recordings  # benchmarks/diarization.py

    import pipeline.asr.whisper as T
    from pipeline.config import Config
    from pipeline.evaluation.evaluate import char_errors, scoring_text, truth_text
    from pipeline.run.process import Models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shares", type=Path, nargs="+")
    args = parser.parse_args()
    cfg = Config()
    transcriber = Models.load(cfg).transcriber
    recordings = worded_mono_recordings(args.shares, cfg.speech)

    current_retry, current_cut = T.unheard_pieces, T.AsrSegment.without_loop
    variants = {
        "before": (_whole_pieces_only, lambda self: self),
        "retry": (current_retry, lambda self: self),
        "after": (current_retry, current_cut),
    }
    for name, (retry, cut) in variants.items():
        T.unheard_pieces, T.AsrSegment.without_loop = retry, cut
        errors = chars = 0
        per_call = []
        tick = time.perf_counter()
        for call_id, samples, regions, truth in recordings:
            segments = transcriber.transcribe([samples], [T.Piece(0, a, b) for a, b in regions])
            words = sorted((w for s in segments if not s.suspicious for w in s.words), key=lambda w: w.start)
            e, n = char_errors(scoring_text(truth_text(truth)), scoring_text("".join(w.text for w in words)))
            errors, chars = errors + e, chars + n
            per_call.append(f"{call_id} {e}")
        print(
            f"{name:7s} CER {errors / chars:.4f} over {len(recordings)} recordings ({time.perf_counter() - tick:.0f} s)"
        )
        print("        " + ", ".join(per_call), flush=True)
    T.unheard_pieces, T.AsrSegment.without_loop = current_retry, current_cut


if __name__ == "__main__":
    main()
