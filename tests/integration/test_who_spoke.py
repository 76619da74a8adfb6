"""Who spoke when on mono recordings assembled from the two clean channels of a sample call."""

import numpy as np
import pytest
import soundfile as sf

from pipeline.audio.decode import decode
from pipeline.config import Config
from pipeline.records import CallRef
from pipeline.run.process import Models, process_call
from pipeline.speakers.clustering import load_embedder, mono_turns

pytestmark = pytest.mark.integration
SR = 16000


@pytest.fixture(scope="module")
def parts(sample_share):
    """S001's agent and caller, each from their own channel (truth times)."""
    audio = decode(sample_share / "recordings/2026-11-16/S001.flac").samples

    def cut(channel, start, end):
        return audio[channel, int(start * SR) : int(end * SR)]

    return {
        "greeting": cut(0, 1.4, 9.6),  # 您好，这里是阳光物业客服中心，工号一零一，请问有什么可以帮您？
        "question": cut(1, 9.9, 15.7),  # 你好，我家厨房的水管漏水了 ...
        "answer": cut(0, 21.3, 28.0),  # 好的，我们下午两点安排维修师傅上门 ...
        "thanks": cut(1, 28.2, 29.4),
    }


def silence(seconds):
    return np.zeros(int(seconds * SR), np.float32)


def write(tmp_path, name, pieces):
    path = tmp_path / f"{name}.flac"
    sf.write(path, np.concatenate(pieces), SR)
    return CallRef(name, str(path), "A1", None, "mono")


def test_caller_speaking_first_does_not_make_them_the_agent(tmp_path, parts):
    ref = write(
        tmp_path,
        "caller-first",
        [
            silence(0.5),
            parts["question"],
            silence(0.7),
            parts["greeting"],
            silence(0.7),
            parts["answer"],
            silence(0.5),
        ],
    )
    cfg = Config()
    result = process_call(ref, cfg, Models.load(cfg))
    first = result.utterances[0]
    assert first.role == "caller" and "漏水" in first.text
    assert result.roles.confidence >= 0.8 and "intro 1" in result.roles.reason
    assert [e.rule_id for e in result.events if e.rule_id == "greeting.missing"] == []


def test_a_voicemail_has_one_voice_and_blames_nobody(tmp_path, parts):
    ref = write(
        tmp_path, "voicemail", [silence(0.5), parts["question"], silence(1.0), parts["thanks"], silence(0.5)]
    )
    cfg = Config()
    result = process_call(ref, cfg, Models.load(cfg))
    assert len({u.speaker for u in result.utterances}) == 1
    assert result.roles.confidence < cfg.rules.role_min_confidence
    assert result.events == () and result.abstentions[0].startswith("依赖角色的规则未评分")


def test_a_long_monologue_stays_one_speaker(tmp_path, parts):
    # One voice, and the words of one party (the agent's greeting, answer, greeting again).
    ref = write(
        tmp_path,
        "monologue",
        [parts["greeting"], silence(0.6), parts["answer"], silence(0.6), parts["greeting"]],
    )
    cfg = Config()
    result = process_call(ref, cfg, Models.load(cfg))
    assert {u.speaker for u in result.utterances} == {"spk0"}
    assert result.roles.confidence < cfg.rules.role_min_confidence and "one voice" in result.roles.reason


def test_a_reply_without_a_pause_is_split_where_the_voice_changes(parts):
    # agent, pause, caller, pause, then the agent's answer running straight into the caller's question.
    pieces = [
        parts["greeting"],
        silence(0.6),
        parts["question"],
        silence(0.6),
        parts["answer"],
        parts["question"],
    ]
    samples = np.concatenate(pieces)
    bounds = np.cumsum([0] + [len(p) / SR for p in pieces])
    regions = [(bounds[0], bounds[1]), (bounds[2], bounds[3]), (bounds[4], bounds[6])]
    turns = mono_turns(samples, regions, load_embedder(), 2, 1.0, resegment_min_s=3.0).turns
    last = [t for t in turns if t.start >= bounds[4] - 0.01]
    assert len(last) == 2 and last[0].speaker != last[1].speaker
    assert abs(last[1].start - bounds[5]) < 1.0  # the change is found within a second
    assert last[0].speaker == turns[0].speaker  # the answer is the agent's voice


def test_a_cut_in_on_mono_is_heard_as_an_overlap_and_counts_against_the_agent(tmp_path, parts):
    # The agent greets, the caller asks, and the agent's answer starts 1.5 s before the caller
    # has finished: one mixed channel, as the phone system archives it.
    question, answer = parts["question"], parts["answer"]
    overlap = int(1.5 * SR)
    talk = np.concatenate([question, np.zeros(len(answer) - overlap, np.float32)])
    talk[len(question) - overlap :] += 0.8 * answer
    pieces = [
        silence(0.5),
        parts["greeting"],
        silence(0.6),
        talk,
        silence(0.8),
        parts["thanks"],
        silence(0.6),
    ]
    ref = write(tmp_path, "cut-in", pieces)
    cut_at = 0.5 + len(parts["greeting"]) / SR + 0.6 + (len(question) - overlap) / SR
    cfg = Config()
    result = process_call(ref, cfg, Models.load(cfg))
    assert result.roles.confidence >= cfg.rules.role_min_confidence
    agent = [t for t in result.turns if t.role == "agent" and abs(t.start - cut_at) < 0.6]
    caller_end = max(t.end for t in result.turns if t.role == "caller" and t.start < cut_at)
    assert agent and caller_end > agent[0].start + 0.5  # the turns overlap where both spoke
    cut_ins = [e for e in result.events if e.rule_id == "interruption.agent"]
    assert len(cut_ins) == 1 and abs(cut_ins[0].start - cut_at) < 0.6

    # Without the segmentation model the same recording shows no overlap at all.
    from dataclasses import replace

    plain = replace(cfg, speech=replace(cfg.speech, segmentation=False))
    result = process_call(ref, plain, Models.load(plain))
    assert not [e for e in result.events if e.rule_id == "interruption.agent"]
