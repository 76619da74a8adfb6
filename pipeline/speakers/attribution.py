"""Who spoke when, which words are whose, and who is the agent: the speakers concern's one entry.

``call_speakers`` gives the ``CallSpeakers`` of one call, by its layout, and a call's processing
goes down into it once:

1. ``diarize()``: who spoke when, before any words are known. Stereo: a channel a party, from the
   channel map (confidence 1.0). Mono: the voices embedded (CAM++) and clustered into two; then
   the segmentation model proposes where the other voice takes over inside a turn, and a
   proposal becomes a turn only where that stretch's own speaker vector confirms it
   (``voice_confirmer``); overlaps are placed where the model hears both. It needs no words, so
   on mono it runs beside Whisper (``pipeline.run.process``).
2. ``attribute(diarized, segments)``: Whisper's segments given to the turns (utterances; on mono a
   word two voices' turns cover alike goes to the voice the model hears alone over it), then, on
   mono only, what the words tell: a call put through to a colleague diarized as two
   conversations (``transfers``), replies that start inside the other's turn moved to their
   speaker (``handover``), one voice told from two alike ones, the roles read from the words
   (``clustering.infer_roles``), clauses in the other party's words given back
   (``registers``); with ``[speech] window_voices`` on, a call whose roles stay unsure is given
   the two voices the segmentation model's windows hear (``segmentation.voices``) where their
   words give trusted roles. Returns an ``Attribution``: turns with their roles, utterances, roles.

``reassign_roles`` is step 2's reading of the words on stored utterances, for re-scoring.

Contract: times in seconds from the call's start; turns of one speaker do not overlap each
other, turns of the two may (real overlapped speech); speakers are ``spk0``/``spk1`` on mono and
``ch0``/``ch1`` (the channel) on stereo; ``RoleAssignment.confidence`` below ``[rules]
role_min_confidence`` makes every role rule abstain.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pipeline.asr.whisper import AsrSegment
from pipeline.audio.decode import Signal
from pipeline.audio.quality import mixed_behind_db
from pipeline.audio.speech import Region, behind_the_voices, frame_db, quietest_voice_db, without
from pipeline.config import Config
from pipeline.lexicon import Lexicon
from pipeline.records import (
    CHANNEL_MAP_CONTRADICTED,
    MAP_KEPT_UNHEARD,
    RoleAssignment,
    Turn,
    Utterance,
    VoicesHeard,
    agent_channel,
)
from pipeline.speakers.clustering import (
    Embedder,
    MonoSpeakers,
    VoicePrints,
    apply_roles,
    caller_speaks_as_agent,
    cut,
    infer_roles,
    merge_turns,
    mono_turns,
    one_voice,
    role_evidence,
    stereo_turns,
    turn_voice_similarity,
    words_of_one_party,
)
from pipeline.speakers.handover import move_handovers
from pipeline.speakers.registers import move_foreign_clauses
from pipeline.speakers.segmentation import segmented_turns
from pipeline.speakers.segmentation.changes import Change, alone_voice
from pipeline.speakers.transfers import transfer_time, transferred_turns
from pipeline.speakers.utterances import HeardAlone, HeardWord, UtteranceBuilder, words_of


@dataclass(frozen=True)
class Attribution:
    """A call's speakers: its turns (with roles), its utterances (with roles) and who the agent is."""

    turns: list[Turn]
    utterances: list[Utterance]
    roles: RoleAssignment
    # Clauses were given back to the other voice (``registers``): the utterances were regrouped.
    clauses_moved: bool = False
    # Mono: what the two voices say of the recording's sound (None on stereo, whose channels are
    # read alone: pipeline.audio.quality).
    heard: VoicesHeard | None = None


@dataclass(frozen=True)
class Diarized:
    """Who spoke when before the words: the turns, and on mono what the clustering saw."""

    turns: list[Turn]
    roles: RoleAssignment | None = None  # stereo: from the channel map
    speakers: MonoSpeakers | None = None  # mono
    seconds: float = 0.0
    # Mono: stretches of other people's voices far behind both parties, taken out of the turns
    # (``speech.behind_the_voices``); the words Whisper heard there are nobody's.
    behind: tuple[Region, ...] = ()
    heard: VoicesHeard | None = None  # the voices' levels and what is behind them (``Attribution``)


class StereoSpeakers:
    """A channel a party: the channel map gives the speakers and roles."""

    def __init__(self, regions: Sequence[list[Region]], layout: str, cfg: Config, build: UtteranceBuilder):
        self.regions, self.layout, self.cfg, self.build = regions, layout, cfg, build

    def diarize(self) -> Diarized:
        tick = time.perf_counter()
        turns, roles = stereo_turns(self.regions, self.layout, self.cfg.speech.turn_merge_gap_s)
        return Diarized(turns, roles=roles, seconds=time.perf_counter() - tick)

    def attribute(self, diarized: Diarized, segments: Sequence[AsrSegment]) -> Attribution:
        assert diarized.roles is not None
        utterances: list[Utterance] = []
        for channel in range(2):
            channel_turns = [t for t in diarized.turns if t.channel == channel]
            utterances += self.build(channel_turns, words_of(segments, channel))
        roles = checked_channel_map(diarized.roles, utterances, self.build.lexicon, self.cfg)
        if roles is diarized.roles:
            return Attribution(diarized.turns, utterances, roles)
        return _with_roles(diarized.turns, utterances, roles)

    def stop(self) -> None:
        pass


class MonoSpeakersOfCall:
    """One mixed channel: the voices clustered and overlaps placed by the speaker models, the
    roles read from the words. ``embedder`` and ``segmenter`` come loaded from the caller (once per
    worker); ``stop()`` tells work still going that the call has ended (its timeout, an error)."""

    def __init__(
        self,
        samples: Signal,
        regions: list[Region],
        cfg: Config,
        build: UtteranceBuilder,
        embedder: Embedder,
        segmenter: Callable[[Signal], Any] | None,
    ) -> None:
        self.samples, self.regions, self.cfg, self.build = samples, regions, cfg, build
        self.embedder, self.segmenter = embedder, segmenter
        self._activity = None
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def _refined(
        self, turns: list[Turn], unsure: Sequence[Region] = (), voices: VoicePrints | None = None
    ) -> list[Turn]:
        # The segmentation model places overlaps between two voices and splits one's turn where
        # the other speaks: with a single voice it has nothing to change, so it is not run.
        if self.segmenter is None or len({t.speaker for t in turns}) < 2 or self._stopped.is_set():
            return turns
        if self._activity is None:
            self._activity = self.segmenter(self.samples)
        confirm = pause_confirm = None
        if voices is not None:
            confirm = voice_confirmer(self.samples, self.embedder, voices, self.cfg.speech.change_margin)
            pause_confirm = voice_confirmer(self.samples, self.embedder, voices, self.cfg.speech.pause_margin)
        return segmented_turns(turns, self._activity, self.cfg.speech, unsure, confirm, pause_confirm)

    def _heard(self, turns: Sequence[Turn]) -> HeardAlone | None:
        """Who the segmentation model hears alone at a time, for words two turns cover alike."""
        if self._activity is None or not self.cfg.speech.words_by_voice_heard:
            return None
        return alone_voice(turns, self._activity)

    def diarize(self) -> Diarized:
        start = time.perf_counter()
        speech = self.cfg.speech
        speakers = mono_turns(
            self.samples,
            self.regions,
            self.embedder,
            speech.max_speakers,
            speech.turn_merge_gap_s,
            speech.resegment_min_s,
            speech.unsure_margin,
        )
        db = frame_db(self.samples)
        behind, behind_db = self._behind(speakers.turns, db)
        turns = self._without(self._refined(speakers.turns, speakers.unsure, speakers.voices), behind)
        quieter = quietest_voice_db(_voices(turns), db, percentile=50)
        return Diarized(
            turns,
            speakers=speakers,
            seconds=time.perf_counter() - start,
            behind=tuple(behind),
            heard=VoicesHeard(math.nan if quieter is None else quieter, behind_db),
        )

    def _behind(self, turns: Sequence[Turn], db: np.ndarray) -> tuple[list[Region], float]:
        """Where the voices heard are other people far behind both parties (the next desks of an
        open-plan floor), and their level: the VAD keeps them as speech, and the pauses they fill
        would read as one party talking on (``speech.behind_the_voices``)."""
        stretches, level = behind_the_voices(_voices(turns), db, self.cfg.speech)
        if not stretches or level is None:
            return [], math.nan
        return stretches, mixed_behind_db(self.samples, db, stretches, level, self.cfg.speech)

    def _without(self, turns: list[Turn], behind: Sequence[Region]) -> list[Turn]:
        if not behind:
            return turns
        min_len = self.cfg.speech.min_speech_ms / 1000
        return [
            replace(t, start=a, end=b) for t in turns for a, b in without([(t.start, t.end)], behind, min_len)
        ]

    def attribute(self, diarized: Diarized, segments: Sequence[AsrSegment]) -> Attribution:
        return replace(self._attribute(diarized, segments), heard=diarized.heard)

    def _attribute(self, diarized: Diarized, segments: Sequence[AsrSegment]) -> Attribution:
        assert diarized.speakers is not None
        speech, lexicon = self.cfg.speech, self.build.lexicon
        words = _not_behind(words_of(segments, 0), diarized.behind)
        turns = diarized.turns
        utterances = self.build(turns, words, self._heard(turns))
        similarity = diarized.speakers.similarity
        at = transfer_time(utterances, lexicon, self.regions) if speech.transfers else None
        if at is not None:
            parties = transferred_turns(
                self.samples,
                self.regions,
                at,
                self.embedder,
                speech.turn_merge_gap_s,
                speech.resegment_min_s,
                speech.unsure_margin,
            )
            if parties is not None:
                turns = self._without(
                    self._refined(parties.turns, parties.unsure, parties.voices), diarized.behind
                )
                utterances = self.build(turns, words, self._heard(turns))
                similarity = parties.similarity
        if speech.handover:
            turns, utterances = move_handovers(turns, utterances, lexicon)
        # Whether the voices are one reads all the words: leaving out those at overlaps (as the
        # roles do) could only take caller evidence away, and merge two parties into one.
        evidence = role_evidence(utterances, lexicon)
        if at is None and words_of_one_party(evidence):
            # The sound is asked only now: measured on the voices' own turns, not on the regions
            # the clustering started from (turn_voice_similarity); a transfer's parties keep theirs.
            heard = turn_voice_similarity(self.samples, turns, self.embedder)
            similarity = similarity if heard is None else heard
        if one_voice(evidence, similarity, self.embedder.same_speaker):
            # Alike voices whose words show one party: one speaker, and every role rule abstains.
            turns = merge_turns([replace(t, speaker="spk0") for t in turns], speech.turn_merge_gap_s)
            utterances = [replace(u, speaker="spk0") for u in utterances]
            roles = RoleAssignment(
                "spk0", 0.3, f"one voice: two voices {similarity:.2f} alike, words of one party"
            )
            spoken = _with_roles(turns, utterances, roles)
        else:
            spoken = reassign_roles(turns, utterances, lexicon, self.cfg)
        if (
            spoken.roles.confidence < self.cfg.rules.role_min_confidence
            and speech.window_voices
            and at is None
        ):
            return self._window_voices(words) or spoken
        return spoken

    def _window_voices(self, words: Sequence[HeardWord]) -> Attribution | None:
        """The call's two voices found again from the segmentation model's local speakers
        (``segmentation.voices``), where their words give roles the rules may trust; else None."""
        from pipeline.speakers.segmentation.voices import WindowVoiceOptions, window_voices

        if self.segmenter is None or self._stopped.is_set():
            return None
        if self._activity is None:
            self._activity = self.segmenter(self.samples)
        options = WindowVoiceOptions()
        found = window_voices(self.samples, self._activity, self.embedder, options)
        if found is None or found.forced > options.max_forced or found.agreement < options.min_agreement:
            return None
        lexicon = self.build.lexicon
        turns = found.turns
        utterances = self.build(turns, words, self._heard(turns))
        if self.cfg.speech.handover:
            turns, utterances = move_handovers(turns, utterances, lexicon)
        spoken = reassign_roles(turns, utterances, lexicon, self.cfg)
        if spoken.roles.confidence < self.cfg.rules.role_min_confidence:
            return None
        if caller_speaks_as_agent(spoken.utterances, lexicon, spoken.roles, spoken.turns):
            return None
        roles = replace(
            spoken.roles,
            reason=f"{spoken.roles.reason}; voices from the segmentation model's windows "
            f"({found.similarity:.2f} alike, {found.forced:.0%} of paired speech forced, "
            f"{found.agreement:.0%} the same from other starts)",
        )
        return _with_roles(spoken.turns, spoken.utterances, roles, spoken.clauses_moved)


CallSpeakers = StereoSpeakers | MonoSpeakersOfCall


def _voices(turns: Sequence[Turn]) -> list[list[Region]]:
    """Each speaker's turns as regions."""
    voices: dict[str, list[Region]] = {}
    for t in turns:
        voices.setdefault(t.speaker, []).append((t.start, t.end))
    return list(voices.values())


def _not_behind(words: Sequence[HeardWord], behind: Sequence[Region]) -> list[HeardWord]:
    """The words but those said wholly inside a stretch of voices behind the parties. Whisper
    often starts a call's or a turn's first word in the silence before it (您 of 您好 timed from
    the voices behind), so a word reaching out of the stretch is kept."""
    if not behind:
        return list(words)
    starts = [a for a, _ in behind]
    out = []
    for item in words:
        i = bisect.bisect_right(starts, item[0].start) - 1
        if i < 0 or item[0].end > behind[i][1]:
            out.append(item)
    return out


def voice_confirmer(
    samples: Signal, embedder: Embedder, voices: VoicePrints, margin: float
) -> Callable[[list[Change]], list[bool]]:
    """Whether each proposed change of voice is that voice: the stretch's own speaker vector is
    nearer the proposed voice than the voice of the turn it is in by ``margin`` (centred cosine).

    The segmentation model hears where a second voice takes over inside one VAD region (a
    caller's last words straight after the agent's goodbye, a reply with no pause before it), and
    the speaker vectors tell whether it is the other party or the same voice that the model's
    local speakers split in two; neither alone is right often enough (docs/evaluation.md)."""

    def confirm(changes: list[Change]) -> list[bool]:
        vectors = embedder.embed_many([cut(samples, s, e) for s, e, _, _ in changes])
        near = voices.nearness(vectors)
        column = {name: i for i, name in enumerate(voices.names)}
        return [
            name in column and host in column and row[column[name]] - row[column[host]] >= margin
            for (_, _, name, host), row in zip(changes, near, strict=True)
        ]

    return confirm


def load_speaker_embedder(cfg: Config) -> Embedder:
    """The speaker embedder ``[speech] speaker_embedder`` names, loaded once per process."""
    from pipeline.speakers.clustering import load_embedder

    return load_embedder(cfg.speech.speaker_embedder, cfg.models_path)


def load_segmentation_model(cfg: Config) -> Callable[[Signal], Any]:
    """The segmentation model (``[speech] segmentation_model``, else the bundled one), loaded once
    per process."""
    from pipeline.models.store import require
    from pipeline.speakers.segmentation.model import load_segmenter

    path = cfg.speech.segmentation_model or str(
        require("segmentation", cfg.models_path) / "segmentation.onnx"
    )
    return load_segmenter(path)


def call_speakers(
    call_id: str,
    layout: str,
    tracks: Sequence[Signal],
    regions: Sequence[list[Region]] | list[Region],
    cfg: Config,
    lexicon: Lexicon,
    terms: Sequence[str] = (),
    embedder: Callable[[], Embedder] | None = None,
    segmenter: Callable[[], Callable[[Signal], Any]] | None = None,
) -> CallSpeakers:
    """The speakers of one call: ``StereoSpeakers`` for two channels with a channel map, else
    ``MonoSpeakersOfCall`` over the one (mixed) track, whose models ``embedder()`` and
    ``segmenter()`` load (here, in the call's own thread: a missing model fails the call at once,
    not after a whole transcription). Words that sound like one of ``terms`` are written as the
    term in the utterances (``pipeline.asr.vocabulary``)."""
    build = UtteranceBuilder(call_id, lexicon, tuple(terms))
    if len(tracks) == 2 and layout != "mono":
        return StereoSpeakers(regions, layout, cfg, build)  # type: ignore[arg-type]
    if embedder is None:
        raise ValueError("a mono call needs the speaker embedder")
    loaded_segmenter = segmenter() if segmenter is not None and cfg.speech.segmentation else None
    return MonoSpeakersOfCall(tracks[0], list(regions), cfg, build, embedder(), loaded_segmenter)  # type: ignore[arg-type]


def reassign_roles(
    turns: Sequence[Turn], utterances: Sequence[Utterance], lexicon: Lexicon, cfg: Config
) -> Attribution:
    """The roles read from the words of a mono call's two voices, and the clauses in the other
    party's words given back to it (``[speech] foreign_clauses``); turns and utterances take the
    roles. What the nightly run does after the speaker models, and re-scoring on stored calls."""
    roles = infer_roles(utterances, lexicon, turns)
    moved = (
        move_foreign_clauses(turns, utterances, lexicon, roles, cfg.rules.role_min_confidence)
        if cfg.speech.foreign_clauses
        else None
    )
    if moved is not None:
        turns, utterances, roles = moved
    return _with_roles(turns, utterances, roles, clauses_moved=moved is not None)


def checked_channel_map(
    mapped: RoleAssignment, utterances: Sequence[Utterance], lexicon: Lexicon, cfg: Config
) -> RoleAssignment:
    """The channel map's roles, unless the words of the two channels name the other channel the
    agent with ``[speech] channel_map_check_confidence`` or more: then the words' roles, their
    reason starting with ``CHANNEL_MAP_CONTRADICTED`` (a site wired the agent to the other side)."""
    threshold = cfg.speech.channel_map_check_confidence
    if not 0 < threshold <= 1:
        return mapped
    said = infer_roles(utterances, lexicon)
    if said.agent_speaker in (None, mapped.agent_speaker) or said.confidence < threshold:
        return mapped
    return RoleAssignment(said.agent_speaker, said.confidence, f"{CHANNEL_MAP_CONTRADICTED}; {said.reason}")


def with_channel_map(spoken: Attribution, layout: str) -> Attribution:
    """``spoken`` with the roles the stereo ``layout`` names (the words' check of the map undone)."""
    roles = RoleAssignment(f"ch{agent_channel(layout)}", 1.0, f"channel map; {MAP_KEPT_UNHEARD}")
    return _with_roles(spoken.turns, spoken.utterances, roles)


def _with_roles(
    turns: Sequence[Turn], utterances: Sequence[Utterance], roles: RoleAssignment, clauses_moved: bool = False
) -> Attribution:
    """Turns and utterances with the roles of ``roles`` (each turn keeps its channel)."""
    return Attribution(
        [replace(t, role="agent" if t.speaker == roles.agent_speaker else "caller") for t in turns],
        apply_roles(utterances, roles),
        roles,
        clauses_moved,
    )
