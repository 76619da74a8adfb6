"""Conduct rules: pure functions from a call's utterances to events.

Each rule has a stable id (analysts, notebooks and reports depend on it) and a version; the
``rule_version`` stored on an event is ``<rule version>+lex.<lexicon hash>`` so a change of either
is visible in the data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.config import RulesConfig
from pipeline.lexicon import Lexicon
from pipeline.records import Event, RoleAssignment, Turn, Utterance


@dataclass(frozen=True)
class CallContext:
    """What a rule sees of one call."""

    call_id: str
    agent_id: str
    duration: float
    utterances: tuple[Utterance, ...]
    roles: RoleAssignment
    lexicon: Lexicon
    config: RulesConfig
    # Who spoke when, with roles: speech the segmentation model heard under the other party's
    # turn on mono has no words of its own (they went to the louder voice), only a turn.
    turns: tuple[Turn, ...] = ()

    def by_role(self, role: str, *, scorable_only: bool = True) -> list[Utterance]:
        return [u for u in self.utterances if u.role == role and (u.scorable or not scorable_only)]

    @property
    def roles_trusted(self) -> bool:
        return (
            self.roles.agent_speaker is not None and self.roles.confidence >= self.config.role_min_confidence
        )

    def event(
        self,
        rule_id: str,
        version: str,
        *,
        start: float,
        end: float,
        evidence: str,
        category: str = "",
        severity: str = "major",
        role: str = "agent",
        confidence: float | None = None,
    ) -> Event:
        return Event(
            call_id=self.call_id,
            agent_id=self.agent_id,
            rule_id=rule_id,
            category=category,
            severity=severity,
            start=start,
            end=end,
            role=role,
            evidence=evidence,
            confidence=round(self.roles.confidence if confidence is None else confidence, 3),
            rule_version=f"{version}+lex.{self.lexicon.version}",
        )


Rule = Callable[[CallContext], Sequence[Event]]


def default_rules() -> list[Rule]:
    from pipeline.rules.conduct import closing_missing, hold_etiquette, pace_fast, self_intro_missing
    from pipeline.rules.greeting import greeting_missing
    from pipeline.rules.interruptions import interruption_rules
    from pipeline.rules.phrases import banned_phrases

    return [
        greeting_missing,
        self_intro_missing,
        closing_missing,
        banned_phrases,
        interruption_rules,
        pace_fast,
        hold_etiquette,
    ]


def abstentions(ctx: CallContext) -> list[str]:
    """Why rules said nothing where they might have: stored with the call for the analyst."""
    reasons = []
    if not ctx.roles_trusted:
        reasons.append(
            f"role-dependent rules abstained: agent role confidence {ctx.roles.confidence:.2f} "
            f"< {ctx.config.role_min_confidence:.2f} ({ctx.roles.reason})"
        )
    if not ctx.roles_trusted:
        reasons += unattributed_phrases(ctx)
    from pipeline.rules.greeting import greeting_given_away

    if ctx.roles_trusted and greeting_given_away(ctx):
        reasons.append(
            "greeting.missing abstained: the call opens with a greeting given to the other voice "
            "just before the agent's first words (on mono, most often the agent's own)"
        )
    from pipeline.rules.conduct import closing_given_away

    if ctx.roles_trusted and closing_given_away(ctx):
        reasons.append(
            "closing.missing abstained: the call ends with a closing given to the other voice "
            "just after the agent's last words (on mono, as often the agent's own)"
        )
    flagged = [u for u in ctx.utterances if not u.scorable]
    if flagged:
        reasons.append(
            f"{len(flagged)} utterance(s) not scored: {', '.join(sorted({f for u in flagged for f in u.flags}))}"
        )
    return reasons


UNATTRIBUTED_BANNED = "phrase.banned not attributed"  # how such an abstention starts (callqa evaluate)


def unattributed_phrases(ctx: CallContext) -> list[str]:
    """Banned phrases said by a voice whose role is not trusted, for a listener to attribute:
    phrase.banned abstains there (it must not blame a caller's words on the agent), but the QA
    team should still hear a 不在 or a 下班了 that may be the agent's (the desk plays them)."""
    from pipeline.rules.phrases import banned_by_any_voice, load_banned

    entries = load_banned(str(ctx.lexicon.folder), ctx.lexicon.version)
    return [
        f"{UNATTRIBUTED_BANNED} ({entry.category}): {entry.phrase} in 「{u.text}」 at "
        f"{u.start:.1f}-{u.end:.1f} s, by a voice whose role is unsure; listen before scoring"
        for u, entry in banned_by_any_voice(ctx.utterances, entries, ctx.lexicon.tokenizer())
    ]


def apply_rules(ctx: CallContext, rules: Sequence[Rule] | None = None) -> list[Event]:
    events: list[Event] = []
    for rule in default_rules() if rules is None else rules:
        events.extend(rule(ctx))
    return sorted(events, key=lambda e: (e.start, e.rule_id))
