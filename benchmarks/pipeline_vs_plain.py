"""callqa's whole per-call pipeline against plain faster-whisper, side by side in one run.

Same recordings, same model object, same threads. For each recording, alternately:
  plain:  WhisperModel.transcribe(path, language="zh") with its segments consumed: what a user of
          faster-whisper would run, at its defaults (beam 5, no VAD, no word timestamps, whole
          file); and, when callqa's beam differs, the same call at callqa's beam, reported apart
          so that the gain from the beam is not taken for the pipeline's;
  plain per channel: the honest baseline of a careful faster-whisper user (issue 15): each
          channel of the decoded call transcribed apart with its VAD filter on, at callqa's beam,
          without conditioning on previous text; on stereo each channel is scored against its own
          party's words, and so is callqa ("callqa by role") for a like-for-like CER;
  plain batched per channel: the same, through faster-whisper's BatchedInferencePipeline (its VAD
          cuts each channel into windows of at most 30 s, decoded four at once), with timestamps
          (without them, its default, whole sentences go missing); what callqa's own windows
          (``[model] window_batch``) are to be compared with, so that a gain from batching is
          not taken for the pipeline's;
  callqa: pipeline.run.process.process_call (decode, VAD + cross-talk suppression, speakers, per-channel
          transcription with word timestamps, rules, metrics); then, as the nightly run does, the
          results stored into a fresh warehouse (Parquet partitions, ledger-free) and the
          scorecards updated: that store time is added to callqa's total.
Prints per-recording times, medians, the ratio of totals, callqa's per-stage breakdown, the ratio of
callqa's transcription stage alone to plain (issue 3's target), and the CER of both against the
truth files when the share has them, per recording kind.

``--shifts 0 10 20 30 40`` runs every side on each recording with its first 0, 10 … 40 ms cut off
(the same audio format written again): on short real recordings a cut a few ms away turns Whisper's
decode into another (RC02 at 8 kHz: 23 or 43 character errors from the same regions), so one run
says little about which side is better. The CER is then over every shift, and each side's lowest
and highest CER of one shift are printed beside it.

    .venv/bin/python benchmarks/pipeline_vs_plain.py [SHARE] [--repeat N] [--match "\\.stereo$"] [--per-recording]
        [--shifts 0 10 20 30 40]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from dataclasses import replace
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def shifted(ref, ms: int, folder: Path):
    """``ref`` with its recording's first ``ms`` milliseconds cut off, written into ``folder`` in the
    recording's own format and sample encoding (a µ-law file stays µ-law, sample for sample)."""
    if ms == 0:
        return ref
    import soundfile as sf

    info = sf.info(ref.path)
    samples, rate = sf.read(ref.path, dtype="int16", always_2d=True)
    out = folder / f"{ms}ms" / Path(ref.path).name
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, samples[rate * ms // 1000 :], rate, subtype=info.subtype, format=info.format)
    return replace(ref, path=str(out))


def main() -> None:

    from pipeline.config import Config
    from pipeline.evaluation.evaluate import char_errors, scoring_text, truth_text, truths_by_recording
    from pipeline.lexicon import load_lexicon
    from pipeline.records import agent_channel
    from pipeline.run.process import Models, process_call
    from pipeline.run.scan import scan_share

    parser = argparse.ArgumentParser()
    parser.add_argument("share", nargs="?", default=str(ROOT / "data" / "sample_share"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--per-recording", action="store_true", help="also print each side's character errors per recording"
    )
    parser.add_argument(
        "--match", default="", help="only recordings whose call id matches this regular expression"
    )
    parser.add_argument(
        "--shifts",
        type=int,
        nargs="+",
        default=[0],
        metavar="MS",
        help="run each recording with its first MS milliseconds cut off, once per value (default: 0)",
    )
    args = parser.parse_args()

    cfg = Config()
    models = Models.load(cfg)
    lexicon = load_lexicon(cfg.lexicons_path)
    whisper = models.transcriber._model  # the very same CTranslate2 model callqa uses
    refs = [r for r in scan_share(Path(args.share)).calls if re.search(args.match, r.call_id)]

    # Warm-up: first-call costs (VAD session, embedder, jieba) must not count against either side.
    process_call(refs[0], cfg, models, lexicon)
    list(whisper.transcribe(refs[0].path, language="zh")[0])
    same_beam = cfg.model.beam_size != 5  # faster-whisper's default beam

    truth_dir = Path(args.share) / "truth"
    truths = truths_by_recording(truth_dir) if truth_dir.is_dir() else {}
    from collections import defaultdict

    from pipeline.audio.decode import decode
    from pipeline.evaluation.evaluate import recording_kinds

    kinds = recording_kinds(truth_dir) if truth_dir.is_dir() else {}
    # side -> recording kind -> [edits, reference characters]
    errors: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    # side -> call id -> edits in its last round, summed over the shifts
    by_recording: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # side -> shift -> recording kind -> [edits, reference characters]
    by_shift: dict[str, dict[int, dict[str, list[int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0, 0]))
    )
    shift = 0  # the shift of the recordings being scored

    def score(side: str, call_id: str, text: str | dict[str, str]) -> None:
        """CER of ``text`` against the truth; a dict scores each role's text against that role's
        reference (a channel of a stereo call against its party's words: no penalty for how two
        channels' segments interleave)."""
        if call_id not in truths or not truths[call_id].get("score_text", True):
            return  # no reference words (pyannote's English sample, a long read without its text)
        pairs = (
            [(truth_text(truths[call_id], role), t) for role, t in text.items()]
            if isinstance(text, dict)
            else [(truth_text(truths[call_id]), text)]
        )
        for reference, hypothesis in pairs:
            e, n = char_errors(reference, scoring_text(hypothesis))
            by_recording[side][call_id] += e
            for kind in (kinds.get(call_id, "unknown"), "all"):
                for tally in (errors[side][kind], by_shift[side][shift][kind]):
                    tally[0] += e
                    tally[1] += n

    from faster_whisper import BatchedInferencePipeline

    batch_size = cfg.model.window_batch or 4

    def sequential(channel) -> str:
        segments, _ = whisper.transcribe(
            channel,
            language="zh",
            beam_size=cfg.model.beam_size,
            condition_on_previous_text=False,
            vad_filter=True,
        )
        return "".join(s.text for s in segments)

    def batched(channel) -> str:
        segments, _ = BatchedInferencePipeline(whisper).transcribe(
            channel,
            language="zh",
            beam_size=cfg.model.beam_size,
            vad_filter=True,
            batch_size=batch_size,
            without_timestamps=False,
        )
        return "".join(s.text for s in segments)

    def per_channel(ref, transcribe) -> str | dict[str, str]:
        """Each channel of the decoded call through ``transcribe``: one text, or one per role."""
        with decode(ref.path) as audio:
            texts = [transcribe(channel) for channel in audio.samples]
        if len(texts) == 1:
            return texts[0]
        agent = agent_channel(ref.layout)
        return {"agent": texts[agent], "caller": texts[1 - agent]}

    import tempfile

    rows, stages, results, plain_same, plain_channels, plain_batched = [], {}, [], [], [], []
    shifted_dir = tempfile.TemporaryDirectory()
    # Each shifted recording written once, whatever the rounds.
    runs = [(shift, shifted(ref, shift, Path(shifted_dir.name))) for shift, ref in product(args.shifts, refs)]
    for round_ in range(args.repeat):
        if round_ == args.repeat - 1:
            by_recording.clear()
        for shift, ref in runs:
            t = time.perf_counter()
            channels = per_channel(ref, sequential)
            score("plain per channel", ref.call_id, channels)
            plain_channels.append(time.perf_counter() - t)
            t = time.perf_counter()
            score("plain batched per channel", ref.call_id, per_channel(ref, batched))
            plain_batched.append(time.perf_counter() - t)
            t = time.perf_counter()
            segments, info = whisper.transcribe(ref.path, language="zh")
            plain_text = "".join(s.text for s in segments)
            plain = time.perf_counter() - t
            if same_beam:
                t = time.perf_counter()
                segments, _ = whisper.transcribe(ref.path, language="zh", beam_size=cfg.model.beam_size)
                score("plain at callqa's beam", ref.call_id, "".join(s.text for s in segments))
                plain_same.append(time.perf_counter() - t)
            t = time.perf_counter()
            result = process_call(ref, cfg, models, lexicon)
            ours = time.perf_counter() - t
            results.append(result)
            for stage, seconds in result.timings.items():
                stages[stage] = stages.get(stage, 0.0) + seconds
            label = ref.call_id + (f"+{shift}ms" if shift else "")
            rows.append((label, ref.layout, info.duration, plain, ours))
            score("plain", ref.call_id, plain_text)
            score("callqa", ref.call_id, "".join(u.text for u in result.utterances))
            if isinstance(channels, dict):  # the same per-role scoring as plain per channel
                by_role = {r: "".join(u.text for u in result.utterances if u.role == r) for r in channels}
                score("callqa by role", ref.call_id, by_role)
            else:
                score("callqa by role", ref.call_id, "".join(u.text for u in result.utterances))

    shifted_dir.cleanup()

    from pipeline.warehouse.scorecards import update_scorecards
    from pipeline.warehouse.store import store_calls

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        for start in range(0, len(results), cfg.run.store_batch_calls):
            dates = store_calls(Path(tmp), results[start : start + cfg.run.store_batch_calls])
            update_scorecards(Path(tmp), cfg.scoring, dates)
        stages["store"] = time.perf_counter() - t
    # The store cost is spread over the calls in proportion to their processing time.
    scale = (sum(r[4] for r in rows) + stages["store"]) / sum(r[4] for r in rows)
    rows = [(c, lay, a, p, o * scale) for c, lay, a, p, o in rows]

    print(
        f"model {cfg.whisper_dir.name} ({models.transcriber.compute_type}), {cfg.model.cpu_threads} threads; "
        f"callqa beam {cfg.model.beam_size}, plain at faster-whisper's defaults (beam 5)"
    )
    print(f"{'call':8} {'layout':20} {'audio s':>8} {'plain s':>8} {'callqa s':>9} {'ratio':>6}")
    for call_id, layout, audio, plain, ours in rows:
        print(f"{call_id:8} {layout:20} {audio:8.1f} {plain:8.2f} {ours:9.2f} {ours / plain:6.2f}")
    audio_total = sum(r[2] for r in rows)
    plain_total = sum(r[3] for r in rows)
    ours_total = sum(r[4] for r in rows)
    print(
        f"median per call: plain {statistics.median(r[3] for r in rows):.2f} s, callqa {statistics.median(r[4] for r in rows):.2f} s"
    )
    print(f"median ratio callqa/plain: {statistics.median(r[4] / r[3] for r in rows):.2f}")
    print(
        f"total: plain {plain_total:.1f} s (RTF {plain_total / audio_total:.3f}), callqa {ours_total:.1f} s (RTF {ours_total / audio_total:.3f}), ratio {ours_total / plain_total:.2f}"
    )
    print(
        "callqa stages: "
        + ", ".join(f"{k} {v:.2f} s ({100 * v / ours_total:.1f}%)" for k, v in stages.items())
    )
    if cfg.speech.speakers_beside_whisper and any(r.layout == "mono" for r in refs):
        print("  (on mono the speakers stage runs beside the transcription: their seconds overlap)")
    print(f"transcription stage / plain: {stages['transcribe'] / plain_total:.3f}")
    if plain_same:
        same_total = sum(plain_same)
        print(
            f"plain at callqa's beam ({cfg.model.beam_size}): {same_total:.1f} s; callqa / it: "
            f"{ours_total / same_total:.2f} (transcription stage: {stages['transcribe'] / same_total:.3f})"
        )
    other = ours_total - stages["transcribe"]
    print(
        f"stages other than transcription: {other:.2f} s ({100 * other / ours_total:.1f}% of callqa's time)"
    )
    channels_total = sum(plain_channels)
    print(
        f"plain per channel (VAD, beam {cfg.model.beam_size}, no conditioning): {channels_total:.1f} s; "
        f"callqa / it: {ours_total / channels_total:.2f}"
    )
    batched_total = sum(plain_batched)
    print(
        f"plain batched per channel (VAD, beam {cfg.model.beam_size}, {batch_size} windows at once, "
        f"timestamps): {batched_total:.1f} s; callqa / it: {ours_total / batched_total:.2f}"
    )
    if errors:
        print(
            "CER by recording kind"
            + (f" over the shifts {args.shifts} ms" if len(args.shifts) > 1 else "")
            + ":"
        )
        for side, by_kind in errors.items():
            print(
                f"  {side:24} " + ", ".join(f"{k} {e / n:.3f}" for k, (e, n) in sorted(by_kind.items()) if n)
            )
        if len(args.shifts) > 1:
            print("lowest - highest CER of one shift:")
            for side, shifts in by_shift.items():
                spans = []
                for kind in sorted(errors[side]):
                    rates = [t[kind][0] / t[kind][1] for t in shifts.values() if t[kind][1]]
                    spans.append(f"{kind} {min(rates):.3f}-{max(rates):.3f}")
                print(f"  {side:24} " + ", ".join(spans))
    if args.per_recording and by_recording:
        print(
            "character errors per recording (last round"
            + (", summed over the shifts" if len(args.shifts) > 1 else "")
            + "):"
        )
        for side, edits in by_recording.items():
            print(f"  {side:24} " + ", ".join(f"{c} {e}" for c, e in edits.items()))


if __name__ == "__main__":
    main()
