"""How the agent answers, measured per call: hedges, fillers, the silence before an answer, 您.

The guide's 注意事项 9 F (优柔寡断、拖泥带水) is an answer that is 犹犹豫豫，毫无把握. The reply reader
(``pipeline.rules.reader``) decides whether an answer is one; these counts are kept per call as
measures (``answer_measures``, the ``calls`` table) whether or not it does, for analysts to
compare agents. Whisper tidies speech (it drops most 呃 and 嗯), so the filler rate counts only
the fillers it wrote.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.asr.text import for_scoring
from pipeline.lexicon import Lexicon
from pipeline.records import Utterance
from pipeline.rules import CallContext
from pipeline.rules.speech_acts import QUESTION


def is_question(text: str) -> bool:
    return bool(QUESTION.search(text))


@dataclass(frozen=True)
class Answer:
    """The agent's turn that follows what the caller said (a question, a request, a complaint)."""

    question: Utterance  # the caller's last utterance before the agent's turn
    turn: tuple[Utterance, ...]  # the agent's utterances until the caller speaks again

    @property
    def latency(self) -> float:
        return max(0.0, self.turn[0].start - self.question.end)

    @property
    def text(self) -> str:
        return "".join(u.text for u in self.turn)

    @property
    def to_a_question(self) -> bool:
        return is_question(self.question.text)


def agent_answers(ctx: CallContext) -> list[Answer]:
    """Each agent turn that answers the caller within ``answer_window_s``: the agent's utterances
    from the first after a caller's utterance until the caller says something that is not a
    backchannel. The guide's 回答问题 is any reply: a caller's question is often not punctuated as
    one, and a request or a complaint is answered as much as a question is."""
    backchannels = ctx.lexicon["backchannels"]
    speech = sorted((u for u in ctx.utterances if u.scorable), key=lambda u: u.start)
    out = []
    for i, q in enumerate(speech):
        if q.role != "caller" or backchannels.is_whole(q.text):
            continue
        turn: list[Utterance] = []
        for u in speech[i + 1 :]:
            if u.role == "caller":
                if backchannels.is_whole(u.text):
                    continue
                break  # the caller speaks again: the answer is over, or the question was not the last
            if not turn and u.start > q.end + ctx.config.answer_window_s:
                break
            turn.append(u)
        if turn and turn[0].start >= q.start:
            out.append(Answer(q, tuple(turn)))
    return out


@dataclass(frozen=True)
class AnswerMeasures:
    """Per call, whether or not a rule fired (``calls`` columns, docs/warehouse.md)."""

    hedges_per_min: float  # hedges in the agent's speech per minute of it
    fillers_per_min: float
    answer_latency_s: float  # median silence before the agent answers a question (NaN: none asked)
    nin_share: float  # 您 / (您 + 你) in the agent's speech (NaN: neither said)


def answer_measures(
    utterances: Sequence[Utterance], lexicon: Lexicon, answers: Sequence[Answer] = ()
) -> AnswerMeasures:
    agent = [u for u in utterances if u.role == "agent" and u.scorable]
    minutes = sum(u.end - u.start for u in agent) / 60
    text = "".join(u.text for u in agent)
    nin, ni = pronoun_counts(text)
    asked = [a for a in answers if a.to_a_question]
    return AnswerMeasures(
        hedges_per_min=round(lexicon["hedges"].occurrences(text) / minutes, 3) if minutes else float("nan"),
        fillers_per_min=round(lexicon["fillers"].occurrences(text) / minutes, 3) if minutes else float("nan"),
        answer_latency_s=(round(statistics.median(a.latency for a in asked), 3) if asked else float("nan")),
        nin_share=round(nin / (nin + ni), 3) if nin + ni else float("nan"),
    )


# 你 that does not address the caller politely or impolitely: 你们 (the plural has no 您 form in
# ordinary speech), and words that merely contain the character.
_NOT_ADDRESS = re.compile(r"你们|迷你|你我|你追我赶|你争我夺")


def pronoun_counts(text: str) -> tuple[int, int]:
    """(您, 你) in ``text``, the second counting only 你 that addresses one person."""
    clean = _NOT_ADDRESS.sub(" ", for_scoring(text))
    return clean.count("您"), clean.count("你")
