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

from pipeline.asr.text import for_scoring, normalize_transcript
from pipeline.audio.decode import SAMPLE_RATE, Signal
from pipeline.config import ModelConfig
from pipeline.records import Word

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
# before the join. Measured on the words across a change of speaker (docs/evaluation.md): on
# the development set every one belonged to the later piece, all but one with 29 % or more
# of it after the join; on the corpus the few earlier-piece words (a question's 吗) had 3-15 %.
_EARLIER_SHARE = 0.8


# Whisper hears 30 s at a time. A window of joined speech stops a little short of that: the
# feature extractor's frames of a full 30 s run one past it.
WINDOW_S = 29.5
# A piece longer than a window is cut at its quietest 20 ms in the window's last few seconds.
_CUT_SEARCH_S = 5.0
_CUT_FRAME = SAMPLE_RATE // 50


def split_long_pieces(
    channels: Sequence[Signal], pieces: Sequence[Piece], max_s: float = WINDOW_S
) -> list[Piece]:
    """The pieces with every one longer than ``max_s`` cut into parts of at most ``max_s``, each
    cut at the quietest 20 ms of the ``_CUT_SEARCH_S`` before the limit (a breath, a pause too
    short to end the VAD region), so that no window of joined speech ends inside a word if the
    speaker ever paused."""
    out = []
    for piece in pieces:
        start = piece.start
        while piece.end - start > max_s:
            lo = start + max_s - _CUT_SEARCH_S
            span = np.asarray(
                channels[piece.channel][int(lo * SAMPLE_RATE) : int((start + max_s) * SAMPLE_RATE)],
                np.float32,
            )
            frames = span[: len(span) // _CUT_FRAME * _CUT_FRAME].reshape(-1, _CUT_FRAME)
            quietest = int(np.argmin(np.square(frames).mean(axis=1))) if len(frames) else len(frames)
            cut = round(lo + (quietest + 0.5) * _CUT_FRAME / SAMPLE_RATE, 3)
            out.append(Piece(piece.channel, start, cut))
            start = cut
        out.append(Piece(piece.channel, start, piece.end))
    return out


class SpeechTimeline:
    """Maps times in the joined speech back to (channel, time in the recording).

    Pieces of both channels are joined in order of start time, so Whisper hears the conversation
    as it went, and a stereo call costs one decoding pass over its speech, not one per channel.
    """

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.pieces = sorted(pieces, key=lambda p: (p.start, p.channel))
        self._lengths = [(p.end_sample - p.start_sample) / SAMPLE_RATE for p in self.pieces]
        self._joined_starts = np.concatenate([[0.0], np.cumsum(self._lengths)[:-1]])

    def windows(self, max_s: float = WINDOW_S) -> list[tuple[float, float]]:
        """(start, end) in the joined speech of Whisper's windows: runs of consecutive pieces of at
        most ``max_s`` joined, cut only at a join (a piece longer than that is a window of its own:
        ``split_long_pieces`` cuts those first)."""
        out: list[tuple[float, float]] = []
        for start, length in zip(self._joined_starts.tolist(), self._lengths, strict=True):
            if out and start + length - out[-1][0] <= max_s:
                out[-1] = (out[-1][0], start + length)
            else:
                out.append((start, start + length))
        return out

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


def window_compression_ratios(segments: Sequence) -> list[float]:
    """Each segment's compression ratio as faster-whisper's sequential decoding gives it: that of
    the whole window's text (segments of one window share its ``seek``). Batched decoding measures
    each segment alone, and a loop of a 12-character phrase said once per segment (宣治出现交易
    几乎与了尘区 six times over RC02's missed speech at 8 kHz) looks like plain text."""
    from faster_whisper.transcribe import get_compression_ratio

    texts: dict[int, str] = {}
    for seg in segments:
        texts[seg.seek] = texts.get(seg.seek, "") + seg.text
    ratios = {seek: get_compression_ratio(text) for seek, text in texts.items()}
    return [ratios[seg.seek] for seg in segments]


def without_repeated_segments(segments: Sequence, ratios: Sequence[float]) -> list[tuple]:
    """(segment, its window's compression ratio) less the repetitions of a decoding loop that
    repeats a whole segment: in a window whose text compresses like a loop, a segment saying
    what the one before it said is dropped, and the first is kept to be flagged (as
    ``AsrSegment.without_loop`` keeps a loop's first instance). Over RC02's skipped speech at
    8 kHz the second pass wrote one 12-character phrase as six segments (two when the window was
    decoded sequentially), every copy an insertion in the stored text. A repeat in a window that
    reads as speech (好的。 好的。) stays.

    The segments of such a window before its loop set in (the first segment repeated, or with a
    loop inside it) are measured on their own text, as the window would have been had it ended
    there: real words are not flagged for a loop that followed them (real voices on stereo, RC04:
    the agent's first sentence, then 语音十别模型 over and over, and the sentence was lost)."""
    out: list[tuple] = []
    looping: set[int] = set()  # indices in ``out`` of the segments a copy of was dropped
    for seg, ratio in zip(segments, ratios, strict=True):
        if out and ratio > _MAX_COMPRESSION:
            previous = out[-1][0]
            text = for_scoring(seg.text)
            if previous.seek == seg.seek and text and text == for_scoring(previous.text):
                looping.add(len(out) - 1)
                continue
        out.append((seg, ratio))
    windows: dict[int, list[int]] = {}
    for i, (seg, ratio) in enumerate(out):
        if ratio > _MAX_COMPRESSION:
            windows.setdefault(seg.seek, []).append(i)
    for members in windows.values():
        start = next(
            (k for k, i in enumerate(members) if i in looping or _loop(for_scoring(out[i][0].text))), 0
        )
        if start:
            from faster_whisper.transcribe import get_compression_ratio

            before = get_compression_ratio("".join(out[i][0].text for i in members[:start]))
            for i in members[:start]:
                out[i] = (out[i][0], before)
    return out


class Transcriber(Protocol):
    model_id: str

    def transcribe(self, channels: Sequence[Signal], pieces: Sequence[Piece]) -> list[AsrSegment]: ...

    def reading_logprobs(self, samples: Signal, texts: Sequence[str]) -> list[float]:
        """For each of ``texts``, the summed log-probability the model gives its tokens as the
        words of ``samples`` (16 kHz, at most 30 s), each token given the ones before it."""
        ...


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
            # A loop's words (围围围…, 好的好的… where the caller said something else) are not
            # words heard: the speech under them is transcribed again like speech with none.
            missed = unheard_pieces(batch, [s for s in segments if not s.suspicious])
            if sum(p.end - p.start for p in missed) >= _RETRY_MIN_S:
                segments += self._transcribe_batch(channels, missed)
            out += segments
        return out

    def reading_logprobs(self, samples: Signal, texts: Sequence[str]) -> list[float]:
        # Teacher forcing through CTranslate2's align (what faster-whisper's word timestamps run):
        # one encoder pass over the clip, one decoder pass a reading, no search.
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        model = self._model
        features = model.feature_extractor(np.asarray(samples, dtype=np.float32))
        frames = min(features.shape[-1], model.feature_extractor.nb_max_frames)
        encoded = model.encode(pad_or_trim(features))
        tokenizer = Tokenizer(
            model.hf_tokenizer,
            model.model.is_multilingual,
            task="transcribe",
            language=self._options.language,
        )
        out = []
        for text in texts:
            tokens = tokenizer.encode(text)
            if not tokens:
                out.append(0.0)
                continue
            result = model.model.align(encoded, tokenizer.sot_sequence, [tokens], frames)[0]
            probs = np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), 1e-12)
            out.append(float(np.log(probs).sum()))
        return out

    def _transcribe_batch(self, channels: Sequence[Signal], pieces: Sequence[Piece]) -> list[AsrSegment]:
        batched = self._options.window_batch > 0
        timeline = SpeechTimeline(split_long_pieces(channels, pieces) if batched else pieces)
        speech = np.concatenate([channels[p.channel][p.start_sample : p.end_sample] for p in timeline.pieces])
        options = dict(
            language=self._options.language,
            beam_size=self._options.beam_size,
            temperature=list(self._options.temperatures),
            word_timestamps=True,
            hotwords=self._vocabulary if self._options.vocabulary == "hotwords" else None,
            initial_prompt=self._vocabulary if self._options.vocabulary == "prompt" else None,
        )
        if batched:
            from faster_whisper import BatchedInferencePipeline

            # A new pipeline for every pass: it carries the last word's time from one batch of
            # windows to the next, which must not leak from one call into another.
            segments, _ = BatchedInferencePipeline(self._model).transcribe(
                speech,
                clip_timestamps=[{"start": a, "end": b} for a, b in timeline.windows()],
                batch_size=self._options.window_batch,
                # With timestamps: without them a window is one segment, and Whisper, decoding
                # text only, drops whole sentences (22 real recordings: CER 0.22 -> 0.49).
                without_timestamps=False,
                **options,
            )
        else:
            segments, _ = self._model.transcribe(
                speech,
                compression_ratio_threshold=self._options.compression_ratio_threshold,
                vad_filter=False,
                condition_on_previous_text=False,
                **options,
            )
        segments = list(segments)
        ratios = window_compression_ratios(segments) if batched else [s.compression_ratio for s in segments]
        out = []
        for seg, ratio in without_repeated_segments(segments, ratios):
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
                    ratio,
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
