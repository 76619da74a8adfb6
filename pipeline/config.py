"""Configuration: every tunable parameter declared once, with its default.

A ``callqa.toml`` overrides any subset, section by section; unknown keys are an error so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ModelConfig:
    # None: the Whisper base model assembled by `callqa models install` into models/whisper-base-ct2.
    whisper_dir: str | None = None
    device: str = "auto"  # auto | cpu | cuda
    compute_type: str = "auto"  # auto: int8 on CPU, float16 on CUDA
    cpu_threads: int = 2
    # 3, not faster-whisper's 5: 13 % less transcription time for CER 0.162 against 0.160 on the
    # evaluation corpus (benchmarks/asr_options.py, docs/benchmarks.md).
    beam_size: int = 3
    language: str = "zh"
    # Domain vocabulary from lexicons/domain_words.txt, as faster-whisper hotwords or as an initial
    # prompt. Off by default (benchmarks/asr_options.py, docs/measurements.md): hotwords cost 1.5x
    # time for a worse CER; the prompt lowers CER 0.181 -> 0.163 but costs 1.7x transcription time.
    vocabulary: str = "none"  # none | hotwords | prompt
    # Words that sound exactly like a term of lexicons/domain_words.txt (or of domain_terms: estate
    # and staff names) are written as the term: 乌夜 -> 物业 (pipeline.vocabulary; CER 0.160 -> 0.143
    # on the evaluation corpus).
    domain_correction: bool = True
    domain_terms: tuple[str, ...] = ()
    # Speech joined into one decoding pass at most: bounds memory on hour-long calls.
    max_batch_s: float = 240.0
    # 0 (the default): faster-whisper's sequential decoding of the joined speech, which moves its
    # 30 s window on by the timestamps it decoded, so speech a window skipped is heard again in
    # the next. N: the joined speech cut at the joins of its pieces into windows of at most 30 s,
    # N decoded at once (faster-whisper's BatchedInferencePipeline): at 4, 0.87-0.89x the
    # transcription time on 2 CPU cores, but a window's skipped speech is lost, and CER on 8 kHz
    # mono rose 0.164 -> 0.173 (docs/measurements.md, session 13). For throughput, or a GPU.
    window_batch: int = 0
    # Decoding temperatures: a segment that fails the log-probability check at one is decoded again
    # at the next, by sampling. Only 0 (beam search, no fallback): the same words on every run of
    # a recording, with the CER of faster-whisper's ladder (0, 0.2 ... 1.0) now that callqa cuts
    # decoding loops itself (docs/measurements.md, session 10).
    temperatures: tuple[float, ...] = (0.0,)
    # A window whose text compresses more than this (a decoding loop) is decoded again at the next
    # temperature (faster-whisper's 2.4). None, callqa's default: a loop is cut off after its real
    # words (AsrSegment.without_loop) and the speech it skipped transcribed once more, where the
    # fallback decoded the whole 30 s window up to five times more: the same CER on 96 recordings,
    # 5-18 % less transcription time at 8 kHz (benchmarks/transcription_variants.py --family loops).
    compression_ratio_threshold: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperatures", tuple(float(t) for t in self.temperatures))
        object.__setattr__(self, "domain_terms", tuple(self.domain_terms))
        if self.window_batch < 0:
            raise ValueError(f"model.window_batch must be 0 or more, not {self.window_batch}")
        # Batched decoding has no fallback: it decodes every window once, at the first temperature.
        if self.window_batch and (len(self.temperatures) > 1 or self.compression_ratio_threshold is not None):
            raise ValueError(
                "model.temperatures with more than one temperature, and model.compression_ratio_threshold, "
                "need model.window_batch = 0 (windows decoded in a batch are decoded once, at the first temperature)"
            )


@dataclass(frozen=True)
class SpeechConfig:
    vad_threshold: float = 0.5
    min_speech_ms: int = 200
    # A pause this long ends a turn; Mandarin turn-internal pauses are mostly shorter.
    min_silence_ms: int = 350
    speech_pad_ms: int = 80
    # Stereo bleed: speech in one channel is ignored where the other channel is louder by the
    # line's measured bleed attenuation less crosstalk_margin_db, but never by less than
    # crosstalk_db nor more than crosstalk_max_db (pipeline.speech.bleed_threshold).
    crosstalk_db: float = 15.0
    crosstalk_margin_db: float = 8.0
    crosstalk_max_db: float = 40.0
    # Audio quieter than this (dBFS per 20 ms) is not even given to the VAD (line noise sits near -60).
    energy_floor_db: float = -50.0
    # Regions of one speaker closer than this, with no one else speaking between, form one turn.
    turn_merge_gap_s: float = 1.0
    max_speakers: int = 2
    # Mono: the speaker embedder the clustering reads (pipeline.speakers.load_embedder):
    # "campplus" (3D-Speaker's CAM++, trained on real Mandarin voices) or "dvector".
    speaker_embedder: str = "campplus"
    # Mono: speech regions at least this long are split where the voice changes inside them (0: off).
    resegment_min_s: float = 3.0
    # Mono: a region whose d-vector's centred cosines to the two voices differ by less than this
    # (two alike voices leave some) goes to the voice the segmentation model hears in it
    # (pipeline.segmentation.changes.settle_unsure; 0: the clustering decides).
    unsure_margin: float = 0.3
    # Mono: overlapped speech from a segmentation model (pipeline.segmentation). The bundled model
    # is callqa's own; any ONNX with pyannote segmentation-3.0's contract can be named instead.
    segmentation: bool = True
    segmentation_model: str = ""
    overlap_threshold: float = 0.5  # P(two speak at once) above which a 20 ms frame is overlapped
    overlap_min_s: float = 0.12
    overlap_bridge_s: float = 0.12  # overlapped stretches this close are one overlap
    # A faint overlap after this much silence (in the 0.6 s before it) is a voice starting after a
    # pause, not a cut-in: not placed (pipeline.segmentation.overlaps.faint_after_pause; 0: off).
    overlap_after_pause_s: float = 0.25
    # The other voice alone this long inside a turn makes a turn of its own (0: off; measured to
    # lose more than it finds on the sample share, docs/measurements.md).
    change_min_s: float = 0.0
    # Mono: a question answered with a greeting in one turn (请问有什么可以帮您？您好) is a change of
    # speaker the pauses missed; the greeting goes to the next voice (pipeline.handover).
    handover: bool = True
    # Mono: where the roles find a voice speaking both parties' registers, a clause or two of it in
    # only the other party's words is given to the other voice (pipeline.registers).
    foreign_clauses: bool = True
    # Mono: a call the agent puts through to a colleague (我帮您转接) is diarized as two
    # conversations that share the caller, the two agents one party (pipeline.transfers).
    transfers: bool = True
    # Mono: the speaker models run on a second thread while Whisper transcribes (both read only
    # the speech regions). Off, they run first, as before session 10 (benchmarks/mono_threads.py).
    speakers_beside_whisper: bool = True


# How strictly 急躁 and 独断专横 read the guide. "guide": cutting in *and* then saying too much too
# fast is 急躁, three interruptions are 独断专横 (its own wording). "strict": any competitive cut-in
# by the agent is 急躁, two interruptions are 独断专横. A preset sets these keys; keys written next
# to it in [rules] still win.
CONDUCT_PRESETS: dict[str, dict[str, Any]] = {
    "guide": {
        "impatient_min_chars": 20,
        "impatient_min_chars_per_s": 5.0,
        "domineering_min_interruptions": 3,
    },
    "strict": {
        "impatient_min_chars": 0,
        "impatient_min_chars_per_s": 0.0,
        "domineering_min_interruptions": 2,
    },
}
# The rules whose findings depend on the preset.
PRESET_RULES = ("conduct.impatient", "conduct.domineering")


@dataclass(frozen=True)
class RulesConfig:
    conduct_preset: str = "guide"  # see CONDUCT_PRESETS
    greeting_window_s: float = 6.0
    role_min_confidence: float = 0.5
    # Overlaps. The newcomer's speech must start this long before the other party's end to be an
    # interruption at all: shorter is the ordinary overlap of a turn hand-over.
    interruption_min_overlap_s: float = 0.5
    # A party holds the floor across its own pauses shorter than this, even if the other cuts in.
    floor_gap_s: float = 1.0
    # A competitive newcomer says at least this many Han characters (Alibaba SCA excludes < 4: 嗯/好的).
    interruption_min_chars: int = 4
    # Whatever the words, a newcomer this short while the other party talks on for floor_gap_s
    # after it is a backchannel: Whisper hears a murmured 嗯嗯 as 能不能 often enough.
    backchannel_max_s: float = 1.0
    # 急躁: after cutting in, a turn of at least this many characters at at least this speed.
    impatient_min_chars: int = 20
    impatient_min_chars_per_s: float = 5.0
    # 独断专横: this many competitive interruptions by the agent in one call.
    domineering_min_interruptions: int = 3
    # hangup.premature: the recording ends within this margin of the caller's (non-closing) speech.
    hangup_margin_s: float = 0.5
    # self_intro.missing: the agent names the centre or themself within this much of their speech.
    self_intro_window_s: float = 15.0
    # closing.missing: a closing among the agent's utterances of the last this many seconds.
    closing_window_s: float = 10.0
    # pace.fast: an agent turn of at least this many characters faster than this (330 字/分).
    pace_min_chars: int = 15
    pace_fast_chars_per_s: float = 5.5
    # A silence of both parties this long after the agent speaks is a hold (请您稍等 ... 让您久等了).
    hold_min_s: float = 8.0

    def __post_init__(self) -> None:
        if self.conduct_preset not in CONDUCT_PRESETS:
            raise ValueError(
                f"rules.conduct_preset must be one of {', '.join(CONDUCT_PRESETS)}, not {self.conduct_preset!r}"
            )

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> RulesConfig:
        """The rules of a named conduct preset, with ``overrides`` on top."""
        if name not in CONDUCT_PRESETS:
            raise ValueError(f"unknown conduct preset {name!r}: {', '.join(CONDUCT_PRESETS)}")
        return cls(**{"conduct_preset": name, **CONDUCT_PRESETS[name], **overrides})


@dataclass(frozen=True)
class ScoringConfig:
    # Points deducted from 100 per event of each rule (averaged over an agent's calls).
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "greeting.missing": 10.0,
            "self_intro.missing": 3.0,
            "closing.missing": 5.0,
            "interruption.agent": 4.0,
            "conduct.impatient": 8.0,
            "conduct.domineering": 12.0,
            "hangup.premature": 15.0,
            "phrase.banned": 10.0,
            "pace.fast": 2.0,
            "hold.no_notice": 3.0,
            "hold.no_apology": 3.0,
        }
    )


@dataclass(frozen=True)
class ShareConfig:
    # When a share has no manifest.csv for a file: a regex on its path relative to the share, with
    # named groups call_id, agent_id and started_at (ISO 8601 or YYYYmmddHHMMSS), e.g.
    # "(?P<agent_id>A\\d+)_(?P<started_at>\\d{14})_(?P<call_id>\\w+)\\.wav$"
    filename_pattern: str | None = None
    # A file modified more recently than this is probably still being written: it waits for the next run.
    quiet_period_s: float = 10.0


@dataclass(frozen=True)
class RunConfig:
    # Worker processes on this machine (each loads the model once, with model.cpu_threads threads).
    workers: int = 1
    # An existing Dask scheduler ("tcp://host:8786"): calls are spread over its workers instead.
    dask_address: str | None = None
    call_timeout_s: float = 1800.0
    # A file that failed this many times is left in failures/ until it changes.
    max_attempts: int = 3
    # Finished calls are stored this many at a time (each day's partition is rewritten per batch).
    store_batch_calls: int = 50
    # Decoded audio beyond this length goes to temporary files (in spool_dir, or the system's
    # temporary directory), so a worker's memory does not grow with the length of a call.
    spool_after_s: float = 600.0
    spool_dir: str | None = None


@dataclass(frozen=True)
class DeskConfig:
    # `callqa desk`, the review desk. Loopback only unless a password is set (here or in the
    # CALLQA_DESK_PASSWORD environment variable): recordings and transcripts hold personal data.
    host: str = "127.0.0.1"
    port: int = 8765
    # On a loopback desk the verdicts are signed with this name (default: the login user);
    # elsewhere reviewers sign in with their own name and the password.
    reviewer: str = ""
    password: str = ""
    # Where reviewers reach the desk (e.g. https://qa.example.internal:8765): the weekly report
    # then links every worst moment to its page there. Empty: no links.
    url: str = ""
    # An audio clip starts this long before a finding and ends this long after it.
    clip_lead_s: float = 3.0
    clip_tail_s: float = 2.0


@dataclass(frozen=True)
class PrivacyConfig:
    # Personal data masked (＊, one per character) in the stored utterances, words and event
    # evidence, and so in notebooks and reports: any of phone, id_number, unit, name. An empty
    # list stores transcripts as heard (only where the centre's data-protection rules allow it).
    redact: tuple[str, ...] = ("phone", "id_number", "unit", "name")

    def __post_init__(self) -> None:
        from pipeline.redact import PII_KINDS

        unknown = set(self.redact) - set(PII_KINDS)
        if unknown:
            raise ValueError(f"privacy.redact: unknown kind(s) {sorted(unknown)}; choose from {PII_KINDS}")
        object.__setattr__(self, "redact", tuple(self.redact))


@dataclass(frozen=True)
class ScheduleConfig:
    # `callqa serve`: cron expressions in the call centre's time zone (Config.timezone).
    share: str = "data/sample_share"
    nightly_cron: str = "0 2 * * *"
    weekly_cron: str = "0 7 * * 1"


@dataclass(frozen=True)
class Config:
    warehouse: str = "data/warehouse"
    models_dir: str = "models"
    lexicons_dir: str = "lexicons"
    # Stereo channel map used when the manifest does not say: the channel the agent is on.
    default_layout: str = "stereo-agent-left"
    # The call centre's time zone: call dates, days and ISO weeks follow its calendar; manifest
    # times without an offset are taken to be local.
    timezone: str = "Asia/Shanghai"
    share: ShareConfig = field(default_factory=ShareConfig)
    run: RunConfig = field(default_factory=RunConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return _build(cls, data, "")

    @classmethod
    def load(cls, path: str | Path | None = None) -> Self:
        """Defaults, overridden by ``path`` (or ./callqa.toml when it exists)."""
        if path is None:
            candidate = Path("callqa.toml")
            if not candidate.exists():
                return cls()
            path = candidate
        with open(path, "rb") as f:
            return cls.from_dict(tomllib.load(f))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def whisper_dir(self) -> Path:
        if self.model.whisper_dir:
            return Path(self.model.whisper_dir).expanduser()
        return self.models_path / "whisper-base-ct2"

    @property
    def models_path(self) -> Path:
        path = Path(self.models_dir)
        return path if path.is_absolute() else ROOT / path

    @property
    def lexicons_path(self) -> Path:
        path = Path(self.lexicons_dir)
        return path if path.is_absolute() else ROOT / path


def _build(cls: type, data: dict[str, Any], where: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"unknown config key(s) in [{where or 'top level'}]: {', '.join(sorted(unknown))}")
    if cls is RulesConfig and "conduct_preset" in data:
        data = {**CONDUCT_PRESETS.get(data["conduct_preset"], {}), **data}
    kwargs = {}
    for name, value in data.items():
        default = getattr(cls(), name)
        if dataclasses.is_dataclass(default):
            kwargs[name] = _build(type(default), value, f"{where}.{name}".strip("."))
        elif isinstance(default, dict):
            kwargs[name] = {**default, **value}
        else:
            kwargs[name] = value
    return cls(**kwargs)
