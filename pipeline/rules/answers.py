"""How the agent answers: 优柔寡断、拖泥带水 (注意事项 9 F) and the measures behind it.

The guide's F is an answer that is 犹犹豫豫，毫无把握: hedged (可能, 好像, 应该吧, 我也不太清楚),
padded with fillers (呃, 那个那个), or long in coming. Whisper tidies speech (it drops most 呃 and
嗯), so the hedges carry the evidence; a filler it did write, and a long silence before the answer,
add to it. The same counts are kept per call as measures (``answer_measures``) whether or not the
rule fires, for analysts to compare agents.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.asr.text import for_scoring
from pipeline.lexicon import Lexicon
from pipeline.records import Event, Utterance
from pipeline.rules import CallContext

VERSION = "1"

# A caller's question: a question mark, or the particles and words Mandarin asks with. Whisper
# punctuates most questions; the words catch the rest (电梯年检是哪一天 came out unpunctuated).
_QUESTION = re.compile(r"[？?]|吗|嘛|呢$|什么|怎么|为什么|多少|几|哪|能不能|可不可以|是不是|有没有|行不行")


# Correcting oneself mid-answer (两点，不对，三点): a clause, between punctuation or pauses in the word
# timings (Whisper leaves many answers unpunctuated), that is nothing but 不对 or 哦不. Said to the
# caller (不对，您的费用是…) it starts the answer, and is not counted.
_SELF_CORRECTIONS = frozenset({"不对", "哦不对", "噢不对", "噢不", "哦不", "不是不是"})


def self_corrections(turn: Sequence[Utterance]) -> list[str]:
    from pipeline.rules.phrases import ScoringText

    found = []
    for i, u in enumerate(turn):
        read = ScoringText.of(u)
        for j, (a, b) in enumerate(read.clauses):
            if (i or j) and read.text[a:b] in _SELF_CORRECTIONS:
                found.append(read.text[a:b])
    return found


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


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


def hesitation_unsure(ctx: CallContext) -> list[Event]:
    """优柔寡断: an answer with ``hesitation_min_cues`` hedges and fillers, or with one and a
    silence of ``hesitation_latency_s`` before it."""
    if not ctx.roles_trusted:
        return []
    hedges, fillers = ctx.lexicon["hedges"], ctx.lexicon["fillers"]
    events = []
    for answer in agent_answers(ctx):
        text = answer.text
        corrections = self_corrections(answer.turn)
        cues = hedges.occurrences(text) + fillers.occurrences(text) + len(corrections)
        slow = answer.to_a_question and answer.latency >= ctx.config.hesitation_latency_s
        if cues < ctx.config.hesitation_min_cues and not (slow and cues >= 1):
            continue
        found = hedges.found_in(text) + fillers.found_in(text) + corrections
        wait = f"，停顿 {answer.latency:.1f} 秒后回答" if slow else ""
        events.append(
            ctx.event(
                "hesitation.unsure",
                VERSION,
                start=answer.turn[0].start,
                end=answer.turn[-1].end,
                evidence=f"{text}〔{'、'.join(found)}{wait}〕（问：{answer.question.text}）",
                severity="minor",
            )
        )
    return events


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
