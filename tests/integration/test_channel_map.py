"""The channel map checked against the words, through the real models: S001 (agent on the left)
stored with its channels swapped is scored with the agent on the right, and says why; S001's
agent channel stored on both channels is read as mono."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from pipeline.audio.decode import decode
from pipeline.config import Config
from pipeline.records import CHANNEL_MAP_CONTRADICTED, CallRef
from pipeline.run.process import Models, process_call

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s001(sample_share):
    return decode(sample_share / "recordings/2026-11-16/S001.flac").samples  # (2, n): agent left


def test_swapped_channels_are_scored_by_their_words(tmp_path, s001):
    path = tmp_path / "S001-swapped.flac"
    sf.write(path, s001[::-1].T, 16000)  # the agent now on the right, the map still says left
    cfg = Config()
    result = process_call(
        CallRef("S001X", str(path), "A101", None, "stereo-agent-left"), cfg, Models.load(cfg)
    )
    assert result.roles.agent_speaker == "ch1" and CHANNEL_MAP_CONTRADICTED in result.roles.reason
    assert result.roles.confidence >= 0.8
    first = result.utterances[0]
    assert first.role == "agent" and "您好" in first.text
    assert all(u.role == "agent" for u in result.utterances if u.speaker == "ch1")
    # What the agent said is the agent's: no greeting is missing, the caller's words are the caller's.
    assert not [e for e in result.events if e.rule_id == "greeting.missing"]
    assert result.metrics.talk_agent > result.metrics.talk_caller


def test_the_same_recording_on_both_channels_is_read_as_mono(tmp_path, s001):
    both = np.stack([s001.sum(0), s001.sum(0)]) / 2  # a mono mix stored twice
    path = tmp_path / "S001-twice.flac"
    sf.write(path, both.T, 16000)
    cfg = Config()
    result = process_call(
        CallRef("S001M", str(path), "A101", None, "stereo-agent-left"), cfg, Models.load(cfg)
    )
    assert result.call.layout == "mono" and {u.speaker for u in result.utterances} <= {"spk0", "spk1"}
    assert result.roles.reason != "channel map"
