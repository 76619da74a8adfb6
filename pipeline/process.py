"""One call through every stage, without any orchestration framework.

``process_call`` is what the Prefect task, the tests and a notebook all run. Models come in from
the caller (loaded once per worker process), so this function holds no global state.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from pipeline.audio import Audio, Signal, decode
from pipeline.config import Config
from pipeline.handover import move_handovers
from pipeline.lexicon import Lexicon, load_lexicon
from pipeline.metrics import call_metrics
from pipeline.records import CallRef, CallResult, RoleAssignment, Turn, Utterance, Word
from pipeline.redact import redact_call
from pipeline.registers import move_foreign_clauses
from pipeline.rules import CallContext, abstentions, apply_rules
from pipeline.rules.conduct import polite_counts
from pipeline.segmentation import segmented_turns
from pipeline.speakers import (
    MonoSpeakers,
    apply_roles,
    infer_roles,
    merge_turns,
    mono_turns,
    one_voice,
    role_evidence,
    stereo_turns,
)
from pipeline.speech import Region, speech_regions, stereo_regions
from pipeline.text import normalize_transcript
from pipeline.transcribe import AsrSegment, Piece, Transcriber
from pipeline.transfers import transfer_time, transferred_turns
from pipeline.vocabulary import correct_words

HALLUCINATION = "hallucination"
T = TypeVar("T")
# How much lower the speaker models' thread runs than Whisper's on mono (a nice increment).
_BACKGROUND_NICE = 10
ProgressHook = Callable[[str, float], None]  # (stage, seconds)


@dataclass(frozen=True)
class Models:
    """The heavy objects a worker needs, created once and passed to every call."""

    transcriber: Transcriber

    @classmethod
    def load(cls, cfg: Config) -> Models:
        from pipeline.modelstore import require
        from pipeline.transcribe import domain_vocabulary, load_transcriber

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
        from pipeline.speakers import load_embedder

        return load_embedder(cfg.speech.speaker_embedder, cfg.models_path)

    def segmenter(self, cfg: Config):
        """The segmentation model (``[speech] segmentation_model``, else the bundled one), loaded
        on the first mono call and kept for the process."""
        from pipeline.modelstore import require
        from pipeline.segmentation.model import load_segmenter

        path = cfg.speech.segmentation_model or str(
            require("segmentation", cfg.models_path) / "segmentation.onnx"
        )
        return load_segmenter(path)


def assign_words(turns: Sequence[Turn], words: Sequence[tuple[Word, bool]]) -> list[list[tuple[Word, bool]]]:
    """Each word to the turn covering most of it (nearest turn if none does)."""
    buckets: list[list[tuple[Word, bool]]] = [[] for _ in turns]
    if not turns:
        return buckets
    starts = np.array([t.start for t in turns])
    ends = np.array([t.end for t in turns])
    for item in words:
        w = item[0]
        cover = np.minimum(ends, w.end) - np.maximum(starts, w.start)
        best = int(np.argmax(cover))
        if cover[best] <= 0:
            mid = (w.start + w.end) / 2
            best = int(np.argmin(np.minimum(np.abs(starts - mid), np.abs(ends - mid))))
        buckets[best].append(item)
    return buckets


def build_utterances(
    call_id: str,
    turns: Sequence[Turn],
    words: Sequence[tuple[Word, bool]],
    lexicon: Lexicon,
    terms: Sequence[str] = (),
) -> list[Utterance]:
    """Utterances of one channel (or of a mono recording): its turns with the words spoken in them.

    ``words`` pairs each word with whether its ASR segment looked like a hallucination; words that
    sound like one of ``terms`` are written as the term (``pipeline.vocabulary``).
    """
    # In the order they were spoken: the words of a second pass (speech the first skipped,
    # transcribe.unheard_pieces) come after the first pass's in ``words``, and read in that order
    # a turn's text came out shuffled (RC06 at 8 kHz: 欢迎 + 就是我万人敬仰的太乙真人 + 大家来体验).
    words = sorted(words, key=lambda item: item[0].start)
    out = []
    for turn, bucket in zip(turns, assign_words(turns, words), strict=True):
        # A doubtful segment's words (a loop, text over silence) beside words Whisper was sure
        # of in the same turn are left out: the turn is the real words' (E030 at 8 kHz: a caller's
        # 你们不能每次都这么说啊 followed by a segment of a hundred 抱 flagged the whole reply,
        # and the hang-up it was cut off by went unseen). A turn of doubtful words only is kept,
        # flagged, never scored.
        if any(not flag for _, flag in bucket):
            bucket = [(w, flag) for w, flag in bucket if not flag]
        if not bucket:
            continue
        if terms:
            fixed = correct_words([w for w, _ in bucket], terms, lexicon.tokenizer())
            bucket = [(w, flag) for w, (_, flag) in zip(fixed, bucket, strict=True)]
        text = normalize_transcript("".join(w.text for w, _ in bucket))
        if not text:
            continue
        suspicious = all(flag for _, flag in bucket)
        flags = (
            (HALLUCINATION,) if suspicious or lexicon["hallucinations"].find(text, homophones=False) else ()
        )
        out.append(
            Utterance(
                call_id=call_id,
                idx=0,
                role=turn.role,
                start=round(min(turn.start, bucket[0][0].start), 3),
                end=round(max(turn.end, bucket[-1][0].end), 3),
                text=text,
                words=tuple(w for w, _ in bucket),
                confidence=round(float(np.mean([w.prob for w, _ in bucket])), 3),
                speaker=turn.speaker,
                flags=flags,
            )
        )
    return out


def _terms(cfg: Config, lexicon: Lexicon) -> tuple[str, ...]:
    if not cfg.model.domain_correction:
        return ()
    return tuple(dict.fromkeys((*lexicon.domain_terms, *cfg.model.domain_terms)))


def _words_of(segments: Sequence[AsrSegment], channel: int) -> list[tuple[Word, bool]]:
    return [
        (w, seg.suspicious)
        for seg in segments
        for w, ch in zip(seg.words, seg.channels, strict=True)
        if ch == channel
    ]


def transcribe_and_diarize(
    audio: Audio, ref: CallRef, cfg: Config, models: Models, lexicon: Lexicon, timings: dict[str, float]
) -> tuple[list[Turn], list[Utterance], RoleAssignment]:
    """Who spoke when, their words and who is the agent; each stage's seconds go into ``timings``."""
    if audio.channels == 2 and ref.layout != "mono":
        return _stereo_call(audio, ref, cfg, models, lexicon, timings)
    return _mono_call(audio.mono(), ref, cfg, models, lexicon, timings)


def _stereo_call(
    audio: Audio, ref: CallRef, cfg: Config, models: Models, lexicon: Lexicon, timings: dict[str, float]
) -> tuple[list[Turn], list[Utterance], RoleAssignment]:
    """A channel a party: the channel map gives the speakers and roles."""
    tick = time.perf_counter()
    regions = stereo_regions(audio.tracks, cfg.speech)
    timings["speech"] = time.perf_counter() - tick
    tick = time.perf_counter()
    turns, roles = stereo_turns(regions, ref.layout, cfg.speech.turn_merge_gap_s)
    timings["speakers"] = time.perf_counter() - tick
    tick = time.perf_counter()
    pieces = [Piece(ch, s, e) for ch in range(2) for s, e in regions[ch]]
    segments = models.transcriber.transcribe(audio.tracks, pieces)
    utterances = []
    for channel in range(2):
        channel_turns = [t for t in turns if t.channel == channel]
        utterances += build_utterances(
            ref.call_id, channel_turns, _words_of(segments, channel), lexicon, _terms(cfg, lexicon)
        )
    timings["transcribe"] = time.perf_counter() - tick
    return turns, utterances, roles


def _mono_call(
    samples: Signal, ref: CallRef, cfg: Config, models: Models, lexicon: Lexicon, timings: dict[str, float]
) -> tuple[list[Turn], list[Utterance], RoleAssignment]:
    """One mixed channel: the voices are clustered and overlaps placed by the speaker models, the
    roles read from the words."""
    tick = time.perf_counter()
    regions = speech_regions(samples, cfg.speech)
    timings["speech"] = time.perf_counter() - tick
    activity = None
    # Loaded here, in the call's own thread: a missing model fails the call at once, not after
    # a whole transcription, and no other thread loads it.
    embedder = models.speaker_embedder(cfg)
    segmenter = models.segmenter(cfg) if cfg.speech.segmentation else None
    stopped = threading.Event()  # the call ended early (its timeout, an error): the rest is moot

    def refined(turns: list[Turn], unsure: Sequence[Region] = ()) -> list[Turn]:
        # The segmentation model places overlaps between two voices and splits one's turn where
        # the other speaks: with a single voice it has nothing to change, so it is not run.
        nonlocal activity
        if segmenter is None or len({t.speaker for t in turns}) < 2 or stopped.is_set():
            return turns
        if activity is None:
            activity = segmenter(samples)
        return segmented_turns(turns, activity, cfg.speech, unsure)

    def diarized() -> tuple[MonoSpeakers, list[Turn], float]:
        start = time.perf_counter()
        speakers = mono_turns(
            samples,
            regions,
            embedder,
            cfg.speech.max_speakers,
            cfg.speech.turn_merge_gap_s,
            cfg.speech.resegment_min_s,
            cfg.speech.unsure_margin,
        )
        return speakers, refined(speakers.turns, speakers.unsure), time.perf_counter() - start

    # On mono, who spoke when and the words both start from the speech regions and neither needs
    # the other: the speaker models run beside Whisper, on a core its decoding leaves idle part
    # of the time. Each stage's time is its own thread's. A call stopped meanwhile (its timeout)
    # does not wait for the speaker models, and they skip what is left of their work.
    pieces = [Piece(0, s, e) for s, e in regions]
    if cfg.speech.speakers_beside_whisper:
        tick = time.perf_counter()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callqa-speakers")
        # Below Whisper's priority only where Whisper's threads are this process's alone: beside
        # other worker processes' Whisper a lower-priority thread would starve and hold its call.
        background = cfg.run.workers <= 1 and not cfg.run.dask_address
        try:
            future = pool.submit(_in_the_background, diarized, lower=background)
            segments = models.transcriber.transcribe([samples], pieces)
            timings["transcribe"] = time.perf_counter() - tick
            # Waited for in short steps: a timeout raised in this thread (Prefect's, between two
            # Python steps) lands within one, not when the speaker models are done.
            while not future.done():
                wait([future], timeout=0.5)
            speakers, turns, timings["speakers"] = future.result()
        except BaseException:
            stopped.set()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    else:
        speakers, turns, timings["speakers"] = diarized()
        tick = time.perf_counter()
        segments = models.transcriber.transcribe([samples], pieces)
        timings["transcribe"] = time.perf_counter() - tick
    tick = time.perf_counter()
    words = _words_of(segments, 0)
    utterances = build_utterances(ref.call_id, turns, words, lexicon, _terms(cfg, lexicon))
    timings["transcribe"] += time.perf_counter() - tick
    tick = time.perf_counter()
    similarity = speakers.similarity
    at = transfer_time(utterances, lexicon, regions) if cfg.speech.transfers else None
    if at is not None:
        parties = transferred_turns(
            samples,
            regions,
            at,
            embedder,
            cfg.speech.turn_merge_gap_s,
            cfg.speech.resegment_min_s,
            cfg.speech.unsure_margin,
        )
        if parties is not None:
            turns = refined(parties.turns, parties.unsure)
            utterances = build_utterances(ref.call_id, turns, words, lexicon, _terms(cfg, lexicon))
            similarity = parties.similarity
    if cfg.speech.handover:
        turns, utterances = move_handovers(turns, utterances, lexicon)
    # Whether the voices are one reads all the words: leaving out those at overlaps (as the roles
    # do) could only take caller evidence away, and merge two parties into one.
    if one_voice(role_evidence(utterances, lexicon), similarity, embedder.same_speaker):
        # Alike voices whose words show one party: one speaker, and every role rule abstains.
        turns = merge_turns([replace(t, speaker="spk0") for t in turns], cfg.speech.turn_merge_gap_s)
        utterances = [replace(u, speaker="spk0") for u in utterances]
        roles = RoleAssignment(
            "spk0", 0.3, f"one voice: two clusters {similarity:.2f} alike, words of one party"
        )
    else:
        roles = infer_roles(utterances, lexicon, turns)
        moved = (
            move_foreign_clauses(turns, utterances, lexicon, roles, cfg.rules.role_min_confidence)
            if cfg.speech.foreign_clauses
            else None
        )
        if moved is not None:
            turns, utterances, roles = moved
    utterances = apply_roles(utterances, roles)
    turns = [
        Turn(t.speaker, "agent" if t.speaker == roles.agent_speaker else "caller", t.start, t.end, 0)
        for t in turns
    ]
    timings["speakers"] += time.perf_counter() - tick
    return turns, utterances, roles


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
    try:
        turns, utterances, roles = transcribe_and_diarize(audio, ref, cfg, models, lexicon, timings)
    finally:
        if owned:
            audio.close()
    utterances = numbered(utterances)
    tick = time.perf_counter()
    result = score_call(
        ref, audio.duration, turns, utterances, roles, cfg, lexicon, models.transcriber.model_id
    )
    result = redact_call(result, cfg.privacy.redact)
    timings["rules"] = time.perf_counter() - tick
    return replace(result, timings={k: round(v, 4) for k, v in timings.items()})


def score_call(
    ref: CallRef,
    duration: float,
    turns: Sequence[Turn],
    utterances: Sequence[Utterance],
    roles: RoleAssignment,
    cfg: Config,
    lexicon: Lexicon,
    model_id: str,
) -> CallResult:
    """The rules and metrics of a transcribed call; also what re-scoring runs on stored utterances."""
    ctx = CallContext(
        ref.call_id, ref.agent_id, duration, tuple(utterances), roles, lexicon, cfg.rules, tuple(turns)
    )
    metrics = call_metrics(ref.call_id, ref.agent_id, duration, turns, utterances)
    return CallResult(
        call=ref,
        model_id=model_id,
        lexicon_version=lexicon.version,
        roles=roles,
        utterances=tuple(utterances),
        events=tuple(apply_rules(ctx)),
        metrics=replace(metrics, polite_counts=polite_counts(utterances, lexicon["polite"].phrases)),
        abstentions=tuple(abstentions(ctx)),
        turns=tuple(sorted(turns, key=lambda t: (t.start, t.channel))),
    )
