import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio.decode import decode
from pipeline.records import CallRef
from pipeline.run.process import Models, transcribe_and_diarize

SHARE = Path(__file__).parents[2] / "data" / "sample_share"


class _NoWords:
    model_id = "fake"

    def transcribe(self, channels, pieces):
        return []


def _models(embedder, whisper=None) -> Models:
    class FakeModels(Models):
        def speaker_embedder(self, cfg):
            return embedder

    return FakeModels(transcriber=whisper or _NoWords())


def _mono_call(cfg, lexicon, models: Models, timings=None, **speech):
    """S002 of the sample share (a mono call) through transcribe_and_diarize, with stand-in models
    and without the segmentation model unless ``speech`` says otherwise."""
    speech = {"segmentation": False, **speech}
    spoken = transcribe_and_diarize(
        decode(SHARE / "recordings" / "2026-11-16" / "S002.flac"),
        CallRef("S002", "S002.flac", "A102", None, "mono"),
        replace(cfg, speech=replace(cfg.speech, **speech)),
        models,
        lexicon,
        {} if timings is None else timings,
    )
    return spoken.turns, spoken.utterances, spoken.roles


@pytest.mark.parametrize("beside", [True, False])
def test_on_mono_the_speaker_models_run_beside_whisper_unless_configured_otherwise(cfg, lexicon, beside):
    transcribing = threading.Event()
    saw_whisper_running = []

    class Whisper:
        model_id = "fake"

        def transcribe(self, channels, pieces):
            transcribing.set()
            return []

    class Embedder:
        same_speaker, short_margin = 0.75, 0.2

        def embed_many(self, segments):
            # Beside Whisper, Whisper has started meanwhile; in line, it starts only after this
            # (so the wait is short: the answer is known).
            saw_whisper_running.append(transcribing.wait(timeout=5 if beside else 0.01))
            return np.random.default_rng(len(segments)).normal(size=(len(segments), 8))

    timings = {}
    turns, utterances, _roles = _mono_call(
        cfg, lexicon, _models(Embedder(), Whisper()), timings, speakers_beside_whisper=beside
    )
    assert saw_whisper_running and set(saw_whisper_running) == {beside}
    assert turns and utterances == []
    assert {"speech", "speakers", "transcribe"} <= set(timings)


def test_the_speaker_models_thread_runs_below_whispers_priority():
    import os
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.run.process import _in_the_background

    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    here = priority()
    with ThreadPoolExecutor(max_workers=1) as pool:
        background = pool.submit(_in_the_background, priority).result()
    assert background > here or here == 19  # 19: the lowest priority already


def test_an_error_of_the_speaker_models_reaches_the_call(cfg, lexicon):
    class Broken:
        same_speaker, short_margin = 0.75, 0.2

        def embed_many(self, segments):
            raise RuntimeError("embedder broke")

    with pytest.raises(RuntimeError, match="embedder broke"):
        _mono_call(cfg, lexicon, _models(Broken()))


def test_a_call_stopped_while_it_waits_for_the_speaker_models_stops_at_once(cfg, lexicon):
    """Prefect stops a call that runs past its timeout by raising an exception in its thread at
    the next Python step: waiting for the speaker models must leave it such steps."""
    import ctypes
    import time

    release = threading.Event()

    class Slow:
        same_speaker, short_margin = 0.75, 0.2

        def embed_many(self, segments):
            release.wait(timeout=20)
            return np.random.default_rng(0).normal(size=(len(segments), 8))

    class CallTimedOut(Exception):
        pass

    outcome = {}

    def call():
        try:
            _mono_call(cfg, lexicon, _models(Slow()))
            outcome["result"] = "finished"
        except CallTimedOut:
            outcome["result"] = "stopped"

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(1.0)  # Whisper (a stub) is done: the call waits for the speaker models
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(CallTimedOut))
    thread.join(timeout=5)
    stopped_in_time = not thread.is_alive()
    release.set()
    thread.join()
    assert stopped_in_time and outcome["result"] == "stopped"


def test_a_missing_speaker_model_fails_the_call_before_whisper_runs(cfg, lexicon):
    transcribed = []

    class Whisper:
        model_id = "fake"

        def transcribe(self, channels, pieces):
            transcribed.append(pieces)
            return []

    class Missing(Models):
        def speaker_embedder(self, cfg):
            raise FileNotFoundError("models/speaker-campplus/campplus.weights")

    with pytest.raises(FileNotFoundError):
        _mono_call(cfg, lexicon, Missing(transcriber=Whisper()), segmentation=True)
    assert transcribed == []


@pytest.mark.parametrize("on", [True, False])
def test_clauses_in_the_other_partys_words_are_looked_for_unless_configured_otherwise(
    cfg, lexicon, monkeypatch, on
):
    import pipeline.speakers.attribution
    from pipeline.speakers.clustering import load_embedder

    seen = []
    monkeypatch.setattr(
        pipeline.speakers.attribution,
        "move_foreign_clauses",
        lambda turns, utterances, *rest: seen.append(rest) or None,
    )
    _mono_call(cfg, lexicon, _models(load_embedder()), foreign_clauses=on)
    assert bool(seen) is on
