"""The guide benchmark: calls built around the guide's later clauses, for the rules in shadow mode.

Each call opens with a greeting and the caller's reason, then holds two to four of these moments,
each either done as the guide asks or not (the label):

- the caller asks a question; the agent answers clearly, or hesitantly
  (``hesitation.unsure_learned``: hedges, fillers, and sometimes a long pause before the answer);
- the caller asks for a colleague who is absent; the agent offers to take a message, or just says
  they are not there (``message.not_offered_learned``);
- the caller asks for something the centre cannot do; the agent apologises first, or refuses
  flatly (``refusal.no_apology_learned``);
- the caller needs another department; the agent asks who is calling and then puts them through,
  or puts them through at once (``transfer.no_identity``); this ends the call;

and in some calls the agent says 你 where the guide asks 您, all call long (``courtesy.ni``).

The wording comes from ``data/call_scripts/bench/guide-<part>.yaml``. The two halves were written
apart: ``guide-test.yaml`` by someone who had not seen the rules' phrase lists (``lexicons/``)
nor the development half, so its wording tests the lists rather than echoing them. Voices are
drawn as in the floor benchmark (``generate.py``), from the part's own pool.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from pipeline.config import ROOT
from pipeline.evaluation.synth.generate import PARTS, GeneratorOptions, _dominant, _Timeline, _voice
from pipeline.evaluation.synth.script import CallScript, ScriptLine

# The rules of the moments (the first three, the reply reader's: pipeline.rules.reader; their
# phrase-list readings, labelled in truths written before 2026-12-07, were retired then).
GUIDE_RULES = (
    "hesitation.unsure_learned",
    "courtesy.ni",
    "message.not_offered_learned",
    "refusal.no_apology_learned",
    "transfer.no_identity",
)
MOMENTS = ("qa", "absent", "refusals", "transfers")
# What a guide call's truth scores: voice.flat too, true only of a call rendered with a flat agent
# (``flat_agent``), so every natural rendered voice it flags is a false finding.
SCORED_GUIDE_RULES = (*GUIDE_RULES, "voice.flat")
# A flat agent's voice keeps this share of its pitch movement (synth.flatten): the benchmark's
# voices range 6.9-12.6 semitones over a call, so 1.7-3.2 flattened, as flat as the flattest real
# read measured (a news read, 2.6; docs/rules.md, voice.flat).
FLAT_KEEP = 0.25


# The wordings the rules may be tuned on (data/call_scripts/bench/): written for tuning, or held
# out, read once and then looked at. The held-out wording still unread is none of these.
DEVELOPMENT_WORDINGS = (
    "guide-dev.yaml",
    "guide-dev-text.yaml",
    "guide-dev-text4.yaml",
    "guide-dev-text5.yaml",
    "guide-dev-text6.yaml",
    "guide-test.yaml",
    "guide-test2.yaml",
    "guide-test3.yaml",
    "guide-test4.yaml",
)
# The wordings no longer held out: the development wordings and the held-out wordings already read
# once (their figures are in docs/evaluation.md), whether or not their misses were looked at. The
# rules' lists are tuned on DEVELOPMENT_WORDINGS only; the reply reader (pipeline.rules.reader)
# learns from all of these.
READ_WORDINGS = (*DEVELOPMENT_WORDINGS, "guide-test5.yaml", "guide-test6.yaml", "guide-test7.yaml")


def guide_bank_path(part: str) -> Path:
    return ROOT / "data" / "call_scripts" / "bench" / f"guide-{part}.yaml"


def load_guide_bank(part: str, path: Path | None = None) -> dict:
    import yaml

    with open(path or guide_bank_path(part), encoding="utf-8") as f:
        return yaml.safe_load(f)


def impolite(text: str) -> str:
    """The agent's line as an agent who says 你 where the guide asks 您."""
    return text.replace("您", "你")


def compose_guide_call(
    index: int,
    part: str,
    bank: dict,
    durations: Callable[[str, str, float], float],
    opts: GeneratorOptions | None = None,
    seed: int = 0,
    *,
    violation: float = 0.5,
    says_ni: float = 0.25,
    flat_agent: float = 0.0,
) -> CallScript:
    """One guide call of ``part`` (the same arguments give the same call); ``violation`` is how
    often a moment goes against the guide, ``says_ni`` how often the agent says 你 all call,
    ``flat_agent`` how often the agent's voice is flattened (``FLAT_KEEP``; drawn apart, so the
    calls are the same whatever it is)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}")
    opts = opts or GeneratorOptions()
    rng = np.random.default_rng([seed, 7, PARTS.index(part), index])

    def pick(key: str):
        items = bank[key]
        return items[int(rng.integers(len(items)))]

    agent_voice, caller_voice = _voice(rng, part, opts), _voice(rng, part, opts)
    while _dominant(caller_voice) == _dominant(agent_voice):
        caller_voice = _voice(rng, part, opts)
    flat = bool(np.random.default_rng([seed, 11, PARTS.index(part), index]).random() < flat_agent)
    if flat:
        agent_voice = f"{agent_voice}~{FLAT_KEEP}"
    voices = {
        "agent": (agent_voice, round(float(rng.uniform(*opts.speed_range)), 2)),
        "caller": (caller_voice, round(float(rng.uniform(*opts.speed_range)), 2)),
    }
    rude = bool(rng.random() < says_ni)
    expect: set[str] = {"courtesy.ni"} if rude else set()
    if flat:
        expect.add("voice.flat")
    lead_in = round(float(rng.uniform(0.5, 1.8)), 2)
    tl = _Timeline(lead_in=lead_in, end=lead_in)

    def say(role: str, text: str, gap: float | None = None) -> None:
        if role == "agent" and rude:
            text = impolite(text)
        voice, speed = voices[role]
        line = ScriptLine(role, text, voice, speed)
        if gap is None:
            gap = float(rng.uniform(0.3, 0.9))
        start = tl.lead_in if not tl.placed else tl.end + gap
        tl.add(start, line, durations(text, voice, speed))

    say("agent", pick("greetings"))
    say("caller", pick("caller_openings"))
    # Two to four moments; a question at least once (answers are the commonest moment of all).
    others = [str(m) for m in rng.permutation(["absent", "refusals", "transfers"])]
    chosen = ["qa", *others[: int(rng.integers(1, 4))]]
    if rng.random() < 0.4:
        chosen.append("qa")
    order = [m for m in chosen if m != "transfers"]
    order = [order[i] for i in rng.permutation(len(order))] + (["transfers"] if "transfers" in chosen else [])
    used: set[str] = set()
    for moment in order:
        item = pick(moment)
        while moment == "qa" and item["question"] in used:
            item = pick(moment)
        against = bool(rng.random() < violation)
        if moment == "qa":
            used.add(item["question"])
            say("caller", item["question"])
            if against:
                # An unsure answer is often a slow one: a pause of 1-4 s before it, half the time.
                pause = float(rng.uniform(1.0, 4.0)) if rng.random() < 0.5 else None
                say("agent", item["hesitant"], gap=pause)
                expect.add("hesitation.unsure_learned")
            else:
                say("agent", item["clear"])
        elif moment == "absent":
            say("caller", item["ask"])
            say("agent", item["bare"] if against else item["offer"])
            if against:
                expect.add("message.not_offered_learned")
                say("caller", "哦，那好吧。")
            else:
                say("caller", "好的，麻烦你了。")
        elif moment == "refusals":
            say("caller", item["request"])
            say("agent", item["flat"] if against else item["polite"])
            if against:
                expect.add("refusal.no_apology_learned")
        else:
            say("caller", item["request"])
            if against:
                say("agent", item["blind"])
                expect.add("transfer.no_identity")
            else:
                say("agent", item["ask_identity"])
                say("caller", item["caller_identity"])
                say("agent", item["put_through"])
    if "transfers" not in chosen:
        say("agent", pick("closings_agent"))
        say("caller", pick("closings_caller"))
    prefix = "GD" if part == "dev" else "GT"
    return CallScript(
        call_id=f"{prefix}{index:04d}",
        agent_id=f"A{(500 if part == 'dev' else 600) + int(rng.integers(1, 9))}",
        started_at=datetime(2026, 11, 30, 8, 30) + timedelta(days=int(rng.integers(0, 5)), minutes=9 * index),
        lines=tl.lines(),
        share_format="stereo",
        lead_in=lead_in,
        tail=round(float(rng.uniform(0.6, 1.5)), 2),
        expect=tuple(sorted(expect)),
        topic=f"guide {part}: {', '.join(order)}",
    )
