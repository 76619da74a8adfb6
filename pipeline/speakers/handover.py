"""A change of speaker heard in the words: a question answered with a greeting.

On a mono call the pause-based regions miss the hand-over when the answer follows the question
without a pause, and the clustering gives both to one voice. The most common case, by far, is the
caller's 你好 right after the agent's opening 请问有什么可以帮您？ (10 of the evaluation corpus's 64
mono recordings), or after a curt 什么事 (E023). The words show it: a clause that asks, then a
clause that is nothing but a greeting. Nobody greets right after asking a question of their own,
and an agent's greeting after the centre's name (阳光物业，您好) follows no question.

Where the voice next to it in time (within ``max_gap_s``) is the other one, the greeting at the
end of a turn goes to the turn after it, and the question at the start of a turn goes to the turn
before it; the turns are moved with the words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pipeline.asr.text import CLAUSE_PAUSE_S, han_count, normalize_transcript
from pipeline.lexicon import Lexicon
from pipeline.records import Turn, Utterance, Word

_CLAUSE_END = re.compile(r"[，。？！、,.?!；;]$")
_ASKS = re.compile(r"[？?]$|什么|吗|呢|怎么|哪|请问|多少|几")
_MAX_GAP_S = 1.0


def word_clauses(words: Sequence[Word]) -> list[list[Word]]:
    """Words grouped into clauses: a clause ends at punctuation or at a pause of ``CLAUSE_PAUSE_S``."""
    out: list[list[Word]] = []
    for w in words:
        if not out or _CLAUSE_END.search(out[-1][-1].text) or w.start - out[-1][-1].end >= CLAUSE_PAUSE_S:
            out.append([w])
        else:
            out[-1].append(w)
    return out


def words_text(words: Sequence[Word]) -> str:
    return "".join(w.text for w in words)


def _asks(words: Sequence[Word]) -> bool:
    """A clause that asks something: a question mark or a question word, and more than a 喂？
    (a caller checking the line is still on)."""
    text = normalize_transcript(words_text(words))
    return _ASKS.search(text) is not None and han_count(re.sub("[喂嗯啊哦]", "", text)) >= 2


def handovers(
    utterances: Sequence[Utterance], lexicon: Lexicon, max_gap_s: float = _MAX_GAP_S
) -> list[tuple[int, int, int]]:
    """(from utterance, to utterance, number of words) to move: positive, the last words of
    ``from`` to the start of ``to``; negative, the first words of ``from`` to the end of ``to``."""
    greetings = lexicon["greetings"]
    ordered = sorted(range(len(utterances)), key=lambda i: utterances[i].start)
    moves = []
    for k, i in enumerate(ordered):
        u = utterances[i]
        if not u.scorable or not u.words:
            continue
        clauses = word_clauses(u.words)
        if len(clauses) < 2:
            continue
        a = next((j for j in ordered[k + 1 :] if utterances[j].speaker != u.speaker), None)
        b = next((j for j in reversed(ordered[:k]) if utterances[j].speaker != u.speaker), None)
        after = utterances[a] if a is not None else None
        before = utterances[b] if b is not None else None
        last, previous = clauses[-1], clauses[-2]
        first, second = clauses[0], clauses[1]
        tail = (
            after is not None
            and after.start - u.end <= max_gap_s
            and greetings.is_whole(words_text(last))
            and _asks(previous)
        )
        head = (
            before is not None
            and u.start - before.end <= max_gap_s
            and greetings.is_whole(words_text(second))
            and _asks(first)
            and not greetings.is_whole(words_text(first))
        )
        if tail and head:
            continue  # a question and a greeting alone: which of the two is this voice's is unknown
        if tail:
            moves.append((i, a, len(last)))
        elif head:
            moves.append((i, b, -len(first)))
    return moves


def move_handovers(
    turns: Sequence[Turn], utterances: Sequence[Utterance], lexicon: Lexicon
) -> tuple[list[Turn], list[Utterance]]:
    """``turns`` and ``utterances`` with every hand-over ``handovers`` finds given to its speaker."""
    out = list(utterances)
    turns = list(turns)
    touched: set[int] = set()
    for src, dst, n in handovers(utterances, lexicon):
        if src in touched or dst in touched:
            continue  # the moves were found on the utterances as they were: one per utterance
        touched |= {src, dst}
        u, v = out[src], out[dst]
        moved = u.words[-n:] if n > 0 else u.words[:-n]
        kept = u.words[:-n] if n > 0 else u.words[-n:]
        words = (*moved, *v.words) if n > 0 else (*v.words, *moved)
        cut = moved[0].start if n > 0 else moved[-1].end
        out[src] = replace(
            u,
            text=normalize_transcript(words_text(kept)),
            words=tuple(kept),
            start=u.start if n > 0 else kept[0].start,
            end=kept[-1].end if n > 0 else u.end,
        )
        out[dst] = replace(
            v,
            text=normalize_transcript(words_text(words)),
            words=tuple(words),
            start=min(v.start, moved[0].start),
            end=max(v.end, moved[-1].end),
        )
        edge = moved[-1].end if n > 0 else moved[0].start  # where the other voice's words were
        turns = _moved_turns(turns, u.speaker, v.speaker, cut, n > 0, edge)
    return turns, out


def _moved_turns(
    turns: list[Turn], speaker: str, other: str, cut: float, tail: bool, edge: float
) -> list[Turn]:
    """The change of speaker at ``cut``: the speaker's turn across it ends (or, for a head, starts)
    there, and the other voice's turn right after (before) the moved words, the one starting
    (ending) within ``_MAX_GAP_S`` of their ``edge``, starts (ends) there."""
    out = [
        (replace(t, end=cut) if tail else replace(t, start=cut))
        if t.speaker == speaker and t.start < cut < t.end
        else t
        for t in turns
    ]
    if tail:
        nearby = [k for k, t in enumerate(out) if t.speaker == other and cut <= t.start <= edge + _MAX_GAP_S]
        if nearby:
            k = min(nearby, key=lambda k: out[k].start)
            out[k] = replace(out[k], start=cut)
    else:
        nearby = [k for k, t in enumerate(out) if t.speaker == other and edge - _MAX_GAP_S <= t.end <= cut]
        if nearby:
            k = max(nearby, key=lambda k: out[k].end)
            out[k] = replace(out[k], end=cut)
    return out
