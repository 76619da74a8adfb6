"""CER and time of callqa's transcriber on mono recordings, under variants of what it is given, in one run.

Each recording's speech regions go to the same transcriber (``WhisperTranscriber``), and the
words of the segments not flagged as hallucinations are scored against the truth. Two families:

Pieces (``--family pieces``). callqa transcribes exactly the speech regions its VAD found
(joined end to end); faster-whisper's own VAD filter joins regions less than 2 s apart and pads
each by 0.4 s:

- ``regions``: as callqa cuts them (today's code);
- ``pad 0.2``: each region padded by 0.2 s of the recording (never past half the gap to the next);
- ``join 0.6 + pad 0.2``: regions closer than 0.6 s joined, then padded;
- ``join 2 + pad 0.4``: faster-whisper's VAD defaults.

Temperature fallback (``--family fallback``): the ladder a segment that fails Whisper's checks is
decoded again along (``[model] temperatures``), each variant run twice (``--rounds``) to show
the noise: faster-whisper's 0, 0.2 … 1.0 (callqa's earlier default), 0 / 0.2 / 0.4,
0 / 0.4 / 0.8, and 0 only (today's: no sampling, the same words on every run). ``--variant NAME``
runs only the variants named.

Decoding loops (``--family loops``): faster-whisper decodes a window whose text compresses more
than 2.4 again at the next temperature (``[model] compression_ratio_threshold = 2.4``), or callqa
cuts the loop itself and transcribes what it skipped once more (``None``, today's), each run twice.

A prompt (``--family prompt``): no prompt (today's), or a sentence in simplified characters as
Whisper's initial prompt, a common way to keep its Mandarin in one script (it sometimes writes
traditional characters, and words with them: 燕窩 where a simplified decode wrote 宴窝).

Windows (``--family windows``): faster-whisper's sequential decoding of the joined speech (its
30 s window moved on by the timestamps it decoded; callqa's earlier default), or the joined speech
cut at the joins of its pieces into windows of at most 29.5 s, decoded in batches of 1, 4
(today's) or 8 windows (``[model] window_batch``). ``--all`` also times the recordings without
reference words (L001 and RL01, the real recordings of a call's length).

Whisper's temperature fallback samples, so per-recording errors are printed to tell a change from noise.

    .venv/bin/python benchmarks/transcription_variants.py data/eval/real_conversations data/eval/corpus-mono \\
        --match ulaw8k [--family fallback|loops|prompt|windows] [--variant "0 only"] [--rounds 1] [--all]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PIECES = {  # (join regions closer than this, pad each by this), seconds
    "regions": (0.0, 0.0),
    "pad 0.2": (0.0, 0.2),
    "join 0.6 + pad 0.2": (0.6, 0.2),
    "join 2 + pad 0.4": (2.0, 0.4),
}
LOOPS = {  # compression ratio above which a window is decoded again at the next temperature
    "loop check 2.4": 2.4,
    "no loop check": None,
}
PROMPTS = {
    "no prompt": "",
    "simplified prompt": "以下是普通话的句子。",
}
WINDOWS = {  # windows of joined speech decoded at once; 0: faster-whisper's sequential decoding
    "sequential": 0,
    "windows, batch 1": 1,
    "windows, batch 4": 4,
    "windows, batch 8": 8,
}
FALLBACK = {
    "0 to 1.0": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
    "0, 0.2, 0.4": (0.0, 0.2, 0.4),
    "0, 0.4, 0.8": (0.0, 0.4, 0.8),
    "0 only": (0.0,),  # no sampling: the same words on every run
}


def widen(
    regions: list[tuple[float, float]], duration: float, join: float, pad: float
) -> list[tuple[float, float]]:
    """Regions closer than ``join`` joined, then each padded by ``pad`` up to half the gap to its neighbours."""
    joined: list[tuple[float, float]] = []
    for a, b in regions:
        if joined and a - joined[-1][1] < join:
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    out = []
    for i, (a, b) in enumerate(joined):
        lo = max(0.0, a - pad) if i == 0 else max(a - pad, (joined[i - 1][1] + a) / 2)
        hi = min(duration, b + pad) if i == len(joined) - 1 else min(b + pad, (b + joined[i + 1][0]) / 2)
        out.append((lo, hi))
    return out


def main() -> None:
    from diarization import has_scored_words, worded_mono_recordings  # benchmarks/diarization.py

    from pipeline.asr.whisper import Piece
    from pipeline.audio.decode import SAMPLE_RATE
    from pipeline.config import Config
    from pipeline.evaluation.evaluate import char_errors, scoring_text, truth_text
    from pipeline.run.process import Models

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shares", type=Path, nargs="+")
    parser.add_argument(
        "--family", choices=("pieces", "fallback", "loops", "prompt", "windows"), default="pieces"
    )
    parser.add_argument(
        "--match", default="", help="only recordings whose call id matches this regular expression"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="only this variant (its name as printed, less the round)",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, choices=range(1, 11), help="runs of each variant (1-10)"
    )
    parser.add_argument(
        "--all", action="store_true", help="also time the recordings that have no reference words"
    )
    args = parser.parse_args()
    cfg = Config()
    transcriber = Models.load(cfg).transcriber
    recordings = worded_mono_recordings(args.shares, cfg.speech, args.match, worded=not args.all)
    base = transcriber._options
    prompts = {}  # variant -> Whisper's initial prompt
    if args.family == "pieces":
        variants = [(name, join, pad, base) for name, (join, pad) in PIECES.items()]
    elif args.family == "prompt":
        variants = [
            (name, 0.0, 0.0, replace(base, vocabulary="prompt" if text else "none"))
            for name, text in PROMPTS.items()
        ]
        prompts = PROMPTS
    elif args.family == "fallback":
        variants = [
            (f"{name} ({r})", 0.0, 0.0, replace(base, temperatures=t, window_batch=0))
            for r in "abcdefghij"[: args.rounds]
            for name, t in FALLBACK.items()
        ]
    elif args.family == "windows":
        variants = [
            (f"{name} ({r})", 0.0, 0.0, replace(base, window_batch=n))
            for r in "abcdefghij"[: args.rounds]
            for name, n in WINDOWS.items()
        ]
    else:
        variants = [
            (f"{name} ({r})", 0.0, 0.0, replace(base, compression_ratio_threshold=c, window_batch=0))
            for r in "abcdefghij"[: args.rounds]
            for name, c in LOOPS.items()
        ]
    if args.variant:
        variants = [v for v in variants if v[0].rsplit(" (", 1)[0] in args.variant]
        if not variants:
            raise SystemExit(f"no variant of the {args.family} family is named {' or '.join(args.variant)}")
    for name, join, pad, options in variants:
        transcriber._options = options
        transcriber._vocabulary = prompts.get(name, transcriber._vocabulary)
        errors = chars = 0
        per_call = []
        tick = time.perf_counter()
        for call_id, samples, regions, truth in recordings:
            pieces = widen(regions, len(samples) / SAMPLE_RATE, join, pad)
            segments = transcriber.transcribe([samples], [Piece(0, a, b) for a, b in pieces])
            words = sorted((w for s in segments if not s.suspicious for w in s.words), key=lambda w: w.start)
            if not has_scored_words(truth):
                per_call.append(f"{call_id} (timed only)")
                continue
            e, n = char_errors(scoring_text(truth_text(truth)), scoring_text("".join(w.text for w in words)))
            errors, chars = errors + e, chars + n
            per_call.append(f"{call_id} {e}")
        seconds = time.perf_counter() - tick
        print(
            f"{name:24s} CER {errors / max(chars, 1):.4f} over {len(recordings)} recordings ({seconds:.1f} s)"
        )
        print("        " + ", ".join(per_call), flush=True)


if __name__ == "__main__":
    main()
