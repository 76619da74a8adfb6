"""The records passed between stages: small frozen dataclasses.

Times are seconds from the start of the call (float) in memory; the warehouse stores integer
milliseconds. Every record converts to and from a plain dict so it can cross process boundaries
(Prefect, Dask) and be written to JSON or Parquet without pickling library objects.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

LAYOUTS: tuple[str, ...] = ("stereo-agent-left", "stereo-agent-right", "mono")


def agent_channel(layout: str) -> int:
    """The channel a stereo ``layout`` (the channel map) puts the agent on: 0 left, 1 right."""
    return 1 if layout == "stereo-agent-right" else 0


class _Record:
    """to_dict/from_dict shared by the records (nested records and tuples handled)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [v.to_dict() if isinstance(v, _Record) else v for v in value]
            elif isinstance(value, _Record):
                value = value.to_dict()
            elif isinstance(value, datetime):
                value = value.isoformat()
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**{k: _NESTED.get((cls.__name__, k), _identity)(v) for k, v in data.items()})


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class CallRef(_Record):
    """One recording to process, with the metadata the share gives for it."""

    call_id: str
    path: str
    agent_id: str
    started_at: datetime | None
    layout: str
    sha256: str = ""
    size: int = 0
    mtime: float = 0.0
    # What is stored of the path: relative to the share, personal numbers pseudonymised
    # (``pipeline.privacy.identifiers``). ``path`` itself is where the file is, never stored.
    stored_path: str = ""
    # The caller's pseudonym, from a personal group of the file-name pattern ([privacy]
    # personal_groups) or a manifest's ``caller`` column: one caller's calls group by it.
    caller_id: str = ""

    @property
    def call_date(self) -> str:
        return self.started_at.date().isoformat() if self.started_at else "unknown"


@dataclass(frozen=True)
class Word(_Record):
    text: str
    start: float
    end: float
    prob: float = 1.0


@dataclass(frozen=True)
class Turn(_Record):
    """A stretch of speech by one speaker (a channel in stereo, a cluster in mono)."""

    speaker: str
    role: str
    start: float
    end: float
    channel: int = 0

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Utterance(_Record):
    """The words of one turn, with text normalised to Simplified Chinese.

    ``flags`` marks text that must not be scored (e.g. ``hallucination``).
    """

    call_id: str
    idx: int
    role: str
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    confidence: float = 1.0
    speaker: str = ""
    flags: tuple[str, ...] = ()

    @property
    def scorable(self) -> bool:
        return not self.flags


# In a RoleAssignment's reason: a voice speaks both parties' registers, the clustering joined
# them (speakers.infer_roles); the rules abstain and pipeline.speakers.registers may mend it.
VOICES_MIXED = "voices mixed"
# In a stereo call's RoleAssignment reason: the words of its channels named the other channel the
# agent, so the roles come from the words, not the configured channel map
# (speakers.attribution.checked_channel_map); the report warns when it is most of a day's calls.
CHANNEL_MAP_CONTRADICTED = "channel map contradicted by the words"
# After "channel map": the words contradicted it, but the call's reading withholds the words (other
# voices behind a party, noise), so the map stands (run.process.map_kept_where_words_unheard).
MAP_KEPT_UNHEARD = "the words contradicting it were not heard well enough"


@dataclass(frozen=True)
class RoleAssignment(_Record):
    """Which speaker is the agent, how sure we are, and why."""

    agent_speaker: str | None
    confidence: float
    reason: str


@dataclass(frozen=True)
class Event(_Record):
    """One finding of a conduct rule, with the evidence an analyst needs to listen to it."""

    call_id: str
    agent_id: str
    rule_id: str
    category: str
    severity: str
    start: float
    end: float
    role: str
    evidence: str
    confidence: float
    rule_version: str

    @property
    def event_id(self) -> str:
        """Stable id of the finding: the same call, rule, category and moment give the same id
        whenever it is raised again (``callqa rescore``), so reviewers' verdicts stay attached."""
        return event_id(self.call_id, self.rule_id, self.category, int(round(self.start * 1000)))


def event_id(call_id: str, rule_id: str, category: str, start_ms: int) -> str:
    import hashlib

    key = "\x1f".join((call_id, rule_id, category or "", str(start_ms)))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CallMetrics(_Record):
    call_id: str
    agent_id: str
    duration: float
    talk_agent: float
    talk_caller: float
    silence: float
    overlap: float
    agent_chars_per_s: float
    n_utterances: int
    overlap_started_by_agent: float = 0.0  # overlap time in which the agent was the one who cut in
    overlap_started_by_caller: float = 0.0
    polite_counts: dict[str, int] = field(default_factory=dict)
    # The agent's measures, whether or not a rule fires (docs/warehouse.md); NaN where there is
    # nothing to measure or the roles are not trusted. Words: pipeline.rules.answers.
    agent_hedges_per_min: float = math.nan
    agent_fillers_per_min: float = math.nan
    agent_answer_latency_s: float = math.nan
    agent_nin_share: float = math.nan
    # Voice: pipeline.audio.prosody.
    agent_voiced_s: float = math.nan
    agent_pitch_median_hz: float = math.nan
    agent_pitch_range_st: float = math.nan
    agent_loudness_db: float = math.nan
    agent_loudness_range_db: float = math.nan
    agent_loudness_slope_db_per_min: float = math.nan


@dataclass(frozen=True)
class ChannelQuality(_Record):
    """How well one channel (or a mono call's mix) can be heard (pipeline.audio.quality)."""

    speech_dbfs: float  # the speech's level: the 95th percentile of 20 ms frames' energy
    noise_dbfs: float  # the floor under it: the 10th percentile
    clipped_share: float  # speech frames with 3+ samples in a row at full scale
    dropout_share: float  # speech frames lost to digital silence (VoIP packets)
    bandwidth_hz: float  # where the speech spectrum ends, 60 dB under its peak
    # The channel's sound while the other party is silent and its talker pauses, in dB against
    # that talker (pipeline.audio.speech.background_level; on mono, the voices behind both
    # parties against the quieter one: VoicesHeard; NaN: too little to measure, nothing behind,
    # or noise rather than voices: [speech] behind_max_flatness).
    behind_db: float = math.nan
    # Mono: the quieter of the two voices the clustering found, the median of its turns' 20 ms
    # frames (VoicesHeard; NaN on stereo, where speech_dbfs is each party's own level).
    voice_dbfs: float = math.nan

    @property
    def snr_db(self) -> float:
        return self.speech_dbfs - self.noise_dbfs


@dataclass(frozen=True)
class VoicesHeard(_Record):
    """What the two voices the clustering found on a mono recording say of its sound: the quieter
    voice's level (the median of its turns' frames, dBFS) and other people's voices behind both
    (dB against the quieter voice's talker level; pipeline.audio.quality.mixed_behind_db). A
    level on the whole mix reads the louder party only."""

    quieter_dbfs: float = math.nan
    behind_db: float = math.nan


@dataclass(frozen=True)
class GreetingHearing(_Record):
    """What the sound of an agent's opening says of a greeting its words do not hold
    (pipeline.asr.hearing): ``at``, where the opening read starts (seconds); ``margin``, the
    log-probability of the best reading that starts with 您好/你好 less that of the best without one
    (positive: the sound fits a greeting better)."""

    at: float
    margin: float


@dataclass(frozen=True)
class AudioQuality(_Record):
    """A call's audio-quality reading: each channel as scored (stereo: in channel order; mono: the
    mix), how the file was stored, the share of its words Whisper doubted, and, where the agent's
    opening was flagged for a missing greeting, what its sound says (None: not read)."""

    channels: tuple[ChannelQuality, ...]
    source_rate: int
    codec: str
    doubted_share: float = math.nan
    greeting: GreetingHearing | None = None


@dataclass(frozen=True)
class CallResult(_Record):
    """Everything the pipeline learned about one call; what the store writes."""

    call: CallRef
    model_id: str
    lexicon_version: str
    roles: RoleAssignment
    utterances: tuple[Utterance, ...]
    events: tuple[Event, ...]
    metrics: CallMetrics
    timings: dict[str, float] = field(default_factory=dict)
    abstentions: tuple[str, ...] = ()  # why rules said nothing where they might have
    turns: tuple[Turn, ...] = ()  # who spoke when: the diarization itself, roles applied
    quality: AudioQuality | None = None  # None: rescored from a call stored before 2026-12-05
    # The rules not scored because the audio could not be heard well enough (their reasons are in
    # ``abstentions``): their findings are dropped, not stored.
    not_scored: tuple[str, ...] = ()


def _datetime_or_none(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _tuple_of(record: type[_Record]):
    def convert(values: Any) -> tuple:
        return tuple(v if isinstance(v, record) else record.from_dict(v) for v in values)

    return convert


def _one(record: type[_Record]):
    return lambda v: v if isinstance(v, record) else record.from_dict(v)


_NESTED: dict[tuple[str, str], Any] = {
    ("CallRef", "started_at"): _datetime_or_none,
    ("Utterance", "words"): _tuple_of(Word),
    ("Utterance", "flags"): tuple,
    ("CallResult", "call"): _one(CallRef),
    ("CallResult", "roles"): _one(RoleAssignment),
    ("CallResult", "utterances"): _tuple_of(Utterance),
    ("CallResult", "events"): _tuple_of(Event),
    ("CallResult", "metrics"): _one(CallMetrics),
    ("CallResult", "abstentions"): tuple,
    ("CallResult", "turns"): _tuple_of(Turn),
    ("CallResult", "quality"): lambda v: (
        v if v is None or isinstance(v, AudioQuality) else AudioQuality.from_dict(v)
    ),
    ("CallResult", "not_scored"): tuple,
    ("AudioQuality", "channels"): _tuple_of(ChannelQuality),
    ("AudioQuality", "greeting"): lambda v: (
        v if v is None or isinstance(v, GreetingHearing) else GreetingHearing.from_dict(v)
    ),
}
