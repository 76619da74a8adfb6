"""Speech to words with faster-whisper, over the speech regions found by the speech stage.

Only speech is decoded: the regions of every channel are joined end to end (as faster-whisper's
own VAD filter does for one channel) and word times are mapped back to the channel and second they
were spoken, so VAD runs once per channel, silence costs nothing, and a stereo call is one pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.audio import SAMPLE_RATE, Signal
from pipeline.config import ModelConfig
from pipeline.records import Word
from pipeline.text import for_scoring, normalize_transcript

# Segments faster-whisper is unsure of: likely text invented over noise or silence.
_MAX_NO_SPEECH = 0.6
_MIN_LOGPROB = -1.0
_MAX_COMPRESSION = 2.4


@dataclass(frozen=True)
class Piece:
    """A stretch of speech to transcribe: a region of one channel."""

    channel: int
    start: float
    end: float

    @property
    def start_sample(self) -> int:
        return int(self.start * SAMPLE_RATE)

    @property
    def end_sample(self) -> int:
        return int(self.end * SAMPLE_RATE)


def batch_pieces(pieces: Sequence[Piece], max_seconds: float) -> list[list[Piece]]:
    """Pieces in order of start, cut into batches of at most ``max_seconds`` of speech each.

    Memory then stays bounded on an hour-long call: only one batch of joined speech (and its
    features) exists at a time.
    """
    batches: list[list[Piece]] = []
    total = max_seconds
    for piece in sorted(pieces, key=lambda p: (p.start, p.channel)):
        length = piece.end - piece.start
        if total + length > max_seconds and (not batches or batches[-1]):
            batches.append([])
            total = 0.0
        batches[-1].append(piece)
        total += length
    return [b for b in batches if b]


# A word across a join of two pieces stays with the earlier one only when this share of it lies
# before the join. Measured on the words across a change of speaker (docs/measurements.md, session
# 10): on the development set every one belonged to the later piece, all but one with 29 % or more
# of it after the join; on the corpus the few earlier-piece words (a question's 吗) had 3-15 %.
_EARLIER_SHARE = 0.8


class SpeechTimeline:
    """Maps times in the joined speech back to (channel, time in the recording).

    Pieces of both channels are joined in order of start time, so Whisper hears the conversation
    as it went, and a stereo call costs one decoding pass over its speech, not one per channel.
    """

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.pieces = sorted(pieces, key=lambda p: (p.start, p.channel))
        lengths = [(p.end_sample - p.start_sample) / SAMPLE_RATE for p in self.pieces]
        self._joined_starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])

    def original(self, start: float, end: float) -> tuple[int, float, float]:
        """(channel, start, end) of a word. A word across a join belongs to the later piece unless
        nearly all of it (``_EARLIER_SHARE``) lies before the join: Whisper starts the first word
        after a join early, by up to two thirds of its length (好的, 不客气's 不, 您, at a change of
        speaker), and seldom runs a piece's last word past it."""
        i = max(0, int(np.searchsorted(self._joined_starts, start, side="right")) - 1)
        while i + 1 < len(self.pieces) and (join := self._joined_starts[i + 1]) < end:
            if join - start >= _EARLIER_SHARE * (end - start):
                break
            i += 1
        piece = self.pieces[i]
        shift = piece.start - self._joined_starts[i]
        first = min(max(start + shift, piece.start), piece.end)
        return piece.channel, round(first, 3), round(max(first, min(end + shift, piece.end)), 3)


@dataclass(frozen=True)
class AsrSegment:
    words: tuple[Word, ...]
    channels: tuple[int, ...]  # the channel each word was spoken on
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    # A decoding loop's repetitions were cut off the end of the words (``without_loop``): the
    # compression ratio, measured by Whisper over the whole segment, no longer describes them.
    loop_cut: bool = False

    @property
    def suspicious(self) -> bool:
        silent = self.no_speech_prob > _MAX_NO_SPEECH and self.avg_logprob < _MIN_LOGPROB
        if self.loop_cut:
            return silent
        looping = self.compression_ratio > _MAX_COMPRESSION or is_repetition_loop(
            "".join(w.text for w in self.words)
        )
        return silent or looping

    def without_loop(self) -> AsrSegment:
        """The segment less a decoding loop that set in after real words (那如果他们…我说，我说，
        我说，… over a caller's reply): the words before the loop and its first instance are kept,
        the repetitions dropped, so the loop no longer takes the whole segment's words down with it
        and the stretch it covered is left for the second pass. A segment that is a loop from its
        first word (好的好的好的… over noise) is returned as it is, to be flagged."""
        texts = [for_scoring(w.text) for w in self.words]
        match = _loop("".join(texts))
        if match is None or match.start() == 0:
            return self
        cut, reach = match.start() + len(match.group(1)), 0
        for i, text in enumerate(texts):
            reach += len(text)
            if reach >= cut:
                return replace(
                    self, words=self.words[: i + 1], channels=self.channels[: i + 1], loop_cut=True
                )
        return self


_LOOP = re.compile(r"(.{1,6}?)\1{3,}")  # a 1-6 character unit said four or more times in a row


def _loop(clean: str) -> re.Match[str] | None:
    """The first decoding loop in scoring text: a unit said four times or more, 8 characters in all."""
    match = _LOOP.search(clean)
    return match if match is not None and len(match.group(0)) >= 8 else None


def is_repetition_loop(text: str) -> bool:
    """Whisper's decoding loops (谢谢谢谢谢谢..., 好的好的好的好的...) on noise or music."""
    return _loop(for_scoring(text)) is not None


_RETRY_MIN_S = 2.0  # speech left without words worth a second pass
_RETRY_PIECE_S = 0.8  # shorter pieces (嗯, 好的) are often rightly left empty
# Inside a piece that has words, a stretch this long without any is speech Whisper skipped (a
# pause that long would have ended the VAD region); word times are loose, so the stretch is cut
# this far in from the words either side.
_RETRY_GAP_S = 1.5
_RETRY_EDGE_S = 0.2


def unheard_pieces(pieces: Sequence[Piece], segments: Sequence[AsrSegment]) -> list[Piece]:
    """Speech no transcribed word falls in: whole pieces of at least ``_RETRY_PIECE_S``, and
    stretches of at least ``_RETRY_GAP_S`` before, between or after the words of a piece."""
    heard: dict[int, list[tuple[float, float]]] = {}
    for seg in segments:
        for w, ch in zip(seg.words, seg.channels, strict=True):
            heard.setdefault(ch, []).append((w.start, w.end))
    out = []
    for p in pieces:
        words = sorted((a, b) for a, b in heard.get(p.channel, ()) if a < p.end and b > p.start)
        if not words:
            if p.end - p.start >= _RETRY_PIECE_S:
                out.append(p)
            continue
        # Stretches between the piece's edges and its words, the words' edges moved in.
        gaps, reach = [], p.start
        for a, b in words:
            gaps.append((reach, a - _RETRY_EDGE_S))
            reach = max(reach, b + _RETRY_EDGE_S)
        gaps.append((reach, p.end))
        out += [Piece(p.channel, round(a, 3), round(b, 3)) for a, b in gaps if b - a >= _RETRY_GAP_S]
    return out


class Transcriber(Protocol):
    model_id: str

    def transcribe(self, channels: Sequence[Signal], pieces: Sequence[Piece]) -> list[AsrSegment]: ...


def choose_device(options: ModelConfig, cuda_devices: int) -> tuple[str, str]:
    """(device, compute type): ``auto`` means float16 on a GPU when there is one, int8 on the CPU."""
    device = options.device
    if device == "auto":
        device = "cuda" if cuda_devices > 0 else "cpu"
    if device == "cuda" and cuda_devices == 0:
        raise RuntimeError("model.device is cuda but CTranslate2 sees no CUDA device")
    compute_type = options.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


class WhisperTranscriber:
    """faster-whisper behind the small Transcriber interface."""

    def __init__(self, model_dir: Path, options: ModelConfig, vocabulary: str = "") -> None:
        import ctranslate2
        from faster_whisper import WhisperModel

        device, compute_type = choose_device(options, ctranslate2.get_cuda_device_count())
        self._model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=options.cpu_threads
        )
        self._options = options
        self._vocabulary = vocabulary
        self.model_id = model_dir.name
        self.compute_type = compute_type

    def transcribe(self, channels: Sequence[Signal], pieces: Sequence[Piece]) -> list[AsrSegment]:
        out: list[AsrSegment] = []
        for batch in batch_pieces(pieces, self._options.max_batch_s):
            segments = self._transcribe_batch(channels, batch)
            # Whisper sometimes ends a 30 s window early and moves on to the next one (a decode
            # that stops on a lone timestamp): whole sentences vanish without a trace. The speech
            # regions say where speech was; what got no word at all is transcribed once more.
            missed = unheard_pieces(batch, segments)
            if sum(p.end - p.start for p in missed) >= _RETRY_MIN_S:
                segments += self._transcribe_batch(channels, missed)
            out += segments
        return out

    def _transcribe_batch(self, channels: Sequence[Signal], pieces: Sequence[Piece]) -> list[AsrSegment]:
        timeline = SpeechTimeline(pieces)
        speech = np.concatenate([channels[p.channel][p.start_sample : p.end_sample] for p in timeline.pieces])
        segments, _ = self._model.transcribe(
            speech,
            language=self._options.language,
            beam_size=self._options.beam_size,
            temperature=list(self._options.temperatures),
            compression_ratio_threshold=self._options.compression_ratio_threshold,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            hotwords=self._vocabulary if self._options.vocabulary == "hotwords" else None,
            initial_prompt=self._vocabulary if self._options.vocabulary == "prompt" else None,
        )
        out = []
        for seg in segments:
            words, channels_of = [], []
            for w in seg.words or ():
                channel, start, end = timeline.original(w.start, w.end)
                words.append(Word(normalize_transcript(w.word), start, end, round(float(w.probability), 4)))
                channels_of.append(channel)
            out.append(
                AsrSegment(
                    tuple(words),
                    tuple(channels_of),
                    seg.avg_logprob,
                    seg.no_speech_prob,
                    seg.compression_ratio,
                ).without_loop()
            )
        return out


def domain_vocabulary(userdict: Path, limit: int = 40) -> str:
    """The most frequent domain words of the jieba user dictionary, as one line for Whisper."""
    if not userdict.exists():
        return ""
    rows = [line.split() for line in userdict.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows.sort(key=lambda r: -int(r[1]) if len(r) > 1 and r[1].isdigit() else 0)
    return "，".join(r[0] for r in rows[:limit])


@lru_cache(maxsize=2)
def load_transcriber(model_dir: str, options: ModelConfig, vocabulary: str = "") -> WhisperTranscriber:
    """One model per worker process, reused for every call it handles."""
    return WhisperTranscriber(Path(model_dir), options, vocabulary)
