import numpy as np
import pytest

from pipeline.asr.whisper import AsrSegment, Piece, SpeechTimeline, is_repetition_loop
from pipeline.config import Config, SpeechConfig
from pipeline.records import CallRef, Turn, Word
from pipeline.run.process import Models, process_call
from pipeline.speakers.utterances import build_utterances


def test_timeline_maps_joined_speech_back_to_channel_and_time():
    timeline = SpeechTimeline([Piece(1, 5.0, 7.0), Piece(0, 1.0, 3.0), Piece(0, 6.0, 6.5)])
    # Joined in order of start: ch0 1-3 s -> 0-2, ch1 5-7 s -> 2-4, ch0 6-6.5 s -> 4-4.5
    assert timeline.original(0.5, 1.0) == (0, 1.5, 2.0)
    assert timeline.original(2.5, 3.0) == (1, 5.5, 6.0)
    assert timeline.original(4.1, 4.4) == (0, 6.1, 6.4)


@pytest.mark.parametrize(
    ("text", "loop"),
    [
        ("谢谢谢谢谢谢谢谢谢谢", True),
        ("好的好的好的好的好的", True),
        ("好的好的", False),
        ("我家厨房的水管漏水了", False),
    ],
)
def test_repetition_loops(text, loop):
    assert is_repetition_loop(text) is loop


def segment(text, **quality):
    words = tuple(Word(c, 1.0 + i * 0.2, 1.2 + i * 0.2) for i, c in enumerate(text))
    stats = {"avg_logprob": -0.3, "no_speech_prob": 0.05, "compression_ratio": 1.2, **quality}
    return AsrSegment(words, (0,) * len(words), **stats)


def test_doubtful_segments_and_known_inventions_are_flagged_never_scored(lexicon):
    turns = [Turn("ch0", "agent", 0.9, 4.0)]
    for seg in (
        segment("请不吝点赞订阅转发打赏"),  # a string Whisper invents over silence
        segment("你好你好", no_speech_prob=0.9, avg_logprob=-1.5),  # Whisper itself doubts it
        segment("好的好的好的好的好的"),  # a decoding loop
    ):
        (u,) = build_utterances("C1", turns, [(w, seg.suspicious) for w in seg.words], lexicon)
        assert u.flags == ("hallucination",) and not u.scorable
    (clean,) = build_utterances("C1", turns, [(w, False) for w in segment("您好请讲").words], lexicon)
    assert clean.scorable


def test_a_loop_beside_real_words_is_left_out_of_the_turn(lexicon):
    turns = [Turn("spk1", "caller", 0.9, 30.0)]
    real = segment("你们不能每次都这么说啊")
    loop = AsrSegment(
        tuple(Word("抱", 4.0, 4.0) for _ in range(100)), (0,) * 100, -0.3, 0.05, 1.2
    )  # from its first word: not cut, flagged
    assert loop.without_loop() is loop and loop.suspicious
    words = [(w, real.suspicious) for w in real.words] + [(w, loop.suspicious) for w in loop.words]
    (u,) = build_utterances("C1", turns, words, lexicon)
    assert u.text == "你们不能每次都这么说啊" and u.scorable


def test_silence_and_noise_give_no_text_and_no_findings(tmp_path):
    import soundfile as sf

    rng = np.random.default_rng(0)
    noise = (0.003 * rng.standard_normal((16000 * 12, 2))).astype(np.float32)
    path = tmp_path / "noise.flac"
    sf.write(path, noise, 16000)
    cfg = Config()
    ref = CallRef("N1", str(path), "A1", None, "stereo-agent-left")
    result = process_call(ref, cfg, Models.load(cfg))
    assert [u for u in result.utterances if u.scorable] == []
    assert result.events == ()


def test_a_word_spanning_a_speaker_change_goes_to_the_speaker_covering_most_of_it(lexicon):
    turns = [Turn("spk0", "agent", 0.0, 2.0), Turn("spk1", "caller", 2.0, 4.0)]
    words = [(Word("您好", 0.5, 1.0), False), (Word("漏水", 1.8, 2.6), False), (Word("了", 3.0, 3.2), False)]
    agent, caller = build_utterances("C1", turns, words, lexicon)
    assert agent.text == "您好" and caller.text == "漏水了"


def test_a_second_pass_s_words_take_their_place_in_time(lexicon):
    # The first pass skipped the caller's opening words; a second pass found them: they come
    # after the first pass's words in the list, and before them in the utterance.
    turns = [Turn("spk1", "caller", 1.4, 6.6)]
    first = [(Word("欢迎", 5.7, 6.3), False)]
    second = [(Word("就是", 1.5, 1.8), False), (Word("我", 1.8, 2.3), False)]
    (u,) = build_utterances("C1", turns, first + second, lexicon)
    assert u.text == "就是我欢迎" and [w.start for w in u.words] == [1.5, 1.8, 5.7]


def test_speech_config_defaults_keep_turn_internal_pauses_short():
    assert SpeechConfig().min_silence_ms < 500


def test_long_calls_are_transcribed_in_bounded_batches():
    from pipeline.asr.whisper import batch_pieces

    pieces = [Piece(i % 2, 10.0 * i, 10.0 * i + 8.0) for i in range(100)]  # 800 s of speech
    batches = batch_pieces(pieces, 100.0)
    assert all(sum(p.end - p.start for p in b) <= 100.0 for b in batches)
    assert [p for b in batches for p in b] == sorted(pieces, key=lambda p: p.start)
    assert batch_pieces([], 100.0) == []
    assert len(batch_pieces([Piece(0, 0.0, 300.0)], 100.0)) == 1  # a piece longer than a batch stays whole


def test_auto_device_is_float16_on_a_gpu_and_int8_on_the_cpu():
    from pipeline.asr.whisper import choose_device
    from pipeline.config import ModelConfig

    assert choose_device(ModelConfig(), cuda_devices=0) == ("cpu", "int8")
    assert choose_device(ModelConfig(), cuda_devices=1) == ("cuda", "float16")
    assert choose_device(ModelConfig(device="cpu"), cuda_devices=1) == ("cpu", "int8")
    assert choose_device(ModelConfig(compute_type="int8_float16"), cuda_devices=2) == ("cuda", "int8_float16")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        choose_device(ModelConfig(device="cuda"), cuda_devices=0)


def test_a_word_across_a_join_goes_to_the_later_piece_unless_nearly_all_of_it_is_before():
    timeline = SpeechTimeline([Piece(1, 5.0, 7.0), Piece(0, 8.0, 9.0)])  # joined: ch1 0-2, ch0 2-3
    assert timeline.original(1.9, 2.3) == (0, 8.0, 8.3)  # begins 0.1 s early: still ch0's word
    # Whisper starts the next speaker's first word early, by more than half of it (E032's 下班了):
    assert timeline.original(1.78, 2.22) == (0, 8.0, 8.22)
    assert timeline.original(1.6, 2.05) == (1, 6.6, 7.0)  # 89 % before the join: ch1's last word
    assert timeline.original(1.0, 1.5) == (1, 6.0, 6.5)  # within one piece


def test_a_word_across_a_piece_shorter_than_itself_goes_on_to_the_piece_it_reaches():
    timeline = SpeechTimeline([Piece(0, 1.0, 2.0), Piece(1, 3.0, 3.1), Piece(0, 5.0, 6.0)])
    # joined: ch0 0-1, ch1 1-1.1, ch0 1.1-2.1; a word from 0.95 to 1.4 crosses both joins.
    assert timeline.original(0.95, 1.4) == (0, 5.0, 5.3)


class _SkippingWhisper:
    """Whisper that drops every piece after the first (as when a window ends early), but
    transcribes what it is given again."""

    def __init__(self):
        self.calls = []

    def transcribe(self, speech, **options):
        from types import SimpleNamespace as NS

        self.calls.append(len(speech) / 16000)
        self.options = options
        word = NS(word="好", start=0.1, end=0.5, probability=0.9)
        segment = NS(
            words=[word], text="好", seek=0, avg_logprob=-0.2, no_speech_prob=0.1, compression_ratio=1.2
        )
        return [segment], None


@pytest.fixture
def batched_is_the_model(monkeypatch):
    """faster-whisper's BatchedInferencePipeline replaced by the (fake) model it wraps."""
    monkeypatch.setattr("faster_whisper.BatchedInferencePipeline", lambda model: model)


def test_speech_whisper_skipped_is_transcribed_again(batched_is_the_model):
    from pipeline.asr.whisper import WhisperTranscriber, unheard_pieces
    from pipeline.config import ModelConfig

    transcriber = object.__new__(WhisperTranscriber)
    batched = ModelConfig(window_batch=4)
    transcriber._model, transcriber._options, transcriber._vocabulary = _SkippingWhisper(), batched, ""
    channels = [np.zeros(16000 * 20, np.float32), np.zeros(16000 * 20, np.float32)]
    pieces = [Piece(0, 1.0, 3.0), Piece(1, 4.0, 7.0), Piece(0, 8.0, 8.5)]
    segments = transcriber.transcribe(channels, pieces)
    # First pass: one word, in the first piece; the 3 s caller piece had none: a second pass on it
    # alone (the 0.5 s piece is too short to count as missed speech).
    assert transcriber._model.calls == [5.5, 3.0]
    # Each pass one window of joined speech, in a batch of windows, with timestamps.
    assert transcriber._model.options["clip_timestamps"] == [{"start": 0.0, "end": 3.0}]
    assert transcriber._model.options["batch_size"] == 4
    assert transcriber._model.options["without_timestamps"] is False
    assert [(ch, w.start) for s in segments for w, ch in zip(s.words, s.channels, strict=True)] == [
        (0, 1.1),
        (1, 4.1),
    ]
    assert Piece(1, 4.0, 7.0) not in unheard_pieces(pieces, segments)  # heard now


class _LoopingWhisper:
    """Whisper that loops (围围围…) over the whole of its first pass, as over E011's 8 kHz ending
    on the AMD machine, and hears the words when given the speech again."""

    def __init__(self):
        self.calls = []

    def transcribe(self, speech, **options):
        from types import SimpleNamespace as NS

        self.calls.append(len(speech) / 16000)
        first = len(self.calls) == 1
        text = "围" if first else "再见"
        words = [
            NS(word=text, start=0.1 + 0.2 * i, end=0.3 + 0.2 * i, probability=0.6)
            for i in range(12 if first else 1)
        ]
        segment = NS(
            words=words,
            text=text * len(words),
            seek=0,
            avg_logprob=-0.3,
            no_speech_prob=0.1,
            compression_ratio=4.0 if first else 1.1,
        )
        return [segment], None


def test_speech_under_a_decoding_loop_is_transcribed_again(batched_is_the_model):
    from pipeline.asr.whisper import WhisperTranscriber
    from pipeline.config import ModelConfig

    transcriber = object.__new__(WhisperTranscriber)
    transcriber._model, transcriber._options, transcriber._vocabulary = _LoopingWhisper(), ModelConfig(), ""
    channels = [np.zeros(16000 * 10, np.float32), np.zeros(16000 * 10, np.float32)]
    segments = transcriber.transcribe(channels, [Piece(0, 1.0, 4.0), Piece(1, 5.0, 8.0)])
    # The loop's words cover both pieces, but they are no words heard: both pieces again.
    assert transcriber._model.calls == [6.0, 6.0]
    assert [s.suspicious for s in segments] == [True, False]
    assert [w.text for w in segments[1].words] == ["再见"]


def test_a_decoding_loop_is_cut_by_callqa_not_decoded_again_at_every_temperature():
    from pipeline.asr.whisper import WhisperTranscriber
    from pipeline.config import ModelConfig

    transcriber = object.__new__(WhisperTranscriber)
    sequential = ModelConfig(window_batch=0)  # faster-whisper's sequential decoding, which can fall back
    transcriber._model, transcriber._options, transcriber._vocabulary = _SkippingWhisper(), sequential, ""
    transcriber.transcribe([np.zeros(16000 * 5, np.float32)], [Piece(0, 1.0, 3.0)])
    assert transcriber._model.options["compression_ratio_threshold"] is None
    # faster-whisper's way: decode the window again at the next temperature
    transcriber._options = ModelConfig(window_batch=0, compression_ratio_threshold=2.4)
    transcriber.transcribe([np.zeros(16000 * 5, np.float32)], [Piece(0, 1.0, 3.0)])
    assert transcriber._model.options["compression_ratio_threshold"] == 2.4


def test_whisper_decodes_without_sampling_by_default_so_a_rerun_gives_the_same_words(batched_is_the_model):
    from pipeline.asr.whisper import WhisperTranscriber
    from pipeline.config import ModelConfig

    transcriber = object.__new__(WhisperTranscriber)
    transcriber._model, transcriber._options, transcriber._vocabulary = _SkippingWhisper(), ModelConfig(), ""
    transcriber.transcribe([np.zeros(16000 * 5, np.float32)], [Piece(0, 1.0, 3.0)])
    assert transcriber._model.options["temperature"] == [0.0]
    ladder = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    transcriber._options = ModelConfig(window_batch=0, temperatures=ladder)
    transcriber.transcribe([np.zeros(16000 * 5, np.float32)], [Piece(0, 1.0, 3.0)])
    assert transcriber._model.options["temperature"] == list(ladder)  # configurable, decoding sequentially


def test_a_fallback_with_batched_windows_is_refused_not_silently_dropped():
    from pipeline.config import ModelConfig

    with pytest.raises(ValueError, match="window_batch = 0"):
        ModelConfig(window_batch=4, temperatures=(0.0, 0.2))
    with pytest.raises(ValueError, match="window_batch = 0"):
        ModelConfig(window_batch=4, compression_ratio_threshold=2.4)
    assert ModelConfig(temperatures=(0.0, 0.2)).window_batch == 0  # sequential decoding falls back
    with pytest.raises(ValueError, match="0 or more"):
        ModelConfig(window_batch=-1)


def test_a_loop_across_the_segments_of_a_window_is_measured_over_the_whole_window():
    from types import SimpleNamespace as NS

    from pipeline.asr.whisper import window_compression_ratios

    loop = "宣治出现交易几乎与了尘区"  # RC02 at 8 kHz: one segment a time, six times over
    segments = [NS(seek=0, text=loop) for _ in range(6)] + [NS(seek=1500, text="一二线城市虽然也处于调整中")]
    ratios = window_compression_ratios(segments)
    # As faster-whisper's sequential decoding measures it: the loop is seen.
    assert len(set(ratios[:6])) == 1 and ratios[0] > 2.4
    assert ratios[6] < 2.4  # the next window is measured on its own


def test_a_segment_said_over_and_over_in_a_looping_window_is_kept_once():
    from types import SimpleNamespace as NS

    from pipeline.asr.whisper import window_compression_ratios, without_repeated_segments

    loop = [NS(seek=0, text="宣治出现交易几乎与了尘区") for _ in range(6)]
    speech = [NS(seek=1500, text="好的。"), NS(seek=1500, text="好的。"), NS(seek=1500, text="您说。")]
    segments = loop + speech
    kept = [seg for seg, _ in without_repeated_segments(segments, window_compression_ratios(segments))]
    assert kept == [loop[0], *speech]  # the loop once (to be flagged); a real 好的 twice stays


def test_the_words_before_a_loop_in_their_window_are_measured_without_it():
    from types import SimpleNamespace as NS

    from pipeline.asr.whisper import window_compression_ratios, without_repeated_segments

    # Real voices on stereo (RC04): the agent's sentence, then the end of it over and over.
    sentence = NS(seek=0, text="欢迎大家来体验达摩院推出的语音十别模型")
    loop = [NS(seek=0, text="语音十别模型") for _ in range(8)]
    inner = NS(seek=0, text="好的" * 30)  # a loop inside one segment
    later = NS(seek=1500, text="本节目由豆本豆豆奶特约播出")
    for segments in ([sentence, *loop, later], [sentence, inner, later]):
        kept = without_repeated_segments(segments, window_compression_ratios(segments))
        assert [seg for seg, _ in kept] == [sentence, segments[1], later]
        ratios = [ratio for _, ratio in kept]
        assert ratios[0] < 2.4  # the sentence no longer flagged with the loop after it
        assert ratios[1] > 2.4  # the loop still is
        assert ratios[2] < 2.4


def test_windows_of_joined_speech_are_cut_only_at_the_joins_of_pieces():
    # Joined: 0-10, 10-25, 25-32, 32-62 (a piece longer than a window is a window of its own), 62-63.
    timeline = SpeechTimeline(
        [
            Piece(0, 0.0, 10.0),
            Piece(1, 12.0, 27.0),
            Piece(0, 30.0, 37.0),
            Piece(0, 40.0, 70.0),
            Piece(1, 71.0, 72.0),
        ]
    )
    assert timeline.windows(29.5) == [(0.0, 25.0), (25.0, 32.0), (32.0, 62.0), (62.0, 63.0)]
    assert timeline.windows(40.0) == [(0.0, 32.0), (32.0, 63.0)]
    assert SpeechTimeline([Piece(0, 1.0, 2.0)]).windows() == [(0.0, 1.0)]


def test_a_piece_longer_than_a_window_is_cut_at_its_quietest_moment():
    from pipeline.asr.whisper import split_long_pieces

    rng = np.random.default_rng(0)
    channel = (0.1 * rng.standard_normal(16000 * 70)).astype(np.float32)
    channel[int(27.0 * 16000) : int(27.2 * 16000)] *= 0.01  # a breath 26 s into the piece
    channel[int(53.0 * 16000) : int(53.1 * 16000)] = 0.0  # and another 26 s after it
    parts = split_long_pieces([channel], [Piece(0, 1.0, 65.0), Piece(0, 66.0, 69.0)], max_s=29.5)
    # Cut in the breaths.
    assert parts[0].start == 1.0 and 27.0 <= parts[1].start <= 27.2 and 53.0 <= parts[2].start <= 53.1
    assert [(p.end, p.channel) for p in parts] == [
        (parts[1].start, 0),
        (parts[2].start, 0),
        (65.0, 0),
        (69.0, 0),
    ]
    assert all(p.end - p.start <= 29.5 for p in parts)
    # Without a pause the cut still falls within the window's last seconds: no part is too long.
    parts = split_long_pieces([np.ones(16000 * 100, np.float32)], [Piece(0, 0.0, 100.0)], max_s=29.5)
    assert len(parts) == 4 and all(24.4 <= p.end - p.start <= 29.5 for p in parts[:-1])


def test_a_stretch_of_a_piece_whisper_skipped_is_found_for_a_second_pass():
    from pipeline.asr.whisper import AsrSegment, unheard_pieces

    def heard(*spans):
        words = tuple(Word("好", a, b, 0.9) for a, b in spans)
        return AsrSegment(words, (0,) * len(words), -0.2, 0.1, 1.2)

    # A 12 s region of which Whisper transcribed only the last 3.5 s (RC02 at 8 kHz): the 8 s
    # before its first word go back for a second pass, cut 0.2 s short of that word.
    piece = Piece(0, 7.0, 19.0)
    assert unheard_pieces([piece], [heard((15.2, 15.6), (15.6, 18.7))]) == [Piece(0, 7.0, 15.0)]
    # Pauses between words shorter than 1.5 s (after the 0.2 s margins) are no skipped speech.
    words = [(7.1, 7.5), (8.6, 9.0), (10.8, 11.2), (12.0, 18.9)]
    assert unheard_pieces([piece], [heard(*words)]) == []
    # A long silence inside the words, and the end of the piece after the last word.
    assert unheard_pieces([piece], [heard((7.1, 7.5), (10.0, 12.0))]) == [
        Piece(0, 7.7, 9.8),
        Piece(0, 12.2, 19.0),
    ]


def test_a_loop_that_sets_in_after_real_words_is_cut_off_not_the_words_before_it():
    # E017 at 8 kHz: the agent's whole answer and the caller's reply were one Whisper segment that
    # ended in 我说，我说，… ; flagging the segment dropped the answer from scoring.
    seg = segment("那如果他们都在那里我说我说我说我说我说我说", compression_ratio=3.1)
    assert seg.suspicious
    kept = seg.without_loop()
    assert "".join(w.text for w in kept.words) == "那如果他们都在那里我说"
    assert kept.channels == (0,) * len(kept.words) and not kept.suspicious
    # The stretch the repetitions covered is left without words, for the second pass.
    assert kept.words[-1].end < seg.words[-1].end
    # A loop from the first word is an invention over noise: kept whole, and flagged.
    noise = segment("好的好的好的好的好的")
    assert noise.without_loop() is noise and noise.suspicious
    # Whisper's doubt about the segment still counts once the loop is cut.
    doubtful = segment("你好我说我说我说我说", no_speech_prob=0.9, avg_logprob=-1.5).without_loop()
    assert doubtful.loop_cut and doubtful.suspicious
