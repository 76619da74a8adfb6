import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.audio import decode
from pipeline.process import Models, transcribe_and_diarize
from pipeline.records import CallRef

SHARE = Path(__file__).parents[1] / "data" / "sample_share"


def test_on_mono_the_speaker_models_run_while_whisper_transcribes(cfg, lexicon):
    transcribing = threading.Event()
    overlapped = []

    class Whisper:
        model_id = "fake"

        def transcribe(self, channels, pieces):
            transcribing.set()
            return []

    class Embedder:
        same_speaker, short_margin = 0.75, 0.2

        def embed_many(self, segments):
            # Run one after the other, Whisper would not have started yet: this waits in vain.
            overlapped.append(transcribing.wait(timeout=5))
            return np.random.default_rng(len(segments)).normal(size=(len(segments), 8))

    class FakeModels(Models):
        def speaker_embedder(self, cfg):
            return Embedder()

    mono = replace(cfg, speech=replace(cfg.speech, segmentation=False))
    timings = {}
    turns, utterances, _roles = transcribe_and_diarize(
        decode(SHARE / "recordings" / "2026-11-16" / "S002.flac"),  # a mono call
        CallRef("S002", "S002.flac", "A102", None, "mono"),
        mono,
        FakeModels(transcriber=Whisper()),
        lexicon,
        timings,
    )
    assert overlapped and all(overlapped)
    assert turns and utterances == []
    assert {"speech", "speakers", "transcribe"} <= set(timings)
