"""Configuration: every tunable parameter declared once, with its default.

A ``callqa.toml`` overrides any subset, section by section; unknown keys are an error so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import json
import os
import re
import sys
import textwrap
import tokenize
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ModelConfig:
    """Whisper, the speech recognizer: which model, where it runs and how it decodes."""

    # The Whisper model's folder (CTranslate2 format). Unset: the Whisper base model that
    # `callqa models install` assembles into whisper-base-ct2 under models_dir.
    whisper_dir: str | None = None
    # Where Whisper runs: auto takes a CUDA GPU when CTranslate2 sees one, else the CPU.
    device: str = "auto"  # auto | cpu | cuda
    # CTranslate2's number format for the model's weights and arithmetic.
    compute_type: str = "auto"  # auto: int8 on CPU, float16 on CUDA
    # Threads Whisper uses on CPU, in each worker process (run.workers). 0: chosen from the machine
    # with run.workers (machine_layout: one thread a worker; benchmarks/capacity.py).
    cpu_threads: int = 0
    # Beam search width: 3, not faster-whisper's 5: 13 % less transcription time for CER 0.162
    # against 0.160 on the evaluation corpus (benchmarks/asr_options.py, docs/evaluation.md).
    beam_size: int = 3
    # Whisper's decoding language (ISO 639-1 code): the rules and lexicons are Mandarin.
    language: str = "zh"
    # Domain vocabulary from lexicons/domain_words.txt, as faster-whisper hotwords or as an initial
    # prompt. Off by default (benchmarks/asr_options.py, docs/evaluation.md): hotwords cost 1.5x
    # time for a worse CER; the prompt lowers CER 0.181 -> 0.163 but costs 1.7x transcription time.
    vocabulary: str = "none"  # none | hotwords | prompt
    # Words that sound exactly like a term of lexicons/domain_words.txt (or of domain_terms: estate
    # and staff names) are written as the term: 乌夜 -> 物业 (pipeline.asr.vocabulary; CER 0.160 -> 0.143
    # on the evaluation corpus).
    domain_correction: bool = True
    # Estate and staff names corrected like the words of lexicons/domain_words.txt, in addition to them.
    domain_terms: tuple[str, ...] = ()
    # Speech joined into one decoding pass at most: bounds memory on hour-long calls.
    max_batch_s: float = 240.0
    # 0 (the default): faster-whisper's sequential decoding of the joined speech, which moves its
    # 30 s window on by the timestamps it decoded, so speech a window skipped is heard again in
    # the next. N: the joined speech cut at the joins of its pieces into windows of at most 30 s,
    # N decoded at once (faster-whisper's BatchedInferencePipeline): at 4, 0.87-0.89x the
    # transcription time on 2 CPU cores, but a window's skipped speech is lost, and CER on 8 kHz
    # mono rose 0.164 -> 0.173 (docs/evaluation.md). For throughput, or a GPU.
    window_batch: int = 0
    # Decoding temperatures: a segment that fails the log-probability check at one is decoded again
    # at the next, by sampling. Only 0 (beam search, no fallback): the same words on every run of
    # a recording, with the CER of faster-whisper's ladder (0, 0.2 ... 1.0) now that callqa cuts
    # decoding loops itself (docs/evaluation.md).
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
    """Where speech is and who speaks it: the voice activity detector, stereo bleed, and on mono
    recordings the speaker models."""

    # Speech probability (Silero VAD) above which audio counts as speech: higher drops more faint
    # speech along with the noise.
    vad_threshold: float = 0.5
    # Speech shorter than this is dropped, by the VAD and where stereo bleed is cut out.
    min_speech_ms: int = 200
    # A pause at least this long ends a speech region (the VAD's min_silence_duration_ms); Mandarin
    # turn-internal pauses are mostly shorter. Regions become turns by turn_merge_gap_s.
    min_silence_ms: int = 350
    # Each speech region is widened by this much on both sides, so word onsets and ends are not cut.
    speech_pad_ms: int = 80
    # Stereo bleed: speech in one channel is ignored where the other channel is louder by the
    # line's measured bleed attenuation less crosstalk_margin_db, but never by less than
    # crosstalk_db nor more than crosstalk_max_db (pipeline.audio.speech.bleed_threshold). Where the
    # other party speaks under half a second, crosstalk_db alone is the threshold.
    crosstalk_db: float = 15.0
    # The bleed threshold sits this far below the line's measured bleed attenuation: sound up to
    # this much louder than the other party's bleed is still taken for bleed.
    crosstalk_margin_db: float = 8.0
    # The bleed threshold never exceeds this, however well the line keeps the parties apart (a
    # clean recording measures about 80 dB).
    crosstalk_max_db: float = 40.0
    # A line's echo: the other party's voice coming back on this channel up to this late (a poor
    # echo canceller, a long VoIP path). Where the two channels' onsets (frame-to-frame rises and
    # falls of energy) correlate at one delay by echo_min_correlation or more, the other party's
    # voice that late counts as bleed too. 0: off.
    echo_max_ms: float = 500.0
    # Set on the generated benchmark's development part: two channels with no echo correlate under
    # 0.07 at any delay of 60 ms or more, an echo 20 dB down at 0.17 or more (202 clean stereo
    # recordings of the corpus, the sample share and both parts: at most 0.10; docs/evaluation.md).
    echo_min_correlation: float = 0.12
    # Audio quieter than this (dBFS per 20 ms) is not even given to the VAD (line noise sits near -60).
    energy_floor_db: float = -50.0
    # Regions of one speaker closer than this, with no one else speaking between, form one turn.
    turn_merge_gap_s: float = 1.0
    # Mono: the most voices the clustering tells apart in a call (a call put through to a colleague
    # is handled by transfers).
    max_speakers: int = 2
    # Mono: the speaker embedder the clustering reads (pipeline.speakers.clustering.load_embedder):
    # "campplus" (3D-Speaker's CAM++, trained on real Mandarin voices) or "dvector".
    speaker_embedder: str = "campplus"
    # Mono: speech regions at least this long are split where the voice changes inside them (0: off).
    resegment_min_s: float = 3.0
    # Mono: a region whose speaker embedding's centred cosines to the two voices differ by less than this
    # (two alike voices leave some) goes to the voice the segmentation model hears in it
    # (pipeline.speakers.segmentation.changes.settle_unsure; 0: the clustering decides).
    unsure_margin: float = 0.3
    # Mono: overlapped speech from a segmentation model (pipeline.speakers.segmentation). The bundled model
    # is callqa's own; any ONNX with pyannote segmentation-3.0's contract can be named instead.
    segmentation: bool = True
    # An ONNX segmentation model to use instead of the bundled one (empty: the bundled one, in models_dir).
    segmentation_model: str = ""
    overlap_threshold: float = 0.5  # P(two speak at once) above which a 20 ms frame is overlapped.
    # Overlapped stretches shorter than this are ignored (a breath, a click).
    overlap_min_s: float = 0.12
    overlap_bridge_s: float = 0.12  # Overlapped stretches this close are one overlap.
    # A faint overlap after this much silence (in the 0.6 s before it) is a voice starting after a
    # pause, not a cut-in: not placed (pipeline.speakers.segmentation.overlaps.faint_after_pause; 0: off).
    overlap_after_pause_s: float = 0.25
    # Mono: where the segmentation model hears the other voice alone this long inside a turn (a
    # reply or a caller's last words with no pause before them), that stretch becomes the other
    # voice's turn, if the speaker vectors confirm it (change_margin). 0: off.
    change_min_s: float = 0.5
    # ... confirmed when the stretch's own speaker vector is nearer the proposed voice than the turn's
    # by at least this centred cosine (pipeline.speakers.attribution.voice_confirmer). Without the
    # check the model's changes double the error (docs/evaluation.md).
    change_margin: float = 0.3
    # Mono: a turn is cut at the pauses of at least this long that the segmentation model hears
    # inside it (the agent's 再见 and the caller's 等一下 straight after it are one VAD region), and
    # each stretch between them given to the other voice where its speaker vector says so
    # (pipeline.speakers.segmentation.changes.split_at_pauses). 0: off.
    pause_split_s: float = 0.1
    # ... where the stretch's own speaker vector is nearer the other voice than the turn's by at
    # least this centred cosine (0.45 changed no rule on the development part).
    pause_margin: float = 0.3
    # Mono: a word that two voices' overlapping turns cover alike goes to the voice the segmentation
    # model hears alone over it, where it hears one (pipeline.speakers.utterances.assign_words).
    words_by_voice_heard: bool = True
    # Mono: a question answered with a greeting in one turn (请问有什么可以帮您？您好) is a change of
    # speaker the pauses missed; the greeting goes to the next voice (pipeline.speakers.handover).
    handover: bool = True
    # Mono: where the roles find a voice speaking both parties' registers, a clause or two of it in
    # only the other party's words is given to the other voice (pipeline.speakers.registers).
    foreign_clauses: bool = True
    # Mono: a call the agent puts through to a colleague (我帮您转接) is diarized as two
    # conversations that share the caller, the two agents one party (pipeline.speakers.transfers).
    transfers: bool = True
    # Mono: where the region clustering leaves the roles unsure (two alike voices merged into one,
    # or each cluster holding both parties), the two voices are found again from the segmentation
    # model's local speakers, a window's two always apart, and kept where the words then give
    # trusted roles and the split passes its checks (pipeline.speakers.segmentation.voices). Off:
    # on the generated benchmark's test part it scores a third of those calls again but left one
    # of 200 recordings confidently wrong, where the clustering alone left none (docs/evaluation.md).
    window_voices: bool = False
    # Mono: the speaker models run on a second thread while Whisper transcribes (both read only
    # the speech regions). Off, they run first, one after the other (benchmarks/mono_threads.py).
    speakers_beside_whisper: bool = True
    # Other voices far behind a channel's own talker (the next desks in an agent's headset) are
    # not that party's speech: a stretch of background_min_s or more that stays this many dB under
    # the channel's talker (its speech level's 90th percentile) is dropped
    # (pipeline.audio.speech.suppress_background; docs/evaluation.md, telephone conditions). On
    # mono, under the quieter of the two voices the clustering found, and the words there with it
    # (pipeline.audio.speech.behind_the_voices). 0: off.
    background_gap_db: float = 9.0
    # The shortest stretch of background voices dropped: shorter ones are kept, as a soft word or
    # a pause of the talker's own (0.3 s cut 3 % of the corpus's clean speech; 0.8 s, none).
    background_min_s: float = 0.8
    # Where a channel's sound while the other party is silent and its talker pauses is this close
    # to its talker's level (other people's voices in the room:
    # pipeline.audio.speech.background_level), the gate also reads the channel before the bleed
    # test, which would cut those voices into pieces too short for it. 0: never. Set on the
    # development part's babble (15 and 20 dB under the agent read -17 to -24 dB; rendered calls
    # -84; the real recordings up to -25 to -29, where the gate then runs first too and cuts
    # nothing, as it cuts nothing of street noise or music).
    background_present_db: float = 30.0
    # The sound read behind a channel's talker counts as other people's voices only where it is
    # voice-like: the median spectral flatness (300-3,400 Hz) of the frames it was read from under
    # this. Set on the development part: four other conversations 15-20 dB under the agent read
    # 0.03-0.05, a line's hiss raised by an AGC in every pause 0.40-0.58 (white noise about 0.56),
    # which read as loud as voices 8-36 dB under and withheld 7 calls of 16 scored right. 0: every
    # sound counts (pipeline.audio.quality.audio_quality; calls.audio_behind_db).
    behind_max_flatness: float = 0.2
    # Stereo: the words of each channel (who opens with a greeting and introduces the centre, the
    # service register against the caller's) check the channel map. When they name the other
    # channel the agent with at least this confidence (pipeline.speakers.clustering.infer_roles:
    # 0.8 is a margin of two pieces of evidence), the roles come from the words and the call says
    # so (calls.role_reason); the nightly summary and the report warn when an agent's or a day's
    # calls mostly contradict the map. 0 or above 1: the map is trusted as it is.
    channel_map_check_confidence: float = 0.8
    # Two channels this alike (correlation of their samples) are one recording stored twice: the
    # call is read as mono (voices and roles from the speaker models and the words).
    identical_channels_correlation: float = 0.995


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
    """The thresholds of the QA rules (docs/rules.md says what each rule detects)."""

    # How strictly 急躁 (conduct.impatient) and 独断专横 (conduct.domineering) read the guide. guide:
    # cutting in and then saying too much too fast is 急躁, three interruptions are 独断专横. strict:
    # any competitive cut-in by the agent is 急躁, two interruptions are 独断专横. The preset sets
    # impatient_min_chars, impatient_min_chars_per_s and domineering_min_interruptions (the defaults
    # below are guide's); those keys written next to it in [rules] still win.
    conduct_preset: str = "guide"  # see CONDUCT_PRESETS
    # greeting.missing: the agent's greeting must come within this long of their first words.
    greeting_window_s: float = 6.0
    # greeting.missing: where the words of the agent's opening hold no greeting, its sound is read
    # again (pipeline.asr.hearing): a reading starting with 您好/你好 within this many nats of the
    # best reading without one means a greeting the words lost may have been said, and the rule
    # abstains. Set on the development part's telephone conditions
    # (docs/evaluation.md, "A greeting the words missed"). 1000: never read.
    greeting_heard_margin: float = -3.0
    # Rules about the agent run only when the roles are at least this sure (stereo: 1.0, from the
    # channel map; mono: read from the words); below it they abstain and the call says why.
    role_min_confidence: float = 0.5
    # Overlaps. The newcomer's speech must start this long before the other party's end to be an
    # interruption at all: shorter is the ordinary overlap of a turn hand-over.
    interruption_min_overlap_s: float = 0.5
    # On one mixed channel overlaps are measured by the segmentation model, which places a
    # hand-over's 0.1-0.35 s of overlap as up to 0.7 s (the 90th percentile of the agent's
    # hand-overs on the generated benchmark's development part, 2026-12-05); a true cut-in's
    # length it measures within 0.1 s. So on mono an overlap must also exceed this to be a cut-in.
    mono_overlap_resolution_s: float = 0.7
    # A party holds the floor across its own pauses shorter than this, even if the other cuts in.
    floor_gap_s: float = 1.0
    # A competitive newcomer says at least this many Han characters (Alibaba SCA excludes < 4: 嗯/好的).
    interruption_min_chars: int = 4
    # Whatever the words, a newcomer this short while the other party talks on for floor_gap_s
    # after it is a backchannel: Whisper hears a murmured 嗯嗯 as 能不能 often enough.
    backchannel_max_s: float = 1.0
    # 急躁: after cutting in, the agent's turn has at least this many characters at at least
    # impatient_min_chars_per_s.
    impatient_min_chars: int = 20
    # 急躁: the speed, in characters a second, at or above which that turn is too fast.
    impatient_min_chars_per_s: float = 5.0
    # 独断专横: this many competitive interruptions by the agent in one call.
    domineering_min_interruptions: int = 3
    # hangup.premature: the recording ends within this margin of the caller's (non-closing) speech.
    hangup_margin_s: float = 0.5
    # hangup.premature with no words: the caller's last turn reaches within this much of the end,
    # the recording stopping on their speech (Whisper often drops a sentence the line cut off,
    # on mono mixed with the agent's goodbye, on stereo under voices or noise;
    # pipeline.rules.interruptions.cut_off_turn). 0: off.
    hangup_cut_s: float = 0.2
    # ... and lasts at least this long (shorter is a breath or a click of the line).
    hangup_wordless_min_s: float = 0.5
    # self_intro.missing: the agent names the centre or themself within this much of their speech.
    self_intro_window_s: float = 15.0
    # closing.missing: a closing among the agent's utterances of the last this many seconds.
    closing_window_s: float = 10.0
    # pace.fast: only an agent turn of at least this many characters is judged for speed.
    pace_min_chars: int = 15
    # pace.fast: an agent turn faster than this many characters a second is too fast (5.5: 330 字/分).
    pace_fast_chars_per_s: float = 5.5
    # A silence of both parties this long after the agent speaks is a hold (请您稍等 ... 让您久等了).
    hold_min_s: float = 8.0
    # An agent's turn starting within this long of what the caller said is its reply: after a
    # question, the answer latency measured per call (calls.agent_answer_latency_s).
    answer_window_s: float = 10.0
    # courtesy.ni (敬语): the agent calls the caller 你 at least this many times ...
    ni_min_count: int = 2
    # ... and 您 makes up at most this share of the agent's 您 and 你: Whisper writes some 您 as 你
    # (on the guide benchmark's development part, one polite agent in 28 came out 1 您 to 3 你).
    ni_max_nin_share: float = 0.2
    # voice.flat (语气冷淡、有气无力): the agent's pitch range (10th to 90th percentile, semitones)
    # under this over the call is a flat voice (real voices: a flat news read 2.6-4.2, read
    # passages 9.4-9.6, lively speech 16-18; rendered voices 6.9-12.6) ...
    flat_pitch_range_st: float = 4.0
    # ... judged only with at least this much voiced agent speech.
    flat_min_voiced_s: float = 10.0
    # The reply reader's rules: the probability (0-1) at which the model's reading of an agent
    # utterance as the reply the guide asks against is a finding, per kind. Chosen on the
    # development wordings' rendered calls, each read by a reader trained without it
    # (docs/evaluation.md, "A learned reader"). hesitation.unsure_learned: an unsure reading is
    # seldom wrong and Whisper weakens it (耗乡 for 好像), so its bar is lower ...
    unsure_reader_threshold: float = 0.35
    # ... message.not_offered_learned's probability: a bare absence is read wrongly where Whisper
    # mangles the offer (既下 for 记下), so its bar is higher ...
    absence_reader_threshold: float = 0.6
    # ... refusal.no_apology_learned's probability: the bar fixed before the reader's first
    # held-out reading, which the development calls bear out.
    refusal_reader_threshold: float = 0.5

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
class QualityConfig:
    """Floors under which a call cannot be heard well enough for the rules that need what was lost
    (pipeline.audio.quality); the call says why in its abstentions. How they were set: docs/evaluation.md,
    telephone conditions."""

    # A channel (a mono call: its mix) whose speech is less than this many dB above its noise floor
    # (a street, music, a crowd through every pause) is not scored for timing or words. Set under
    # the lowest reading measured (11.8 dB, music 5 dB louder than the caller): stationary noise
    # as loud as the caller read 14 dB and cost nothing. 0: off.
    min_snr_db: float = 10.0
    # A channel whose speech (its 95th percentile frame) is quieter than this: its softer syllables
    # fall under the speech detector's energy floor and its turns end early, so a hang-up on it or a
    # cut-in goes unseen; timing is not scored. Words are (Whisper reads them). -100: off.
    min_speech_dbfs: float = -30.0
    # Mono: the quieter of the two voices the clustering found quieter than this, read as the
    # median of its turns' 20 ms frames (pipeline.records.VoicesHeard): as min_speech_dbfs on a
    # stereo channel, which the mix's level cannot read (it is the louder party's). The median
    # sits about 8 dB under the 95th percentile: -24.6 to -27.0 on the development part's clean
    # calls. Set there: a caller at -40 dBFS reads -42.8 to -47.2 (the timing rules found 6 of 9
    # cut-ins and gave 6 false ones in 16 calls); the real-voice recordings -36.0 (pyannote's
    # quiet English sample) and louder. -100: off.
    min_voice_dbfs: float = -40.0
    # Both parties heard at once for more than this share of the call: voices behind a party (the
    # next desks of an open-plan floor) are being taken for its speech, and every turn reads as a
    # cut-in; timing and words are not scored. 1: off.
    max_overlap_share: float = 0.2
    # Other people's voices behind the agent on a stereo call (the agent's channel's sound while
    # neither party talks, pipeline.audio.speech.background_level; on mono, the stretches taken
    # out of the voices' speech against the quieter voice, pipeline.audio.quality.mixed_behind_db)
    # louder than this many dB against the agent: they are heard as the agent's speech and take the words; timing and
    # words are not scored. Set on the development part: the next desks 10 dB under the agent read
    # -13 to -15 dB (every call broken), 15 dB under -17 to -19 (scored right since the gate reads
    # them first). The caller's side is left to the other floors: street noise at 0 dB SNR reads
    # -12 to -20 and costs nothing. 0: off.
    max_behind_db: float = -16.0
    # The same on a mono recording (pipeline.audio.quality.mixed_behind_db, against the quieter
    # voice): there the voices behind stay under both parties' speech, where the gate cannot take
    # them out, and the clustering and the segmentation model hear them. Set on the development
    # part: four other conversations 20 dB under the agent read -22.6 to -27.2 and were still
    # scored wrong after the gate (DER 0.135 against 0.036 clean, hang-ups 3 of 6, 7 false
    # cut-ins in 16 calls); clean rendered calls and the real-voice recordings read nothing. 0: off.
    max_behind_mono_db: float = -30.0
    # Speech frames clipped at full scale above this share: the agent's voice (voice.flat) is not
    # scored. Words are: Whisper reads speech clipped this much as well as clean.
    max_clipped_share: float = 0.5
    # Speech frames lost to digital silence (VoIP packets) above this share: the words are not
    # scored. 20 % of packets lost (read as 0.08-0.12) still cost no word or finding.
    max_dropout_share: float = 0.15
    # A word Whisper gives a probability under this is doubted.
    doubted_word_prob: float = 0.5
    # More of the call's words doubted than this share: the words are not scored. 1: off.
    max_doubted_share: float = 0.5


# Rules that no longer run, each with the rule that reads its clause now and the day it was retired:
# the phrase-list readings of three of the guide's clauses, which failed the bar on every blind
# wording since the fourth, where the reply reader met it (docs/rules.md, "Retired rules"). Their
# stored findings stay readable and cost nothing (pipeline.rules.modes); naming one in [scoring]
# is an error that names its successor, and their [rules] settings are ignored with a warning.
RETIRED_RULES: dict[str, tuple[str, str]] = {
    "hesitation.unsure": ("hesitation.unsure_learned", "2026-12-07"),
    "message.not_offered": ("message.not_offered_learned", "2026-12-07"),
    "refusal.no_apology": ("refusal.no_apology_learned", "2026-12-07"),
}
# The [rules] settings only a retired rule read, with that rule.
RETIRED_SETTINGS = {
    "hesitation_min_cues": "hesitation.unsure",
    "hesitation_latency_s": "hesitation.unsure",
    "message_window_s": "message.not_offered",
}


@dataclass(frozen=True)
class ScoringConfig:
    """How findings become an agent's score: 100 less the weights of the findings, per call."""

    # Points one event of this rule deducts from the agent's score of 100, averaged over their calls
    # of the day or week (an overturned finding deducts nothing; a rule not listed, nothing).
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
            # In shadow mode (试运行) until promoted below: these weights apply from then on.
            "courtesy.ni": 2.0,
            "transfer.no_identity": 4.0,
            "voice.flat": 3.0,
            "hesitation.unsure_learned": 3.0,
            "message.not_offered_learned": 5.0,
            "refusal.no_apology_learned": 5.0,
        }
    )
    # Rules put back in shadow mode (试运行): their findings are stored, reviewed and shown with a
    # 试运行 mark but cost nothing. The rules added since 2026-12-05 start there without being listed
    # (pipeline.rules.modes.SHADOW_BY_DEFAULT, `callqa rules` shows each rule's mode).
    shadow: tuple[str, ...] = ()
    # Rules the quality lead promoted from shadow mode into scoring, each with the first call date
    # whose findings cost points ({"courtesy.ni" = "2026-12-14"}): scores already published
    # for earlier days stay as they were.
    promoted: dict[str, str] = field(default_factory=dict)
    # A rule whose reviewed precision (upheld / reviewed, findings of the last 4 weeks) falls under
    # this is flagged by `callqa rules` and the weekly report ...
    precision_floor: float = 0.8
    # ... once it has at least this many verdicts (fewer say little about its precision).
    precision_min_reviews: int = 10

    def __post_init__(self) -> None:
        import datetime as _dt

        # TOML writes a bare date (2026-12-14) as a date: kept as its ISO text, as call dates are.
        object.__setattr__(self, "promoted", {rule: str(day) for rule, day in self.promoted.items()})
        object.__setattr__(self, "shadow", tuple(self.shadow))
        # A misspelt rule in [scoring.weights] would silently cost nothing: every key must name a
        # rule (imported here: the rules' module reads this one).
        from pipeline.rules import RULE_NAMES

        unknown = sorted(set(self.weights) - RULE_NAMES.keys())
        if unknown:
            raise ValueError(
                f"scoring.weights: no rule named {', '.join(unknown)} "
                f"(`callqa rules` lists them: {', '.join(sorted(RULE_NAMES))})"
            )
        for rule, points in self.weights.items():
            if not isinstance(points, int | float) or isinstance(points, bool) or points < 0:
                raise ValueError(
                    f"scoring.weights.{rule} must be a number of points, 0 or more, not {points!r}"
                )
        for rule in (*self.promoted, *self.shadow):
            if rule in RETIRED_RULES:
                successor, since = RETIRED_RULES[rule]
                raise ValueError(
                    f"scoring: {rule} was retired on {since} and no longer runs; its clause is read by "
                    f"{successor} now: name that instead"
                )
        for rule, day in self.promoted.items():
            try:
                _dt.date.fromisoformat(str(day))
            except ValueError:
                raise ValueError(
                    f"scoring.promoted.{rule} must be a date (YYYY-MM-DD), not {day!r}"
                ) from None
            if rule in self.shadow:
                raise ValueError(f"scoring: {rule} is both promoted and in shadow; keep one")
            if self.weights.get(rule, 0.0) <= 0:
                raise ValueError(
                    f"scoring.promoted.{rule}: no weight in [scoring.weights], so promoting it would cost nothing"
                )
        if not 0.0 <= self.precision_floor <= 1.0:
            raise ValueError(f"scoring.precision_floor must be between 0 and 1, not {self.precision_floor}")


@dataclass(frozen=True)
class ShareConfig:
    """The share: the folder of recordings a run scans."""

    # When a share has no manifest.csv for a file: a regex on its path relative to the share, with
    # named groups call_id, agent_id and started_at (ISO 8601 or YYYYmmddHHMMSS), e.g.
    # `"(?P<agent_id>A\\d+)_(?P<started_at>\\d{14})_(?P<call_id>\\w+)\\.wav$"`
    filename_pattern: str | None = None
    # A file modified more recently than this is probably still being written: it waits for the next run.
    quiet_period_s: float = 10.0


@dataclass(frozen=True)
class RunConfig:
    """How a run processes the share's calls: workers, time limits, retries, batches, memory."""

    # Worker processes on this machine (each loads the model once, with model.cpu_threads threads).
    # 0: chosen from the machine (machine_layout): a worker for each model.cpu_threads cores this
    # process may use, as many as its memory holds at WORKER_MEMORY_MB each; one where
    # model.device is cuda.
    workers: int = 0
    # An existing Dask scheduler ("tcp://host:8786"): calls are spread over its workers instead.
    dask_address: str | None = None
    # A call still being processed after this long is stopped and recorded as failed.
    call_timeout_s: float = 1800.0
    # A file that failed this many times is left in failures/ until it changes.
    max_attempts: int = 3
    # Finished calls are stored this many at a time (each day's partition is rewritten per batch).
    store_batch_calls: int = 50
    # Decoded audio beyond this length goes to temporary files (in spool_dir, or the system's
    # temporary directory), so a worker's memory does not grow with the length of a call.
    spool_after_s: float = 600.0
    # Where the spooled audio goes (unset: the system's temporary directory).
    spool_dir: str | None = None
    # A rescore or a weekly report waits this long for a run that holds the warehouse to finish
    # (every writer takes the warehouse's lock); then it stops with a message, changing nothing.
    lock_wait_s: float = 900.0


@dataclass(frozen=True)
class DeskConfig:
    """`callqa desk`, the review desk: the QA team hears each finding and upholds or overturns it."""

    # The address the desk listens on: loopback only unless a password is set (here or in the
    # CALLQA_DESK_PASSWORD environment variable): recordings and transcripts hold personal data.
    host: str = "127.0.0.1"
    # The TCP port the desk listens on.
    port: int = 8765
    # On a loopback desk the verdicts are signed with this name (default: the login user);
    # elsewhere reviewers sign in with their own name and the password.
    reviewer: str = ""
    # The password reviewers sign in with (empty: CALLQA_DESK_PASSWORD's). The environment variable
    # keeps it out of this file.
    password: str = ""
    # Where reviewers reach the desk (e.g. https://qa.example.internal:8765): the weekly report
    # then links every worst moment to its page there. Empty: no links.
    url: str = ""
    # A finding's audio clip starts this long before the finding.
    clip_lead_s: float = 3.0
    # A finding's audio clip ends this long after the finding.
    clip_tail_s: float = 2.0
    # The names a browser may reach the desk by (its Host header), besides the loopback names,
    # the address it listens on and the host of `url`. On 0.0.0.0 without any, this machine's
    # name and addresses. Any other Host is refused, so a web page elsewhere cannot reach the
    # desk through a DNS name that points at it (DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    # An address that signs in with a wrong password this many times within login_window_s is
    # refused (HTTP 429, even with the right one) until the oldest of those failures is that old.
    max_failed_logins: int = 5
    # The window over which wrong passwords are counted (see max_failed_logins).
    login_window_s: float = 300.0
    # Sign-in names of agents and their agent ids (e.g. {"张伟" = "A101"}): on a desk with a
    # password they see only their own calls and findings, and may appeal (申诉) a finding; they
    # give no verdicts. Everyone else who signs in is a reviewer.
    agents: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))


@dataclass(frozen=True)
class PrivacyConfig:
    """What personal data is masked before anything is stored."""

    # Personal data masked (＊, one per character) in the stored utterances, words and event
    # evidence, and so in notebooks and reports: any of phone, id_number, unit, name. An empty
    # list stores transcripts as heard (only where the centre's data-protection rules allow it).
    redact: tuple[str, ...] = ("phone", "id_number", "unit", "name")
    # The file holding the key of the pseudonyms that replace personal numbers in file names,
    # folder names and manifest fields (created on first use, 0600; refused inside the
    # warehouse; CALLQA_PSEUDONYM_KEY_FILE overrides it). Empty: ~/.config/callqa/pseudonym.key.
    # Keep it safe: with another key the warehouse's identifiers no longer match.
    pseudonym_key_file: str = ""
    # Groups of [share] filename_pattern that name the caller (a number, a name): never stored,
    # only their pseudonym, in calls.caller_id, so one caller's calls still group together.
    personal_groups: tuple[str, ...] = ("caller",)

    def __post_init__(self) -> None:
        from pipeline.privacy.redact import PII_KINDS

        unknown = set(self.redact) - set(PII_KINDS)
        if unknown:
            raise ValueError(f"privacy.redact: unknown kind(s) {sorted(unknown)}; choose from {PII_KINDS}")
        object.__setattr__(self, "redact", tuple(self.redact))
        object.__setattr__(self, "personal_groups", tuple(self.personal_groups))


@dataclass(frozen=True)
class ScheduleConfig:
    """`callqa serve`: the share it processes, and when it runs the nightly batch and the weekly report."""

    # The share `callqa serve` processes and `callqa desk` plays recordings from, unless the command
    # names one.
    share: str = "data/sample_share"
    # When `callqa serve` runs the nightly batch (scan, process, store, scorecards): a cron
    # expression (minute hour day month weekday) in the call centre's time zone (timezone).
    nightly_cron: str = "0 2 * * *"
    # When `callqa serve` writes the weekly report: a cron expression in the centre's time zone.
    weekly_cron: str = "0 7 * * 1"


@dataclass(frozen=True)
class Config:
    """Every setting of callqa.toml: the top-level keys, then one dataclass per section."""

    # Where runs store the calls, events and scorecards, and where reports, the desk and status read
    # them (a command's --warehouse overrides it). A relative path is from the working directory.
    warehouse: str = "data/warehouse"
    # The offline models (`callqa models install` assembles them here). A relative path is from the
    # callqa checkout, not the working directory.
    models_dir: str = "models"
    # The QA team's phrase lists and domain words (greetings.toml, domain_words.txt ...). A relative
    # path is from the callqa checkout, not the working directory.
    lexicons_dir: str = "lexicons"
    # Stereo channel map used when the manifest does not say: the channel the agent is on
    # (stereo-agent-left, stereo-agent-right or mono).
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
    quality: QualityConfig = field(default_factory=QualityConfig)
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

    def __post_init__(self) -> None:
        if self.run.workers == 0 or self.model.cpu_threads == 0:
            workers, threads = machine_layout(
                usable_cores(), physical_memory_mb(), self.model.device == "cuda", self.model.cpu_threads
            )
            object.__setattr__(self, "run", replace(self.run, workers=self.run.workers or workers))
            object.__setattr__(self, "model", replace(self.model, cpu_threads=threads))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def with_settings(self, settings: Iterable[str], section: str = "speech") -> Self:
        """This configuration with ``KEY=VALUE`` settings applied (``SECTION.KEY=VALUE`` for a
        section other than ``section``; the value as TOML writes it, a bare word a string, and
        1/0/yes/no for a switch): what the benchmarks' ``--set`` takes, so trying a setting needs
        no callqa.toml. Raises ValueError for a setting the section does not have."""
        cfg = self
        for item in settings:
            key, sep, raw = item.partition("=")
            where, _, name = key.strip().rpartition(".")
            where = where or section
            options = getattr(cfg, where, None)
            if not sep or not dataclasses.is_dataclass(options) or not hasattr(options, name):
                raise ValueError(f"{item!r}: not a setting (KEY=VALUE of [{section}], or SECTION.KEY=VALUE)")
            value = _setting_value(raw.strip(), getattr(options, name))
            cfg = replace(cfg, **{where: replace(options, **{name: value})})
        return cfg

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


# A worker's peak resident memory on an hour-long call is about 0.9 GB (benchmarks/workers.py
# memory, benchmarks/capacity.py); the rest is headroom for the store and the system.
WORKER_MEMORY_MB = 1500


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity: a container's or taskset's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def physical_memory_mb() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (AttributeError, ValueError, OSError):
        return 0  # unknown: not a limit


def machine_layout(cores: int, memory_mb: int, gpu: bool, threads: int = 0) -> tuple[int, int]:
    """(worker processes, Whisper threads each) for a run on this machine, where the configuration
    leaves them at 0. One thread a worker: on the 2-vCPU class CTranslate2 decodes a call more
    slowly with two threads than with one, and two single-threaded workers give more audio hours
    per core-hour than one worker with two threads (benchmarks/capacity.py, docs/evaluation.md).
    As many workers as cores, fewer where memory would not hold them; one on a GPU (its memory,
    not the cores, bounds a run there)."""
    threads = threads or 1
    if gpu:
        return 1, threads
    workers = max(1, cores // threads)
    if memory_mb:
        workers = max(1, min(workers, memory_mb // WORKER_MEMORY_MB))
    return workers, threads


def _setting_value(raw: str, default: Any) -> Any:
    """``raw`` (a setting's value as written after ``KEY=``) as the type of the field's ``default``."""
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    if isinstance(default, bool):
        return value.lower() in ("1", "true", "yes", "on") if isinstance(value, str) else bool(value)
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        return raw
    return value


def _build(cls: type, data: dict[str, Any], where: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    if cls is RulesConfig and RETIRED_SETTINGS.keys() & data.keys():
        import logging

        for key in sorted(RETIRED_SETTINGS.keys() & data.keys()):
            rule = RETIRED_SETTINGS[key]
            logging.getLogger(__name__).warning(
                "[rules] %s is ignored: %s, the rule it tuned, was retired on %s (%s reads the clause now)",
                key,
                rule,
                RETIRED_RULES[rule][1],
                RETIRED_RULES[rule][0],
            )
        data = {k: v for k, v in data.items() if k not in RETIRED_SETTINGS}
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


# The configuration reference (docs/configuration.md) is generated from the dataclasses above and
# the comment lines over each field, so the page cannot say anything the code does not.
REFERENCE_PATH = "docs/configuration.md"
_TOML_TYPES = {"str": "string", "int": "integer", "float": "float", "bool": "boolean"}
# A key's suffix says its unit; tried in order, so _chars_per_s wins over _s.
_KEY_UNITS = (
    ("_chars_per_s", "characters/s"),
    ("_per_s", "per second"),
    ("_ms", "milliseconds"),
    ("_s", "seconds"),
    ("_db", "dB"),
    ("_hz", "Hz"),
    ("_chars", "characters"),
    ("_calls", "calls"),
    ("_threads", "threads"),
    ("_attempts", "attempts"),
    ("_interruptions", "interruptions"),
    ("_st", "semitones"),
    ("_cues", "cues"),
    ("_count", "times"),
    ("_share", "share (0-1)"),
)
# Otherwise a number's unit is the first of these that its comment names.
_COMMENT_UNITS = (
    (re.compile(r"\bnats\b"), "nats (log-probability)"),
    (re.compile(r"\bpoints\b", re.IGNORECASE), "points"),
    (re.compile(r"\bprocesses\b", re.IGNORECASE), "processes"),
    (re.compile(r"\bwindows\b", re.IGNORECASE), "windows"),
    (re.compile(r"\bprobability\b|\bP\("), "probability (0-1)"),
)


@dataclass(frozen=True)
class _Setting:
    key: str  # as written in callqa.toml
    type: str
    default: str  # markdown
    unit: str
    description: str


@dataclass(frozen=True)
class _Table:
    heading: str  # "Top-level keys", "`[model]`", "`[scoring.weights]`"
    intro: str
    settings: tuple[_Setting, ...]


def _field_comments(cls: type) -> dict[str, str]:
    """Each field's description: the comment lines directly above it, joined, then its trailing
    comment in parentheses. Tokenized, so a ``#`` inside a string is not taken for a comment."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }

    def whole_line(n: int) -> bool:
        return n in comments and lines[n - 1].lstrip().startswith("#")

    class_def = ast.parse(source).body[0]
    assert isinstance(class_def, ast.ClassDef)
    out = {}
    for node in class_def.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        n = node.lineno - 1
        while whole_line(n):
            above.insert(0, comments[n])
            n -= 1
        text = " ".join(above)
        if node.lineno in comments and not whole_line(node.lineno):
            text = f"{text} ({comments[node.lineno]})" if text else comments[node.lineno]
        out[node.target.id] = text
    return out


def _toml_type(annotation: str) -> str:
    """The TOML type a field's annotation asks for: ``tuple[str, ...]`` is an array of strings."""

    def name(node: ast.expr) -> str:
        if isinstance(node, ast.BinOp) and isinstance(node.right, ast.Constant) and node.right.value is None:
            return f"{name(node.left)} (optional)"
        if isinstance(node, ast.Name):
            return _TOML_TYPES.get(node.id, node.id)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if node.value.id in ("tuple", "list"):
                return f"array of {name(args[0])}s"
            if node.value.id == "dict":
                return f"table of {name(args[-1])}s"
        return ast.unparse(node)

    return name(ast.parse(annotation, mode="eval").body)


def _toml_value(value: Any) -> str:
    """A default as it would be written in callqa.toml (floats as Python writes them: 240.0)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # TOML's basic strings escape as JSON's do
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _unit(key: str, toml_type: str, description: str) -> str:
    for suffix, unit in _KEY_UNITS:
        if key.endswith(suffix):
            return unit
    if toml_type.split(" ")[0] not in ("integer", "float"):
        return ""
    found = [(m.start(), unit) for pattern, unit in _COMMENT_UNITS if (m := pattern.search(description))]
    return min(found)[1] if found else ""


def _doc(cls: type) -> str:
    # A dataclass without a docstring is given its signature as one: not a description.
    text = cls.__doc__ or ""
    return "" if text.startswith(f"{cls.__name__}(") else inspect.cleandoc(text)


# What a table's keys must be, where ScoringConfig checks them.
_TABLE_KEYS = {
    "scoring.weights": "Each key must name a rule (`callqa rules` lists them): a misspelt one is an error.",
    "scoring.promoted": "Each key must be a rule with a weight: a misspelt one is an error.",
}
_UNCHECKED_KEYS = "The keys are not checked: a misspelt one changes nothing."


def _tables(cls: type, values: Any, section: str) -> list[_Table]:
    """The table of ``cls``'s own settings, then one per dict-valued field (``[scoring.weights]``);
    fields that are sections themselves are left to the caller."""
    comments = _field_comments(cls)
    own: list[_Setting] = []
    nested: list[_Table] = []
    for f in dataclasses.fields(cls):
        value, text = getattr(values, f.name), comments[f.name]
        if dataclasses.is_dataclass(value):
            continue
        toml_type = _toml_type(str(f.type))
        if isinstance(value, dict):
            # Config.from_dict merges such a table into the default entry by entry.
            entry_type = toml_type.removeprefix("table of ").removesuffix("s")
            intro = (
                f"{text} Keys written in callqa.toml replace these defaults one by one; the others keep "
                f"their default. {_TABLE_KEYS.get(f'{section}.{f.name}', _UNCHECKED_KEYS)}"
            )
            entries = tuple(
                _Setting(
                    json.dumps(k, ensure_ascii=False),  # quoted: rule ids hold dots
                    entry_type,
                    f"`{_toml_value(v)}`",
                    _unit("", entry_type, text),
                    text,
                )
                for k, v in value.items()
            )
            nested.append(_Table(f"`[{section}.{f.name}]`" if section else f"`[{f.name}]`", intro, entries))
            continue
        # TOML has no null: an unset setting is one the file leaves out.
        default = "*unset*" if value is None else f"`{_toml_value(value)}`"
        own.append(_Setting(f.name, toml_type, default, _unit(f.name, toml_type, text), text))
    heading = f"`[{section}]`" if section else "Top-level keys"
    intro = _doc(cls) if section else "Written before the first [section] of the file."
    return [_Table(heading, intro, tuple(own)), *nested]


def _reference_tables() -> list[_Table]:
    """Every table of the page, in the order of Config's fields: top-level keys first."""
    defaults = Config()
    tables = _tables(Config, defaults, "")
    for f in dataclasses.fields(Config):
        # The section as declared: a default the Config resolves from the machine (run.workers,
        # model.cpu_threads) is written as declared, 0, not as this machine's value.
        value = (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else getattr(defaults, f.name)
        )
        if dataclasses.is_dataclass(value):
            tables += _tables(type(value), value, f.name)
    return tables


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


_REFERENCE_HEADER = f"""\
# callqa.toml: every setting

`callqa.toml` tunes a callqa installation: each command reads `./callqa.toml` when it exists, or
the file given with `--config`. It overrides any subset of the settings below, section by section;
a setting it does not name keeps its default. A key callqa does not know is an error
(`unknown config key(s) in [model]: beam_szie`), so a typo never silently falls back to a default.
For example:

```toml
warehouse = "/srv/callqa/warehouse"

[rules]
greeting_window_s = 8.0

[scoring.weights]
"greeting.missing" = 15.0
```

This page is generated from `pipeline/config.py` (the settings' dataclasses and the comment above
each field) by `python -m pipeline.config`, which writes `{REFERENCE_PATH}`; a test
(`tests/test_config.py`) fails when the page differs from what the command writes, so it cannot
drift from the code. To change a description, edit the comment in `pipeline/config.py` and run the
command again."""


def reference_markdown() -> str:
    """docs/configuration.md: every setting of callqa.toml with its type, default, unit and what it
    changes, generated from the dataclasses and their comments (``python -m pipeline.config``)."""
    blocks = [_REFERENCE_HEADER]
    for table in _reference_tables():
        blocks.append(f"## {table.heading}")
        if table.intro:
            blocks.append(table.intro)
        if table.settings:
            rows = ["| key | type | default | unit | what it changes |", "|---|---|---|---|---|"]
            for s in table.settings:
                cells = (f"`{s.key}`", s.type, s.default, s.unit, s.description)
                rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
            blocks.append("\n".join(rows))
    return "\n\n".join(blocks) + "\n"


def _main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    """``python -m pipeline.config [--check]``: write the reference page, or say whether it is stale."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m pipeline.config", description=f"Write {REFERENCE_PATH} from the settings."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale; write nothing")
    args = parser.parse_args(argv)
    path, text = root / REFERENCE_PATH, reference_markdown()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if args.check:
        if current != text:
            print(
                f"{REFERENCE_PATH} is stale: run `python -m pipeline.config` to regenerate it",
                file=sys.stderr,
            )
            return 1
        print(f"{REFERENCE_PATH} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {REFERENCE_PATH}" if current != text else f"{REFERENCE_PATH} was already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
