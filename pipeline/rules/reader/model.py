"""The reply reader's model: character n-grams of a reply and of the caller's words before it,
weighed by a logistic regression per reply kind.

Input: the caller's last words before the reply (``""`` where none) and the agent's reply, as
Whisper wrote them. Output: for each kind of reply the guide asks about (``READS``), the
probability that the reply is that kind, and the reply's n-grams that weighed most towards it.

The features are scikit-learn's ``TfidfVectorizer(analyzer="char", sublinear_tf=True)`` computed
here in plain Python from the committed vocabulary and idf (the run never imports scikit-learn):
whitespace runs become one space, text is lower-cased, each n-gram's count ``c`` becomes
``(1 + ln c) * idf``, and each of the two vectors is scaled to unit length.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.config import ROOT

MODEL_PATH = ROOT / "models" / "reply-reader" / "reply-reader.json"

# What each learned rule reads: the reply kind it was trained to find, as the guide benchmark's
# wordings label it (section, field of data/call_scripts/bench/guide-*.yaml).
READS: dict[str, tuple[str, str]] = {
    "hesitation.unsure_learned": ("qa", "hesitant"),
    "message.not_offered_learned": ("absent", "bare"),
    "refusal.no_apology_learned": ("refusals", "flat"),
}

_SPACES = re.compile(r"\s\s+")
_WORDS = re.compile(r"\w{2,}")


def char_ngrams(text: str, low: int, high: int) -> Counter[str]:
    """The character n-grams of ``text`` from ``low`` to ``high`` long, as scikit-learn's char
    analyzer counts them."""
    text = _SPACES.sub(" ", text.lower())
    return Counter(text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1))


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one reply for one kind."""

    probability: float
    # The reply's words that pushed most towards the kind: its n-grams of two or more characters
    # without punctuation, heaviest first, none inside another listed (single characters and
    # punctuation weigh too, but say nothing to a reader): the finding's evidence.
    weighed: tuple[str, ...]


class _Side:
    """One of the two texts (reply, caller): its vocabulary, idf and n-gram range."""

    def __init__(self, spec: dict) -> None:
        self.low, self.high = spec["ngrams"]
        self.vocabulary: list[str] = spec["vocabulary"]
        self.index = {g: i for i, g in enumerate(self.vocabulary)}
        self.idf = spec["idf"]

    def vector(self, text: str) -> dict[int, float]:
        weights = {
            self.index[g]: (1.0 + math.log(c)) * self.idf[self.index[g]]
            for g, c in char_ngrams(text, self.low, self.high).items()
            if g in self.index
        }
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        return {i: v / norm for i, v in weights.items()}


class ReplyReader:
    """The committed model (``models/reply-reader/reply-reader.json``, written by
    ``python -m pipeline.rules.reader.train``)."""

    def __init__(self, model: dict, version: str = "") -> None:
        # The model file's sha256, shortened: part of each finding's rule_version, so that a
        # finding says which weights read it ("" for a model never written to a file).
        self.version = version
        self.trained_on: tuple[str, ...] = tuple(model["trained_on"])
        self.reply = _Side(model["reply"])
        self.caller = _Side(model["caller"])
        self.kinds: dict[str, dict] = model["kinds"]

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ReplyReader:
        return _load(str(path))

    def read(self, kind: str, caller: str, reply: str, *, explain: int = 3) -> Reading:
        """What the reader makes of ``reply`` for one kind (``READS``)."""
        return self.read_all(caller, reply, kinds=(kind,), explain=explain)[kind]

    def read_all(
        self, caller: str, reply: str, *, kinds: tuple[str, ...] | None = None, explain: int = 3
    ) -> dict[str, Reading]:
        """What the reader makes of ``reply`` for each kind, its n-grams counted once."""
        reply_x, caller_x = self.reply.vector(reply), self.caller.vector(caller)
        out = {}
        for kind in kinds or tuple(self.kinds):
            weights = self.kinds[kind]
            by_reply = {i: v * weights["reply"][i] for i, v in reply_x.items()}
            z = weights["intercept"] + sum(by_reply.values())
            z += sum(v * weights["caller"][i] for i, v in caller_x.items())
            weighed: list[str] = []
            for i, push in sorted(by_reply.items(), key=lambda kv: -kv[1]):
                if push <= 0 or len(weighed) == explain:
                    break
                gram = self.reply.vocabulary[i]
                if _WORDS.fullmatch(gram) and not any(gram in w or w in gram for w in weighed):
                    weighed.append(gram)
            out[kind] = Reading(1.0 / (1.0 + math.exp(-z)), tuple(weighed))
        return out


@lru_cache(maxsize=2)
def _load(path: str) -> ReplyReader:
    data = Path(path).read_bytes()
    return ReplyReader(json.loads(data), version=hashlib.sha256(data).hexdigest()[:12])
