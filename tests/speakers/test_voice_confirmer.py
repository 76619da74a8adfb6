"""A change of voice the segmentation model proposes, confirmed (or not) by the speaker vectors."""

import numpy as np

from pipeline.records import Turn
from pipeline.speakers.attribution import voice_confirmer
from pipeline.speakers.clustering import VoicePrints
from pipeline.speakers.segmentation.changes import alone_voice
from tests.speakers.segmentation.test_overlaps import segmentation

SR = 16000


class _ByLevel:
    """A stand-in embedder: the vector says which voice by the stretch's constant sample value
    (0.1: the agent's, 0.2: the caller's, anything else in between)."""

    def embed_many(self, segments):
        out = []
        for s in segments:
            level = float(np.mean(s))
            if abs(level - 0.1) < 0.01:
                out.append([1.0, 0.0, 0.0])
            elif abs(level - 0.2) < 0.01:
                out.append([0.0, 1.0, 0.0])
            else:
                out.append([0.7, 0.7, 0.1])
        v = np.array(out)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def _prints() -> VoicePrints:
    return VoicePrints(
        ("spk0", "spk1"), np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), np.array([0.5, 0.5, 0.0])
    )


def test_a_change_is_confirmed_only_where_the_stretch_sounds_like_the_proposed_voice():
    samples = np.concatenate([np.full(2 * SR, 0.1), np.full(SR, 0.2), np.full(SR, 0.15)]).astype(np.float32)
    confirm = voice_confirmer(samples, _ByLevel(), _prints(), margin=0.3)
    assert confirm(
        [
            (2.0, 3.0, "spk1", "spk0"),  # the caller's voice inside the agent's turn: a change
            (0.5, 1.5, "spk1", "spk0"),  # the agent's own voice: the model split one voice
            (3.0, 4.0, "spk1", "spk0"),  # neither clearly: the turn stands
            (2.0, 3.0, "spk2", "spk0"),  # a voice the clustering never found
        ]
    ) == [True, False, False, False]


def test_the_voice_heard_alone_is_named_from_the_turns():
    turns = [Turn("spk0", "unknown", 0.5, 3.6), Turn("spk1", "unknown", 4.5, 8.0)]
    seg = segmentation(10, [(1, 0.5, 3.0), (2, 3.0, 3.6), (2, 4.5, 8.0)])
    heard = alone_voice(turns, seg)
    assert heard(1.0, 2.0) == "spk0"
    assert heard(3.1, 3.5) == "spk1"
    assert heard(3.7, 4.4) is None  # nobody speaks
    assert alone_voice([turns[0]], seg)(1.0, 2.0) is None  # one voice: nothing to tell apart
