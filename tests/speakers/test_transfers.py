import numpy as np
import pytest

from pipeline.speakers.clustering import MIN_EMBED_S
from pipeline.speakers.transfers import MIN_SIDE_S, transfer_time, transferred_turns
from tests.conftest import level_signal, utt


class _ThreeVoices:
    """A stand-in for the d-vector model: a constant signal of 0.1 is the first agent, 0.3 the
    caller, 0.5 the colleague the call is put through to; every vector shares a strong direction
    (the line's colouring). The colleague is the most different voice, as a man is from two women:
    clustered as a whole, the call's two "voices" are the colleague and the other two."""

    same_speaker, short_margin = 0.75, 0.2

    def __init__(self) -> None:
        rng = np.random.default_rng(3)
        self.line, first, caller, other = rng.normal(size=(4, 64))
        self.voices = {0.1: first, 0.3: 0.8 * first + 0.6 * caller, 0.5: 2.0 * other}
        self.rng = rng

    def embed_many(self, segments):
        out = []
        for samples in segments:
            level = min(self.voices, key=lambda v: abs(v - float(np.mean(samples))))
            v = 4 * self.line + self.voices[level] + 0.05 * self.rng.normal(size=64)
            out.append(v / np.linalg.norm(v))
        return np.stack(out)


# (start, end, level): the agent answers, the caller asks for the manager, the agent puts the
# call through (我帮您转接, ending at 14.5 s), the manager takes it and talks with the caller.
CALL = (
    (0.5, 4.5, 0.1),
    (5.0, 10.0, 0.3),
    (10.5, 14.5, 0.1),
    (18.0, 23.0, 0.5),
    (23.5, 28.0, 0.3),
    (28.5, 32.0, 0.5),
)


def _party_of(turns, start):
    return next(t.speaker for t in turns if t.start <= start < t.end)


def test_the_two_agents_of_a_call_put_through_are_one_party_and_the_caller_the_other():
    regions = [(s, e) for s, e, _ in CALL]
    parties = transferred_turns(level_signal(*CALL), regions, 14.5, _ThreeVoices(), 1.0)
    assert parties is not None and parties.similarity is None
    turns = parties.turns
    first, caller, manager = _party_of(turns, 1.0), _party_of(turns, 6.0), _party_of(turns, 19.0)
    assert first == manager == "spk0" != caller  # spk0: the party that speaks first
    assert _party_of(turns, 24.0) == caller and _party_of(turns, 29.0) == manager


def test_a_region_across_the_transfer_is_cut_there():
    spans = (*CALL[:2], (10.5, 16.0, 0.1), *CALL[3:])
    parties = transferred_turns(
        level_signal(*spans), [(s, e) for s, e, _ in spans], 14.5, _ThreeVoices(), 1.0
    )
    assert parties is not None
    turns = parties.turns
    assert _party_of(turns, 15.0) == _party_of(turns, 1.0)


@pytest.mark.parametrize(
    "spans, why",
    [
        ((*CALL[:3], (18.0, 18.0 + MIN_SIDE_S - 1.0, 0.5)), "too little speech after it"),
        ((*CALL[:3], (18.0, 23.0, 0.3), (23.5, 28.0, 0.3)), "the caller alone after it (on hold)"),
    ],
)
def test_no_second_conversation_leaves_the_call_to_the_whole_call_clustering(spans, why):
    regions = [(s, e) for s, e, _ in spans]
    assert transferred_turns(level_signal(*spans), regions, 14.5, _ThreeVoices(), 1.0) is None, why


def test_the_transfer_is_where_the_agents_announcement_ends(lexicon):
    utterances = [
        utt("agent", 0.5, 4.5, "您好，阳光物业，请问有什么可以帮您？", words=True),
        utt("caller", 5.0, 10.0, "帮我转一下你们的客服经理。", words=True),  # asked for, not done
        utt("agent", 10.5, 16.0, "好，请您稍等，我帮您转接。您好", words=True),
    ]
    regions = [(0.5, 4.5), (5.0, 10.0), (10.5, 15.2), (15.4, 16.0)]
    # 接 is the 11th character of 10.5-16.0 s: it ends at 14.8 s, inside the region ending at 15.2
    assert transfer_time(utterances, lexicon, regions) == 15.2
    assert transfer_time(utterances[:2], lexicon, regions) is None


@pytest.mark.parametrize(
    "text",
    [
        "保安的态度问题我记下了，会转给安保主管处理。",  # a complaint passed on, not a call
        "你不报姓名，我是不会给你接转的。",
        "你把电话转给你们经理。",
    ],
)
def test_passing_on_a_complaint_or_refusing_a_transfer_is_not_one(lexicon, text):
    assert transfer_time([utt("agent", 0.0, 5.0, text, words=True)], lexicon, [(0.0, 5.0)]) is None


def test_the_regions_either_side_was_unsure_of_come_with_the_parties():
    regions = [(s, e) for s, e, _ in CALL]
    # A margin of 2 (the widest two cosines can differ by) makes every embedded region unsure.
    parties = transferred_turns(level_signal(*CALL), regions, 14.5, _ThreeVoices(), 1.0, unsure_margin=2.0)
    assert parties is not None and set(parties.unsure) == {(s, e) for s, e in regions if e - s >= MIN_EMBED_S}
    assert transferred_turns(level_signal(*CALL), regions, 14.5, _ThreeVoices(), 1.0).unsure == ()
