"""A clause in the other party's words: a clustering slip on a mono call that the words show.

Two alike voices can leave one of a party's short turns in the other's cluster, with nothing in
the sound to say so (E021: the caller's 那你们什么时候来？ between two of the agent's replies sounds
like the agent to both speaker models). The roles then find the agent's voice speaking the
caller's register as well as its own, call the voices mixed and abstain, and every rule that
needs a role is blind on the call.

Where the voices are mixed, a clause (``handover.word_clauses``: up to punctuation or a pause)
of the mixed voice that speaks only the other party's register is given to the other voice, as
its own utterance and turn: a phrase of the other register as written, and none of its own, not
even one that only sounds alike (the agent's 安排人 sounds like the caller's 派人; moved, it took
the first words of her cut-in away). This is kept only if it is a slip, not a merge: at most
``MAX_MOVED_CLAUSES`` clauses move (a colleague's whole call merged into the caller's voice,
E029, leaves many and stays abstaining), and the roles read afresh must no longer be mixed and
must be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.asr.text import han_count, normalize_transcript
from pipeline.lexicon import Lexicon
from pipeline.records import VOICES_MIXED, RoleAssignment, Turn, Utterance
from pipeline.speakers.clustering import (
    give_span,
    infer_roles,
    near_overlap,
    overlaps_between_voices,
    role_evidence,
)
from pipeline.speakers.handover import word_clauses, words_text

MAX_MOVED_CLAUSES = 2
MIN_CLAUSE_CHARS = 3  # a clause this short (你们, 好吧) is not a turn of its own


def foreign_clauses(
    utterances: Sequence[Utterance], lexicon: Lexicon, turns: Sequence[Turn] = ()
) -> list[tuple[int, int, int, str]]:
    """(utterance, first word, end word, voice to give it to) for every clause of a voice that
    speaks both registers (``RoleEvidence.two_sided``) in the register of the other voice (the
    caller's in the voice with the more agent-like words, the agent's in the other). A clause is
    read as the roles read it: words near an overlap of two voices do not count."""
    evidence = role_evidence(utterances, lexicon, turns)
    if len(evidence) != 2:
        return []
    overlaps = overlaps_between_voices(turns)
    agent_like, caller_like = sorted(evidence, key=lambda e: e.score, reverse=True)
    out = []
    for voice, other, foreign, own in (
        (agent_like, caller_like, "caller_language", "agent_language"),
        (caller_like, agent_like, "agent_language", "caller_language"),
    ):
        if not voice.two_sided:
            continue
        for i, u in enumerate(utterances):
            if u.speaker != voice.speaker or not u.scorable or not u.words:
                continue
            k = 0
            for clause in word_clauses(u.words):
                text = normalize_transcript(words_text([w for w in clause if not near_overlap(w, overlaps)]))
                if (
                    han_count(text) >= MIN_CLAUSE_CHARS
                    and lexicon[foreign].count(text, homophones=False)
                    and not lexicon[own].count(text)
                ):
                    out.append((i, k, k + len(clause), other.speaker))
                k += len(clause)
    return out


def _piece(u: Utterance, a: int, b: int, speaker: str) -> Utterance:
    """Words ``a``-``b`` of ``u`` as an utterance of ``speaker``: its own words' times, but the
    utterance's own start and end where it keeps them (a turn starts before its first word)."""
    words = u.words[a:b]
    return replace(
        u,
        text=normalize_transcript(words_text(words)),
        words=tuple(words),
        start=u.start if a == 0 else words[0].start,
        end=u.end if b == len(u.words) else words[-1].end,
        speaker=speaker,
    )


def move_foreign_clauses(
    turns: Sequence[Turn],
    utterances: Sequence[Utterance],
    lexicon: Lexicon,
    roles: RoleAssignment,
    min_confidence: float = 0.5,
) -> tuple[list[Turn], list[Utterance], RoleAssignment] | None:
    """Turns, utterances and roles with the ``foreign_clauses`` of mixed voices given to the
    other voice; None where the voices are not mixed, too many clauses would move, or the roles
    read afterwards are still mixed, not trusted enough (``min_confidence``) or name the other
    voice the agent."""
    if VOICES_MIXED not in roles.reason:
        return None
    moves = foreign_clauses(utterances, lexicon, turns)
    if not moves or len(moves) > MAX_MOVED_CLAUSES:
        return None
    by_utterance: dict[int, list[tuple[int, int, str]]] = {}
    for i, a, b, voice in moves:
        by_utterance.setdefault(i, []).append((a, b, voice))
    new_utterances: list[Utterance] = []
    new_turns = list(turns)
    for i, u in enumerate(utterances):
        if i not in by_utterance:
            new_utterances.append(u)
            continue
        k = 0
        for a, b, voice in by_utterance[i]:
            if a > k:
                new_utterances.append(_piece(u, k, a, u.speaker))
            moved = _piece(u, a, b, voice)
            new_utterances.append(moved)
            new_turns = give_span(new_turns, moved.start, moved.end, voice)
            k = b
        if k < len(u.words):
            new_utterances.append(_piece(u, k, len(u.words), u.speaker))
    moved_roles = infer_roles(new_utterances, lexicon, new_turns)
    # Kept only as a mended slip: the same voice the agent, now trusted and not mixed.
    if (
        VOICES_MIXED in moved_roles.reason
        or moved_roles.confidence < min_confidence
        or moved_roles.agent_speaker != roles.agent_speaker
    ):
        return None
    said = "、".join(normalize_transcript(words_text(utterances[i].words[a:b])) for i, a, b, _ in moves)
    return (
        new_turns,
        new_utterances,
        replace(moved_roles, reason=f"{moved_roles.reason}; moved by their words: {said}"),
    )
