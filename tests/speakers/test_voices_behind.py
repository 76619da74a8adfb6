"""Other people's voices far behind both parties of a mono recording: out of the turns and words."""

from types import SimpleNamespace

import numpy as np

from pipeline.asr.whisper import AsrSegment
from pipeline.records import Turn, Word

SR = 16000


def _tone(level_db: float, seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (10 ** (level_db / 20) * np.sqrt(2) * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _segment(text: str, start: float, end: float) -> AsrSegment:
    step = (end - start) / len(text)
    words = tuple(Word(ch, start + i * step, start + (i + 1) * step, 0.9) for i, ch in enumerate(text))
    return AsrSegment(words, (0,) * len(words), -0.3, 0.0, 1.5)


def test_voices_behind_both_parties_leave_the_turns_and_their_words_are_nobodys(cfg, lexicon, monkeypatch):
    from pipeline.speakers import attribution
    from pipeline.speakers.clustering import MonoSpeakers
    from pipeline.speakers.utterances import UtteranceBuilder

    # (The talkers' own 100 ms either side stay theirs: the envelope reaches that far.)
    # The agent at -20 dBFS for 0-3 s, then 2 s of the next desks' voices 25 dB under, the caller
    # 10 dB under the agent for 5-8 s, the voices again for 2 s, the agent for 10-12 s. The VAD kept
    # the voices, and the clustering gave each stretch to the voice before it.
    samples = np.concatenate(
        [
            _tone(-20, 3, 220),
            _tone(-45, 2, 330),
            _tone(-30, 3, 180),
            _tone(-45, 2, 330),
            _tone(-20, 2, 220),
        ]
    )
    turns = [
        Turn("spk0", "unknown", 0.0, 5.0),
        Turn("spk1", "unknown", 5.0, 10.0),
        Turn("spk0", "unknown", 10.0, 12.0),
    ]
    monkeypatch.setattr(attribution, "mono_turns", lambda *args: MonoSpeakers(turns, 0.1))
    speakers = attribution.MonoSpeakersOfCall(
        samples,
        [(0.0, 12.0)],
        cfg,
        UtteranceBuilder("C1", lexicon),
        embedder=SimpleNamespace(same_speaker=0.7),
        segmenter=None,
    )
    diarized = speakers.diarize()
    assert [(round(a, 1), round(b, 1)) for a, b in diarized.behind] == [(3.1, 4.9), (8.1, 9.9)]
    # They read 15 dB under the quieter voice, the caller: what the [quality] floor judges.
    assert round(diarized.heard.behind_db) == -15
    assert round(diarized.heard.quieter_dbfs) == -30  # the caller, its median frame
    assert [(t.speaker, round(t.start, 1), round(t.end, 1)) for t in diarized.turns] == [
        ("spk0", 0.0, 3.1),
        ("spk1", 5.0, 8.1),
        ("spk0", 10.0, 12.0),
    ]
    segments = [
        _segment("您好阳光物业", 0.2, 2.9),
        _segment("喂喂那边", 3.3, 4.6),  # the next desk, wholly in the stretch
        _segment("我家漏水了", 4.7, 7.9),  # the caller's first word timed from the pause before it
        _segment("好的马上来", 10.1, 11.9),
    ]
    spoken = speakers.attribute(diarized, segments)
    assert spoken.heard == diarized.heard
    text = "".join(u.text for u in spoken.utterances)
    assert "喂" not in text and "那边" not in text
    assert "我家漏水了" in text.replace("，", "").replace("。", "")
    # Without the gate the voices stay in the turns and their words with a party.
    off = attribution.MonoSpeakersOfCall(
        samples,
        [(0.0, 12.0)],
        cfg.with_settings(["background_gap_db=0"]),
        UtteranceBuilder("C1", lexicon),
        embedder=SimpleNamespace(same_speaker=0.7),
        segmenter=None,
    )
    assert off.diarize().behind == ()
