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
from pipeline.rules.speech_acts import QUESTION, clause_text

# 2: doubt read from the shape of the answer too (_DOUBT); 3: two answers and not knowing in more
# shapes (二十还是三十, 两天三天, 不是特别确定).
VERSION = "3"


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


# Doubt in the shape of the answer, beyond the hedges and fillers of the lists (the guide
# benchmark's sixth development wording, written blind, read at R 0.23 on the lists alone):
# - not knowing, in any words: 不清楚, 不晓得, 没个定论, 说不上来, 闹不清, 打不了保票, 没法给您准话,
#   我这边没看到, 摸不着头脑;
# - two answers at once: 本月……还是下个月？, 三十？五十？, 三百多或者四百, 有的楼让封，有的楼不让, 又似乎不用;
# - the answer put off or handed back: 到时候再说, 您再打听打听, 您回头再问问, 您看着办, 您觉得咋样;
# - trailing off (……, ...), where Whisper writes it.
# Each shape counts once per answer: the lists' own phrases are cut out first, so 不清楚 found by
# hedges.toml is not counted again.
_NUMBER = r"[0-9一二两俩三四五六七八九十百千半几]"
_DOUBT = {
    "not knowing": re.compile(
        r"(不|没)(太|大|怎么|是很|很|是太|大能|是特别|特别|是那么|那么|是十分|是非常)?"
        r"(清楚|知道|确定|了解|记得|晓得|明白|留意|注意|细看|有数|谱|定论|准信|个准|个数)|"
        r"晓不得|(说|讲|记|搞|弄|闹|整|摸|想|判断|拿|吃)不(太|大)?(清|准|明白|全|着|上来|出来|起|灵清|懂|透|定)|"
        r"判断不了|(打|给)不了(保票|包票|准话)|心里没底|没个(准|定|数|谱|硬)|"
        r"(没法|没办法|不能)给(您|你)?个?(准话|保票|包票|准信)|(我|这边)[^，。？！]{0,3}没(看到|看见|查到)"
    ),
    # Two answers where Whisper wrote no question mark: two figures offered for one (二十还是三十,
    # 五块一个小时，还是三块, 两天三天, 两天，三天), a thing and its opposite (改了还是没改), the quick
    # case and the slow (快的话两三天，慢的话一两个礼拜). An agent asking the caller to choose (您是要一张
    # 还是两张) is a question, not doubt: ``doubt_shapes`` leaves a clause that addresses the caller.
    "two answers": re.compile(
        r"还是[^，。？！]{1,8}？|？[^，。？！]{1,6}？|有(时候|的)[^。？！]{1,12}有(时候|的)|"
        r"也有[^。？！]{1,12}也有|又(似乎|好像|说|有人说)|抑或|一会儿[^。？！]{1,10}一会儿|"
        rf"{_NUMBER}[^。？！]{{0,6}}(还是|或者|或是){_NUMBER}(?![^，。？！]{{0,6}}都)|"
        rf"(?P<n>{_NUMBER}+)(?P<unit>[\u4e00-\u9fff])[，、]?(?!(?P=n)(?P=unit)){_NUMBER}+(?P=unit)(?![^，。？！]{{0,6}}都)|"
        r"(?P<verb>[\u4e00-\u9fff])了?还是(没|不)(?P=verb)|(快|早|多|长)的(话|花)[^。？！]{1,14}(慢|晚|少|短)的(话|花)"
    ),
    "put off": re.compile(
        r"(到时候|回头|以后)再说|到时候(再)?看|再说(吧|呗|。|！|$)|"
        r"(您|你)(到时候|回头|再|自己|先)*(打听打听|问问|看着办|掂量)|"
        r"(您|你)觉得(咋样|呢)|(您|你)说是不"
    ),
    "trailing off": re.compile(r"……|\.\.\."),
}


def doubt_shapes(text: str, lex: Lexicon, *, but: tuple[str, ...] = ()) -> list[str]:
    """The shapes of doubt (``_DOUBT``) in an answer, each at most once, not counting what the
    hedges and fillers lists already found; ``but`` names shapes not to read."""
    read = clause_text(text)
    for phrase in lex["hedges"].found_in(text) + lex["fillers"].found_in(text):
        read = read.replace(phrase, " " * len(phrase))
    found = []
    for name, shape in _DOUBT.items():
        if name in but:
            continue
        for m in shape.finditer(read):
            if name == "two answers" and _ASKS_THE_CALLER.search(_clause_before(read, m.start())):
                continue
            found.append(m.group(0))
            break
    return found


# A clause that asks the caller to choose (您是要一张还是两张, 你家是三号楼还是五号楼).
_ASKS_THE_CALLER = re.compile(r"您|你(?!们)|是要|要不要")


def _clause_before(text: str, at: int) -> str:
    """The clause of ``text`` up to ``at``: from the last punctuation before it."""
    start = max(text.rfind(p, 0, at) for p in "，。？！；、,.?!;")
    return text[start + 1 : at]


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
        shapes = doubt_shapes(text, ctx.lexicon)
        # A hedge Whisper misheard is read by its sound (浩箱 for 好像, 古迹 for 估计, 来者 for 来着):
        # TTS and real voices alike lose a third of the hedges of an unsure answer to homophones.
        sounded = hedges.sounded_in(text)
        heard = max(hedges.occurrences(text), len(sounded))
        cues = heard + fillers.occurrences(text) + len(corrections) + len(shapes)
        slow = answer.to_a_question and answer.latency >= ctx.config.hesitation_latency_s
        if cues < ctx.config.hesitation_min_cues and not (slow and cues >= 1):
            continue
        found = (hedges.found_in(text) or sounded) + fillers.found_in(text) + corrections + shapes
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
