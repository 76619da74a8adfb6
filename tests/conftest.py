from __future__ import annotations

from pathlib import Path

import pytest

import pipeline.config
from pipeline.config import ROOT, Config
from pipeline.lexicon import Lexicon, load_lexicon
from pipeline.records import RoleAssignment, Utterance, Word

SAMPLE_SHARE = ROOT / "data" / "sample_share"


# The tests run the flow in this process with one worker (Whisper on one thread), whatever the
# machine: monkeypatched stages stay patched, and no test's timing depends on the cores. The
# machine's own layout is tested in tests/test_config.py, two workers in test_parallel, and tests
# that start `callqa` as a command get the machine's layout.
def _one_worker(cores: int, memory_mb: int, gpu: bool, threads: int = 0) -> tuple[int, int]:
    return 1, threads or 1


_one_worker.machine = pipeline.config.machine_layout  # what tests/test_config.py checks
pipeline.config.machine_layout = _one_worker


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return load_lexicon(ROOT / "lexicons")


@pytest.fixture(scope="session")
def cfg() -> Config:
    return Config()


@pytest.fixture(scope="session")
def sample_share() -> Path:
    return SAMPLE_SHARE


def utt(
    role: str,
    start: float,
    end: float,
    text: str,
    *,
    speaker: str | None = None,
    flags=(),
    idx: int = 0,
    words: bool = False,
) -> Utterance:
    """A hand-made utterance; with ``words`` each character becomes a word spread over the span."""
    chars = [c for c in text]
    step = (end - start) / max(1, len(chars))
    word_list = (
        tuple(Word(c, start + i * step, start + (i + 1) * step) for i, c in enumerate(chars)) if words else ()
    )
    return Utterance("T1", idx, role, start, end, text, word_list, 1.0, speaker or role, tuple(flags))


def level_signal(*spans: tuple[float, float, float]):
    """16 kHz samples: (start, end, level) spans of a constant level over silence, for the stand-in
    embedders that tell voices apart by level."""
    import numpy as np

    samples = np.zeros(int(max(e for _, e, _ in spans) * 16000) + 1600, dtype=np.float32)
    for start, end, level in spans:
        samples[int(start * 16000) : int(end * 16000)] = level
    return samples


TRUSTED = RoleAssignment("agent", 1.0, "channel map")
