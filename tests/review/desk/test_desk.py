"""The review desk through its HTTP interface (Starlette's TestClient): pages, clips with range
requests, verdicts and the scores that follow, and what it refuses."""

import base64
import io
import re
import wave
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.config import Config, DeskConfig, ScoringConfig
from pipeline.records import CallMetrics, CallRef, CallResult, Event, RoleAssignment, Turn
from pipeline.review.desk import DeskConfigError, byte_range, create_app, settings
from pipeline.warehouse.reviews import read_reviews
from pipeline.warehouse.scorecards import update_scorecards
from pipeline.warehouse.store import read_table, store_call
from tests.conftest import utt

CST = timezone(timedelta(hours=8))
SR = 16000
DESK = "http://127.0.0.1:8765"  # the Host a browser on the desk's machine sends


def form_token(client, url: str = "/queue", **kwargs) -> str:
    """The verdict forms' token on a page (which also sets the browser's token cookie)."""
    page = client.get(url, **kwargs)
    return re.search(r'name="token" value="([^"]+)"', page.text).group(1)


def make_call(share: Path, warehouse: Path, call_id: str, path: Path | None = None) -> str:
    audio = path or share / "recordings" / f"{call_id}.flac"
    if path is None:
        audio.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(10 * SR) / SR
        sf.write(
            audio, np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)], 1), SR
        )
    ref = CallRef(call_id, str(audio), "A101", datetime(2026, 11, 16, 9, tzinfo=CST), "stereo-agent-left")
    said = (
        replace(utt("agent", 0.5, 2.0, "喂，什么事？", speaker="ch0", idx=0), call_id=call_id),
        replace(utt("caller", 2.5, 5.0, "我家漏水了", speaker="ch1", idx=1), call_id=call_id),
    )
    events = (
        Event(call_id, "A101", "greeting.missing", "", "major", 0.5, 2.0, "agent", "喂，什么事？", 1.0, "1"),
    )
    turns = (Turn("ch0", "agent", 0.5, 2.0, 0), Turn("ch1", "caller", 1.8, 5.0, 1))
    metrics = CallMetrics(call_id, "A101", 10.0, 1.5, 2.5, 6.0, 0.2, 4.0, 2)
    roles = RoleAssignment("ch0", 1.0, "channel map")
    store_call(warehouse, CallResult(ref, "m", "l", roles, said, events, metrics, turns=turns))
    update_scorecards(warehouse, ScoringConfig())
    return read_table(warehouse, "events").query("call_id == @call_id")["event_id"].item()


@pytest.fixture
def desk(tmp_path):
    from starlette.testclient import TestClient

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    event_id = make_call(share, warehouse, "C1")
    cfg = Config(desk=DeskConfig(reviewer="王组长"))
    client = TestClient(create_app(settings(warehouse, share, cfg, "127.0.0.1")), base_url=DESK)
    return client, event_id, share, warehouse


def test_the_week_the_agent_and_the_call_are_pages(desk):
    client, event_id, _, _ = desk
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200 and "2026-W47" in home.text and "A101" in home.text
    agent = client.get("/agent/A101/2026-W47")
    assert agent.status_code == 200 and "未使用问候语" in agent.text and "待复核" in agent.text
    call = client.get("/call/C1")
    assert call.status_code == 200
    assert "<svg" in call.text and f'src="/clip/{event_id}.wav"' in call.text and "我家漏水了" in call.text
    assert client.get("/queue").status_code == 200 and event_id in client.get("/queue").text
    assert client.get("/call/NOPE").status_code == 404 and client.get("/week/2001-W01").status_code == 404
    assert client.get("/agent/A101/not-a-week").status_code == 404


def test_a_clip_starts_before_the_finding_and_honours_range_requests(desk):
    client, event_id, _, _ = desk
    whole = client.get(f"/clip/{event_id}.wav")
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    with wave.open(io.BytesIO(whole.content)) as w:
        # 0.5-2.0 s with 3 s before (cut at the start) and 2 s after: 0.0-4.0 s, both channels.
        assert (w.getframerate(), w.getnchannels()) == (SR, 2) and w.getnframes() == 4 * SR
    part = client.get(f"/clip/{event_id}.wav", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"] == f"bytes 0-99/{len(whole.content)}"
    assert part.content == whole.content[:100]
    tail = client.get(f"/clip/{event_id}.wav", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    assert client.get(f"/clip/{event_id}.wav", headers={"Range": "bytes=999999999-"}).status_code == 416
    assert client.get("/clip/0000000000000000.wav").status_code == 404
    # The whole call, for the call page's player: 10 s, both channels, in ranges too.
    call = client.get("/audio/C1.wav")
    with wave.open(io.BytesIO(call.content)) as w:
        assert (w.getnchannels(), w.getnframes()) == (2, 10 * SR)
    part = client.get("/audio/C1.wav", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == call.content[100:200]
    assert client.get("/audio/NOPE.wav").status_code == 404


def test_an_overturned_finding_changes_the_score_and_the_reviewer_is_the_desks(desk):
    client, event_id, _, warehouse = desk
    before = client.get("/week/2026-W47").text
    assert ">90.0<" in before
    # A form field cannot choose the reviewer.
    token = form_token(client, "/call/C1")
    done = client.post(
        f"/review/{event_id}",
        data={"verdict": "overturned", "note": "有问候", "reviewer": "别人", "token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/call/C1#e-{event_id}"
    assert ">100.0<" in client.get("/week/2026-W47").text
    (review,) = read_reviews(warehouse).itertuples()
    assert (review.reviewer, review.verdict, review.note) == ("王组长", "overturned", "有问候")
    page = client.get("/call/C1").text
    assert "已推翻" in page
    # The finding's context: the guide, the threshold, the points, the score and its change.
    assert "规范（电话接听的规范语言 1，问候语）" in page and "greeting_window_s = 6.0" in page
    assert "扣 10 分" in page and '本周得分 <span class="score-now">100.0</span>，确认后' in page
    assert '<span class="score-after">90.0</span>' in page
    assert client.post(f"/review/{event_id}", data={"verdict": "maybe", "token": token}).status_code == 400
    assert (
        client.post("/review/0000000000000000", data={"verdict": "upheld", "token": token}).status_code == 404
    )
    cross = client.post(
        f"/review/{event_id}",
        data={"verdict": "upheld", "token": token},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403 and len(read_reviews(warehouse)) == 1


def test_no_url_reaches_outside_the_share(desk, tmp_path):
    client, _, share, warehouse = desk
    for url in (
        "/clip/..%2F..%2Fetc%2Fpasswd.wav",
        "/clip/../../etc/passwd",
        "/recordings/C1.flac",
        "/share",
    ):
        assert client.get(url).status_code == 404
    # A call stored with a recording outside the share is never played.
    outside = tmp_path / "elsewhere.flac"
    sf.write(outside, np.zeros(SR, np.float32), SR)
    event_id = make_call(share, warehouse, "C2", path=outside)
    assert client.get(f"/clip/{event_id}.wav").status_code == 404


def test_off_loopback_it_needs_a_password_and_signs_verdicts_with_the_user(tmp_path, monkeypatch):
    from starlette.testclient import TestClient

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    event_id = make_call(share, warehouse, "C1")
    monkeypatch.delenv("CALLQA_DESK_PASSWORD", raising=False)
    with pytest.raises(DeskConfigError, match="password"):
        settings(warehouse, share, Config(), "0.0.0.0")
    monkeypatch.setenv("CALLQA_DESK_PASSWORD", "s3cret")
    client = TestClient(create_app(settings(warehouse, share, Config(), "0.0.0.0")), base_url=DESK)
    assert client.get("/week/2026-W47").status_code == 401
    bad = base64.b64encode("李四:wrong".encode()).decode()
    assert client.get("/week/2026-W47", headers={"Authorization": f"Basic {bad}"}).status_code == 401
    good = {"Authorization": "Basic " + base64.b64encode("李四:s3cret".encode()).decode()}
    assert client.get("/week/2026-W47", headers=good).status_code == 200
    token = form_token(client, "/call/C1", headers=good)
    done = client.post(
        f"/review/{event_id}",
        data={"verdict": "upheld", "token": token},
        headers=good,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert read_reviews(warehouse)["reviewer"].tolist() == ["李四"]


def test_byte_ranges():
    assert byte_range(None, 100) is None
    assert byte_range("bytes=10-19", 100) == (10, 19)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=-5", 100) == (95, 99)
    assert byte_range("bytes=0-1000", 100) == (0, 99)
    assert byte_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole body
    for bad in ("bytes=100-", "bytes=5-2", "items=0-1", "bytes=x-"):
        with pytest.raises(ValueError):
            byte_range(bad, 100)


def test_an_empty_warehouse_says_so(tmp_path):
    from starlette.testclient import TestClient

    client = TestClient(create_app(settings(tmp_path / "wh", tmp_path, Config(), "127.0.0.1")), base_url=DESK)
    home = client.get("/")
    assert home.status_code == 404 and "callqa run" in home.text


def make_unsure_call(share: Path, warehouse: Path) -> None:
    """M1: a mono call whose two voices mixed, so phrase.banned abstained on its 不在 at 7.0-7.8 s."""
    audio = share / "recordings" / "M1.flac"
    audio.parent.mkdir(parents=True, exist_ok=True)
    sf.write(audio, 0.3 * np.sin(2 * np.pi * 220 * np.arange(12 * SR) / SR), SR)
    ref = CallRef("M1", str(audio), "A101", datetime(2026, 11, 16, 10, tzinfo=CST), "mono")
    said = tuple(
        replace(utt(role, a, b, text, speaker=spk, idx=i), call_id="M1")
        for i, (role, spk, a, b, text) in enumerate(
            [
                ("agent", "spk0", 0.5, 3.0, "您好，阳光物业。"),
                ("caller", "spk1", 3.5, 6.0, "张师傅今天来上班了吗？"),
                ("caller", "spk1", 7.0, 7.8, "不在。"),
            ]
        )
    )
    metrics = CallMetrics("M1", "A101", 12.0, 2.5, 3.3, 6.0, 0.0, 4.0, 3)
    result = CallResult(
        ref,
        "m",
        "l",
        RoleAssignment("spk0", 0.4, "voices mixed"),
        said,
        (),
        metrics,
        abstentions=(
            "依赖角色的规则未评分：两个声音在分段时混在一起，每个声音里都有对方的话（坐席角色可信度 0.40，低于 0.50；依据：voices mixed）",
        ),
    )
    store_call(warehouse, result)


def test_a_banned_phrase_of_a_voice_whose_role_is_unsure_can_be_heard(desk):
    # A mono call whose two voices mixed: phrase.banned abstained, and the desk offers the moment.
    client, _, share, warehouse = desk
    make_unsure_call(share, warehouse)
    page = client.get("/call/M1").text
    assert "说话人不确定的禁用语" in page and 'src="/moment/M1/2.wav"' in page and "不在（傲慢）" in page
    assert "两个声音在分段时混在一起" in page  # why the rules abstained
    with wave.open(io.BytesIO(client.get("/moment/M1/2.wav").content)) as w:
        assert w.getnframes() == int((7.8 + 2) * SR) - int((7.0 - 3) * SR)  # 3 s before, 2 s after
    assert client.get("/moment/M1/9.wav").status_code == 404
    assert client.get("/moment/NOPE/0.wav").status_code == 404
    assert client.get("/moment/M1/..%2F0.wav").status_code == 404
    assert "说话人不确定的禁用语" not in client.get("/call/C1").text  # a stereo call: roles certain


def test_the_call_page_says_how_well_the_call_could_be_heard(tmp_path):
    from starlette.testclient import TestClient

    from pipeline.records import AudioQuality, ChannelQuality

    share, warehouse = tmp_path / "share", tmp_path / "wh"
    make_call(share, warehouse, "C1")
    calls = read_table(warehouse, "calls")
    assert calls["audio_snr_db"].isna().all()  # stored without a reading: the page says nothing
    client = TestClient(create_app(settings(warehouse, share, Config(), "127.0.0.1")), base_url=DESK)
    assert "录音质量" not in client.get("/call/C1").text

    ref = CallRef(
        "C2",
        str(share / "recordings/C1.flac"),
        "A101",
        datetime(2026, 11, 16, 10, tzinfo=CST),
        "stereo-agent-left",
    )
    heard = AudioQuality(
        (
            ChannelQuality(-18.0, -80.0, 0.0, 0.0, 3900.0, behind_db=-84.0),
            ChannelQuality(-24.0, -32.0, 0.0, 0.04, 3900.0, behind_db=-14.0),
        ),
        8000,
        "pcm_alaw",
        0.12,
    )
    metrics = CallMetrics("C2", "A101", 10.0, 1.5, 2.5, 6.0, 0.2, 4.0, 0)
    roles = RoleAssignment("ch0", 1.0, "channel map")
    why = "录音质量不足，坐席抢话未评分：客户声道噪声过大：语音只比背景高 8 dB（下限 10 dB），背景里的声音会被当成说话"
    store_call(
        warehouse,
        CallResult(
            ref,
            "m",
            "l",
            roles,
            (),
            (),
            metrics,
            quality=heard,
            abstentions=(why,),
            not_scored=("interruption.agent",),
        ),
    )
    page = client.get("/call/C2").text
    assert "录音质量" in page and "坐席声道：语音电平 -18 dBFS，信噪比 62 dB，频宽 3.9 kHz" in page
    assert (
        "客户声道：语音电平 -24 dBFS，信噪比 8 dB，频宽 3.9 kHz，丢包 4%，双方都不说话时背景声只比说话人低 14 dB"
        in page
    )
    assert "坐席声道：语音电平 -18 dBFS，信噪比 62 dB，频宽 3.9 kHz，双方" not in page  # a clean line
    assert "文件：pcm_alaw，8 kHz；识别把握低的字词 12%" in page and why in page
