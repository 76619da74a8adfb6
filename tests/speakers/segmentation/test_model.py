"""The segmenter: sliding windows, aggregation, and the committed model on real audio."""

import numpy as np
import pytest

from pipeline.speakers.segmentation.model import WINDOW_S, Segmenter, window_offsets

SR = 16000


class FakeSession:
    """Stands in for onnxruntime: a 7-class (pyannote-style) model that hears two speakers at
    once from 4 s to 6 s of the recording, and one speaker elsewhere."""

    def __init__(self, frames: int = 293) -> None:
        self.frames, self.calls = frames, []

    def get_inputs(self):
        class Input:
            name = "x"

        return [Input()]

    def run(self, _, feeds):
        batch = feeds["x"]
        assert batch.shape[1:] == (1, int(WINDOW_S * SR)) and batch.dtype == np.float32
        out = np.full((len(batch), self.frames, 7), np.log(0.01))
        for k in range(len(batch)):
            start = self.starts.pop(0)
            t = start + (np.arange(self.frames) + 0.5) * WINDOW_S / self.frames
            both = (t >= 4.0) & (t < 6.0)
            out[k, both, 4] = np.log(0.94)  # {0, 1}
            out[k, ~both, 1] = np.log(0.94)  # {0}
        self.calls.append(len(batch))
        return [out]


def segmenter_with(session: FakeSession, duration: float, step_s: float = 5.0) -> Segmenter:
    seg = Segmenter.__new__(Segmenter)
    seg._session, seg._input, seg.step_s, seg.batch = session, "x", step_s, 2
    starts = window_offsets(int(duration * SR), int(WINDOW_S * SR), int(step_s * SR))
    session.starts = [s / SR for s in starts]
    return seg


def test_a_pyannote_style_model_is_read_by_its_powerset_and_windows_are_averaged():
    session = FakeSession()
    seg = segmenter_with(session, 23.0)(np.zeros(23 * SR, np.float32))
    assert session.calls == [2, 2]  # windows at 0, 5, 10 and 15 s, two per run
    times = (np.arange(len(seg.overlap)) + 0.5) * seg.frame_s
    assert len(seg.overlap) == int(np.ceil(23.0 / seg.frame_s))
    assert (seg.overlap[(times > 4.1) & (times < 5.9)] > 0.9).all()
    assert (seg.overlap[(times < 3.9) | (times > 6.1)] < 0.1).all()
    assert np.allclose(seg.speech, 0.99, atol=0.01)


def test_windows_cover_the_recording_to_its_end():
    assert window_offsets(23, 10, 5) == [0, 5, 10, 15]
    assert window_offsets(20, 10, 5) == [0, 5, 10]
    assert window_offsets(3, 10, 5) == [0]


def test_a_recording_shorter_than_a_window_is_padded():
    session = FakeSession()
    seg = segmenter_with(session, 3.0)(np.zeros(3 * SR, np.float32))
    assert session.calls == [1] and len(seg.overlap) == int(np.ceil(3.0 / seg.frame_s))


@pytest.mark.integration
def test_the_committed_model_hears_two_voices_at_once(sample_share):
    """S001's agent and caller channels (rendered voices), mixed with a 1.5 s overlap."""
    from pipeline.audio.decode import decode
    from pipeline.models.store import COMMITTED
    from pipeline.speakers.segmentation.overlaps import overlap_regions

    audio = decode(sample_share / "recordings/2026-11-16/S001.flac").samples
    agent, caller = audio[0, int(1.4 * SR) : int(9.6 * SR)], audio[1, int(9.9 * SR) : int(15.7 * SR)]
    mix = np.zeros(int(14.0 * SR), np.float32)
    mix[int(0.5 * SR) : int(0.5 * SR) + len(agent)] += agent
    at = 0.5 + len(agent) / SR - 1.5
    mix[int(at * SR) : int(at * SR) + len(caller)] += caller
    seg = Segmenter(COMMITTED / "segmentation" / "segmentation.onnx")(mix)
    regions = overlap_regions(seg)
    assert any(s < at + 1.0 and e > at + 0.5 for s, e in regions), regions
    found = sum(e - s for s, e in regions)
    assert found < 3.0  # nothing much besides the one overlap
