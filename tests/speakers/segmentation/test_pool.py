"""The training pool cut from generated development calls: each party's sentences from its own
channel, and never a call of the test part."""

import json

import numpy as np
import pytest
import soundfile

from pipeline.speakers.segmentation.pool import clips_from_calls

SR = 16000


def _share(tmp_path, part: str = "dev"):
    share = tmp_path / "share"
    (share / "truth").mkdir(parents=True)
    (share / "recordings").mkdir()
    audio = np.zeros((4 * SR, 2), np.float32)
    audio[int(0.5 * SR) : int(1.5 * SR), 0] = 0.25  # the agent, left
    audio[int(2.0 * SR) : int(3.0 * SR), 1] = -0.5  # the caller, right
    soundfile.write(share / "recordings" / "C1.stereo.flac", audio, SR, subtype="PCM_24")
    truth = {
        "call_id": "C1",
        "part": part,
        "utterances": [
            {"role": "agent", "start": 0.5, "end": 1.5, "voice": "zf_a*0.6+jm_b*0.4@1.02"},
            {"role": "caller", "start": 2.0, "end": 3.0, "voice": "zm_c@0.97"},
            {"role": "caller", "start": 3.5, "end": 3.55, "voice": "zm_c@0.97"},  # too short
        ],
        "variants": {
            "C1.stereo": {
                "layout": "stereo-agent-left",
                "format": "stereo",
                "audio": "recordings/C1.stereo.flac",
            }
        },
    }
    (share / "truth" / "C1.json").write_text(json.dumps(truth), encoding="utf-8")
    return share


def test_each_sentence_is_cut_from_its_party_s_channel_under_a_name_for_its_voice(tmp_path):
    share, out = _share(tmp_path), tmp_path / "pool"
    assert clips_from_calls(share, out) == 2
    clips = sorted(out.glob("*.npy"))
    voices = {p.name.split("-")[0] for p in clips}
    assert len(clips) == 2 and len(voices) == 2  # one voice per party
    by_level = sorted(float(np.abs(np.load(p)).max()) for p in clips)
    assert by_level == pytest.approx([0.25, 0.5], abs=1e-3)  # the agent's left, the caller's right
    assert clips_from_calls(share, out) == 0  # kept: a rerun writes nothing


def test_a_test_part_call_is_refused(tmp_path):
    with pytest.raises(ValueError, match="only the development part"):
        clips_from_calls(_share(tmp_path, part="test"), tmp_path / "pool")
