"""One call through every stage, without any orchestration framework.

``process_call`` is what the Prefect task, the tests and a notebook all run. Models come in from
the caller (loaded once per worker process), so this function holds no global state.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from pipeline.asr.whisper import Piece, Transcriber
from pipeline.audio.decode import SAMPLE_RATE, Audio, channel_correlation, decode
from pipeline.audio.prosody import VoiceMeasures
from pipeline.audio.quality import WORDS, audio_quality, doubted_share, unheard
from pipeline.audio.speech import speech_regions, stereo_regions
from pipeline.config import Config
from pipeline.lexicon import Lexicon, load_lexicon
from pipeline.privacy.redact import redact_call
from pipeline.records import (
    CHANNEL_MAP_CONTRADICTED,
    AudioQuality,
    CallRef,
    CallResult,
    GreetingHearing,
    RoleAssignment,
    Turn,
    Utterance,
    agent_channel,
)
from pipeline.rules import CallContext, abstentions, apply_rules
from pipeline.rules.conduct import polite_counts
from pipeline.rules.metrics import agent_measures, call_metrics
from pipeline.speakers.attribution import (
    Attribution,
    call_speakers,
    load_segmentation_model,
    load_speaker_embedder,
    with_channel_map,
)

T = TypeVar("T")
# How much lower the speaker models' thread runs than Whisper's on mono (a nice increment).
_BACKGROUND_NICE = 10
ProgressHook = Callable[[str, float], None]  # (stage, seconds)

log = logging.getLogger("callqa.process")


@dataclass(frozen=True)
class Models:
    """The heavy objects a worker needs, created once and passed to every call."""

    transcriber: Transcriber

    @classmethod
    def load(cls, cfg: Config) -> Models:
        from pipeline.asr.whisper import domain_vocabulary, load_transcriber
        from pipeline.models.store import require

        if not cfg.model.whisper_dir:
            require("whisper-base-ct2", cfg.models_path)
        vocabulary = (
            domain_vocabulary(cfg.lexicons_path / "domain_words.txt")
            if cfg.model.vocabulary != "none"
            else ""
        )
        return cls(transcriber=load_transcriber(str(cfg.whisper_dir), cfg.model, vocabulary))

    def speaker_embedder(self, cfg: Config):
        """The speaker embedder (``[speech] speaker_embedder``), loaded on the first mono call and
        kept for the process."""
        return load_speaker_embedder(cfg)

    def segmenter(self, cfg: Config):
        """The segmentation model (``[speech] segmentation_model``, else the bundled one), loaded
        on the first mono call and kept for the process."""
        return load_segmentation_model(cfg)


def _terms(cfg: Config, lexicon: Lexicon) -> tuple[str, ...]:
    if not cfg.model.domain_correction:
        return ()
    return tuple(dict.fromkeys((*lexicon.domain_terms, *cfg.model.domain_terms)))


def transcribe_and_diarize(
    audio: Audio, ref: CallRef, cfg: Config, models: Models, lexicon: Lexicon, timings: dict[str, float]
) -> Attribution:
    """Who spoke when, their words and who is the agent; each stage's seconds go into ``timings``.

    The speech regions (``pipeline.audio``) feed both Whisper and the speakers
    (``pipeline.speakers``), which neither needs the other's result to start: on mono the speaker
    models run beside Whisper, on a core its decoding leaves idle part of the time."""
    stereo = audio.channels == 2 and ref.layout != "mono"
    tracks = audio.tracks if stereo else [audio.mono()]
    tick = time.perf_counter()
    if stereo:
        regions = stereo_regions(audio.tracks, cfg.speech)
        pieces = [Piece(ch, s, e) for ch in range(2) for s, e in regions[ch]]
    else:
        regions = speech_regions(tracks[0], cfg.speech)
        pieces = [Piece(0, s, e) for s, e in regions]
    timings["speech"] = time.perf_counter() - tick
    speakers = call_speakers(
        ref.call_id,
        ref.layout,
        tracks,
        regions,
        cfg,
        lexicon,
        _terms(cfg, lexicon),
        embedder=lambda: models.speaker_embedder(cfg),
        segmenter=lambda: models.segmenter(cfg),
    )

    def transcribe() -> list:
        clock = time.perf_counter()
        segments = models.transcriber.transcribe(tracks, pieces)
        timings["transcribe"] = time.perf_counter() - clock
        return segments

    if stereo or not cfg.speech.speakers_beside_whisper:
        diarized = speakers.diarize()
        segments = transcribe()
    else:
        # Each stage's time is its own thread's. A call stopped meanwhile (its timeout) does not
        # wait for the speaker models, and they skip what is left of their work.
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callqa-speakers")
        # Below Whisper's priority only where Whisper's threads are this process's alone: beside
        # other worker processes' Whisper a lower-priority thread would starve and hold its call.
        background = cfg.run.workers <= 1 and not cfg.run.dask_address
        try:
            future = pool.submit(_in_the_background, speakers.diarize, lower=background)
            segments = transcribe()
            # Waited for in short steps: a timeout raised in this thread (Prefect's, between two
            # Python steps) lands within one, not when the speaker models are done.
            while not future.done():
                wait([future], timeout=0.5)
            diarized = future.result()
        except BaseException:
            speakers.stop()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    tick = time.perf_counter()
    spoken = speakers.attribute(diarized, segments)
    timings["speakers"] = diarized.seconds + time.perf_counter() - tick
    return spoken


def _in_the_background(work: Callable[[], T], lower: bool = True) -> T:
    """``work`` in this (pool) thread, with ``lower`` at a lower scheduling priority than the thread
    that started it: on a machine whose cores Whisper keeps busy, the speaker models then take only
    the time its decoding leaves idle rather than slowing it down (Linux takes a thread id for
    setpriority; elsewhere, or where refused, the thread runs at the usual priority)."""
    if lower:
        try:
            thread = threading.get_native_id()
            os.setpriority(
                os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + _BACKGROUND_NICE
            )
        except (AttributeError, OSError):
            pass
    return work()


def numbered(utterances: Sequence[Utterance]) -> list[Utterance]:
    """A call's utterances in order of time, numbered (``idx``) in that order."""
    return [replace(u, idx=i) for i, u in enumerate(sorted(utterances, key=lambda u: (u.start, u.end)))]


def process_call(
    ref: CallRef, cfg: Config, models: Models, lexicon: Lexicon | None = None, audio: Audio | None = None
) -> CallResult:
    """Decode, find speech and speakers, transcribe, apply the rules, measure. Raises DecodeError."""
    lexicon = lexicon or load_lexicon(cfg.lexicons_path)
    timings: dict[str, float] = {}
    tick = time.perf_counter()
    owned = audio is None
    audio = audio or decode(Path(ref.path), spool_after_s=cfg.run.spool_after_s, spool_dir=cfg.run.spool_dir)
    timings["decode"] = time.perf_counter() - tick
    if audio.channels == 2 and ref.layout != "mono":
        alike = channel_correlation(audio)
        if alike >= cfg.speech.identical_channels_correlation:
            # One recording stored on both channels: no channel is a party, read it as mono.
            log.info(
                "%s: its two channels are the same recording (%.3f alike): read as mono", ref.call_id, alike
            )
            ref = replace(ref, layout="mono")
    try:
        tick = time.perf_counter()
        heard = audio_quality(audio, audio.channels == 2 and ref.layout != "mono", cfg.speech)
        timings["quality"] = time.perf_counter() - tick
        spoken = transcribe_and_diarize(audio, ref, cfg, models, lexicon, timings)
        probs = [w.prob for u in spoken.utterances for w in u.words]
        heard = replace(heard, doubted_share=doubted_share(probs, cfg.quality.doubted_word_prob))
        if len(heard.channels) == 1 and spoken.heard is not None:
            # On mono the quieter party and the voices behind both are read from the two voices
            # the speakers stage found: a level on the whole mix reads the louder party only.
            mix = replace(
                heard.channels[0], behind_db=spoken.heard.behind_db, voice_dbfs=spoken.heard.quieter_dbfs
            )
            heard = replace(heard, channels=(mix,))
        spoken = map_kept_where_words_unheard(spoken, ref, heard, audio.duration, cfg)
        tick = time.perf_counter()
        voice = agent_voice(audio, ref, spoken.turns) if _trusted(spoken.roles, cfg) else None
        timings["voice"] = time.perf_counter() - tick
        turns, utterances, roles = spoken.turns, numbered(spoken.utterances), spoken.roles

        def scored(quality: AudioQuality) -> CallResult:
            return score_call(
                ref,
                audio.duration,
                turns,
                utterances,
                roles,
                cfg,
                lexicon,
                models.transcriber.model_id,
                voice,
                quality,
            )

        tick = time.perf_counter()
        result = scored(heard)
        timings["rules"] = time.perf_counter() - tick
        # A missing greeting is read once more from the opening's sound (the words lose the first
        # syllable on a degraded line), and the call scored again with what it says.
        tick = time.perf_counter()
        greeting = hear_flagged_opening(audio, ref, result, models.transcriber, cfg)
        if greeting is not None:
            result = scored(replace(heard, greeting=greeting))
            timings["greeting"] = time.perf_counter() - tick
    finally:
        if owned:
            audio.close()
    result = redact_call(result, cfg.privacy.redact)
    return replace(result, timings={k: round(v, 4) for k, v in timings.items()})


def map_kept_where_words_unheard(
    spoken: Attribution, ref: CallRef, heard: AudioQuality, duration: float, cfg: Config
) -> Attribution:
    """The channel map's roles where the words overturned it but the call's reading withholds the
    words (``[quality]``: voices behind a party, noise, lost packets, both heard at once): a
    television's or the next desks' 您好 and service phrases are not the call's, and a call that
    cannot be heard must not move its roles with confidence."""
    if not spoken.roles.reason.startswith(CHANNEL_MAP_CONTRADICTED):
        return spoken
    overlap = call_metrics(ref.call_id, ref.agent_id, duration, spoken.turns, spoken.utterances).overlap
    lacking = unheard(
        heard, cfg.quality, agent_channel(ref.layout), overlap / duration if duration > 0 else 0.0
    )
    if WORDS not in lacking:
        return spoken
    log.info("%s: the words contradict the channel map but are not heard well enough: map kept", ref.call_id)
    return with_channel_map(spoken, ref.layout)


def hear_flagged_opening(
    audio: Audio, ref: CallRef, result: CallResult, transcriber: Transcriber, cfg: Config
) -> GreetingHearing | None:
    """What the sound of the opening ``result`` flags for a missing greeting says of a greeting its
    words lost (``pipeline.asr.hearing``): the agent's channel on stereo, the mix on mono. None
    where nothing was flagged, or the reading is off (``[rules] greeting_heard_margin`` 1000)."""
    from pipeline.asr.hearing import hear_greeting
    from pipeline.rules.greeting import RULE_ID

    if cfg.rules.greeting_heard_margin >= _NEVER_HEARD:
        return None
    flagged = next((e for e in result.events if e.rule_id == RULE_ID), None)
    if flagged is None:
        return None
    opening = next((u for u in result.utterances if abs(u.start - flagged.start) < 0.01), None)
    if opening is None:
        return None
    stereo = audio.channels == 2 and ref.layout != "mono"
    if stereo:
        channel = next((t.channel for t in result.turns if t.role == "agent"), 0)
        samples = audio.tracks[channel]
    else:
        samples = audio.mono()
    return hear_greeting(samples, opening, transcriber.reading_logprobs, SAMPLE_RATE)


# ``[rules] greeting_heard_margin`` at or above this: the opening's sound is never read.
_NEVER_HEARD = 1000.0


def _trusted(roles: RoleAssignment, cfg: Config) -> bool:
    return roles.agent_speaker is not None and roles.confidence >= cfg.rules.role_min_confidence


def agent_voice(audio: Audio, ref: CallRef, turns: Sequence[Turn]) -> VoiceMeasures:
    """The agent's pitch and loudness (``pipeline.audio.prosody``) over their turns: on stereo
    their own channel; on mono the mix, less the stretches where the caller speaks too (two
    voices at once have no one pitch)."""
    from pipeline.audio.prosody import voice_measures
    from pipeline.rules.metrics import intersection, union

    agent = union((t.start, t.end) for t in turns if t.role == "agent")
    stereo = audio.channels == 2 and ref.layout != "mono"
    if stereo:
        channel = next((t.channel for t in turns if t.role == "agent"), 0)
        return voice_measures(audio.tracks[channel], SAMPLE_RATE, agent)
    caller = union((t.start, t.end) for t in turns if t.role != "agent")
    both = intersection(agent, caller)
    return voice_measures(audio.mono(), SAMPLE_RATE, _less(agent, both))


def _less(
    spans: Sequence[tuple[float, float]], holes: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """``spans`` with ``holes`` cut out (both sorted and disjoint)."""
    out = []
    for start, end in spans:
        for h_start, h_end in holes:
            if h_end <= start or h_start >= end:
                continue
            if h_start > start:
                out.append((start, h_start))
            start = max(start, h_end)
        if start < end:
            out.append((start, end))
    return out


def score_call(
    ref: CallRef,
    duration: float,
    turns: Sequence[Turn],
    utterances: Sequence[Utterance],
    roles: RoleAssignment,
    cfg: Config,
    lexicon: Lexicon,
    model_id: str,
    voice: VoiceMeasures | None = None,
    quality: AudioQuality | None = None,
) -> CallResult:
    """The rules and metrics of a transcribed call; also what re-scoring runs on stored utterances
    (with the agent's ``voice`` measures and the audio ``quality`` reading as stored: the audio is
    not read again). The rules the audio cannot support (``[quality]`` floors) are not scored."""
    metrics = call_metrics(ref.call_id, ref.agent_id, duration, turns, utterances)
    agent_side = next((t.channel for t in turns if t.role == "agent"), None)
    overlap_share = metrics.overlap / duration if duration > 0 else 0.0
    busier = "坐席" if metrics.talk_agent > metrics.talk_caller else "客户"
    lacking = unheard(quality, cfg.quality, agent_side, overlap_share, busier) if quality else {}
    ctx = CallContext(
        ref.call_id,
        ref.agent_id,
        duration,
        tuple(utterances),
        roles,
        lexicon,
        cfg.rules,
        tuple(turns),
        agent_voice=voice,
        unheard=lacking,
        layout=ref.layout,
        greeting_heard=quality.greeting if quality else None,
    )
    measured = agent_measures(ctx, voice)
    return CallResult(
        call=ref,
        model_id=model_id,
        lexicon_version=lexicon.version,
        roles=roles,
        utterances=tuple(utterances),
        events=tuple(apply_rules(ctx)),
        metrics=replace(
            metrics, polite_counts=polite_counts(utterances, lexicon["polite"].phrases), **measured
        ),
        abstentions=tuple(abstentions(ctx)),
        turns=tuple(sorted(turns, key=lambda t: (t.start, t.channel))),
        quality=quality,
        not_scored=ctx.not_scored,
    )
