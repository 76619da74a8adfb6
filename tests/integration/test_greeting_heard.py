"""A greeting the words missed, through the real Whisper model: the sound of an agent's opening
that said 您好 fits a reading with the greeting though the words given lost it (as 引号, 也好), and
the sound of an opening that said none (S003's 物业客服，什么事？) does not; the nightly stage reads
a flagged opening, stores what it heard and still flags S003."""

from __future__ import annotations

import pytest

from pipeline.asr.hearing import hear_greeting
from pipeline.audio.decode import decode
from pipeline.config import Config
from pipeline.records import CallRef, Utterance
from pipeline.run.process import Models, process_call

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def models():
    return Models.load(Config())


def _agent(sample_share, path):
    with decode(sample_share / "recordings" / path) as audio:
        return audio.tracks[0].copy()  # agent left


@pytest.mark.parametrize(
    "lost_as", ["引号，阳光物业客服中心，工号一零一", "也好，阳光物业客服中心，工号一零一"]
)
def test_an_opening_that_greeted_fits_a_greeting_its_words_lost(sample_share, models, lost_as):
    # S005's agent: 您好，阳光物业客服中心，工号一零一… from 1.0 s.
    opening = Utterance("S005", 0, "agent", 1.0, 8.12, lost_as)
    heard = hear_greeting(
        _agent(sample_share, "2026-11-17/S005.flac"), opening, models.transcriber.reading_logprobs
    )
    assert heard.at == 1.0
    assert heard.margin >= Config().rules.greeting_heard_margin


def test_an_opening_that_did_not_greet_does_not_fit_a_greeting(sample_share, models):
    # S003's agent: 物业客服，什么事？ from 2.0 s, no greeting.
    opening = Utterance("S003", 0, "agent", 2.0, 4.2, "物业客服，什么事？")
    heard = hear_greeting(
        _agent(sample_share, "2026-11-16/S003.wav"), opening, models.transcriber.reading_logprobs
    )
    assert heard.margin < Config().rules.greeting_heard_margin - 2


def test_the_nightly_stage_reads_a_flagged_opening_stores_the_reading_and_still_flags(sample_share, models):
    ref = CallRef(
        "S003", str(sample_share / "recordings/2026-11-16/S003.wav"), "A103", None, "stereo-agent-left"
    )
    result = process_call(ref, Config(), models)
    assert "greeting.missing" in {e.rule_id for e in result.events}
    heard = result.quality.greeting
    assert heard is not None and abs(heard.at - 2.0) < 0.6
    assert heard.margin < Config().rules.greeting_heard_margin
    assert "greeting" in result.timings
