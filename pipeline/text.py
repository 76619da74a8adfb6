"""Chinese text normalisation shared by transcription, rules and evaluation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Half-width punctuation Whisper emits inside Chinese text, and its full-width form.
_FULL_WIDTH = str.maketrans({",": "，", "?": "？", "!": "！", ":": "：", ";": "；", "(": "（", ")": "）"})
_NOT_TEXT = re.compile(r"[^\w]|_", re.UNICODE)


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    """Traditional to Simplified, character by character (zhconv's 'zh-hans', no regional wording)."""
    import zhconv

    return zhconv.convert(text, "zh-hans")


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


def han_count(text: str) -> int:
    return len(_HAN.findall(text))
