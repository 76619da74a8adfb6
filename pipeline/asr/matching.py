"""Finding a listed phrase in noisy ASR text: exactly, by sound, and with a small edit budget.

Whisper damages the words that matter: a homophone (是/事, 吗/嘛, 来/再), an accent merge
(姓名 heard as 信明), a syllable lost or added at the edge of a sentence. A phrase is therefore
compared at four levels, each with its own score:

1. the characters themselves (1.0);
2. toneless pinyin, syllable by syllable (0.8): a homophone;
3. "fuzzy" pinyin (0.7): -ng as -n and zh/ch/sh as z/c/s, the merges an input method forgives;
4. fuzzy pinyin with edits (0.7 less 0.1 per edit): a syllable substituted, dropped or added,
   at most ``edit_budget(len(phrase))`` of them, so a short phrase must be heard whole
   (你说什么 never matches 你有什么) and a long one survives a damaged syllable.

Short phrases (the edit budget is 0) must also sit on jieba word boundaries (不在 is not in
不在乎); a long phrase with edits is distinctive enough on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

EXACT, HOMOPHONE, FUZZY = 1.0, 0.8, 0.7
_PER_EDIT = 0.1


@dataclass(frozen=True)
class Match:
    """Where a phrase was found: characters [start, end) of the text, and how surely."""

    start: int
    end: int
    score: float


def edit_budget(n_chars: int) -> int:
    """Syllable edits a phrase of ``n_chars`` survives: none up to 4 characters (你说什么 is one
    syllable from the innocent 你有什么), 1 up to 8, then 2."""
    return 0 if n_chars <= 4 else 1 if n_chars <= 8 else 2


@lru_cache(maxsize=16384)
def char_pinyin(text: str) -> tuple[str, ...]:
    """One toneless syllable per character (a non-Han character stands for itself)."""
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(c)[0] if c.strip() else c for c in text)


def _fuzzy(syllable: str) -> str:
    for retroflex in ("zh", "ch", "sh"):
        if syllable.startswith(retroflex):
            syllable = syllable[0] + syllable[2:]
            break
    return syllable[:-1] if syllable.endswith("ng") and len(syllable) > 2 else syllable


@lru_cache(maxsize=16384)
def fuzzy_pinyin(text: str) -> tuple[str, ...]:
    return tuple(_fuzzy(p) for p in char_pinyin(text))


def word_boundaries(text: str, tokenizer) -> set[int]:
    """Character offsets where jieba puts a word boundary (0 and len(text) included)."""
    cuts, pos = {0}, 0
    for token in tokenizer.lcut(text):
        pos += len(token)
        cuts.add(pos)
    return cuts


def _approximate(text: str, phrase: str, budget: int) -> Match | None:
    """The best occurrence of ``phrase`` in ``text`` within ``budget`` syllable edits (fuzzy
    pinyin; Sellers' algorithm: an edit distance whose start in the text is free)."""
    key, sounds = fuzzy_pinyin(phrase), fuzzy_pinyin(text)
    m, n = len(key), len(sounds)
    if n < m - budget or sum(s in set(sounds) for s in key) < m - budget:
        return None  # too few of the phrase's syllables are there at all
    # dist[j], start[j]: edits and start offset of the best alignment of key[:i] ending at text j.
    dist, start = [0] * (n + 1), list(range(n + 1))
    for i in range(1, m + 1):
        new_dist, new_start = [i] + [0] * n, [0] * (n + 1)
        for j in range(1, n + 1):
            options = (
                (dist[j - 1] + (key[i - 1] != sounds[j - 1]), start[j - 1]),  # keep or substitute
                (dist[j] + 1, start[j]),  # a phrase syllable the text lost
                (new_dist[j - 1] + 1, new_start[j - 1]),  # a syllable the text added
            )
            new_dist[j], new_start[j] = min(options)
        dist, start = new_dist, new_start
    best = min(range(1, n + 1), key=lambda j: (dist[j], -(j - start[j])))
    if dist[best] > budget:
        return None
    return Match(start[best], best, round(FUZZY - _PER_EDIT * dist[best], 3))


def find_phrase(text: str, phrase: str, cuts: set[int]) -> Match | None:
    """``phrase`` anywhere in ``text`` (both scoring text), at the surest level it matches."""
    n = len(phrase)
    if not n:
        return None
    start = text.find(phrase)
    while start >= 0:
        if start in cuts and start + n in cuts:
            return Match(start, start + n, EXACT)
        start = text.find(phrase, start + 1)
    for sounds_of, score in ((char_pinyin, HOMOPHONE), (fuzzy_pinyin, FUZZY)):
        sounds, key = sounds_of(text), sounds_of(phrase)
        for i in range(len(text) - n + 1):
            if sounds[i : i + n] == key and i in cuts and i + n in cuts:
                return Match(i, i + n, score)
    budget = edit_budget(n)
    return _approximate(text, phrase, budget) if budget else None


def matches_whole(clause: str, phrase: str) -> float | None:
    """The score of ``clause`` being nothing but ``phrase`` (the curt reply), else None."""
    if not clause or not phrase:
        return None
    if clause == phrase:
        return EXACT
    if char_pinyin(clause) == char_pinyin(phrase):
        return HOMOPHONE
    if fuzzy_pinyin(clause) == fuzzy_pinyin(phrase):
        return FUZZY
    budget = edit_budget(len(phrase))
    if budget and abs(len(clause) - len(phrase)) <= budget:
        found = _approximate(clause, phrase, budget)
        # The whole clause must be the phrase: the alignment covers it but for the edits allowed.
        if found and len(clause) - (found.end - found.start) <= budget:
            return found.score
    return None
