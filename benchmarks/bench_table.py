"""The generated benchmark's figures as one Markdown table per part, from ``callqa evaluate``'s
JSON (``make eval-bench PART=dev`` and ``PART=test`` write docs/eval-bench-dev.json and
docs/eval-bench-test.json).

    .venv/bin/python benchmarks/bench_table.py docs/eval-bench-dev.json docs/eval-bench-test.json

The guide benchmark (``make eval-guide``) labels other rules: its table lists those it scores.

    .venv/bin/python benchmarks/bench_table.py docs/eval-guide-dev.json docs/eval-guide-test.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RULES = (
    "interruption.agent",
    "interruption.caller",
    "hangup.premature",
    "conduct.domineering",
    "greeting.missing",
)


def _pr(rule: dict | None) -> str:
    if not rule:
        return "–"

    def one(value, ci) -> str:
        if value is None:
            return "–"
        return f"{value:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else f"{value:.2f}"

    return (
        f"{one(rule['precision'], rule.get('precision_ci'))} / {one(rule['recall'], rule.get('recall_ci'))}"
    )


def table(report: dict, title: str) -> str:
    kinds = sorted(report["diarization"])
    labelled = {rule for by_rule in report["rules_by_kind"].values() for rule in by_rule}
    rules = RULES if labelled & set(RULES) else tuple(sorted(r for r in labelled if ":" not in r))
    rows = [f"**{title}**", "", "| | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]

    def row(name: str, cell) -> None:
        rows.append(f"| {name} | " + " | ".join(cell(k) for k in kinds) + " |")

    row("recordings", lambda k: str(report["diarization"][k]["recordings"]))
    row("CER", lambda k: f"{report['cer'].get(k, 0):.3f}")
    row("DER", lambda k: f"{report['diarization'][k]['der']:.3f}")
    row(
        "overlap P / R (turns)",
        lambda k: (
            "{:.2f} / {:.2f}".format(
                report["overlap"][k]["precision"] or 0, report["overlap"][k]["recall"] or 0
            )
            if k in report["overlap"]
            else "–"
        ),
    )
    row("confident role errors", lambda k: str(report["diarization"][k]["confident_role_errors"]))
    row("roles unsure", lambda k: f"{report['diarization'][k].get('roles_unsure_share', 0):.0%}")
    row(
        "openings wrong",
        lambda k: (
            "–" if "openings_wrong" not in (d := report["diarization"][k]) else str(d["openings_wrong"])
        ),
    )
    for rule in rules:
        row(f"{rule} P / R [95 %]", lambda k, rule=rule: _pr(report["rules_by_kind"].get(k, {}).get(rule)))
    if rules != RULES:
        return "\n".join(rows)
    row(
        "hang-up F1 / greeting.missing F1",
        lambda k: " / ".join(
            "–"
            if (r := report["rules_by_kind"].get(k, {}).get(rule)) is None or r["f1"] is None
            else f"{r['f1']:.2f}"
            for rule in ("hangup.premature", "greeting.missing")
        ),
    )
    return "\n".join(rows)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(table(json.loads(Path(arg).read_text(encoding="utf-8")), Path(arg).stem))
        print()
