import pytest

from pipeline.audio import SAMPLE_RATE, DecodeError, decode


def test_stereo_flac_decodes_to_two_16k_channels(sample_share):
    audio = decode(sample_share / "recordings/2026-11-16/S001.flac")
    assert audio.channels == 2 and audio.source_rate == 16000
    assert 30 < audio.duration < 40
    assert audio.samples.dtype.name == "float32"


def test_8k_mulaw_is_resampled_to_16k(sample_share):
    audio = decode(sample_share / "recordings/2026-11-16/S003.wav")
    assert audio.codec == "pcm_mulaw" and audio.source_rate == 8000
    assert audio.samples.shape[1] == pytest.approx(audio.duration * SAMPLE_RATE)
    assert 20 < audio.duration < 30 and audio.channels == 2


def test_corrupt_empty_and_missing_files_are_clear_errors(tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    with pytest.raises(DecodeError, match=r"corrupt\.wav"):
        decode(corrupt)
    empty = tmp_path / "empty.flac"
    empty.touch()
    with pytest.raises(DecodeError, match="empty file"):
        decode(empty)
    with pytest.raises(DecodeError, match="not found"):
        decode(tmp_path / "nope.wav")
