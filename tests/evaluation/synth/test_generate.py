"""The benchmark generator: calls placed on real lengths, labels that follow the timeline, and two
parts that share no sentence and no voice."""

from __future__ import annotations

import pytest

from pipeline.evaluation.synth.generate import (
    PARTS,
    SCORED_RULES,
    VOICE_POOLS,
    GeneratorOptions,
    compose_call,
    load_phrases,
)


def _durations(text: str, voice: str, speed: float) -> float:
    return len(text) / (4.0 * speed)  # about 4 characters a second


def _spans(script):
    """(role, start, end, line) of every line, from the gaps as render_call reads them."""
    out, conversation_end = [], script.lead_in
    for i, line in enumerate(script.lines):
        start = script.lead_in if i == 0 else max(0.0, conversation_end + line.gap)
        duration = _durations(line.text, line.voice, line.speed)
        end = start + (duration if line.cut is None else min(line.cut, duration))
        out.append((line.role, start, end, line))
        conversation_end = max(conversation_end, end)
    return out


@pytest.fixture(scope="module")
def phrases():
    return load_phrases()


def _calls(phrases, part, n=120, **options):
    opts = GeneratorOptions(**options)
    return [compose_call(i, part, phrases, _durations, opts) for i in range(1, n + 1)]


def test_the_same_call_comes_back_for_the_same_number(phrases):
    assert compose_call(7, "test", phrases, _durations) == compose_call(7, "test", phrases, _durations)
    assert compose_call(7, "test", phrases, _durations) != compose_call(8, "test", phrases, _durations)
    with pytest.raises(ValueError, match="part"):
        compose_call(1, "train", phrases, _durations)


def test_the_parts_share_no_sentence_and_no_voice(phrases):
    texts = {part: {ln.text for c in _calls(phrases, part) for ln in c.lines} for part in PARTS}
    shared = texts["dev"] & texts["test"]
    # Only the listener tokens (嗯, 好的 ...) are common to both: they are the lexicon's.
    assert shared <= set(phrases["backchannels_caller"]) | set(phrases["backchannels_agent"])
    voices = {
        part: {v.split("*")[0] for c in _calls(phrases, part) for ln in c.lines for v in ln.voice.split("+")}
        for part in PARTS
    }
    assert not voices["dev"] & voices["test"]
    assert voices["test"] <= set(VOICE_POOLS["test"][0])


def test_native_voices_draw_the_development_part_as_the_test_part_is_drawn(phrases):
    def bases(calls):
        return {
            v.split("*")[0] for c in calls for ln in c.lines for v in ln.voice.partition("@")[0].split("+")
        }

    mixed = bases(_calls(phrases, "dev"))
    native = bases(_calls(phrases, "dev", native_voices=True))
    # By default the Japanese voices are in the blends: the development part renders as documented.
    assert mixed & set(VOICE_POOLS["dev"][1])
    assert native <= set(VOICE_POOLS["dev"][0]) and len(native) == len(VOICE_POOLS["dev"][0])


def test_the_two_parties_are_two_people(phrases):
    from pipeline.evaluation.synth.generate import _dominant

    for call in _calls(phrases, "test", 200):
        agent = next(ln.voice for ln in call.lines if ln.role == "agent")
        caller = next(ln.voice for ln in call.lines if ln.role == "caller")
        assert _dominant(agent) != _dominant(caller), call.call_id
    assert _dominant("zm_yunjian*0.69+zf_xiaoyi*0.31@0.957") == "zm_yunjian"


def test_labels_follow_the_timeline(phrases):
    calls = _calls(phrases, "test", 200)
    for call in calls:
        spans = _spans(call)
        assert set(call.expect) <= set(SCORED_RULES)
        agent_cuts = [
            a
            for a in spans
            if a[0] == "agent"
            and any(c[0] == "caller" and c[1] < a[1] and c[2] - a[1] >= 0.9 for c in spans)
            and len(a[3].text) >= 6
        ]
        assert ("interruption.agent" in call.expect) == bool(agent_cuts), call.call_id
        first_agent = next(s for s in spans if s[0] == "agent")
        greeted = "您好" in first_agent[3].text
        assert ("greeting.missing" in call.expect) == (not greeted), call.call_id
        last = max(spans, key=lambda s: s[2])
        hung_up = last[3].cut is not None
        assert ("hangup.premature" in call.expect) == hung_up
        if hung_up:
            assert last[0] == "caller" and last[2] - last[1] >= 0.8
    # Every moment happens often enough to be measured on 100 calls.
    for rule in SCORED_RULES:
        assert sum(rule in c.expect for c in calls) >= 15, rule
    assert sum(not c.expect for c in calls) >= 20


def test_hand_overs_and_backchannels_are_not_labelled_as_cut_ins(phrases):
    calls = _calls(phrases, "dev", 60, agent_cut_in=0, agent_cuts_three=0, caller_cut_in=0, hand_over=1.0)
    for call in calls:
        assert "interruption.agent" not in call.expect and "interruption.caller" not in call.expect
        spans = _spans(call)
        for a in spans:
            for b in spans:
                if a[0] != b[0] and a[1] < b[1] < a[2]:
                    # Inside another's sentence: a listener token, or the last 0.35 s of it.
                    assert len(b[3].text) <= 3 or a[2] - b[1] <= 0.35 + 1e-6, (call.call_id, b[3].text)


def test_a_spontaneous_call_is_the_same_call_with_its_sentences_said_as_people_do(phrases):
    fluent = _calls(phrases, "dev", n=40)
    spontaneous = _calls(phrases, "dev", n=40, spontaneous=0.5)
    same = changed = total = 0
    for plain, said in zip(fluent, spontaneous, strict=True):
        # The same situation and voices; the same moments and labels unless a longer sentence
        # gave a cut-in the room it lacked (6 calls of 100 in each part).
        assert plain.topic == said.topic and plain.lines[0].voice == said.lines[0].voice
        if (plain.agent_id, plain.expect, [ln.role for ln in plain.lines]) != (
            said.agent_id,
            said.expect,
            [ln.role for ln in said.lines],
        ):
            continue
        same += 1
        for a, b in zip(plain.lines, said.lines, strict=True):
            if a.text in phrases["backchannels_caller"] + phrases["backchannels_agent"]:
                assert b.text == a.text
                continue
            total += 1
            if b.text != a.text:
                changed += 1
                assert b.text.endswith(a.text) or a.text.partition("，")[2] in b.text
    assert same >= 34 and 0.4 < changed / total < 0.6


@pytest.mark.parametrize("way", ["filler", "repeat", "false_start", "correction"])
def test_each_way_of_speaking_keeps_the_whole_sentence(way):
    import numpy as np

    from pipeline.evaluation.synth.spontaneous import CORRECTIONS, FILLERS, spoken

    rng = np.random.default_rng(0)
    sentence = "都供暖一个星期了，我家暖气片还是冰凉的。"
    said = [spoken(sentence, rng, way) for _ in range(20)]
    for text in said:
        assert text != sentence and text.replace("，", "").endswith(sentence.replace("，", "")[-8:])
    if way == "filler":
        assert all(any(f"{f}，" in t for f in FILLERS) for t in said)
    elif way == "repeat":
        assert all(t.endswith(sentence) and sentence.startswith(t.partition("，")[0]) for t in said)
    elif way == "correction":
        assert all(any(f"，{c}，" in t for c in CORRECTIONS) and t.endswith(sentence) for t in said)
    else:
        assert all(t.endswith(sentence) and t.split("，")[1] in FILLERS for t in said)
    # A sentence with no start to go back on is repeated instead; one with no word, a filler.
    assert spoken("喂，物业。", rng, "correction") == "喂，喂，物业。"
    assert spoken("3号楼漏水了。", rng, "repeat").endswith("，3号楼漏水了。")
