"""Chinese text normalisation shared by transcription, rules and evaluation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A silence between two words this long ends a clause, as a comma would (phrase matching and the
# mono hand-over split read clauses the same way).
CLAUSE_PAUSE_S = 0.35
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Half-width punctuation Whisper emits inside Chinese text, and its full-width form.
_FULL_WIDTH = str.maketrans({",": "，", "?": "？", "!": "！", ":": "：", ";": "；", "(": "（", ")": "）"})
_NOT_TEXT = re.compile(r"[^\w]|_", re.UNICODE)


# 著 is both Traditional for the particle 着 (提著, 等著) and a Simplified character of its own
# (著名, 显著). Whisper writes the particle as 著, and zhconv keeps it wherever its phrase table
# has no entry: every 著 outside these words is the particle.
_ZHU_WORD = re.compile("著(?=[名作称述书者录])|(?<=[显名原土卓昭编专论巨合遗译撰拙])著")


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    """Traditional to Simplified (zhconv's 'zh-cn', the mainland's words), with the particle 著 as 着."""
    import zhconv

    text = zhconv.convert(text, "zh-cn")
    if "著" not in text:
        return text
    return "".join("着" if c == "著" and not _ZHU_WORD.match(text, i) else c for i, c in enumerate(text))


def to_full_width_punctuation(text: str) -> str:
    """Consistent Chinese punctuation: full-width after Han characters, '.' as '。' only after Han."""
    text = text.translate(_FULL_WIDTH)
    return re.sub(r"(?<=[\u4e00-\u9fff])\.", "。", text)


def normalize_transcript(text: str) -> str:
    """What the transcription stage stores: Simplified, full-width punctuation, no stray spaces."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = to_simplified(text)
    text = re.sub(r"(?<=[\u4e00-\u9fff，。？！：；])\s+|\s+(?=[\u4e00-\u9fff，。？！：；])", "", text)
    return to_full_width_punctuation(text)


def strip_punctuation(text: str) -> str:
    """Letters, digits and Han characters only: the form rules and CER work on."""
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text))


def for_scoring(text: str) -> str:
    """AISHELL-style scoring text: Simplified, punctuation and spaces removed, Latin lower-cased."""
    return strip_punctuation(to_simplified(text)).lower()


# Numbers: Whisper writes 12 where a speaker said 一二 (or 十二), 2026 for 二零二六, 50% for 百分之五十;
# references are written in characters. Both become Arabic digits, so a number is one token
# whichever way it was written (AISHELL-style scoring normalises numbers the same way).
_DIGIT_VALUE = dict(zip("零〇一幺二两三四五六七八九", (0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_DIGIT_VALUE.update({str(d): d for d in range(10)})
_SMALL_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG_UNIT = {"万": 10**4, "亿": 10**8}
# A number starts with a digit or 十 (十二); 万/千 alone (万一, 千万别) are words, not numbers.
_NUMERAL_RUN = re.compile(
    r"(?:百分之)?[0-9零〇一幺二两三四五六七八九十][0-9零〇一幺二两三四五六七八九十百千万亿]*"
)


def _numeral_value(run: str) -> str:
    """The Arabic form of one run of numerals: digit by digit without units (一二 -> 12,
    幺三八 -> 138), positional with them (二十三 -> 23, 一百零五 -> 105, 三万五 -> 35000)."""
    if not any(c in _SMALL_UNIT or c in _BIG_UNIT for c in run):
        return "".join(str(_DIGIT_VALUE[c]) for c in run)
    total = section = 0
    digit: int | None = None
    last_unit, after_unit = 1, False
    for c in run:
        if c in _DIGIT_VALUE:
            digit = _DIGIT_VALUE[c] if digit is None or after_unit else digit * 10 + _DIGIT_VALUE[c]
            after_unit = False
            if c in "零〇":
                last_unit = 1  # 一百零五: the 5 is units, not tens
        elif c in _SMALL_UNIT:
            section += (1 if digit is None else digit) * _SMALL_UNIT[c]
            digit, last_unit, after_unit = None, _SMALL_UNIT[c], True
        else:  # 万, 亿
            total = (total + section + (digit or 0)) * _BIG_UNIT[c]
            section, digit, last_unit, after_unit = 0, None, _BIG_UNIT[c], True
    if digit is not None:
        # 一百五 is 150 and 三万五 35000: a bare digit right after a unit counts a tenth of it.
        section += digit * (last_unit // 10 if last_unit >= 100 and not after_unit else 1)
    return str(total + section)


def normalize_numbers(text: str) -> str:
    """Every number as Arabic digits, however it was written or read (for comparing texts)."""

    def arabic(m: re.Match[str]) -> str:
        return _numeral_value(m.group().removeprefix("百分之"))

    return _NUMERAL_RUN.sub(arabic, unicodedata.normalize("NFKC", text))


def for_cer(text: str) -> str:
    """The text character error rates are computed on: :func:`for_scoring` with every number in
    Arabic digits (12 and 一二 are the same two characters)."""
    return normalize_numbers(for_scoring(text))


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


_DIGIT = re.compile(r"[0-9０-９]")


def spoken_count(text: str) -> int:
    """Syllables said, as a speaking rate counts them: Han characters, and a digit for each one
    Whisper writes in Arabic numerals (十二点 comes out as 12点 in one decode and as 十二点 in the
    next; a rate of Han characters alone then moved with how the number was written, E004's
    agent 5.5 -> 5.4 字/秒, under the pace threshold)."""
    return han_count(text) + len(_DIGIT.findall(text))
