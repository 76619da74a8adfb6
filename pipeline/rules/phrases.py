"""``phrase.banned``: replies the etiquette guide forbids, from ``lexicons/banned.toml``.

``contains`` entries match anywhere in an utterance; ``whole`` entries match a clause that is
nothing but the phrase (a curt 随便 or 没有来, after stripping fillers and sentence particles),
where clauses are split at punctuation and at pauses in the word timings, so 随便，你自己看着办吧
is caught and 随便问一下 is not. Matching is in ``pipeline.asr.matching``: exact, then by sound
(homophones, accent merges), then within an edit budget that grows with the phrase's length, each
at a lower confidence. 您 counts as 你: the polite pronoun does not make a curt phrase polite. An
entry's ``unless`` list names innocent contexts (他不在乎 for 不在) that cancel it.

One event per utterance and category: three phrases of one category in one reply are one finding
(the moment is counted once), with every matched phrase in the evidence and the best match's
score as its confidence.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from pipeline.asr.matching import Match, find_phrase, matches_whole, word_boundaries
from pipeline.asr.text import CLAUSE_PAUSE_S, for_scoring
from pipeline.records import Event, Utterance
from pipeline.rules import CallContext

RULE_ID = "phrase.banned"
VERSION = "2"
_EDGE_FILLERS = re.compile(r"^(?:嗯|啊|哦|呃|额|喂)+|(?:吧|啊|呢|嘛|呀|啦|哦)+$")
_MATCH_MODES = ("contains", "whole")


@dataclass(frozen=True)
class BannedPhrase:
    phrase: str
    category: str
    role: str
    match: str  # contains | whole
    unless: tuple[str, ...] = ()  # innocent contexts: an utterance holding one is not flagged


@lru_cache(maxsize=4)
def load_banned(folder: str, version: str) -> tuple[BannedPhrase, ...]:
    """The banned list; ``version`` (the lexicon hash) keys the cache so an edit is picked up."""
    with open(Path(folder) / "banned.toml", "rb") as f:
        entries = tomllib.load(f).get("phrase", [])
    out = []
    for e in entries:
        if e.get("match", "contains") not in _MATCH_MODES:
            raise ValueError(f"banned.toml: match must be contains or whole, not {e.get('match')!r}")
        out.append(
            BannedPhrase(
                for_scoring(e["phrase"]),
                e["category"],
                e.get("role", "agent"),
                e.get("match", "contains"),
                tuple(for_scoring(x) for x in e.get("unless", ())),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class ScoringText:
    """An utterance as the rule reads it: scoring text (您 as 你), the character offset where each
    word starts, and the clauses (character spans) that punctuation and pauses delimit."""

    text: str
    clauses: tuple[tuple[int, int], ...]

    @staticmethod
    def of(u: Utterance) -> ScoringText:
        chars, breaks = [], set()
        if u.words:
            previous_end = None
            for w in u.words:
                if previous_end is not None and w.start - previous_end >= CLAUSE_PAUSE_S:
                    breaks.add(len(chars))
                for c in w.text:
                    piece = for_scoring(c)
                    if not piece:
                        breaks.add(len(chars))
                    chars.extend(piece)
                previous_end = w.end
        else:
            for c in u.text:
                piece = for_scoring(c)
                if not piece:
                    breaks.add(len(chars))
                chars.extend(piece)
        text = "".join(chars).replace("您", "你")
        cuts = sorted({0, len(text)} | breaks)
        clauses = tuple((a, b) for a, b in pairwise(cuts) if b > a)
        return ScoringText(text, clauses)


def _whole_clause(st: ScoringText, phrase: str) -> Match | None:
    """The first clause that is nothing but ``phrase`` (fillers and particles aside)."""
    for a, b in st.clauses:
        clause = st.text[a:b]
        lead = len(clause) - len(clause.lstrip("嗯啊哦呃额喂"))
        bare = _EDGE_FILLERS.sub("", clause)
        score = matches_whole(bare, phrase)
        if score is not None:
            return Match(a + lead, a + lead + len(bare), score)
    return None


def _span(u: Utterance, start_char: int, n_chars: int) -> tuple[float, float]:
    """Times of characters [start_char, start_char + n) from the word timings when there are any."""
    if not u.words:
        return u.start, u.end
    pos, first, last = 0, None, None
    for w in u.words:
        length = len(for_scoring(w.text))
        if length and pos + length > start_char and pos < start_char + n_chars:
            first = w.start if first is None else first
            last = w.end
        pos += length
    return (first, last) if first is not None else (u.start, u.end)


def find_banned(
    u: Utterance, entries: tuple[BannedPhrase, ...], tokenizer
) -> list[tuple[BannedPhrase, Match]]:
    """Every entry for ``u``'s role that ``u`` says, with where and how surely, in text order."""
    st = ScoringText.of(u)
    cuts = word_boundaries(st.text, tokenizer)
    found = []
    for entry in entries:
        if entry.role != u.role or any(x and x in st.text for x in entry.unless):
            continue
        match = (
            _whole_clause(st, entry.phrase)
            if entry.match == "whole"
            else find_phrase(st.text, entry.phrase, cuts)
        )
        if match is not None:
            found.append((entry, match))
    # One stretch of words is one finding: where two entries matched overlapping words (明天再打
    # is in both 下班了明天再打 and, one syllable off, 明天再打来), the surer, longer match keeps them.
    kept: list[tuple[BannedPhrase, Match]] = []
    for entry, match in sorted(found, key=lambda h: (h[1].score, len(h[0].phrase)), reverse=True):
        if all(match.end <= m.start or m.end <= match.start for _, m in kept):
            kept.append((entry, match))
    return sorted(kept, key=lambda h: h[1].start)


def banned_phrases(ctx: CallContext) -> list[Event]:
    if not ctx.roles_trusted:
        return []
    entries = load_banned(str(ctx.lexicon.folder), ctx.lexicon.version)
    tokenizer = ctx.lexicon.tokenizer()
    events = []
    for u in ctx.utterances:
        if not u.scorable:
            continue
        by_category: dict[str, list[tuple[BannedPhrase, Match]]] = defaultdict(list)
        for entry, match in find_banned(u, entries, tokenizer):
            by_category[entry.category].append((entry, match))
        for category, hits in by_category.items():
            spans = [_span(u, m.start, m.end - m.start) for _, m in hits]
            phrases = list(dict.fromkeys(e.phrase for e, _ in hits))
            events.append(
                ctx.event(
                    RULE_ID,
                    VERSION,
                    start=min(s for s, _ in spans),
                    end=max(e for _, e in spans),
                    evidence=f"{u.text}〔{'、'.join(phrases)}〕",
                    category=category,
                    severity="major",
                    role=u.role,
                    confidence=ctx.roles.confidence * max(m.score for _, m in hits),
                )
            )
    return events


def banned_by_any_voice(
    utterances: Iterable[Utterance], entries: tuple[BannedPhrase, ...], tokenizer
) -> list[tuple[Utterance, BannedPhrase]]:
    """Every (utterance, entry) where an utterance says a banned phrase read as the agent's words,
    whoever it was given to: for calls whose roles are not trusted, to be heard by a person."""
    from dataclasses import replace

    return [
        (u, entry)
        for u in utterances
        if u.scorable
        for entry, _ in find_banned(replace(u, role="agent"), entries, tokenizer)
    ]


def entry_hits(utterances: Iterable[Utterance], entries: tuple[BannedPhrase, ...], tokenizer) -> dict:
    """For ``callqa lexicon check``: entry -> [(utterance, match)] of every stored utterance the
    entry would flag as the rule reads it (role, clauses, sound, edits, ``unless``, overlaps)."""
    hits: dict[BannedPhrase, list[tuple[Utterance, Match]]] = {e: [] for e in entries}
    for u in utterances:
        if u.scorable:
            for entry, match in find_banned(u, entries, tokenizer):
                hits[entry].append((u, match))
    return hits
