"""Whether the sound of an agent's opening holds a greeting that its words missed.

Whisper loses a call's first syllable more than any other: with no words before it to lean on, on a
degraded line (AMR, Opus, G.723.1, MP3, clipping) the agent's 您好 comes out as 引号, 1号, 也好, 遗憾
or 靠, and ``greeting.missing`` would charge an agent who greeted. Decoding the opening again would
only repeat the guess. Instead the model is asked a narrower question, with the opening's audio
fixed: is a reading that starts with a greeting about as likely as the best reading without one?

Each reading is scored by teacher forcing (the probability Whisper gives each of its tokens, the
tokens before it given; CTranslate2's ``align``, which faster-whisper's word timestamps use), no
search. The readings are the decoded words of the opening with their first 0-3 characters taken
away (what Whisper may have made of a greeting, or of nothing), and the same with 您好 or 你好 put
in their place. Where the agent said 喂 or 物业 the greeting readings lose by 6-23 nats on the
development part (they must explain sounds that are not there); where the agent said 您好 and the
words lost it, they won by 0.2-8.9 there, but lost by 4-12 on most of the test part's lost
greetings, which stay flagged (``docs/evaluation.md``, "A greeting the words missed").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pipeline.records import GreetingHearing, Utterance

GREETINGS = ("您好", "你好")
# How many of the opening's first characters a greeting may have been heard as (引号, 1号, 靠).
REPLACED_MAX = 3
# How much of the opening is read: its words that start within this many seconds of its start.
OPENING_S = 3.0
# Audio kept around those words (the first syllable's onset is often a little before its time).
PAD_S = 0.2
_NOT_SPOKEN = re.compile(r"[，。？！、,.?!\s]")

ReadingScorer = Callable[[Sequence[float], Sequence[str]], list[float]]


def readings(words: str) -> tuple[list[str], list[str]]:
    """The readings of an opening whose words are ``words``: without a greeting (the words with
    their first 0-3 characters taken away) and with one (您好 / 你好 in their place)."""
    text = _NOT_SPOKEN.sub("", words)
    cuts = range(min(REPLACED_MAX, len(text) - 1) + 1) if text else range(1)
    without = list(dict.fromkeys(text[j:] for j in cuts if text[j:]))
    with_greeting = list(dict.fromkeys(g + text[j:] for g in GREETINGS for j in cuts))
    return without, with_greeting


def greeting_margin(samples: Sequence[float], words: str, score: ReadingScorer) -> float:
    """The margin of the best greeting reading of ``samples`` (the opening's audio) over the best
    reading without one, each scored by ``score`` (summed token log-probabilities; the
    transcriber's ``reading_logprobs``). No words: no reading to compare, -inf."""
    without, with_greeting = readings(words)
    if not without:
        return float("-inf")
    scores = score(samples, [*without, *with_greeting])
    return max(scores[len(without) :]) - max(scores[: len(without)])


def hear_greeting(
    samples: Sequence[float], opening: Utterance, score: ReadingScorer, sample_rate: int = 16000
) -> GreetingHearing:
    """What the sound of ``opening`` (an utterance of the call whose audio is ``samples``: the
    agent's channel, or the mono mix) says of a greeting its words do not hold: its words that
    start in its first ``OPENING_S`` seconds, and their audio, read both ways."""
    words = [w for w in opening.words if w.start < opening.start + OPENING_S]
    if words:
        text, end = "".join(w.text for w in words), max(w.end for w in words)
    else:
        text, end = opening.text, min(opening.end, opening.start + OPENING_S)
    first = max(0, int((opening.start - PAD_S) * sample_rate))
    last = int((end + PAD_S / 2) * sample_rate)
    return GreetingHearing(opening.start, greeting_margin(samples[first:last], text, score))
