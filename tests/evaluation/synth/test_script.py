import numpy as np
import pytest

from pipeline.evaluation.synth.render import SR, render_call
from pipeline.evaluation.synth.script import parse_script
from pipeline.evaluation.synth.tts import apply_tone_sandhi

SCRIPT = {
    "call_id": "X1",
    "agent_id": "A9",
    "started_at": "2026-11-16T09:00:00+08:00",
    "voices": {"agent": "jf_tebukuro", "caller": "jm_kumo"},
    "lead_in": 1.0,
    "expect": ["hangup.premature"],
    "utterances": [
        {"role": "agent", "text": "您好。"},
        {"role": "caller", "text": "我家漏水了。", "gap": 0.5},
        {"role": "agent", "text": "嗯。", "gap": -1.0},
        {"role": "caller", "text": "能来修吗？", "gap": 0.3, "cut": 0.5},
    ],
}


def fake_tts(text, voice, speed):
    return np.full(int(SR * len(text) * 0.25), 0.1, np.float32)  # 0.25 s per character


def test_timeline_follows_gaps_overlaps_and_the_dropped_line():
    call = render_call(parse_script(SCRIPT), fake_tts)
    u = call.truth["utterances"]
    assert [x["start"] for x in u] == [1.0, 2.25, 2.75, 4.05]
    assert u[2]["start"] < u[1]["end"]  # the backchannel overlaps the caller
    assert u[3]["truncated"] and u[3]["end"] == pytest.approx(4.55) and u[3]["text"] == "能来"
    assert call.truth["hangup"] and call.truth["duration"] == pytest.approx(4.55)
    assert call.truth["expected_flags"] == ["hangup.premature"]
    stereo = call.stereo("right")
    assert stereo.shape == (len(call.agent), 2)
    assert np.abs(stereo[int(1.2 * SR), 1]) > 0 and stereo[int(1.2 * SR), 0] == 0  # agent on the right


def test_script_errors_name_the_problem():
    with pytest.raises(ValueError, match="role must be agent or caller"):
        parse_script({**SCRIPT, "utterances": [{"role": "boss", "text": "hi"}]}, "x.yaml")
    with pytest.raises(ValueError, match="only the last utterance"):
        parse_script(
            {
                **SCRIPT,
                "utterances": [{"role": "agent", "text": "a", "cut": 1}, {"role": "agent", "text": "b"}],
            }
        )
    with pytest.raises(ValueError, match="missing key 'agent_id'"):
        parse_script({k: v for k, v in SCRIPT.items() if k != "agent_id"})


def test_tone_sandhi():
    assert apply_tone_sandhi([("你", "ni3"), ("好", "hao3")]) == [("你", "ni2"), ("好", "hao3")]
    assert apply_tone_sandhi([("不", "bu4"), ("在", "zai4")])[0] == ("不", "bu2")
    assert apply_tone_sandhi([("一", "yi1"), ("下", "xia4")])[0] == ("一", "yi2")
    assert apply_tone_sandhi([("一", "yi1"), ("天", "tian1")])[0] == ("一", "yi4")


def test_kokoro_speaks_mandarin_that_whisper_understands(cfg):
    from pipeline.evaluation.synth.tts import SAMPLE_RATE, KokoroTTS
    from pipeline.models.store import require

    tts = KokoroTTS(require("kokoro-82m-int8", cfg.models_path))
    audio = tts.synthesize("您好，物业客服中心。", "jf_tebukuro")
    assert 1.5 < len(audio) / SAMPLE_RATE < 5
    assert np.abs(audio).max() > 0.05


@pytest.mark.parametrize("kind", ["pink", "brown", "hum"])
def test_background_noise_sits_on_the_callers_side_at_the_asked_snr(kind):
    call = render_call(parse_script({**SCRIPT, "noise": {"kind": kind, "snr_db": 15}}), fake_tts)
    clean = render_call(parse_script(SCRIPT), fake_tts)
    noise = call.caller - clean.caller
    snr = 20 * np.log10(10 ** (-20 / 20) / np.sqrt(np.mean(noise**2)))
    assert snr == pytest.approx(15, abs=0.1)
    np.testing.assert_array_equal(call.agent, clean.agent)
    again = render_call(parse_script({**SCRIPT, "noise": {"kind": kind, "snr_db": 15}}), fake_tts)
    np.testing.assert_array_equal(again.caller, call.caller)  # repeatable
    assert call.truth["noise"] == {"kind": kind, "snr_db": 15.0}


def test_a_noise_without_kind_or_level_is_an_error():
    with pytest.raises(ValueError, match="noise needs kind"):
        parse_script({**SCRIPT, "noise": {"kind": "rain", "snr_db": 10}})


def test_the_evaluation_corpus_scripts_are_valid_and_cover_the_guides_situations():
    from pipeline.config import ROOT
    from pipeline.evaluation.synth.script import load_scripts

    scripts = load_scripts(ROOT / "data" / "call_scripts" / "eval")
    assert len(scripts) >= 30
    flags = {f.split(":")[0] for s in scripts for f in s.expect}
    assert {"greeting.missing", "interruption.agent", "conduct.impatient", "conduct.domineering"} <= flags
    assert {"hangup.premature", "phrase.banned", "hold.no_notice", "interruption.caller"} <= flags
    assert {s.share_format for s in scripts} == {"stereo", "mono", "ulaw8k", "ulaw8k-mono"}
    assert sum(s.noise_kind is not None for s in scripts) >= 3


def test_every_call_is_written_in_every_recording_kind(tmp_path):
    import csv
    import json

    import soundfile as sf

    from pipeline.evaluation.synth.render import write_all_variants

    write_all_variants([render_call(parse_script(SCRIPT), fake_tts)], tmp_path)
    with open(tmp_path / "manifest.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    kinds = {r["call_id"]: r["channel_layout"] for r in rows}
    assert kinds == {
        "X1.stereo": "stereo-agent-left",
        "X1.mono": "mono",
        "X1.ulaw8k": "stereo-agent-left",
        "X1.ulaw8k-mono": "mono",
        "X1.alaw8k": "stereo-agent-left",
        "X1.mp3-mono": "mono",
    }
    info = sf.info(tmp_path / "recordings" / "X1.ulaw8k-mono.wav")
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "ULAW")
    info = sf.info(tmp_path / "recordings" / "X1.alaw8k.wav")
    assert (info.samplerate, info.channels, info.subtype) == (8000, 2, "ALAW")
    from pipeline.audio.decode import decode

    with decode(tmp_path / "recordings" / "X1.mp3-mono.mp3") as mp3:
        assert mp3.channels == 1 and mp3.codec.startswith("mp3")
        with decode(tmp_path / "recordings" / "X1.mono.flac") as flac:
            assert abs(mp3.duration - flac.duration) < 0.1
    truth = json.loads((tmp_path / "truth" / "X1.json").read_text(encoding="utf-8"))
    assert truth["variants"]["X1.ulaw8k-mono"] == {
        "layout": "mono",
        "format": "ulaw8k-mono",
        "audio": "recordings/X1.ulaw8k-mono.wav",
    }


def test_the_tts_cache_synthesizes_each_sentence_once(tmp_path):
    from pipeline.evaluation.synth import _cached

    calls = []

    def counting_tts(text, voice, speed):
        calls.append(text)
        return fake_tts(text, voice, speed)

    model = tmp_path / "model"
    model.mkdir()
    (model / "model.onnx").write_bytes(b"x")
    tts = _cached(counting_tts, tmp_path / "cache", model)
    first = tts("您好。", "jf_alpha", 1.0)
    again = tts("您好。", "jf_alpha", 1.0)
    other = tts("您好。", "jf_alpha", 1.1)
    assert calls == ["您好。", "您好。"] and np.array_equal(first, again) and len(other) == len(first)
    # A different model is a different sentence.
    (model / "model.onnx").write_bytes(b"xy")
    _cached(counting_tts, tmp_path / "cache", model)("您好。", "jf_alpha", 1.0)
    assert len(calls) == 3
