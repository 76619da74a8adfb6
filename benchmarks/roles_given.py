"""The overlap rules on real voices whose roles the words cannot tell: roles given from the truth.

The real-voice conversations (``python -m pipeline.evaluation.realspeech --conversations``) are read text,
not calls: nobody greets or introduces themselves, so callqa rightly trusts no role on them and
every rule that needs one abstains. That leaves the headline findings (interruptions, 急躁,
独断专横) unmeasured on real voices. This runs each recording through the real pipeline
(``process.transcribe_and_diarize``), then gives each found voice the role of the truth's party
it overlaps most in time, trusted, and scores the call as the nightly run would
(``process.score_call``). The truth's cut-ins are where a party starts while the other still has
``interruption_min_overlap_s`` or more of its utterance left; each ``interruption.*`` event is
matched to a true cut-in of its role within ``--tolerance`` seconds of the newcomer's start. A
true cut-in that leaves less than ``--clear-s`` of the other's speech is borderline (word times
move by a few tenths of a second): found, it counts as true; missed, it is not counted.

    .venv/bin/python benchmarks/roles_given.py data/eval/real_conversations8 --match RL01
    .venv/bin/python benchmarks/roles_given.py data/eval/real_hangups --set pause_split_s=0
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from pipeline.records import Turn


def true_cut_ins(utterances: list[dict], min_left_s: float) -> list[tuple[str, float, float]]:
    """(newcomer's role, its start, seconds of the other's utterance left) of every cut-in."""
    ordered = sorted(utterances, key=lambda u: u["start"])
    out = []
    for i, b in enumerate(ordered):
        for a in ordered[:i]:
            left = a["end"] - b["start"]
            if a["role"] != b["role"] and left >= min_left_s - 1e-6:
                out.append((b["role"], b["start"], round(left, 2)))
    return out


def roles_by_overlap(turns: Sequence[Turn], utterances: list[dict]) -> dict[str, str]:
    """Each found voice -> the truth role it shares most time with."""
    shared: dict[str, dict[str, float]] = {}
    for t in turns:
        for u in utterances:
            s = min(t.end, u["end"]) - max(t.start, u["start"])
            if s > 0:
                shared.setdefault(t.speaker, {}).setdefault(u["role"], 0.0)
                shared[t.speaker][u["role"]] += s
    return {spk: max(by_role, key=by_role.get) for spk, by_role in shared.items()}


def main() -> None:
    from pipeline.audio.decode import decode
    from pipeline.config import Config
    from pipeline.evaluation.evaluate import truths_by_recording
    from pipeline.lexicon import load_lexicon
    from pipeline.records import RoleAssignment
    from pipeline.run.process import Models, numbered, score_call, transcribe_and_diarize
    from pipeline.run.scan import scan_share
    from pipeline.speakers.clustering import apply_roles

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("share", type=Path)
    parser.add_argument("--match", default="", help="only recordings whose call id matches this")
    parser.add_argument("--tolerance", type=float, default=0.5, help="seconds between true and found starts")
    parser.add_argument(
        "--clear-s", type=float, default=0.7, help="a cut-in leaving less of the other's speech is borderline"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        help="[speech] KEY=VALUE to try (SECTION.KEY=VALUE for another section)",
    )
    args = parser.parse_args()
    cfg = Config().with_settings(args.set)
    models = Models.load(cfg)
    lexicon = load_lexicon(cfg.lexicons_path)
    truths = truths_by_recording(args.share / "truth")
    min_left = cfg.rules.interruption_min_overlap_s
    totals = {role: [0, 0, 0] for role in ("agent", "caller")}  # found and true, found only, missed
    for ref in scan_share(args.share).calls:
        if not re.search(args.match, ref.call_id) or ref.call_id not in truths:
            continue
        truth = truths[ref.call_id]["utterances"]
        with decode(Path(ref.path)) as audio:
            spoken = transcribe_and_diarize(audio, ref, cfg, models, lexicon, {})
            turns, utterances = spoken.turns, spoken.utterances
            duration = audio.duration
        role_of = roles_by_overlap(turns, truth)
        agents = [spk for spk, role in role_of.items() if role == "agent"]
        if len(agents) != 1 or len(role_of) != 2:
            print(f"{ref.call_id}: voices {role_of}: not one agent and one caller, skipped")
            continue
        roles = RoleAssignment(agents[0], 1.0, "given from the truth (benchmarks/roles_given.py)")
        turns = [replace(t, role=role_of.get(t.speaker, "caller")) for t in turns]
        result = score_call(
            ref, duration, turns, apply_roles(numbered(utterances), roles), roles, cfg, lexicon, "-"
        )
        expected = true_cut_ins(truth, min_left)
        print(
            f"{ref.call_id}: true cut-ins "
            + ", ".join(f"{r} {s:.2f} ({left} s left)" for r, s, left in expected)
        )
        matched: set[int] = set()
        for e in result.events:
            if not e.rule_id.startswith("interruption."):
                print(f"  {e.rule_id} {e.category} {e.start:.2f}-{e.end:.2f}")
                continue
            role = e.rule_id.split(".", 1)[1]
            hit = next(
                (
                    i
                    for i, (r, s, _) in enumerate(expected)
                    if r == role and i not in matched and abs(s - e.start) <= args.tolerance
                ),
                None,
            )
            if hit is None:
                totals[role][1] += 1
                print(f"  {e.rule_id} {e.start:.2f}: not a true cut-in")
            else:
                matched.add(hit)
                totals[role][0] += 1
                print(f"  {e.rule_id} {e.start:.2f}: true")
        for i, (role, start, left) in enumerate(expected):
            if i in matched:
                continue
            if left < args.clear_s:
                print(f"  missed, borderline: {role} cut in at {start:.2f} ({left} s left)")
            else:
                totals[role][2] += 1
                print(f"  missed: {role} cut in at {start:.2f} ({left} s left)")
    for role, (tp, fp, fn) in totals.items():
        p = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
        r = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
        print(f"interruption.{role}: {tp} true, {fp} false, {fn} missed: P {p}, R {r}")
    print(
        json.dumps(
            {role: dict(zip(("true", "false", "missed"), v, strict=True)) for role, v in totals.items()}
        )
    )


if __name__ == "__main__":
    main()
