"""A mono call put through to a colleague, rendered at test time, through the real models: the
first agent and the caller are two women, the manager who takes the call a man, so the whole-call
clustering finds the man and "the two women"; the transfer is where the first agent says so."""

import numpy as np
import pytest
import soundfile as sf

from pipeline.config import Config
from pipeline.records import CallRef
from pipeline.run.process import Models, process_call

pytestmark = pytest.mark.integration
SR = 16000

LINES = (
    ("agent", "jf_tebukuro", "您好，阳光物业客服中心，请问有什么可以帮您？"),
    ("caller", "jf_alpha", "你好，我要投诉你们小区的保安，帮我转一下你们的客服经理。"),
    ("agent", "jf_tebukuro", "好的，请您稍等，我帮您转接。"),
    ("agent", "jm_kumo", "您好，我是客服经理刘强，请问您遇到了什么问题？"),
    ("caller", "jf_alpha", "昨天晚上我回小区，保安一直不给我开门，态度特别差。"),
    ("agent", "jm_kumo", "非常抱歉给您带来了不好的体验，我会找他了解情况，明天给您回电话。"),
    ("caller", "jf_alpha", "好的，那我等你们的电话。"),
    ("agent", "jm_kumo", "感谢您的来电，再见。"),
)


@pytest.fixture(scope="module")
def transferred_call(tmp_path_factory, cfg) -> tuple[CallRef, list[tuple[str, float, float]]]:
    """The call as 16 kHz mono, and (role, start, end) per line."""
    import soxr

    from pipeline.evaluation.synth.tts import SAMPLE_RATE, KokoroTTS
    from pipeline.models.store import require

    tts = KokoroTTS(require("kokoro-82m-int8", cfg.models_path))
    pieces, truth, t = [np.zeros(SR // 2, np.float32)], [], 0.5
    for n, (role, voice, text) in enumerate(LINES):
        audio = soxr.resample(tts.synthesize(text, voice), SAMPLE_RATE, SR).astype(np.float32)
        level = 0.6 if role == "caller" else 1.0  # the far end of the line is quieter
        gap = 4.0 if n == 2 else 0.6  # the hold while the call is put through
        pieces += [level * audio, np.zeros(int(gap * SR), np.float32)]
        truth.append((role, t, t + len(audio) / SR))
        t += len(audio) / SR + gap
    path = tmp_path_factory.mktemp("transfer") / "transferred.flac"
    sf.write(path, np.concatenate(pieces), SR)
    return CallRef("transferred", str(path), "A1", None, "mono"), truth


def _role_at(result, start: float, end: float) -> str:
    """The role of the turn covering most of (start, end)."""
    return max(result.turns, key=lambda t: min(t.end, end) - max(t.start, start)).role


def test_a_call_put_through_keeps_both_agents_as_the_agent_and_is_trusted(transferred_call):
    ref, truth = transferred_call
    cfg = Config()
    result = process_call(ref, cfg, Models.load(cfg))
    assert result.roles.confidence >= cfg.rules.role_min_confidence, result.roles.reason
    assert [_role_at(result, s, e) for _, s, e in truth] == [role for role, _, _ in truth]
    assert len({t.speaker for t in result.turns}) == 2  # two parties: the agents are one
