"""Speech to words with faster-whisper, over the speech regions found by the speech stage.

Only speech is decoded: a channel's regions are joined end to end (as faster-whisper's own VAD
filter does) and word times are mapped back to the recording, so VAD runs once per channel and
silence costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.audio import SAMPLE_RATE
from pipeline.config import ModelConfig
from pipeline.records import Word
from pipeline.speech import Region
from pipeline.text import normalize_transcript

# Segments faster-whisper is unsure of: likely text invented over noise or silence.
_MAX_NO_SPEECH = 0.6
_MIN_LOGPROB = -1.0
_MAX_COMPRESSION = 2.4


@dataclass(frozen=True)
class AsrSegment:
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float

    @property
    def suspicious(self) -> bool:
        silent = self.no_speech_prob > _MAX_NO_SPEECH and self.avg_logprob < _MIN_LOGPROB
        return silent or self.compression_ratio > _MAX_COMPRESSION


class Transcriber(Protocol):
    model_id: str

    def transcribe(self, samples: np.ndarray, regions: list[Region]) -> list[AsrSegment]: ...


class WhisperTranscriber:
    """faster-whisper behind the small Transcriber interface."""

    def __init__(self, model_dir: Path, options: ModelConfig) -> None:
        import ctranslate2
        from faster_whisper import WhisperModel

        device = options.device
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        compute_type = options.compute_type
        if compute_type == "auto":
            compute_type = "float16" if device == "cuda" else "int8"
        self._model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=options.cpu_threads
        )
        self._options = options
        self.model_id = model_dir.name
        self.compute_type = compute_type

    def transcribe(self, samples: np.ndarray, regions: list[Region]) -> list[AsrSegment]:
        from faster_whisper.vad import SpeechTimestampsMap

        if not regions:
            return []
        chunks = [{"start": int(s * SAMPLE_RATE), "end": int(e * SAMPLE_RATE)} for s, e in regions]
        speech = np.concatenate([samples[c["start"] : c["end"]] for c in chunks])
        time_map = SpeechTimestampsMap(chunks, SAMPLE_RATE)
        segments, _ = self._model.transcribe(
            speech,
            language=self._options.language,
            beam_size=self._options.beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        out = []
        for seg in segments:
            words = []
            for w in seg.words or ():
                chunk = time_map.get_chunk_index(w.start)
                words.append(
                    Word(
                        text=normalize_transcript(w.word),
                        start=time_map.get_original_time(w.start, chunk),
                        end=time_map.get_original_time(w.end, chunk, is_end=True),
                        prob=round(float(w.probability), 4),
                    )
                )
            out.append(AsrSegment(tuple(words), seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio))
        return out


@lru_cache(maxsize=2)
def load_transcriber(model_dir: str, options: ModelConfig) -> WhisperTranscriber:
    """One model per worker process, reused for every call it handles."""
    return WhisperTranscriber(Path(model_dir), options)
