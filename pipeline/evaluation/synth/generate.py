"""A generated benchmark: hundreds of labelled calls nobody can tune on by eye.

Calls are composed at random from the centre's situations and the moments the floor rules are
about, with wording from phrase banks (``data/call_scripts/bench/phrases.yaml``) and a voice per
party drawn for the call. Every bank, and the voices, come in two disjoint halves, so the
benchmark has two parts that share no sentence and no voice:

- ``dev``: the part thresholds, bridges and margins may be tuned on;
- ``test``: the part figures are reported on, and nothing is ever decided on.

The moments, each placed from the synthesized sentences' real durations:

- the opening: a greeting with the centre's name, or a bare 喂，物业 (``greeting.missing``); a
  caller who greets first and says who they are;
- backchannels (嗯, 对, 好的 ...) inside the other party's sentence: never an interruption;
- hand-overs: the next party starts in the other's last syllable (0.1-0.35 s): not one either;
- the agent cutting in 0.9-2.5 s before the caller's sentence ends (``interruption.agent``; three
  times in one call is 独断专横, ``conduct.domineering``); the caller cutting in on the agent
  (``interruption.caller``);
- a hold: 请您稍等, 8.5-12 s of silence, 让您久等了;
- the end: both say goodbye, or the agent brushes the caller off and the line drops 0.8-2.5 s
  into the caller's next sentence (``hangup.premature`` and ``conduct.domineering``).

Voices: ``test`` uses four of Kokoro's native Mandarin voices (``ZH_VOICES``) that nothing else in
the project uses, blended at random weights; ``dev`` the other four and the Japanese voices the
corpus and the segmentation model's training pool use. Each party's voice is then shifted in
pitch, formants and tempo together by a random factor (0.92-1.08), so no two calls share a pair.

The truth names the rules it labels (``scored_rules``): the others (a self-introduction, a
closing ...) are not what this benchmark is about and are not scored on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from pipeline.config import ROOT
from pipeline.evaluation.synth import spontaneous as _spontaneous
from pipeline.evaluation.synth.render import VARIANTS
from pipeline.evaluation.synth.script import CallScript, ScriptLine
from pipeline.evaluation.synth.spontaneous import spoken

PHRASES = ROOT / "data" / "call_scripts" / "bench" / "phrases.yaml"
PARTS = ("dev", "test")
SUITES = ("floor", "guide")
SCORED_RULES = (
    "greeting.missing",
    "interruption.agent",
    "interruption.caller",
    "hangup.premature",
    "conduct.domineering",
)
VOICE_POOLS = {
    "dev": (
        ("zf_xiaobei", "zf_xiaoyi", "zm_yunjian", "zm_yunxia"),
        ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"),
    ),
    "test": (("zf_xiaoni", "zf_xiaoxiao", "zm_yunxi", "zm_yunyang"), ()),
}
SR = 16000


@dataclass(frozen=True)
class GeneratorOptions:
    """How often each moment happens (per call unless said otherwise)."""

    caller_greets_first: float = 0.2
    no_greeting: float = 0.3
    agent_cut_in: float = 0.35  # one competitive cut-in by the agent
    agent_cuts_three: float = 0.1  # three of them: 独断专横
    caller_cut_in: float = 0.25
    hang_up: float = 0.25
    hold: float = 0.15
    backchannel: float = 0.5  # per long sentence of the other party
    hand_over: float = 0.3  # per change of speaker
    pitch_range: tuple[float, float] = (0.92, 1.08)
    speed_range: tuple[float, float] = (0.9, 1.15)
    # Share of sentences (backchannels aside) said with a filler, a repeat, a false start or a
    # self-correction (``spontaneous.spoken``), drawn from a stream of its own: a call keeps its
    # situation, wording and voices, and its moments unless a longer sentence gives a cut-in the
    # room it lacked (6 calls in 100).
    spontaneous: float = 0.0
    # Blends of the part's Mandarin voices only, as the test part's are: the development part's
    # Japanese voices make its two parties less alike to CAM++ than the test part's, so the mono
    # path's trouble with alike voices hardly shows on it (docs/evaluation.md, "Alike voices on
    # the development part").
    native_voices: bool = False


@dataclass
class _Timeline:
    """Lines placed at absolute times; turned into a script's gaps at the end."""

    lead_in: float
    placed: list[tuple[float, float, ScriptLine]] = field(default_factory=list)  # start, end, line
    end: float = 0.0  # the latest end so far

    def add(self, start: float, line: ScriptLine, duration: float) -> tuple[float, float]:
        start = max(0.0, start)
        end = start + (duration if line.cut is None else min(line.cut, duration))
        self.placed.append((start, end, line))
        self.end = max(self.end, end)
        return start, end

    def lines(self) -> tuple[ScriptLine, ...]:
        """The lines with the gaps ``render_call`` reads (from the latest end before each)."""
        out, conversation_end = [], self.lead_in
        for i, (start, end, line) in enumerate(self.placed):
            gap = 0.0 if i == 0 else start - conversation_end
            out.append(replace(line, gap=round(gap, 3)))
            conversation_end = max(conversation_end, end)
        return tuple(out)


def load_phrases(path: Path = PHRASES) -> dict:
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _bank(phrases: dict, key: str, part: str) -> list:
    value = phrases[key]
    return list(value[part]) if isinstance(value, dict) else list(value)


def _voice(rng: np.random.Generator, part: str, opts: GeneratorOptions) -> str:
    """A blend of one to three voices of the part at random weights, then a pitch factor."""
    native, other = VOICE_POOLS[part]
    pool = list(native) + ([] if opts.native_voices else list(other))
    k = int(rng.choice([1, 2, 2, 3]))
    chosen = [str(v) for v in rng.choice(native, size=1)] + [
        str(v) for v in rng.choice(pool, size=k - 1, replace=False)
    ]
    chosen = list(dict.fromkeys(chosen))
    weights = rng.dirichlet(np.ones(len(chosen)) * 2.0)
    blend = "+".join(f"{v}*{w:.2f}" for v, w in zip(chosen, weights, strict=True))
    return f"{blend}@{rng.uniform(*opts.pitch_range):.3f}"


def _dominant(voice: str) -> str:
    """The base voice that weighs most in a blend ``a*0.6+b*0.4@1.02``."""
    parts = [term.partition("*") for term in voice.partition("@")[0].split("+")]
    return max(parts, key=lambda p: float(p[2] or 1.0))[0]


Synthesize = Callable[[str, str, float], np.ndarray]


def shifted(synthesize: Synthesize) -> Synthesize:
    """``synthesize`` for voices written ``blend@factor``: the clip is read ``factor`` times
    faster, which moves pitch, formants and tempo together (a new speaker, not the same one).
    ``blend@factor~keep``: then its pitch movement narrowed to ``keep`` (``synth.flatten``: a
    flat voice)."""
    import soxr

    from pipeline.evaluation.synth.flatten import flatten_pitch

    def run(text: str, voice: str, speed: float) -> np.ndarray:
        blend, _, shift = voice.partition("@")
        factor, _, keep = shift.partition("~")
        audio = synthesize(text, blend, speed)
        if factor and float(factor) != 1.0:
            audio = soxr.resample(audio, SR * float(factor), SR).astype(np.float32)
        return flatten_pitch(audio, SR, float(keep)) if keep else audio

    return run


def compose_call(
    index: int,
    part: str,
    phrases: dict,
    durations: Callable[[str, str, float], float],
    opts: GeneratorOptions = GeneratorOptions(),
    seed: int = 0,
) -> CallScript:
    """One call of ``part`` (the same ``index``, ``part`` and ``seed`` give the same call).

    ``durations(text, voice, speed)`` is the length in seconds of a sentence as it will be
    rendered: moments are placed on real lengths (a cut-in 1.5 s before the caller's end).
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}")
    rng = np.random.default_rng([seed, PARTS.index(part), index])
    situation = phrases["situations"][part][int(rng.integers(len(phrases["situations"][part])))]
    talk = np.random.default_rng([seed, PARTS.index(part), index, 2])

    def pick(key: str) -> str:
        bank = situation[key] if key in situation else _bank(phrases, key, part)
        text = str(bank[int(rng.integers(len(bank)))])
        if opts.spontaneous and not key.startswith("backchannels") and talk.random() < opts.spontaneous:
            text = spoken(text, talk)
        return text

    agent_voice, caller_voice = _voice(rng, part, opts), _voice(rng, part, opts)
    # Two parties are two people: a caller whose strongest voice is the agent's would be the agent
    # talking to themself a few percent higher. Redrawn from a stream of its own, so that the
    # other calls stay what they are.
    redraw = np.random.default_rng([seed, PARTS.index(part), index, 1])
    while _dominant(caller_voice) == _dominant(agent_voice):
        caller_voice = _voice(redraw, part, opts)
    agent_speed = round(float(rng.uniform(*opts.speed_range)), 2)
    caller_speed = round(float(rng.uniform(*opts.speed_range)), 2)
    voices = {"agent": (agent_voice, agent_speed), "caller": (caller_voice, caller_speed)}

    def line(role: str, text: str, cut: float | None = None) -> tuple[ScriptLine, float]:
        voice, speed = voices[role]
        return ScriptLine(role, text, voice, speed, cut=cut), durations(text, voice, speed)

    lead_in = round(float(rng.uniform(0.5, 2.0)), 2)
    tl = _Timeline(lead_in=lead_in, end=lead_in)
    expect: set[str] = set()

    def say(role: str, text: str, gap: float | None = None, cut: float | None = None) -> tuple[float, float]:
        """``role`` speaks after the conversation so far: a pause, or a hand-over in the other's
        last syllable."""
        ln, dur = line(role, text, cut)
        if gap is None:
            changes = bool(tl.placed) and tl.placed[-1][2].role != role
            if changes and rng.random() < opts.hand_over:
                gap = -float(rng.uniform(0.1, 0.35))
            else:
                gap = float(rng.uniform(0.25, 0.9))
        start = tl.lead_in if not tl.placed else tl.end + gap
        return tl.add(start, ln, dur)

    def inside(role: str, text: str, host: tuple[float, float], at: float) -> None:
        """``role`` speaks ``at`` (0-1) of the way into the other's sentence ``host``."""
        ln, dur = line(role, text)
        tl.add(host[0] + at * (host[1] - host[0]), ln, dur)

    def backchannel(role: str, host: tuple[float, float]) -> None:
        # Only inside a sentence long enough that the other talks on well after it (it keeps
        # the floor: never an interruption).
        if host[1] - host[0] >= 3.5 and rng.random() < opts.backchannel:
            inside(role, pick(f"backchannels_{role}"), host, float(rng.uniform(0.3, 0.55)))

    def cut_in(role: str, host: tuple[float, float]) -> bool:
        """``role`` cuts in 0.9-2.5 s before the other's sentence ends; False if too short."""
        room = host[1] - host[0] - 1.0
        if room < 0.9:
            return False
        overlap = float(rng.uniform(0.9, min(2.5, room)))
        ln, dur = line(role, pick(f"{role}_cut_ins"))
        tl.add(host[1] - overlap, ln, dur)
        return True

    # The opening.
    if rng.random() < opts.caller_greets_first:
        say("caller", pick("caller_greets_first"))
    if rng.random() < opts.no_greeting:
        say("agent", pick("no_greeting"))
        expect.add("greeting.missing")
    else:
        say("agent", pick("greetings"))
    opening = say("caller", pick("caller_opening"))
    backchannel("agent", opening)

    # The middle: the caller explains, the agent asks and answers; cut-ins land on the caller's
    # longer sentences, the caller's on the agent's answers.
    agent_cuts = 3 if rng.random() < opts.agent_cuts_three else (1 if rng.random() < opts.agent_cut_in else 0)
    caller_cuts = 1 if rng.random() < opts.caller_cut_in else 0
    hold = rng.random() < opts.hold
    steps = ["details"] * max(2, agent_cuts + 1) + ["question", "reply"] + (["hold"] if hold else [])
    if caller_cuts:
        steps.append("reply")
    order = [steps[i] for i in rng.permutation(len(steps))]
    done_agent_cuts = done_caller_cuts = 0
    for step in order:
        if step == "details":
            host = say("caller", pick("caller_details"))
            if done_agent_cuts < agent_cuts and cut_in("agent", host):
                done_agent_cuts += 1
            else:
                backchannel("agent", host)
        elif step == "question":
            say("agent", pick("agent_questions"))
            say("caller", pick("caller_answers"))
        elif step == "reply":
            host = say("agent", pick("agent_replies"))
            if done_caller_cuts < caller_cuts and cut_in("caller", host):
                done_caller_cuts += 1
            else:
                backchannel("caller", host)
        else:
            say("agent", pick("hold_notice"))
            say("agent", pick("hold_return"), gap=float(rng.uniform(8.5, 12.0)))
            say("caller", pick("backchannels_caller"))
    if done_agent_cuts:
        expect.add("interruption.agent")
    if done_agent_cuts >= 3:
        expect.add("conduct.domineering")
    if done_caller_cuts:
        expect.add("interruption.caller")

    # The end.
    if rng.random() < opts.hang_up:
        say("agent", pick("brushoffs"))
        text = pick("caller_cut_off")
        full = durations(text, *voices["caller"])
        heard = float(rng.uniform(0.8, max(0.9, min(2.5, full - 0.5))))
        say("caller", text, gap=float(rng.uniform(0.1, 0.5)), cut=round(heard, 2))
        expect |= {"hangup.premature", "conduct.domineering"}
        tail = 0.0  # the recording ends where the line drops
    else:
        say("agent", pick("closings_agent"))
        say("caller", pick("closings_caller"))
        tail = round(float(rng.uniform(0.6, 1.5)), 2)

    prefix = "BD" if part == "dev" else "BT"
    return CallScript(
        call_id=f"{prefix}{index:04d}",
        agent_id=f"A{(300 if part == 'dev' else 400) + int(rng.integers(1, 9))}",
        started_at=datetime(2026, 11, 23, 8, 30) + timedelta(days=int(rng.integers(0, 7)), minutes=7 * index),
        lines=tl.lines(),
        share_format="stereo",
        lead_in=lead_in,
        tail=tail,
        expect=tuple(sorted(expect)),
        topic=f"{part}: {situation.get('topic', '')}",
    )


def generate(
    out_dir: Path,
    part: str,
    calls: int,
    models_dir: Path,
    *,
    seed: int = 0,
    first: int = 1,
    kinds: tuple[str, ...] = tuple(VARIANTS),
    reuse: bool = False,
    tts_cache: Path | None = None,
    threads: int = 2,
    phrases_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
    suite: str = "floor",
    options: GeneratorOptions = GeneratorOptions(),
    flat_agents: float = 0.0,
) -> Path:
    """Render ``calls`` calls of ``part`` in the recording ``kinds``; returns the manifest.

    ``suite``: ``floor`` (this module: openings, cut-ins, hang-ups) or ``guide`` (``guide.py``:
    answers, messages, refusals, transfers, 您). Each truth file carries ``scored_rules`` and
    ``part``; the calls are numbered from ``first`` so a slice (CI's) is the same calls as the
    full benchmark's first ones. With ``reuse``, a folder already rendered with these very
    options, phrases and generator is kept as it is. ``options`` (the floor suite's): how often
    each moment happens, and how spontaneously the sentences are said. ``flat_agents`` (the guide
    suite's): the share of calls whose agent speaks flat (``voice.flat``).
    """
    import hashlib
    import json

    import soxr

    from pipeline.evaluation.synth import _cached
    from pipeline.evaluation.synth import guide as guide_suite
    from pipeline.evaluation.synth.render import render_call, write_all_variants
    from pipeline.evaluation.synth.tts import SAMPLE_RATE, KokoroTTS
    from pipeline.models.store import require

    if suite not in SUITES:
        raise ValueError(f"suite must be one of {', '.join(SUITES)}, not {suite!r}")
    if phrases_path is None:
        phrases_path = PHRASES if suite == "floor" else guide_suite.guide_bank_path(part)
    if options != GeneratorOptions() and suite != "floor":
        raise ValueError("the generator's options are the floor suite's")
    if flat_agents and suite != "guide":
        raise ValueError("flat agents are the guide suite's")
    code = Path(__file__).read_bytes() + (
        Path(guide_suite.__file__).read_bytes() if suite == "guide" else b""
    )
    if options.spontaneous:
        code += Path(_spontaneous.__file__).read_bytes()
    if flat_agents:
        from pipeline.evaluation.synth import flatten

        code += Path(flatten.__file__).read_bytes()
    stamp = {
        "part": part,
        "calls": calls,
        "first": first,
        "seed": seed,
        "kinds": list(kinds),
        "inputs": hashlib.sha256(phrases_path.read_bytes() + code).hexdigest(),
    }
    if suite != "floor":
        stamp["suite"] = suite
    if flat_agents:
        stamp["flat_agents"] = flat_agents
    if options != GeneratorOptions():
        stamp["options"] = json.loads(json.dumps(asdict(options)))
    manifest, stamp_file = out_dir / "manifest.csv", out_dir / "benchmark.json"
    if reuse and manifest.exists() and stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp:
        if progress:
            progress(f"{out_dir} is already rendered with these options")
        return manifest
    phrases = load_phrases(phrases_path)
    scored = SCORED_RULES if suite == "floor" else guide_suite.SCORED_GUIDE_RULES
    model_dir = require("kokoro-82m-int8", models_dir)
    voices_dir = require("kokoro-voices-zh", models_dir)
    tts = None

    def synthesize_base(text: str, voice: str, speed: float) -> np.ndarray:
        nonlocal tts
        if tts is None:
            tts = KokoroTTS(model_dir, threads=threads, extra_voices=voices_dir)
        return soxr.resample(tts.synthesize(text, voice, speed), SAMPLE_RATE, SR)

    if tts_cache is not None:
        synthesize_base = _cached(synthesize_base, tts_cache, model_dir)
    rendered = []
    for index in range(first, first + calls):
        synthesize = _memo(shifted(synthesize_base))  # one call's sentences, kept while it is placed

        def durations(text: str, voice: str, speed: float, synthesize=synthesize) -> float:
            return len(synthesize(text, voice, speed)) / SR

        if suite == "floor":
            script = compose_call(index, part, phrases, durations, options, seed=seed)
        else:
            script = guide_suite.compose_guide_call(
                index, part, phrases, durations, seed=seed, flat_agent=flat_agents
            )
        rc = render_call(script, synthesize)
        rc.truth.update({"part": part, "scored_rules": list(scored), "generator_seed": seed})
        if options.spontaneous:
            rc.truth["spontaneous"] = options.spontaneous
        if suite != "floor":
            rc.truth["suite"] = suite
        rendered.append(rc)
        if progress:
            progress(f"{script.call_id}: {rc.truth['duration']:.1f} s, expect {list(script.expect)}")
    manifest = write_all_variants(rendered, out_dir, kinds)
    stamp_file.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return manifest


def _memo(synthesize: Synthesize) -> Synthesize:
    """One synthesis per (text, voice, speed) within a run: placing a sentence needs its length
    before it is rendered."""
    seen: dict[tuple[str, str, float], np.ndarray] = {}

    def run(text: str, voice: str, speed: float) -> np.ndarray:
        key = (text, voice, speed)
        if key not in seen:
            seen[key] = synthesize(text, voice, speed)
        return seen[key]

    return run
