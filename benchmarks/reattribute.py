"""Who spoke when and the floor rules again, on words already transcribed: the speakers stage
steered by in minutes, not the hour a whole run of a benchmark part takes.

For every mono recording of a truth folder this takes the words a warehouse stored for it (what
Whisper heard, its timestamps and punctuation: Whisper is not run again), runs the speakers stage
of the code as it is now on the audio (regions, clustering, segmentation model, words to voices,
roles) and scores the call as the nightly run would. It prints per kind DER, role errors and the
benchmark's rules (precision / recall), from the same truth files ``callqa evaluate`` reads.
Words that a changed stage would have Whisper decode differently are not re-decoded, so the
final figure is always ``make eval-bench``'s; this is for the development part only:

    .venv/bin/python benchmarks/reattribute.py data/eval/bench-dev/share data/eval/bench-dev/warehouse
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stored_segments(words_table, call_id: str) -> list:
    """One ASR segment per stored utterance, its words as Whisper timed them."""
    from pipeline.asr.whisper import AsrSegment
    from pipeline.records import Word
    from pipeline.speakers.utterances import HALLUCINATION

    out = []
    for row in words_table.get(call_id, []):
        words = tuple(Word(w["text"], w["start_ms"] / 1000, w["end_ms"] / 1000, w["prob"]) for w in row.words)
        if not words:
            continue
        doubtful = HALLUCINATION in list(row.flags if row.flags is not None else [])
        out.append(
            AsrSegment(words, (0,) * len(words), -2.0 if doubtful else -0.3, 0.9 if doubtful else 0.0, 1.5)
        )
    return sorted(out, key=lambda s: s.words[0].start)


def main() -> None:
    import pandas as pd

    from pipeline.audio.decode import decode
    from pipeline.audio.speech import speech_regions
    from pipeline.config import ROOT as _R
    from pipeline.config import Config
    from pipeline.evaluation.evaluate import _Diarization, _precision_recall, expected_flags, load_truth
    from pipeline.lexicon import load_lexicon
    from pipeline.records import CallRef
    from pipeline.run.process import numbered, score_call
    from pipeline.speakers.attribution import call_speakers, load_segmentation_model, load_speaker_embedder
    from pipeline.warehouse.store import read_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("share", type=Path)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--match", default="", help="only recordings whose id contains this")
    parser.add_argument("--show", action="store_true", help="print each wrong call's flags")
    parser.add_argument("--every", action="store_true", help="with --show, print every call")
    parser.add_argument("--turns", action="store_true", help="with --show, print the last turns too")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        help="[speech] KEY=VALUE to try (SECTION.KEY=VALUE for another section)",
    )
    parser.add_argument("--same-speaker", type=float, help="the embedder's one-voice cosine to try")
    args = parser.parse_args()

    cfg = Config().with_settings(args.set)
    lexicon = load_lexicon(_R / "lexicons")
    embedder, segmenter = load_speaker_embedder(cfg), load_segmentation_model(cfg)
    if args.same_speaker is not None:
        embedder.same_speaker = args.same_speaker
    utterances = read_table(args.warehouse, "utterances")
    words_table = {
        cid: list(g.sort_values("start_ms").itertuples()) for cid, g in utterances.groupby("call_id")
    }
    diarization = _Diarization()
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    )
    for truth in load_truth(args.share / "truth"):
        expected_all, _ = expected_flags(truth, cfg.rules.conduct_preset)
        scored = set(truth.get("scored_rules", [])) or None
        # A truth of one recording (pyannote's English sample) has no variants: not a call.
        for call_id, variant in truth.get("variants", {}).items():
            kind = variant["format"]
            if variant["layout"] != "mono" or args.match not in call_id or call_id not in words_table:
                continue
            audio = decode(args.share / variant["audio"])
            track = audio.mono()
            regions = speech_regions(track, cfg.speech)
            ref = CallRef(call_id, str(args.share / variant["audio"]), truth["agent_id"], None, "mono")
            speakers = call_speakers(
                call_id, "mono", [track], regions, cfg, lexicon, (), lambda: embedder, lambda: segmenter
            )
            spoken = speakers.attribute(speakers.diarize(), stored_segments(words_table, call_id))
            result = score_call(
                ref,
                audio.duration,
                spoken.turns,
                numbered(spoken.utterances),
                spoken.roles,
                cfg,
                lexicon,
                "-",
            )
            trusted = spoken.roles.confidence >= cfg.rules.role_min_confidence
            hyp = pd.DataFrame(
                [(int(t.start * 1000), int(t.end * 1000), i, t.speaker) for i, t in enumerate(spoken.turns)],
                columns=["start_ms", "end_ms", "idx", "speaker"],
            )
            who = diarization.add(kind, truth, hyp, spoken.roles.agent_speaker, trusted)
            predicted = {e.rule_id for e in result.events}
            expected = {k for k in expected_all if ":" not in k}
            if scored:
                predicted &= scored
                expected &= scored
            for key in expected | predicted:
                outcome = "tp" if key in expected and key in predicted else "fp" if key in predicted else "fn"
                counts[kind][key][outcome] += 1
            wrong = expected != predicted or (trusted and not who["role_ok"]) or not who["opening_ok"]
            if args.show and (wrong or args.every):
                print(
                    f"{call_id}: der {who['der']:.3f} roles {'ok' if who['role_ok'] else 'WRONG'} "
                    f"{spoken.roles.confidence:.2f} missing {sorted(expected - predicted)} "
                    f"extra {sorted(predicted - expected)}" + ("" if who["opening_ok"] else " opening wrong")
                )
                if not trusted or "model's windows" in spoken.roles.reason:
                    print(f"    {'unsure' if not trusted else 'roles'}: {spoken.roles.reason}")
                for e in result.events:
                    if e.rule_id in predicted - expected:
                        print(f"    {e.rule_id} {e.start:.2f}-{e.end:.2f}: {e.evidence}")
                if args.turns:
                    for t in spoken.turns[-4:]:
                        print(f"    {t.speaker} {t.start:.2f}-{t.end:.2f}")
                    for u in list(spoken.utterances)[-3:]:
                        print(f"    {u.speaker} {u.start:.2f}-{u.end:.2f} {u.text}")
    report = diarization.report()
    for kind in sorted(counts):
        d = report[kind]
        print(
            f"\n{kind}: {d['recordings']} recordings, DER {d['der']:.3f}, confident role errors "
            f"{d['confident_role_errors']}, roles unsure {d['roles_unsure_share']:.0%}, openings wrong "
            f"{d['openings_wrong']}"
        )
        for key, c in sorted(counts[kind].items()):
            pr = _precision_recall(c)
            fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
            print(
                f"  {key:22s} {c['tp']:3d} / {c['fp']:3d} / {c['fn']:3d}  P {fmt(pr['precision'])}  R {fmt(pr['recall'])}"
            )
    print(
        json.dumps(
            {
                k: {"der": v["der"], "confident_role_errors": v["confident_role_errors"]}
                for k, v in report.items()
            }
        )
    )


if __name__ == "__main__":
    main()
