import numpy as np
import pytest
import soundfile as sf

from pipeline.audio.decode import SAMPLE_RATE, DecodeError, decode


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


@pytest.mark.parametrize("name", ["2026-11-16/S001.flac", "2026-11-16/S003.wav"])
def test_a_spooled_call_reads_back_exactly_what_memory_holds(sample_share, name):
    in_memory = decode(sample_share / "recordings" / name)
    with decode(sample_share / "recordings" / name, spool_after_s=2.0) as spooled:
        assert spooled.spooled and not in_memory.spooled
        assert spooled.n_samples == in_memory.n_samples
        np.testing.assert_array_equal(spooled.samples, in_memory.samples)
        for a, b in [(0, 10), (31_999, 32_001), (in_memory.n_samples - 5, in_memory.n_samples + 100)]:
            for channel in range(2):
                np.testing.assert_array_equal(spooled.tracks[channel][a:b], in_memory.tracks[channel][a:b])
        np.testing.assert_allclose(spooled.mono()[100:900], in_memory.samples[:, 100:900].mean(axis=0))
        assert len(spooled.tracks[0][50:10]) == 0


def test_closing_a_spooled_call_releases_its_files(sample_share):
    audio = decode(sample_share / "recordings/2026-11-16/S001.flac", spool_after_s=1.0)
    audio.close()
    with pytest.raises(ValueError):
        audio.tracks[0][0:10]


def test_a_file_of_only_a_few_samples_is_a_clear_error(tmp_path):
    tiny = tmp_path / "tiny.wav"
    sf.write(tiny, np.zeros(400, np.float32), 16000)
    with pytest.raises(DecodeError, match=r"shorter than 0\.1 s"):
        decode(tiny)


def _cut(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


@pytest.mark.parametrize("suffix", ["wav", "flac"])
def test_a_truncated_file_is_a_clear_error_not_a_short_call(tmp_path, suffix):
    tone = np.sin(np.arange(4 * SAMPLE_RATE) / 10).astype(np.float32) * 0.3
    path = tmp_path / f"cut.{suffix}"
    sf.write(path, tone, SAMPLE_RATE)
    with pytest.raises(
        DecodeError, match=r"cut\.\w+: truncated: its header announces 4\.0 s, the file holds"
    ):
        decode(_cut(path))


def test_a_wav_whose_header_does_not_know_its_length_is_not_called_truncated(tmp_path):
    path = tmp_path / "streamed.wav"
    sf.write(path, np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = (0xFFFFFFFF).to_bytes(4, "little")  # a recorder streaming the file
    path.write_bytes(bytes(data))
    assert decode(path).duration == pytest.approx(1.0)


def test_three_or_more_channels_fail_with_the_reason(tmp_path):
    path = tmp_path / "conference.wav"
    sf.write(path, np.zeros((SAMPLE_RATE, 3), np.float32), SAMPLE_RATE)
    with pytest.raises(DecodeError, match="3 channels; callqa reads mono or two-channel"):
        decode(path)


def test_not_audio_says_so_without_ffmpeg_error_numbers(tmp_path):
    path = tmp_path / "report.mp3"
    path.write_text("not audio at all\n" * 100)
    with pytest.raises(DecodeError) as err:
        decode(path)
    assert str(err.value) == "cannot decode report.mp3: Invalid data found when processing input"
