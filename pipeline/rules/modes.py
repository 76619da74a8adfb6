"""Whether a rule's findings cost an agent points: scoring, shadow (试运行), context or retired.

A new rule has to earn its weight before it costs anyone a point. It starts in **shadow** mode:
its findings are stored, shown on the desk and in the review queue with a 试运行 mark, and take
verdicts like any other, but deduct nothing; the verdicts give its reviewed precision
(``callqa rules``). The quality lead promotes it in ``[scoring] promoted`` with the first call
date from which it counts, so a promotion never rewrites a score already published; and can put
any rule back on trial with ``[scoring] shadow``.

- ``scoring``: a weight in ``[scoring.weights]`` and not on trial: findings cost points and wait
  for review in the queue;
- ``shadow``: on trial: findings wait for review, cost nothing;
- ``context``: no weight (a caller's interruption): shown with the call, never waiting;
- ``retired``: no longer run (``pipeline.config.RETIRED_RULES``): the findings it stored are shown
  with the call, marked 已停用, never waiting and costing nothing, whatever its weight says.
"""

from __future__ import annotations

from pipeline.config import RETIRED_RULES, ScoringConfig

MODES = ("scoring", "shadow", "context", "retired")
MODE_NAMES = {"scoring": "计分", "shadow": "试运行", "context": "仅记录", "retired": "已停用"}
# The modes whose findings wait for a verdict in the review queue.
REVIEWED_MODES = frozenset({"scoring", "shadow"})

# The rules that start in shadow mode until promoted: the guide's clauses checked since
# 2026-12-05 (docs/rules.md, "Rules on trial").
SHADOW_BY_DEFAULT = frozenset(
    {
        "courtesy.ni",
        "transfer.no_identity",
        "voice.flat",
        # The reply reader's (2026-12-07), which replaced the phrase lists' readings of its clauses.
        "hesitation.unsure_learned",
        "message.not_offered_learned",
        "refusal.no_apology_learned",
    }
)


def on_trial(rule_id: str, scoring: ScoringConfig, call_date: str | None = None) -> bool:
    """Whether ``rule_id`` is in shadow mode for a call of ``call_date`` (None: from today on).

    A promoted rule counts from its promotion date: earlier calls keep costing nothing, and a
    promotion dated in the future leaves the rule on trial until then.
    """
    if rule_id in RETIRED_RULES:
        return False
    if rule_id in scoring.shadow:
        return True
    if rule_id not in SHADOW_BY_DEFAULT:
        return False
    promoted = scoring.promoted.get(rule_id)
    if promoted is None:
        return True
    if call_date is None:
        from datetime import date

        call_date = date.today().isoformat()
    # Undated calls (``call_date=unknown``) belong to no scorecard: on trial is the safe side.
    return not (call_date[:1].isdigit() and call_date >= promoted)


def rule_mode(rule_id: str, scoring: ScoringConfig, call_date: str | None = None) -> str:
    """``scoring``, ``shadow``, ``context`` or ``retired`` (see the module's docstring)."""
    if rule_id in RETIRED_RULES:
        return "retired"
    if on_trial(rule_id, scoring, call_date):
        return "shadow"
    return "scoring" if scoring.weights.get(rule_id, 0.0) > 0 else "context"


def points(rule_id: str, scoring: ScoringConfig, call_date: str | None = None) -> float:
    """What one finding of ``rule_id`` on a call of ``call_date`` deducts (0 on trial)."""
    if rule_mode(rule_id, scoring, call_date) != "scoring":
        return 0.0
    return float(scoring.weights.get(rule_id, 0.0))
