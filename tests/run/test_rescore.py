import shutil
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from pipeline.config import Config
from pipeline.lexicon import load_lexicon
from pipeline.records import AudioQuality, CallRef, ChannelQuality, GreetingHearing, RoleAssignment, Turn
from pipeline.run.process import score_call
from pipeline.run.rescore import rescore
from pipeline.warehouse.scorecards import update_scorecards
from pipeline.warehouse.store import read_table, store_call
from tests.conftest import utt

CST = timezone(timedelta(hours=8))


def store(warehouse, cfg, call_id, day, texts, quality=None):
    ref = CallRef(
        call_id,
        f"/s/{call_id}.flac",
        "A1",
        datetime(2026, 11, day, 7, 30, tzinfo=CST),
        "stereo-agent-left",
        "h",
    )
    utterances = [
        replace(utt(role, 2 * i, 2 * i + 1.5, text, idx=i), call_id=call_id)
        for i, (role, text) in enumerate(texts)
    ]
    turns = [Turn(u.role, u.role, u.start, u.end) for u in utterances]
    lexicon = load_lexicon(cfg.lexicons_path)
    result = score_call(
        ref,
        20.0,
        turns,
        utterances,
        RoleAssignment("agent", 1.0, "channel map"),
        cfg,
        lexicon,
        "m",
        None,
        quality,
    )
    store_call(warehouse, result)


def test_a_lexicon_fix_applies_to_stored_calls_without_transcribing(tmp_path):
    cfg = Config()
    wh = tmp_path / "wh"
    texts = [
        ("agent", "您好，阳光物业。"),
        ("caller", "我找王经理"),
        ("agent", "他出去了，你自己找吧。"),
        ("agent", "再见。"),
    ]
    store(wh, cfg, "C1", 10, texts)
    store(wh, cfg, "C2", 20, texts)
    update_scorecards(wh, cfg.scoring)
    before = read_table(wh, "events")
    assert "phrase.banned" not in set(before["rule_id"])

    lexicons = tmp_path / "lexicons"
    shutil.copytree(cfg.lexicons_path, lexicons)
    with open(lexicons / "banned.toml", "a", encoding="utf-8") as f:
        f.write(
            '\n[[phrase]]\nphrase = "你自己找吧"\ncategory = "不负责任"\nrole = "agent"\nmatch = "contains"\n'
        )
    fixed = replace(cfg, lexicons_dir=str(lexicons))

    assert rescore(wh, fixed, since=date(2026, 11, 15)) == 1
    events = read_table(wh, "events")
    banned = events[events["rule_id"] == "phrase.banned"]
    assert banned["call_id"].tolist() == ["C2"] and banned["category"].tolist() == ["不负责任"]
    calls = read_table(wh, "calls").set_index("call_id")
    assert calls.loc["C2", "lexicon_version"] == load_lexicon(lexicons).version
    assert calls.loc["C1", "lexicon_version"] == load_lexicon(cfg.lexicons_path).version
    # Early-morning calls (07:30 +08:00 is the day before in UTC) stay on their local date.
    assert sorted(calls["call_date"].astype(str)) == ["2026-11-10", "2026-11-20"]
    assert read_table(wh, "utterances")["text"].tolist() == [t for _, t in texts] * 2
    cards = pd.read_parquet(wh / "scorecards")
    day = cards[cards["period"] == "day"].set_index("period_label")
    assert day.loc["2026-11-20", "score"] < day.loc["2026-11-10", "score"]


def test_a_rescore_keeps_every_verdict_and_its_effect_on_the_score(tmp_path):
    from pipeline.review.verdicts import review_finding
    from pipeline.warehouse.reviews import latest_verdicts

    cfg = Config()
    store(
        tmp_path, cfg, "C1", 16, [("agent", "喂，什么事？"), ("caller", "我家漏水了。"), ("agent", "再见。")]
    )
    update_scorecards(tmp_path, cfg.scoring)
    events = read_table(tmp_path, "events")
    finding = events[events["rule_id"] == "greeting.missing"]["event_id"].item()
    review_finding(tmp_path, cfg.scoring, finding, "overturned", "王组长")
    before = pd.read_parquet(tmp_path / "scorecards" / "period=day")
    rescore(tmp_path, cfg)
    assert finding in set(read_table(tmp_path, "events")["event_id"])  # raised again, same id
    assert latest_verdicts(tmp_path)["event_id"].tolist() == [finding]
    after = pd.read_parquet(tmp_path / "scorecards" / "period=day")
    assert after["score"].tolist() == before["score"].tolist() and after["events_overturned"].tolist() == [1]


def test_the_audio_reading_is_stored_and_a_rescore_applies_the_floors_as_configured(tmp_path):
    cfg = Config()
    wh = tmp_path / "wh"
    texts = [("agent", "喂，什么事？"), ("caller", "我家门口的灯坏了。"), ("agent", "再见。")]
    street = AudioQuality(
        (ChannelQuality(-18.0, -80.0, 0.0, 0.0, 7800.0), ChannelQuality(-22.0, -30.0, 0.0, 0.0, 3900.0)),
        8000,
        "pcm_alaw",
        0.12,
    )
    store(wh, cfg, "C1", 10, texts, quality=street)
    calls = read_table(wh, "calls").set_index("call_id")
    assert list(calls.loc["C1", "audio_snr_db"]) == [62.0, 8.0]
    assert list(calls.loc["C1", "audio_bandwidth_hz"]) == [7800.0, 3900.0]
    assert calls.loc["C1", "audio_codec"] == "pcm_alaw" and calls.loc["C1", "audio_source_rate"] == 8000
    assert calls.loc["C1", "audio_doubted_share"] == pytest.approx(0.12)
    assert "greeting.missing" in set(calls.loc["C1", "not_scored"])  # the caller's channel: 8 dB < 10
    assert "greeting.missing" not in set(read_table(wh, "events")["rule_id"])
    assert any(a.startswith("录音质量不足") and "客户声道" in a for a in calls.loc["C1", "abstentions"])

    # The floors lowered: the stored reading (no audio read again) now lets the words be scored.
    lower = replace(cfg, quality=replace(cfg.quality, min_snr_db=5.0))
    assert rescore(wh, lower) == 1
    calls = read_table(wh, "calls").set_index("call_id")
    assert list(calls.loc["C1", "not_scored"]) == [] and list(calls.loc["C1", "audio_snr_db"]) == [62.0, 8.0]
    assert "greeting.missing" in set(read_table(wh, "events")["rule_id"])


def test_what_the_openings_sound_said_is_stored_and_a_rescore_reads_it_with_the_margin_configured(tmp_path):
    cfg = Config()
    wh = tmp_path / "wh"
    texts = [("agent", "引号，阳光物业，什么事？"), ("caller", "我家门口的灯坏了。"), ("agent", "再见。")]
    clean = (ChannelQuality(-18.0, -80.0, 0.0, 0.0, 7800.0), ChannelQuality(-20.0, -80.0, 0.0, 0.0, 7800.0))
    # The sound fits 您好 1.5 nats worse than the best reading without it: within -4, heard.
    heard = AudioQuality(clean, 16000, "flac", 0.05, greeting=GreetingHearing(0.0, -1.5))
    store(wh, cfg, "C1", 10, texts, quality=heard)
    calls = read_table(wh, "calls").set_index("call_id")
    assert calls.loc["C1", "audio_greeting_at_ms"] == 0
    assert calls.loc["C1", "audio_greeting_margin"] == pytest.approx(-1.5)
    assert "greeting.missing" not in set(read_table(wh, "events")["rule_id"])
    assert any("您好" in a for a in calls.loc["C1", "abstentions"])

    # A stricter margin, rescored from the stored reading (no audio read again): flagged.
    strict = replace(cfg, rules=replace(cfg.rules, greeting_heard_margin=0.0))
    assert rescore(wh, strict) == 1
    assert "greeting.missing" in set(read_table(wh, "events")["rule_id"])
    calls = read_table(wh, "calls").set_index("call_id")
    assert calls.loc["C1", "audio_greeting_margin"] == pytest.approx(-1.5)  # kept through the rescore


def test_voices_behind_the_agent_are_stored_and_a_rescore_reads_them_with_the_floor_configured(tmp_path):
    cfg = Config()
    wh = tmp_path / "wh"
    texts = [("agent", "喂，什么事？"), ("caller", "我家门口的灯坏了。"), ("agent", "再见。")]
    desks = AudioQuality(  # the next desks 10 dB under the agent: read 13 dB under in the pauses
        (
            ChannelQuality(-18.0, -36.0, 0.0, 0.0, 7800.0, behind_db=-13.0),
            ChannelQuality(-20.0, -80.0, 0.0, 0.0, 7800.0, behind_db=-84.0),
        ),
        16000,
        "flac",
        0.1,
    )
    store(wh, cfg, "C1", 10, texts, quality=desks)
    calls = read_table(wh, "calls").set_index("call_id")
    assert list(calls.loc["C1", "audio_behind_db"]) == [-13.0, -84.0]
    assert "greeting.missing" in set(calls.loc["C1", "not_scored"])
    assert any("坐席声道背景里有别人的说话声" in a for a in calls.loc["C1", "abstentions"])

    off = replace(cfg, quality=replace(cfg.quality, max_behind_db=0.0))
    assert rescore(wh, off) == 1
    calls = read_table(wh, "calls").set_index("call_id")
    assert list(calls.loc["C1", "not_scored"]) == [] and list(calls.loc["C1", "audio_behind_db"]) == [
        -13.0,
        -84.0,
    ]
    assert "greeting.missing" in set(read_table(wh, "events")["rule_id"])


def test_a_call_stored_before_a_measure_existed_reads_it_as_unknown():
    import math
    from types import SimpleNamespace

    from pipeline.run.rescore import _stored_quality

    row = SimpleNamespace(  # a row of 2026-12-05: no audio_behind_db column
        audio_speech_dbfs=[-18.0, -20.0],
        audio_noise_dbfs=[-80.0, -80.0],
        audio_clipped_share=[0.0, 0.0],
        audio_dropout_share=[0.0, 0.0],
        audio_bandwidth_hz=[7800.0, 7800.0],
        audio_source_rate=16000,
        audio_codec="flac",
        audio_doubted_share=0.1,
    )
    quality = _stored_quality(row)
    assert [ch.speech_dbfs for ch in quality.channels] == [-18.0, -20.0]
    assert all(math.isnan(ch.behind_db) for ch in quality.channels)
    row.audio_behind_db = None  # the column there, null for this call
    assert all(math.isnan(ch.behind_db) for ch in _stored_quality(row).channels)


def test_a_mono_calls_quieter_voice_is_stored_and_a_rescore_reads_it_with_the_floor_configured(tmp_path):
    cfg = Config()
    wh = tmp_path / "wh"
    texts = [("agent", "您好，阳光物业。"), ("caller", "我家门口的灯坏了。"), ("agent", "好的，再见。")]
    quiet = AudioQuality(  # the mix reads the agent; the caller's voice, read alone, is far under
        (ChannelQuality(-18.0, -70.0, 0.0, 0.0, 7800.0, behind_db=float("nan"), voice_dbfs=-45.0),),
        16000,
        "flac",
        0.1,
    )
    store(wh, cfg, "C1", 10, texts, quality=quiet)
    calls = read_table(wh, "calls").set_index("call_id")
    assert list(calls.loc["C1", "audio_voice_dbfs"]) == [-45.0]
    assert "interruption.agent" in set(calls.loc["C1", "not_scored"])
    assert any("较轻的一方音量过低" in a for a in calls.loc["C1", "abstentions"])

    off = replace(cfg, quality=replace(cfg.quality, min_voice_dbfs=-100.0))
    assert rescore(wh, off) == 1
    calls = read_table(wh, "calls").set_index("call_id")
    assert "interruption.agent" not in set(calls.loc["C1", "not_scored"])
    assert list(calls.loc["C1", "audio_voice_dbfs"]) == [-45.0]
