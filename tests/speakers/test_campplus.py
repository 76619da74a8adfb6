import io
import pickle
import shutil
import zipfile

import numpy as np
import pytest

from pipeline.speakers.campplus.fbank import N_MELS, SAMPLE_RATE, fbank, mel_banks
from pipeline.speakers.campplus.weights import _rebuild_tensor, read_state_dict, weights_file


def _tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_fbank_frames_every_10_ms_of_25_ms_windows():
    assert fbank(np.zeros(399, np.float32)).shape == (0, N_MELS)
    assert fbank(np.zeros(400, np.float32)).shape == (1, N_MELS)
    assert fbank(_tone(440.0)).shape == (1 + (SAMPLE_RATE - 400) // 160, N_MELS)


@pytest.mark.parametrize("hz", [300.0, 1000.0, 3000.0])
def test_a_tone_is_loudest_in_the_mel_band_that_holds_it(hz):
    loudest = int(np.argmax(fbank(_tone(hz)).mean(axis=0)))
    bin_of_tone = round(hz * 512 / SAMPLE_RATE)
    assert mel_banks()[loudest, bin_of_tone] == mel_banks()[:, bin_of_tone].max() > 0


def test_fbank_matches_kaldi():
    import kaldi_native_fbank as knf  # k2-fsa's C++ port of Kaldi's feature code

    samples = (np.random.default_rng(0).normal(size=3 * SAMPLE_RATE) * 0.1).astype(np.float32)
    options = knf.FbankOptions()
    options.frame_opts.dither = 0
    options.frame_opts.samp_freq = SAMPLE_RATE
    options.mel_opts.num_bins = N_MELS
    online = knf.OnlineFbank(options)
    online.accept_waveform(SAMPLE_RATE, (samples * 32768).tolist())
    online.input_finished()
    kaldi = np.stack([online.get_frame(i) for i in range(online.num_frames_ready)])
    ours = fbank(samples)
    assert ours.shape == kaldi.shape
    assert np.abs(ours - kaldi).max() < 2e-3


def test_a_tensor_is_rebuilt_from_its_storage_offset_and_strides():
    storage = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(_rebuild_tensor(storage, 2, (2, 3), (1, 2)), [[2, 4, 6], [3, 5, 7]])
    assert _rebuild_tensor(storage, 4, (), ()) == 4


def _archive(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("archive/data.pkl", payload)
    return buffer.getvalue()


def test_a_pickle_naming_anything_but_tensors_is_refused():
    class Evil:
        def __reduce__(self):
            return (shutil.rmtree, ("/nonexistent",))

    with pytest.raises(pickle.UnpicklingError, match=r"shutil\.rmtree"):
        read_state_dict(_archive(pickle.dumps(Evil())))


def test_the_weights_file_places_each_tensor_at_its_offset_and_checks_its_shape():
    state = {"a.weight": np.ones((2, 2), np.float32), "xvector.dense.bias": np.full(3, 2.0, np.float32)}
    layout = [
        {"name": "dense.bias", "shape": [3], "offset": 0},
        {"name": "a.weight", "shape": [2, 2], "offset": 12},
    ]
    data = np.frombuffer(weights_file(state, layout), dtype="<f4")
    np.testing.assert_array_equal(data, [2, 2, 2, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="shape"):
        weights_file(state, [{"name": "a.weight", "shape": [4], "offset": 0}])


@pytest.fixture(scope="module")
def campplus():
    from pipeline.speakers.clustering import load_embedder

    return load_embedder("campplus")


def test_campplus_gives_one_unit_vector_per_segment_of_any_length(campplus):
    tone = _tone(220.0, 25.0)
    vectors = campplus.embed_many([tone[:800], tone[:16000], tone, np.zeros(0, np.float32)])
    assert vectors.shape == (4, 192)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(campplus.embed_many([tone[:16000]]), vectors[1:2])  # deterministic


def test_campplus_tells_the_sample_shares_agent_from_its_caller(campplus, sample_share):
    from pipeline.audio.decode import decode

    # S001: agent (left) 1.5-9.5 s and 21.4-28.0 s, caller (right) 10.0-15.6 s and 19.2-20.9 s
    with decode(sample_share / "recordings/2026-11-16/S001.flac") as audio:
        left, right = (np.asarray(audio.tracks[c][0 : audio.n_samples], np.float32) for c in (0, 1))
    agent = campplus.embed_many([left[24000:152000], left[342400:448000]])
    caller = campplus.embed_many([right[160000:249600]])
    assert float(agent[0] @ agent[1]) > float(agent[0] @ caller[0]) + 0.3
