"""Two voices from the segmentation model's windows, on hand-made windows and a fake embedder."""

import numpy as np

from pipeline.audio.decode import SAMPLE_RATE
from pipeline.speakers.segmentation.model import Segmentation
from pipeline.speakers.segmentation.voices import window_voices

FRAME_S = 0.02
PER_WINDOW = 500  # 10 s
STEP = 250  # 5 s

# Who speaks when: two alike voices, A and B, taking turns with short pauses; B cuts in under A
# at 20.0-20.5 s.
SPANS = [
    ("A", 0.2, 4.0),
    ("B", 4.4, 9.0),
    ("A", 9.3, 14.0),
    ("B", 14.3, 20.5),
    ("A", 20.0, 25.0),
    ("B", 25.4, 29.8),
]
# The fake recording: voice A is a constant +0.1, voice B -0.1, both at once 0.
LEVEL = {"A": 0.1, "B": -0.1}


def _recording(duration: float) -> np.ndarray:
    samples = np.zeros(int(duration * SAMPLE_RATE), np.float32)
    for voice, s, e in SPANS:
        samples[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] += LEVEL[voice]
    return samples


class AlikeVoices:
    """Speaker vectors of two voices 0.92 alike (on 8 kHz telephone audio CAM++ puts alike voices
    that close), told by the sign of the clip's mean; every clip also carries a small random part."""

    same_speaker = 0.75
    short_margin = 0.2

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def embed_many(self, segments):
        out = []
        for clip in segments:
            v = np.zeros(16)
            v[0] = 1.0
            v[1] = 0.2 if float(np.mean(clip)) > 0 else -0.2
            v[2:] = self.rng.normal(0, 0.02, 14)
            out.append(v / np.linalg.norm(v))
        return np.array(out)


def _segmentation(duration: float, swap_every_other: bool = True, one_voice: bool = False) -> Segmentation:
    """Sliding windows whose local speakers follow SPANS, local speaker numbers swapped in every
    other window (the model's numbering means nothing across windows)."""
    total = int(round(duration / FRAME_S))
    starts = list(range(0, max(1, total - PER_WINDOW + STEP), STEP))
    windows = np.full((len(starts), PER_WINDOW, 4), 0.01)
    for w, first in enumerate(starts):
        classes = np.zeros(PER_WINDOW, int)
        for voice, s, e in SPANS:
            local = 0 if (voice == "A" or one_voice) else 1
            if swap_every_other and w % 2:
                local = 1 - local
            a = max(0, int(round(s / FRAME_S)) - first)
            b = min(PER_WINDOW, int(round(e / FRAME_S)) - first)
            for i in range(a, b):
                current = classes[i]
                mine = 1 + local
                classes[i] = 3 if current and current != mine else mine
        windows[w, np.arange(PER_WINDOW), classes] = 0.97
    speech = np.zeros(total)
    overlap = np.zeros(total)
    return Segmentation(FRAME_S, speech, overlap, np.array(starts), windows)


def _voice_over(turns, start: float, end: float) -> str | None:
    held: dict[str, float] = {}
    for t in turns:
        held[t.speaker] = held.get(t.speaker, 0.0) + max(0.0, min(end, t.end) - max(start, t.start))
    return max(held, key=held.get) if held else None


def test_two_alike_voices_are_told_apart_by_the_models_windows_whatever_its_numbering():
    duration = 30.0
    found = window_voices(_recording(duration), _segmentation(duration), AlikeVoices())
    assert found is not None
    a = {_voice_over(found.turns, s + 0.3, e - 0.3) for v, s, e in SPANS if v == "A"}
    b = {_voice_over(found.turns, s + 0.3, e - 0.6) for v, s, e in SPANS if v == "B"}
    assert len(a) == 1 and len(b) == 1 and a != b
    assert found.similarity > 0.8  # as alike as the clustering found them
    # The cut-in: both voices speak at 20.0-20.5 s.
    at_cut_in = {t.speaker for t in found.turns if t.start <= 20.2 and t.end >= 20.3}
    assert at_cut_in == {"spk0", "spk1"}


def test_a_window_that_hears_one_voice_gives_no_second_one():
    duration = 30.0
    embedder = AlikeVoices()
    assert window_voices(_recording(duration), _segmentation(duration, one_voice=True), embedder) is None


# What each voice says in SPANS: A is the agent (greeting, self-introduction, service register),
# B the caller.
SAID = {
    0: "您好，阳光物业客服中心，工号一零七，请问有什么可以帮您？",
    1: "我家厨房漏水了，你们能不能派人来看看？",
    2: "好的，我这边给您登记一下，请问您家是几栋几号？",
    3: "十二栋三单元，你们什么时候来？",
    4: "我们马上安排师傅上门，请您稍等。",
    5: "好的，谢谢。",
}


def _segments():
    from pipeline.asr.whisper import AsrSegment
    from pipeline.records import Word

    out = []
    for k, (_, s, e) in enumerate(SPANS):
        text = SAID[k]
        step = (e - s - 0.4) / len(text)
        words = tuple(
            Word(ch, s + 0.1 + i * step, s + 0.1 + (i + 1) * step, 0.9) for i, ch in enumerate(text)
        )
        out.append(AsrSegment(words, (0,) * len(words), -0.3, 0.0, 1.5))
    return out


def _attribute(cfg, lexicon):
    from pipeline.records import Turn
    from pipeline.speakers.attribution import Diarized, MonoSpeakersOfCall
    from pipeline.speakers.clustering import MonoSpeakers
    from pipeline.speakers.utterances import UtteranceBuilder

    duration = 30.0
    # The clustering merged the two alike voices into one.
    merged = [Turn("spk0", "unknown", 0.2, 29.8)]
    speakers = MonoSpeakersOfCall(
        _recording(duration),
        [(0.2, 29.8)],
        cfg,
        UtteranceBuilder("C1", lexicon),
        AlikeVoices(),
        lambda samples: _segmentation(duration),
    )
    return speakers.attribute(Diarized(merged, speakers=MonoSpeakers(merged, None)), _segments())


def test_a_call_the_clustering_heard_as_one_voice_gets_its_two_parties_from_the_windows(cfg, lexicon):
    off = _attribute(cfg, lexicon)
    assert off.roles.confidence < cfg.rules.role_min_confidence  # one voice: every role rule abstains
    on = _attribute(cfg.with_settings(["window_voices=true"]), lexicon)
    assert on.roles.confidence >= cfg.rules.role_min_confidence
    assert "model's windows" in on.roles.reason
    agent = {u.text for u in on.utterances if u.role == "agent"}
    assert SAID[0] in agent and SAID[4] in agent
    assert SAID[1] not in agent and SAID[3] not in agent
