"""Overlaps and what they mean: interruptions, 急躁, 独断专横, hanging up on the caller.

When one party starts while the other is speaking, the overlap is
- a *backchannel* when the newcomer only says a listener token (嗯, 对, 好的 ... from
  ``lexicons/backchannels.toml``) or fewer than ``interruption_min_chars`` characters, or speaks
  for at most ``backchannel_max_s`` while the other party talks on (the other keeps the floor,
  whatever the transcript of a murmur says): never an interruption, whoever says it;
- a *hand-over* when the other party was about to finish (less than ``interruption_min_overlap_s``
  of their speech left; on mono at least ``mono_overlap_resolution_s``, what the segmentation model
  can resolve): the ordinary overlap of turn-taking;
- otherwise *competitive*: an interruption by the newcomer's role. Only the agent's count against
  the agent (``interruption.agent``); the caller's are recorded as ``interruption.caller``.

Overlaps exist where speech of both parties is detected at once: on stereo recordings one party
per channel; on mono recordings where the segmentation model hears two voices at once
(``pipeline.speakers.segmentation``), which makes the two parties' turns overlap there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.asr.text import han_count, spoken_count
from pipeline.records import Event, Turn, Utterance
from pipeline.rules import CallContext
from pipeline.rules.conduct import chars_per_second

VERSION = "1"


@dataclass(frozen=True)
class Overlap:
    newcomer: Utterance
    interrupted: Utterance
    kind: str  # backchannel | hand-over | competitive
    seconds: float  # how long both spoke at once


def _floors(
    speech: list[Utterance], role: str, gap: float, turns: Sequence[Turn] = (), min_turn_s: float = 0.0
) -> list[tuple[float, float]]:
    """A role's floor: its speech joined across its own short pauses, whatever the other does.

    ``turns`` of at least ``min_turn_s`` add the role's speech that has no words: on mono, where
    both talk at once, the words go to the louder voice, and the other's speech under it is only
    a turn (a caller who talks on for a second after the agent cut in). A shorter one does not:
    on real voices the segmentation model also hears blips of 0.1-0.4 s of the other voice inside
    a monologue.
    """
    spans: list[tuple[float, float]] = []
    stretches = [(u.start, u.end) for u in speech if u.role == role]
    stretches += [(t.start, t.end) for t in turns if t.role == role and t.duration >= min_turn_s]
    for start, end in sorted(stretches):
        if spans and start - spans[-1][1] < gap:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _span_at(spans: list[tuple[float, float]], t: float) -> tuple[float, float] | None:
    return next((s for s in spans if s[0] <= t < s[1]), None)


def _newcomer_start(ctx: CallContext, b: Utterance, speech: Sequence[Utterance]) -> float:
    """When ``b``'s speaker started: on mono, the start of the turn of theirs that runs on into
    ``b``'s words, where there is one.

    Under the other party's speech the newcomer's first words go to the louder voice, often the
    one already talking (8 kHz: 您的意思 under the caller's last syllables), and the newcomer's own
    words then start where the other's end: no overlap in words, while the segmentation model
    placed the newcomer's turn over the other's. A turn that starts within ``floor_gap_s`` of
    the speaker's own words before is their floor going on, not a new start."""
    if ctx.layout != "mono":
        return b.start
    earlier = [u.end for u in speech if u.role == b.role and u.end <= b.start]
    floor_from = max(earlier, default=float("-inf")) + ctx.config.floor_gap_s
    lead = [
        t.start
        for t in ctx.turns
        if t.role == b.role and floor_from <= t.start < b.start <= t.end + _INTO_WORDS_S
    ]
    return min([b.start, *lead])


# A newcomer's turn runs on into their words when they start within this of its end.
_INTO_WORDS_S = 0.15


def classify_overlaps(ctx: CallContext) -> list[Overlap]:
    cfg = ctx.config
    backchannels = ctx.lexicon["backchannels"]
    speech = [u for u in ctx.utterances if u.scorable and u.role in ("agent", "caller")]
    floors = {role: _floors(speech, role, cfg.floor_gap_s) for role in ("agent", "caller")}
    # How long the interrupted party talks on is read from its turns too (wordless speech), each
    # at least as long as a cut-in must leave of the other's speech.
    heard = {
        role: _floors(speech, role, cfg.floor_gap_s, ctx.turns, cfg.interruption_min_overlap_s)
        for role in ("agent", "caller")
    }
    # On mono the overlap is the segmentation model's, which cannot tell a hand-over's brief
    # overlap from one of up to mono_overlap_resolution_s.
    min_overlap = cfg.interruption_min_overlap_s
    if ctx.layout == "mono":
        min_overlap = max(min_overlap, cfg.mono_overlap_resolution_s)
    out = []
    for b in speech:
        own = _span_at(floors[b.role], b.start)
        if own and own[0] < b.start:
            continue  # b continues its speaker's turn after a short pause: not a newcomer
        other_role = "caller" if b.role == "agent" else "agent"
        start = _newcomer_start(ctx, b, speech)
        other = _span_at(heard[other_role], start)
        if other is None or other[0] >= start:
            continue
        before = [a for a in speech if a.role == other_role and a.start < start]
        if not before:
            # The other party's speech there is only a turn (no words, or words flagged as
            # doubtful): nothing it said can be named as cut off (real voices, stereo: the
            # agent's first sentence flagged, the caller's reply 0.6 s into its end).
            continue
        a = max(before, key=lambda a: a.start)
        keeps_floor = b.end - b.start <= cfg.backchannel_max_s and other[1] - b.end >= cfg.floor_gap_s
        if keeps_floor or backchannels.is_whole(b.text) or han_count(b.text) < cfg.interruption_min_chars:
            kind = "backchannel"
        elif other[1] - start < min_overlap:
            kind = "hand-over"
        else:
            kind = "competitive"
        out.append(Overlap(b, a, kind, round(min(b.end, other[1]) - b.start, 3)))
    return out


def interruption_rules(ctx: CallContext) -> list[Event]:
    """interruption.agent, interruption.caller, conduct.impatient, conduct.domineering, hangup.premature."""
    if not ctx.roles_trusted:
        return []
    cfg = ctx.config
    events = []
    competitive = [o for o in classify_overlaps(ctx) if o.kind == "competitive"]
    by_agent = [o for o in competitive if o.newcomer.role == "agent"]
    for o in competitive:
        role = o.newcomer.role
        events.append(
            ctx.event(
                f"interruption.{role}",
                VERSION,
                start=o.newcomer.start,
                # The other party may hold the floor across a short pause and the newcomer start
                # in it: the moment then ends where it starts, never before.
                end=max(o.newcomer.start, min(o.newcomer.end, o.interrupted.end)),
                evidence=f"{o.interrupted.text} ⟂ {o.newcomer.text}",
                severity="minor" if role == "agent" else "info",
                role=role,
            )
        )
    for o in by_agent:
        turn = o.newcomer
        if (
            spoken_count(turn.text) >= cfg.impatient_min_chars
            and chars_per_second(turn) >= cfg.impatient_min_chars_per_s
        ):
            events.append(
                ctx.event(
                    "conduct.impatient",
                    VERSION,
                    start=turn.start,
                    end=turn.end,
                    evidence=f"{turn.text} ({chars_per_second(turn):.1f} 字/秒)",
                    category="急躁",
                )
            )
    hangup = premature_hangup(ctx)
    events += hangup
    if len(by_agent) >= cfg.domineering_min_interruptions or hangup:
        reason = (
            f"{len(by_agent)} 次打断"
            if len(by_agent) >= cfg.domineering_min_interruptions
            else "未等对方说完就挂线"
        )
        first = (
            by_agent[0].newcomer.start if by_agent and not hangup else (hangup[0].start if hangup else 0.0)
        )
        events.append(
            ctx.event(
                "conduct.domineering",
                VERSION,
                start=first,
                end=ctx.duration,
                evidence=reason,
                category="独断专横",
            )
        )
    return events


def premature_hangup(ctx: CallContext) -> list[Event]:
    """The recording ends while (or just after) the caller speaks, and not with a closing."""
    speech = [u for u in ctx.utterances if u.scorable]
    last = max(speech, key=lambda u: u.end) if speech else None
    if last is not None and last.role == "caller" and ctx.duration - last.end <= ctx.config.hangup_margin_s:
        if ctx.lexicon["closings"].find(last.text) or ctx.lexicon["backchannels"].is_whole(last.text):
            return []
        return [
            ctx.event(
                "hangup.premature",
                VERSION,
                start=last.start,
                end=ctx.duration,
                evidence=last.text,
                severity="major",
            )
        ]
    cut = cut_off_turn(ctx, speech)
    if cut is None:
        return []
    return [
        ctx.event(
            "hangup.premature",
            VERSION,
            start=cut.start,
            end=ctx.duration,
            evidence=f"（录音在来电人说话时结束，最后 {cut.duration:.1f} 秒的话未能转写）",
            severity="major",
        )
    ]


def cut_off_turn(ctx: CallContext, speech: Sequence[Utterance]) -> Turn | None:
    """The caller's last turn when the recording stops on it and it has no words.

    Whisper drops a sentence the line cuts off more often than not when it is mixed with the
    agent's voice (等会儿，你们总得… after the agent's 再见), and the segmentation model still
    hears it: a turn of the caller's that runs to the last ``hangup_cut_s`` of the recording. On
    stereo the caller's channel hears the turn alone, but Whisper reads both channels' speech in
    one stream, and loses a cut-off sentence there too. An ordinary ending leaves a moment of
    silence after the last 再见; a cut leaves none. A turn whose time the words of either party
    cover is read from its words instead."""
    cfg = ctx.config
    if cfg.hangup_cut_s <= 0 or not ctx.turns:
        return None
    tail = max(ctx.turns, key=lambda t: t.end)
    if (
        tail.role != "caller"
        or ctx.duration - tail.end > cfg.hangup_cut_s
        or tail.duration < cfg.hangup_wordless_min_s
    ):
        return None
    worded = sum(max(0.0, min(u.end, tail.end) - max(u.start, tail.start)) for u in speech)
    return None if worded > tail.duration / 2 else tail
