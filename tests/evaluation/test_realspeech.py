"""The real-voice shares' own logic on hand-made signals (the clips themselves are fetched by the
integration tests)."""

import numpy as np
import pytest

from pipeline.evaluation.realspeech import CLIPS, long_conversation, pauses_of, read_in_turns, speech_only

RATE = 16000


def _read(spans: list[tuple[float, float]], total_s: float) -> np.ndarray:
    """Noise at -70 dB with 'speech' (a loud tone) over ``spans``."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(int(total_s * RATE)) * 10 ** (-70 / 20)).astype(np.float32)
    t = np.arange(len(x)) / RATE
    for a, b in spans:
        on = (t >= a) & (t < b)
        x[on] += 0.1 * np.sin(2 * np.pi * 220 * t[on]).astype(np.float32)
    return x


def test_pauses_are_found_where_the_voice_stops():
    x = _read([(0.5, 4.0), (4.5, 9.0), (9.2, 12.0)], 12.5)
    pauses = pauses_of(x)
    # The 0.5 s pause and the silence at either end; the 0.2 s one is too short to be a pause.
    inside = [(a + b) / 2 for a, b in pauses if 1 < a < 11]
    assert len(inside) == 1 and abs(inside[0] - 4.25) < 0.05
    assert all(not (9.0 < a < 9.2) for a, _ in pauses)


def test_a_long_read_is_cut_at_its_pauses_into_turns_of_a_minimum_length():
    spans = [(0.2, 3.0), (3.5, 9.0), (9.6, 12.0), (12.5, 20.0), (20.6, 22.0)]
    x = _read(spans, 22.5)
    turns = read_in_turns(x, min_s=8.0)
    lengths = [len(t) / RATE for t in turns]
    # Cut at the first pause 8 s in (9.3 s), not at 3.25 s; the last pause leaves too short a tail.
    assert len(turns) == 2 and abs(lengths[0] - 9.3) < 0.1
    assert sum(len(t) for t in turns) == len(x)


def test_the_long_conversation_alternates_the_read_with_real_callers():
    conv = long_conversation(4)
    roles = [role for role, _, _ in conv.lines]
    assert roles == ["agent", "caller", "agent", "caller", "agent", "caller", "agent"]
    assert [clip for role, clip, _ in conv.lines if role == "agent"] == [f"L001#{i}" for i in range(4)]
    # One caller, as on a call: AISHELL-1's speaker S0764 (two of its clips).
    callers = {clip for role, clip, _ in conv.lines if role == "caller"}
    assert callers == {"R001", "R002"} and callers <= {c.call_id for c in CLIPS}
    assert conv.kind_prefix == "long-"
    # Some replies come quickly, some cut in.
    gaps = [gap for _, _, gap in conv.lines[1:]]
    assert min(gaps) < 0 < max(gaps)


def test_speech_only_cuts_to_the_speech_and_levels_it():
    x = _read([(1.0, 3.0)], 4.0)
    clip = speech_only(x)
    assert abs(len(clip) / RATE - 2.1) < 0.1
    rms = float(np.sqrt(np.mean(clip[int(0.1 * RATE) : -int(0.1 * RATE)] ** 2)))
    assert abs(20 * np.log10(rms) + 20) < 1.0


def test_stereo_layouts_put_the_agent_left_and_the_caller_right(tmp_path):
    from pipeline.audio.decode import decode
    from pipeline.evaluation.realspeech import _write_wav

    t = np.arange(16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    tracks = np.stack(
        [np.concatenate([tone, np.zeros_like(tone)]), np.concatenate([np.zeros_like(tone), tone])]
    )
    for fmt in ("stereo", "ulaw8k"):
        _write_wav(tmp_path / f"{fmt}.wav", tracks, fmt)
        with decode(tmp_path / f"{fmt}.wav") as audio:
            assert audio.channels == 2
            left, right = (np.asarray(channel[:], np.float32) for channel in audio.samples)
        half = len(left) // 2
        assert np.abs(left[:half]).max() > 0.4 and np.abs(left[half + 800 :]).max() < 0.01
        assert np.abs(right[: half - 800]).max() < 0.01 and np.abs(right[half:]).max() > 0.4
    with pytest.raises(ValueError, match="2 channel"):
        _write_wav(tmp_path / "x.wav", tone, "stereo")


def test_a_hang_up_conversation_stops_inside_the_callers_last_line(tmp_path):
    import json

    from pipeline.evaluation.realspeech import Conversation, _write_conversation

    clips = {"A": np.full(16000, 0.1, np.float32), "C": np.full(32000, 0.1, np.float32)}
    texts = {"A": "甚至出现交易几乎停滞的情况", "C": "对，这就是我"}
    lines = (("agent", "A", 0.0), ("caller", "C", 0.2))
    _write_conversation(tmp_path, Conversation("RH99", lines, kind_prefix="hangup-", cut_s=0.8), clips, texts)
    truth = json.loads((tmp_path / "truth" / "RH99.json").read_text(encoding="utf-8"))
    # The agent 0.3-1.3 s, the caller from 1.5 s; the line drops 0.8 s into the caller's 2 s.
    assert truth["duration"] == 2.3 and truth["hangup"]
    assert truth["expected_flags"] == ["conduct.domineering", "hangup.premature"]
    assert [(u["role"], u["start"], u["end"], u["text"]) for u in truth["utterances"]] == [
        ("agent", 0.3, 1.3, "甚至出现交易几乎停滞的情况"),
        ("caller", 1.5, 2.3, ""),  # cut off: no reference text
    ]
    _write_conversation(
        tmp_path, Conversation("RH98", lines, kind_prefix="hangup-", tail_s=0.8), clips, texts
    )
    ending = json.loads((tmp_path / "truth" / "RH98.json").read_text(encoding="utf-8"))
    assert ending["duration"] == 4.3 and "hangup" not in ending and ending["expected_flags"] == []
    assert len(list((tmp_path / "recordings").glob("RH98.*.wav"))) == 4
