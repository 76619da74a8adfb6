"""A call transferred to a colleague, on mono: two agent voices who are one party.

A caller who asks for a manager (帮我转一下你们的经理) or a repair the first agent cannot handle is
put through: the first agent says 我帮您转接, and a second agent takes the call while the caller
stays on the line. Stereo keeps both agents on the agent's channel. On mono, the clustering looks
for two voices in the whole call and finds the wrong two: the second agent's voice is the most
different of the three (often a man and two women), so the first agent and the caller become one
"voice", which carries both registers, and every role rule abstains (the evaluation corpus's E029).

The words say where the call changed hands. Each side of that moment is a two-party conversation
of its own, so each is diarized as one (``speakers.mono_turns``), and the two sides are joined by
the one voice they share, the caller's: of the two ways to pair the voices across the transfer,
the one whose voices sound most alike pair by pair. Speaker labels on mono then name parties, as
channels do on stereo: the two agents share one label, and the roles come from the words as in
any call (``speakers.infer_roles``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from pipeline.audio.decode import Signal
from pipeline.audio.speech import Region
from pipeline.lexicon import Lexicon
from pipeline.records import Utterance
from pipeline.speakers.clustering import (
    MIN_EMBED_S,
    Embedder,
    MonoSpeakers,
    centred,
    cut,
    merge_turns,
    mono_turns,
)

# Each side of the transfer needs this much speech to be diarized on its own: less than a few
# seconds after 我帮您转接 is a call that ended there (the caller hung up, or the recording stops
# at the transfer), and there is no second agent to find.
MIN_SIDE_S = 4.0
# How much more alike (cosine, in the call's centred d-vector space) the caller's voice before and
# after the transfer must be than the two voices of either side. On the evaluation corpus's two
# transferred calls the margin is 0.24-1.5 (0.24: E029 at 8 kHz, whose first agent and caller are
# the corpus's two alike voices); a voice split in two on one side has no margin at all.
CALLER_MARGIN = 0.2


def transfer_time(
    utterances: Sequence[Utterance], lexicon: Lexicon, regions: Sequence[Region]
) -> float | None:
    """When the call was put through: the end of the speech region in which an announcement of
    the lexicon's ``transfer`` list (我帮您转接) ends, the first one in the call; None without one.

    The announcement is the agent's, said with 您; the caller's 帮我转一下经理 asks for a
    transfer that may never come. Its words, not its utterance, give the time: before the call is
    diarized as transferred, the first agent's words may share an utterance with the caller's.
    """
    phrases = lexicon["transfer"]
    for u in sorted(utterances, key=lambda u: u.start):
        if not u.words or phrases.find(u.text) is None:
            continue
        said = ""
        for w in u.words:
            said += w.text
            if phrases.find(said) is not None:
                return next((e for s, e in regions if s <= w.end <= e), w.end)
    return None


def _split(regions: Sequence[Region], at: float) -> tuple[list[Region], list[Region]]:
    before = [(s, min(e, at)) for s, e in regions if s < at and min(e, at) - s > 0.1]
    after = [(max(s, at), e) for s, e in regions if e > at and e - max(s, at) > 0.1]
    return before, after


def transferred_turns(
    samples: Signal,
    regions: Sequence[Region],
    at: float,
    embedder: Embedder,
    max_gap: float,
    resegment_min_s: float = 0.0,
    unsure_margin: float = 0.0,
) -> MonoSpeakers | None:
    """Turns of the two parties of a call put through at ``at``: each side diarized as a
    two-party call, the caller's voice found on both sides (``spk0`` is the party that speaks
    first), with the regions either side was unsure of (``mono_turns``). None when a side has
    too little speech or not two voices: the call is then diarized as a whole, as any other."""
    sides = _split(regions, at)
    if any(sum(e - s for s, e in side) < MIN_SIDE_S for side in sides):
        return None
    speakers = [
        mono_turns(samples, side, embedder, 2, max_gap, resegment_min_s, unsure_margin) for side in sides
    ]
    diarized = [side.turns for side in speakers]
    voices = [sorted({t.speaker for t in side}) for side in diarized]
    if any(len(v) != 2 for v in voices):
        return None
    keyed = [(i, t) for i, side in enumerate(diarized) for t in side if t.duration >= MIN_EMBED_S]
    if len({(i, t.speaker) for i, t in keyed}) != 4:
        return None
    vectors = centred(embedder.embed_many([cut(samples, t.start, t.end) for _, t in keyed]))
    voice = {}
    for key in {(i, t.speaker) for i, t in keyed}:
        rows = vectors[[n for n, (i, t) in enumerate(keyed) if (i, t.speaker) == key]]
        mean = rows.mean(axis=0)
        voice[key] = mean / (np.linalg.norm(mean) + 1e-12)
    (b0, b1), (a0, a1) = voices

    def alike(one: tuple[int, str], other: tuple[int, str]) -> float:
        return float(voice[one] @ voice[other])

    def linked(pairs: tuple[tuple[str, str], ...]) -> float:
        return sum(alike((0, b), (1, a)) for b, a in pairs)

    pairs = max(((b0, a0), (b1, a1)), ((b0, a1), (b1, a0)), key=linked)
    # The caller's voice on the two sides must be clearly more alike than the two voices of
    # either side are to each other: else a "side" holds one voice split in two (the caller
    # alone on hold, the first agent's monologue) and there is no transfer to join across.
    caller = max(alike((0, b), (1, a)) for b, a in pairs)
    if max(alike((0, b0), (0, b1)), alike((1, a0), (1, a1))) > caller - CALLER_MARGIN:
        return None
    first = min(diarized[0], key=lambda t: t.start).speaker
    party_of = {(0, b): ("spk0" if b == first else "spk1") for b, _ in pairs}
    party_of |= {(1, a): party_of[(0, b)] for b, a in pairs}
    turns = [replace(t, speaker=party_of[(i, t.speaker)]) for i, side in enumerate(diarized) for t in side]
    # A call put through has two parties at least: no similarity for one_voice to read.
    return MonoSpeakers(merge_turns(turns, max_gap), None, speakers[0].unsure + speakers[1].unsure)
