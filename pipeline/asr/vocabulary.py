"""The centre's own words, written as the centre writes them.

Whisper hears the words that matter in this domain as other words with the same sound: 物业 as
乌夜, 屋业 or 午夜, 工号 as 功耗, 保安 as 宝安, 来电 as 来店. These are a closed vocabulary the centre
can list (``lexicons/domain_words.txt``, plus estate and staff names in ``[model] domain_terms``).
A run of characters that sounds exactly like a listed term (toneless pinyin, syllable for
syllable) is written as the term. Only exact sound matches of terms of two characters or more are
replaced, and characters keep their places, so word timings stay valid.

Measured (docs/evaluation.md): CER on the evaluation corpus 0.160 -> 0.143, on the sample share
0.160 -> 0.137, unchanged on the real AISHELL-1 and F5-TTS clips (no listed term in them); with the
building numbers and the vetted list of 72 terms, corpus 0.137 -> 0.126, sample share
0.137 -> 0.130, the real clips again unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pipeline.asr.matching import char_pinyin
from pipeline.records import Word

if TYPE_CHECKING:
    from jieba import Tokenizer


def correct_words(
    words: Sequence[Word], terms: Sequence[str], tokenizer: Tokenizer | None = None
) -> list[Word]:
    """``words`` with every run of characters that sounds like one of ``terms`` written as it
    (longest terms first; a character is rewritten at most once), and building numbers as
    addresses (``correct_building_numbers``).

    With a jieba ``tokenizer``, a run that cuts through a dictionary word is left alone (交那么多
    sounds like 缴纳 followed by 么多, but 那么 is a word the run would cut in two), and so is a run
    that is an everyday word of its own (``EVERYDAY_FREQ``: 不再 is not the listed 不在).
    """
    words = correct_building_numbers(words)
    text = "".join(w.text for w in words)
    if not text or not terms:
        return words
    sounds = char_pinyin(text)
    inside = _inside_words(text, tokenizer) if tokenizer is not None else [False] * (len(text) + 1)
    out, done = list(text), [False] * len(text)
    for term in sorted({t for t in terms if len(t) >= 2}, key=len, reverse=True):
        key, n = char_pinyin(term), len(term)
        for i in range(len(text) - n + 1):
            if (
                sounds[i : i + n] == key
                and text[i : i + n] != term
                and not any(done[i : i + n])
                and not inside[i]
                and not inside[i + n]
                and not (tokenizer is not None and tokenizer.FREQ.get(text[i : i + n], 0) >= EVERYDAY_FREQ)
            ):
                out[i : i + n] = term
                done[i : i + n] = [True] * n
    return _rewritten(words, out)


# A word seen this often in jieba's dictionary is an everyday word: Whisper writing it is taken as
# heard, not as a listed term misheard (不再 for 不在: 6,513; the words that are rewritten, 午夜 for
# 物业 or 交纳 for 缴纳, are seen a few hundred times at most).
EVERYDAY_FREQ = 1000


def _inside_words(text: str, tokenizer: Tokenizer) -> list[bool]:
    """Per position between characters (0 … len): whether it falls inside a dictionary word."""
    inside = [False] * (len(text) + 1)
    for word, start, end in tokenizer.tokenize(text):
        if end - start >= 2 and tokenizer.FREQ.get(word, 0) > 0:
            for k in range(start + 1, end):
                inside[k] = True
    return inside


# Numbers as Whisper writes them before 栋: digits, Chinese numerals, and 几 (几栋几号).
_NUMERALS = frozenset("0123456789０１２３４５６７８９零〇一二两三四五六七八九十百几")
# After a number, dong is a building unless a verb phrase follows: 一动不动, 一动也不动, 一动就响.
_VERB_AFTER = frozenset("不也都就了起着过")
# After a lone 一, dong is 栋 only before an address continues (一栋三单元, 一栋的): 一动 alone is
# "as soon as it moves" as often as it is building one.
_ADDRESS_AFTER = _NUMERALS | frozenset("单楼号的和")


def correct_building_numbers(words: Sequence[Word]) -> list[Word]:
    """``words`` with a character read *dong* after a number written 栋, in place."""
    text = "".join(w.text for w in words)
    if not text:
        return list(words)
    sounds = char_pinyin(text)
    out = list(text)
    for i in range(1, len(text)):
        if sounds[i] != "dong" or text[i] == "栋" or text[i - 1] not in _NUMERALS:
            continue
        following = text[i + 1] if i + 1 < len(text) else ""
        if following in _VERB_AFTER:
            continue
        lone_one = text[i - 1] == "一" and (i < 2 or text[i - 2] not in _NUMERALS)
        if lone_one and following not in _ADDRESS_AFTER:
            continue
        out[i] = "栋"
    return _rewritten(words, out)


def _rewritten(words: Sequence[Word], chars: Sequence[str]) -> list[Word]:
    """``words`` with their characters replaced, one for one, by ``chars``."""
    pieces, at = [], 0
    for w in words:
        piece = "".join(chars[at : at + len(w.text)])
        pieces.append(piece)
        at += len(w.text)
    return [replace(w, text=piece) if piece != w.text else w for w, piece in zip(words, pieces, strict=True)]


def domain_terms(userdict_lines: Sequence[str], extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The terms of a jieba user dictionary (first column) and ``extra`` ones."""
    terms = {line.split()[0] for line in userdict_lines if line.strip() and not line.startswith("#")}
    return tuple(sorted(terms | set(extra), key=lambda t: (-len(t), t)))


def sound_alikes(
    terms: Sequence[str], tokenizer: Tokenizer, limit: int = 6
) -> dict[str, list[tuple[str, int]]]:
    """For each term, the words of jieba's dictionary that sound exactly like it (toneless, syllable
    for syllable), most frequent first, with their frequency. Wherever Whisper writes one of them,
    ``correct_words`` writes the term, unless it is an everyday word (``EVERYDAY_FREQ``): a term
    whose sound-alikes are words a caller says (登记 and 等几) does not belong in the list."""
    wanted = {char_pinyin(t): t for t in terms if len(t) >= 2}
    lengths = {len(k) for k in wanted}
    found: dict[str, list[tuple[str, int]]] = {t: [] for t in wanted.values()}
    for word, freq in tokenizer.FREQ.items():
        if freq and len(word) in lengths and all("\u4e00" <= c <= "\u9fff" for c in word):
            term = wanted.get(char_pinyin(word))
            if term is not None and word != term:
                found[term].append((word, freq))
    return {t: sorted(v, key=lambda wf: (-wf[1], wf[0]))[:limit] for t, v in found.items()}
