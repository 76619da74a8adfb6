"""The channel map checked, not trusted: a stereo call whose words name the other channel the
agent takes its roles from the words; identical channels are read as mono; a day or an agent
whose calls mostly contradict the map is named."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.audio.decode import SAMPLE_RATE, Audio, channel_correlation
from pipeline.config import Config, SpeechConfig
from pipeline.records import CHANNEL_MAP_CONTRADICTED, RoleAssignment
from pipeline.speakers.attribution import checked_channel_map
from pipeline.warehouse.layout import contradicted_layouts
from tests.conftest import utt

MAP_LEFT = RoleAssignment("ch0", 1.0, "channel map")


def call(agent: str, caller: str):
    """A stereo call's utterances: the agent on channel ``agent``, the caller on ``caller``."""
    return [
        utt(
            "agent", 0.5, 4.0, "您好，这里是阳光物业客服中心，工号一零一，请问有什么可以帮您？", speaker=agent
        ),
        utt("caller", 4.5, 9.0, "你好，我家厨房的水管漏水了，你们什么时候能来修？", speaker=caller),
        utt("agent", 9.5, 13.0, "好的，请您稍等，我帮您登记一下，马上安排维修师傅上门。", speaker=agent),
        utt("caller", 13.5, 15.0, "好的，谢谢。", speaker=caller),
    ]


def test_words_that_name_the_other_channel_override_the_map(lexicon):
    roles = checked_channel_map(MAP_LEFT, call(agent="ch1", caller="ch0"), lexicon, Config())
    assert roles.agent_speaker == "ch1" and CHANNEL_MAP_CONTRADICTED in roles.reason
    assert 0.8 <= roles.confidence < 1.0  # from the words, never the map's certainty


def test_words_that_agree_or_say_little_leave_the_map_as_it_is(lexicon):
    assert checked_channel_map(MAP_LEFT, call(agent="ch0", caller="ch1"), lexicon, Config()) is MAP_LEFT
    quiet = [utt("x", 0.5, 2.0, "嗯。", speaker="ch1"), utt("x", 2.5, 4.0, "对。", speaker="ch0")]
    assert checked_channel_map(MAP_LEFT, quiet, lexicon, Config()) is MAP_LEFT
    off = Config(speech=SpeechConfig(channel_map_check_confidence=0.0))
    assert checked_channel_map(MAP_LEFT, call(agent="ch1", caller="ch0"), lexicon, off) is MAP_LEFT


def test_identical_channels_are_one_recording():
    rng = np.random.default_rng(0)
    voice = rng.normal(0, 0.1, 5 * SAMPLE_RATE).astype(np.float32)
    other = rng.normal(0, 0.1, 5 * SAMPLE_RATE).astype(np.float32)
    assert channel_correlation(Audio((voice, voice.copy()), SAMPLE_RATE, "flac"), block_s=1.0) > 0.999
    bleed = other + 0.1 * voice  # the other party 20 dB down: still two parties
    assert channel_correlation(Audio((voice, bleed), SAMPLE_RATE, "flac"), block_s=1.0) < 0.2
    silent = np.zeros_like(voice)
    assert channel_correlation(Audio((voice, silent), SAMPLE_RATE, "flac")) == 0.0


def test_an_agent_or_a_day_whose_calls_mostly_contradict_the_map_is_named():
    def row(agent, day, contradicted, layout="stereo-agent-left"):
        reason = f"{CHANNEL_MAP_CONTRADICTED}; words: ..." if contradicted else "channel map"
        return {"agent_id": agent, "call_date": day, "layout": layout, "role_reason": reason}

    calls = pd.DataFrame(
        [row("A1", "2026-11-16", True)] * 3
        + [row("A2", "2026-11-16", False)] * 2
        + [row("A2", "2026-11-17", True)]  # one call: a call says so itself, no warning
        + [row("A3", "2026-11-17", True, layout="mono")] * 4  # mono has no channel map
    )
    warnings = {(w.scope, w.key): (w.contradicted, w.calls) for w in contradicted_layouts(calls)}
    assert warnings == {("all", ""): (4, 6), ("day", "2026-11-16"): (3, 5), ("agent", "A1"): (3, 3)}
    (first,) = [w for w in contradicted_layouts(calls) if w.key == "A1"]
    assert "坐席 A1" in first.message() and "3/3" in first.message()
    assert contradicted_layouts(calls.iloc[0:0]) == []


def test_words_that_cannot_be_heard_do_not_overturn_the_map(lexicon):
    from pipeline.records import MAP_KEPT_UNHEARD, AudioQuality, CallRef, ChannelQuality, Turn
    from pipeline.run.process import map_kept_where_words_unheard
    from pipeline.speakers.attribution import Attribution, with_channel_map

    cfg = Config()
    ref = CallRef("C1", "C1.flac", "A101", None, "stereo-agent-left")

    def spoken(utterances):
        turns = [Turn(u.speaker, u.role, u.start, u.end, int(u.speaker[-1])) for u in utterances]
        return Attribution(turns, utterances, checked_channel_map(MAP_LEFT, utterances, lexicon, cfg))

    def reading(agent_behind_db: float = -84.0) -> AudioQuality:
        agent = ChannelQuality(-20.0, -85.0, 0.0, 0.0, 7800.0, behind_db=agent_behind_db)
        caller = ChannelQuality(-20.0, -85.0, 0.0, 0.0, 7800.0, behind_db=-84.0)
        return AudioQuality((agent, caller), 16000, "flac", 0.1)

    # The words on the caller's channel (ch1) are an agent's: heard well, they overturn the map.
    swapped = spoken(call(agent="ch1", caller="ch0"))
    assert CHANNEL_MAP_CONTRADICTED in swapped.roles.reason
    assert map_kept_where_words_unheard(swapped, ref, reading(), 15.0, cfg) is swapped
    # A television's programme through the whole call on the caller's side: both channels heard
    # at once for 40 % of the call, the words are withheld, and so is their say on the map.
    tv = utt("agent", 0.0, 15.0, "您好，欢迎收看，感谢您的收看，再见。", speaker="ch1")
    over = spoken([*call(agent="ch1", caller="ch0"), tv])
    kept = map_kept_where_words_unheard(over, ref, reading(), 15.0, cfg)
    assert kept.roles.agent_speaker == "ch0" and kept.roles.confidence == 1.0
    assert kept.roles.reason == f"channel map; {MAP_KEPT_UNHEARD}"
    assert {u.role for u in kept.utterances if u.speaker == "ch0"} == {"agent"}
    assert {t.role for t in kept.turns if t.channel == 0} == {"agent"}
    # The next desks' voices 12 dB under the agent (as the map has it) withhold the words too.
    assert map_kept_where_words_unheard(swapped, ref, reading(-12.0), 15.0, cfg).roles.agent_speaker == "ch0"
    # The map as wired (right) is what is kept.
    assert with_channel_map(swapped, "stereo-agent-right").roles.agent_speaker == "ch1"
