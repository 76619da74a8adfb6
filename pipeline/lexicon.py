"""The QA team's phrase lists (``lexicons/*.toml``) and matching against transcripts.

Matching works on scoring text (Simplified, no punctuation) and tolerates homophone ASR errors
(屋业 for 物业) by also comparing toneless pinyin. The lexicon version is a content hash of every
file, stored with each event so results can be traced to the lists that produced them.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from pipeline.asr.text import for_scoring

_LISTS = (
    "greetings",
    "self_intro",
    "closings",
    "backchannels",
    "polite",
    "hallucinations",
    "prompts",
    "hold_notice",
    "hold_apology",
    "agent_language",
    "caller_language",
    "residence",
    "transfer",
    "hedges",
    "fillers",
    "person_request",
    "identity_question",
    "caller_identity",
    "put_through",
)


@lru_cache(maxsize=8192)
def _pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(text))


def _contains_seq(haystack: tuple[str, ...], needle: tuple[str, ...]) -> int:
    """Index of ``needle`` as a contiguous run in ``haystack``, or -1."""
    n = len(needle)
    for i in range(len(haystack) - n + 1):
        if haystack[i : i + n] == needle:
            return i
    return -1


def _syllables(text: str) -> tuple[str, ...]:
    """One toneless syllable per character (a digit or letter stands for itself)."""
    return tuple(_pinyin(ch)[0] if ch.strip() else ch for ch in text)


def without_contexts(clean: str, contexts: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """``clean`` with every occurrence of a context (exactly, or by its ``_syllables``) cut out,
    the two sides kept apart by a space so that no phrase matches across the cut."""
    if not contexts or not clean:
        return clean
    sounds = _syllables(clean)
    cut = [False] * len(clean)
    for context, key in contexts:
        n = len(key)
        for i in range(len(clean) - n + 1):
            if clean[i : i + n] == context or sounds[i : i + n] == key:
                cut[i : i + n] = [True] * n
    return "".join(" " if c else ch for ch, c in zip(clean, cut, strict=True))


@dataclass(frozen=True)
class PhraseList:
    name: str
    phrases: tuple[str, ...]
    # Contexts in which a phrase says something else: 物业 names the centre in an agent's 阳光物业,
    # not in a caller's 物业费. Cut out of the text before matching.
    unless: tuple[str, ...] = ()

    @cached_property
    def _keys(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple((for_scoring(p), _pinyin(for_scoring(p))) for p in self.phrases)

    @cached_property
    def _contexts(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple((c, _syllables(c)) for c in self.unless)

    def _clean(self, text: str) -> str:
        return without_contexts(for_scoring(text), self._contexts)

    def find(self, text: str, *, homophones: bool = True, sound_min_chars: int = 0) -> str | None:
        """The first phrase found in ``text`` (exactly, or by pinyin), else None. By pinyin only
        phrases of ``sound_min_chars`` or more: two syllables sound like too much (房号, 好像)."""
        clean = self._clean(text)
        if not clean:
            return None
        for phrase, _ in self._keys:
            if phrase in clean:
                return phrase
        if homophones:
            sounds = _pinyin(clean)
            for phrase, key in self._keys:
                if len(phrase) >= sound_min_chars and _contains_seq(sounds, key) >= 0:
                    return phrase
        return None

    def count(self, text: str, *, homophones: bool = True) -> int:
        """How many different phrases of this list ``text`` holds (exactly, or by pinyin)."""
        return len(self.sounded_in(text) if homophones else self.found_in(text))

    def occurrences(self, text: str) -> int:
        """How many times ``text`` says a phrase of this list, exactly (each occurrence; longer
        phrases first, so 不太清楚 is one, not also a 清楚)."""
        clean = self._clean(text)
        n = 0
        for phrase in sorted((p for p, _ in self._keys if p), key=len, reverse=True):
            n += clean.count(phrase)
            clean = clean.replace(phrase, " ")
        return n

    def found_in(self, text: str) -> list[str]:
        """The phrases of this list that ``text`` says exactly."""
        clean = self._clean(text)
        return [p for p, _ in self._keys if p and p in clean]

    def sounded_in(self, text: str) -> list[str]:
        """The phrases of this list that ``text`` says exactly or by their toneless pinyin."""
        clean = self._clean(text)
        if not clean:
            return []
        sounds = _pinyin(clean)
        return [p for p, key in self._keys if p and (p in clean or _contains_seq(sounds, key) >= 0)]

    def is_whole(self, text: str) -> bool:
        """``text`` consists of nothing but phrases from this list (e.g. 嗯嗯, 好的好的)."""
        clean = for_scoring(text)
        if not clean:
            return False
        keys = sorted((k for k, _ in self._keys), key=len, reverse=True)
        while clean:
            for key in keys:
                if key and clean.startswith(key):
                    clean = clean[len(key) :]
                    break
            else:
                return False
        return True


@dataclass(frozen=True)
class Lexicon:
    folder: Path
    lists: dict[str, PhraseList]
    version: str

    def __getitem__(self, name: str) -> PhraseList:
        return self.lists[name]

    @property
    def userdict(self) -> Path:
        return self.folder / "domain_words.txt"

    @cached_property
    def domain_terms(self) -> tuple[str, ...]:
        """The terms of the jieba user dictionary (``domain_words.txt``), longest first."""
        from pipeline.asr.vocabulary import domain_terms

        lines = self.userdict.read_text(encoding="utf-8").splitlines() if self.userdict.exists() else []
        return domain_terms(lines)

    def tokenizer(self):
        """A private jieba tokenizer with the domain words (never jieba's global one)."""
        return _tokenizer(str(self.userdict))


@lru_cache(maxsize=4)
def _tokenizer(userdict: str):
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" notices would fill every run's log
    tok = jieba.Tokenizer()
    if Path(userdict).exists():
        tok.load_userdict(userdict)
    return tok


def load_lexicon(folder: Path) -> Lexicon:
    files = sorted(p for p in folder.iterdir() if p.suffix in (".toml", ".txt"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    lists = {}
    for name in _LISTS:
        path = folder / f"{name}.toml"
        with open(path, "rb") as f:
            data = tomllib.load(f)
        unless = tuple(for_scoring(x) for x in data.get("unless", ()))
        lists[name] = PhraseList(name, tuple(data.get("phrases", ())), unless)
    return Lexicon(folder=folder, lists=lists, version=digest.hexdigest()[:12])
