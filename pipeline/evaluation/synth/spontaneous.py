"""Spontaneous speech: a scripted sentence as people say it on the telephone.

Read sentences are fluent; agents and callers are not. ``spoken`` rewrites a sentence one of the
ways speech departs from its script:

- a filler at its start or after its first phrase (嗯、呃、啊、那个、就是);
- a repeated word (我想问一下 → 我，我想问一下);
- a false start: a few syllables, a filler, then the sentence (楼下的，呃，楼下的草坪刚打过药);
- a self-correction: a start, then 不是 / 不对 / 我是说, then the sentence.

The truth keeps what was said, fillers and all, so the CER counts what Whisper leaves out (it
writes fluent text), and the rules read what a real call would give them.
"""

from __future__ import annotations

import re

import numpy as np

FILLERS = ("嗯", "呃", "啊", "那个", "就是")
CORRECTIONS = ("不是", "不对", "我是说")
WAYS = ("filler", "repeat", "false_start", "correction")
_OPENING = re.compile(r"^[\u4e00-\u9fff]+")


def spoken(text: str, rng: np.random.Generator, way: str | None = None) -> str:
    """``text`` said one of ``WAYS`` (drawn from ``rng`` unless given)."""
    if way is None:
        way = WAYS[int(rng.integers(len(WAYS)))]
    if way not in WAYS:
        raise ValueError(f"way must be one of {WAYS}, not {way!r}")
    head = _OPENING.match(text)
    syllables = len(head.group(0)) if head else 0
    if way in ("false_start", "correction") and syllables < 3:
        way = "repeat"  # 喂，物业。 has no start to go back on
    if way == "repeat" and syllables < 1:
        way = "filler"
    if way == "filler":
        filler = FILLERS[int(rng.integers(len(FILLERS)))]
        first, comma, rest = text.partition("，")
        if comma and rest and rng.random() < 0.5:
            return f"{first}，{filler}，{rest}"
        return f"{filler}，{text}"
    if way == "repeat":
        n = min(syllables, int(rng.integers(1, 3)))
        return f"{text[:n]}，{text}"
    n = int(rng.integers(2, min(4, syllables - 1) + 1))
    if way == "false_start":
        return f"{text[:n]}，{FILLERS[int(rng.integers(2))]}，{text}"
    return f"{text[:n]}，{CORRECTIONS[int(rng.integers(len(CORRECTIONS)))]}，{text}"
