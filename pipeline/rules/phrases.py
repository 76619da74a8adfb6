"""``phrase.banned``: replies the etiquette guide forbids, from ``lexicons/banned.toml``.

``contains`` entries match anywhere in an utterance, but only on jieba word boundaries (不在 is not
in 不在乎); ``whole`` entries match only a curt reply that is nothing but the phrase (随便, yes;
随便问一下, no), after stripping fillers and sentence particles. Both also match by pinyin, so a
homophone ASR error (明天再打赖) is still caught, at a lower confidence, and then by "fuzzy" pinyin
(模糊音: -ng as -n, zh/ch/sh as z/c/s, the accent merges an input method also forgives), so 姓名
heard as 信明 is caught too, at a lower confidence still. 您 counts as 你: the polite pronoun does
not make a curt phrase polite.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.records import Event, Utterance
from pipeline.rules import CallContext
from pipeline.text import for_scoring

RULE_ID = "phrase.banned"
VERSION = "1"
_HOMOPHONE_CONFIDENCE = 0.8
_FUZZY_CONFIDENCE = 0.7
_EDGE_FILLERS = re.compile(r"^(?:嗯|啊|哦|呃|额|喂)+|(?:吧|啊|呢|嘛|呀|啦|哦)+$")


@dataclass(frozen=True)
class BannedPhrase:
    phrase: str
    category: str
    role: str
    match: str  # contains | whole


@lru_cache(maxsize=4)
def load_banned(folder: str, version: str) -> tuple[BannedPhrase, ...]:
    """The banned list; ``version`` (the lexicon hash) keys the cache so an edit is picked up."""
    with open(Path(folder) / "banned.toml", "rb") as f:
        entries = tomllib.load(f).get("phrase", [])
    out = []
    for e in entries:
        if e.get("match", "contains") not in ("contains", "whole"):
            raise ValueError(f"banned.toml: match must be contains or whole, not {e.get('match')!r}")
        out.append(
            BannedPhrase(
                for_scoring(e["phrase"]), e["category"], e.get("role", "agent"), e.get("match", "contains")
            )
        )
    return tuple(out)


@lru_cache(maxsize=16384)
def _char_pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(c)[0] if c.strip() else c for c in text)


def _fuzzy(syllable: str) -> str:
    for retroflex in ("zh", "ch", "sh"):
        if syllable.startswith(retroflex):
            syllable = syllable[0] + syllable[2:]
            break
    return syllable[:-1] if syllable.endswith("ng") and len(syllable) > 2 else syllable


@lru_cache(maxsize=16384)
def _fuzzy_pinyin(text: str) -> tuple[str, ...]:
    return tuple(_fuzzy(p) for p in _char_pinyin(text))


def _boundaries(text: str, tokenizer) -> set[int]:
    cuts, pos = {0}, 0
    for token in tokenizer.lcut(text):
        pos += len(token)
        cuts.add(pos)
    return cuts


def _find(text: str, phrase: str, cuts: set[int]) -> tuple[int, float] | None:
    """(start index, confidence) of ``phrase`` in ``text`` on word boundaries, exact or by pinyin."""
    n = len(phrase)
    start = text.find(phrase)
    while start >= 0:
        if start in cuts and start + n in cuts:
            return start, 1.0
        start = text.find(phrase, start + 1)
    for sounds_of, confidence in ((_char_pinyin, _HOMOPHONE_CONFIDENCE), (_fuzzy_pinyin, _FUZZY_CONFIDENCE)):
        sounds, key = sounds_of(text), sounds_of(phrase)
        for i in range(len(text) - n + 1):
            if sounds[i : i + n] == key and i in cuts and i + n in cuts:
                return i, confidence
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


def banned_phrases(ctx: CallContext) -> list[Event]:
    if not ctx.roles_trusted:
        return []
    entries = load_banned(str(ctx.lexicon.folder), ctx.lexicon.version)
    tokenizer = ctx.lexicon.tokenizer()
    events = []
    for u in ctx.utterances:
        if not u.scorable:
            continue
        text = for_scoring(u.text).replace("您", "你")
        cuts = _boundaries(text, tokenizer)
        bare = _EDGE_FILLERS.sub("", text)
        for entry in entries:
            if entry.role != u.role:
                continue
            if entry.match == "whole":
                if bare == entry.phrase:
                    found = (text.find(bare), 1.0)
                elif _char_pinyin(bare) == _char_pinyin(entry.phrase):
                    found = (text.find(bare), _HOMOPHONE_CONFIDENCE)
                elif _fuzzy_pinyin(bare) == _fuzzy_pinyin(entry.phrase):
                    found = (text.find(bare), _FUZZY_CONFIDENCE)
                else:
                    found = None
            else:
                found = _find(text, entry.phrase, cuts)
            if found is None:
                continue
            start, end = _span(u, found[0], len(entry.phrase))
            events.append(
                ctx.event(
                    RULE_ID,
                    VERSION,
                    start=start,
                    end=end,
                    evidence=u.text,
                    category=entry.category,
                    severity="major",
                    role=u.role,
                    confidence=ctx.roles.confidence * found[1],
                )
            )
    return events
