"""What a telephone line, a room and a recorder do to a call: pure functions over 16 kHz float32 audio.

``benchmarks/conditions.py`` applies them one at a time to labelled calls and scores callqa on the
result. Every function is seeded (the call id), so a condition is the same each time it is built.

Levels are measured on the *speech* (``active_rms``: the 20 ms frames within 30 dB of the loudest),
as an SNR on a telephone line is quoted, not on the whole file with its pauses.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

import numpy as np

SR = 16000
FRAME = 320  # 20 ms: a codec's and a jitter buffer's frame


def rng_for(seed: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(seed.encode()))


def active_rms(x: np.ndarray) -> float:
    """RMS of the 20 ms frames within 30 dB of the loudest (the speech, not the pauses)."""
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME)
    if not len(frames):
        return 0.0
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    speech = frames[db > db.max() - 30]
    return float(np.sqrt(np.mean(speech**2))) if len(speech) else 0.0


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def mixed_under(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``signal`` plus ``noise`` scaled so the signal's speech is ``snr_db`` above the noise's RMS."""
    level = active_rms(signal) * 10 ** (-snr_db / 20)
    return (signal + _unit(noise) * level).astype(np.float32)


# --- noise a caller stands in ---------------------------------------------------------------------


def _coloured(n: int, rng: np.random.Generator, power: float) -> np.ndarray:
    """Noise whose spectrum falls as 1/f**power (0.5: pink, 1: brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    freqs[0] = freqs[1]
    return _unit(np.fft.irfft(spectrum / freqs**power, n))


def street(n: int, seed: str) -> np.ndarray:
    """Traffic: brown rumble, pink hiss and cars passing every few seconds (a swell of 2-4 s)."""
    rng = rng_for("street" + seed)
    t = np.arange(n) / SR
    swell = np.full(n, 0.3)
    at = rng.uniform(0, 6)
    while at < n / SR:
        width = rng.uniform(1.0, 2.0)
        swell += rng.uniform(0.5, 1.5) * np.exp(-0.5 * ((t - at) / width) ** 2)
        at += rng.uniform(3, 9)
    return _unit((_coloured(n, rng, 1.0) + 0.5 * _coloured(n, rng, 0.5)) * swell)


def music(n: int, seed: str) -> np.ndarray:
    """Music with a melody, chords and a beat: harmonic tones changing every half bar, a kick and a
    hi-hat. Not speech, but voiced and rhythmic as speech is: what a VAD and Whisper trip on."""
    rng = rng_for("music" + seed)
    t = np.arange(n) / SR
    out = np.zeros(n)
    bpm = rng.uniform(80, 130)
    beat = 60 / bpm
    roots = 110 * 2 ** (rng.choice([0, 3, 5, 7, 8, 10], size=int(n / SR / beat / 2) + 2) / 12)
    for i, root in enumerate(roots):
        a, b = int(i * 2 * beat * SR), min(n, int((i + 1) * 2 * beat * SR))
        if a >= n:
            break
        seg = t[a:b] - t[a]
        env = np.exp(-seg * 1.5)
        for ratio, weight in ((1, 1.0), (1.26, 0.6), (1.5, 0.6), (2, 0.3), (4, 0.15)):
            out[a:b] += weight * env * np.sin(2 * np.pi * root * ratio * seg)
        melody = root * 4 * 2 ** (rng.choice([0, 2, 4, 7, 9]) / 12)
        out[a:b] += 0.5 * np.exp(-seg * 3) * np.sin(2 * np.pi * melody * seg)
    kick = int(beat * SR)
    for a in range(0, n, kick):
        seg = t[: min(kick, n - a)]
        out[a : a + len(seg)] += (
            1.5 * np.exp(-seg * 25) * np.sin(2 * np.pi * 60 * seg * (1 + np.exp(-seg * 30)))
        )
        hat = min(len(seg), int(0.03 * SR))
        out[a + kick // 2 : a + kick // 2 + hat] += 0.2 * rng.standard_normal(
            len(out[a + kick // 2 : a + kick // 2 + hat])
        )
    return _unit(out)


def television(n: int, seed: str, speech: np.ndarray) -> np.ndarray:
    """A television in the room: a programme's voices (``speech``, other calls) over its music."""
    voices = np.resize(speech, n)
    return _unit(_unit(voices) + 0.5 * music(n, "tv" + seed))


# --- levels ---------------------------------------------------------------------------------------


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """``x`` scaled so its speech is at ``dbfs`` (a quiet handset, a caller far from the phone)."""
    return (x * 10 ** (dbfs / 20) / (active_rms(x) + 1e-12)).astype(np.float32)


def clipped(x: np.ndarray, gain_db: float) -> np.ndarray:
    """``x`` made ``gain_db`` louder and clipped at full scale (an input gain set too high)."""
    return np.clip(x * 10 ** (gain_db / 20), -1, 1).astype(np.float32)


def agc_pumped(x: np.ndarray, seed: str, target_dbfs: float = -20.0, max_gain_db: float = 30.0) -> np.ndarray:
    """An automatic gain control that raises the line's hiss in every pause and ducks at each
    syllable: fast attack (10 ms), slower release (0.5 s), up to ``max_gain_db`` of gain."""
    rng = rng_for("agc" + seed)
    x = x + 10 ** (-60 / 20) * rng.standard_normal(len(x)).astype(np.float32)
    hop = SR // 100
    frames = x[: len(x) // hop * hop].reshape(-1, hop)
    level = np.sqrt(np.mean(frames**2, axis=1)) + 1e-9
    env = np.empty_like(level)
    current = level[0]
    release = np.exp(-1 / (0.5 * 100))
    for i, v in enumerate(level):
        current = v if v > current else release * current + (1 - release) * v
        env[i] = current
    gain = np.minimum(10 ** (target_dbfs / 20) / env, 10 ** (max_gain_db / 20))
    per_sample = np.interp(np.arange(len(x)), np.arange(len(gain)) * hop + hop / 2, gain)
    return np.clip(x * per_sample, -1, 1).astype(np.float32)


# --- the line -------------------------------------------------------------------------------------


def delayed(x: np.ndarray, seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    return np.concatenate([np.zeros(n, np.float32), x[: len(x) - n]]).astype(np.float32)


def with_echo(own: np.ndarray, other: np.ndarray, below_db: float, delay_s: float = 0.15) -> np.ndarray:
    """``own`` with ``other`` coming back ``below_db`` under the other's level, ``delay_s`` late and
    band-limited to 300-3,400 Hz (a line's hybrid echo, or an echo canceller that lets some through)."""
    import scipy.signal

    sos = scipy.signal.butter(4, [300, 3400], btype="band", fs=SR, output="sos")
    echo = scipy.signal.sosfilt(sos, delayed(other, delay_s)).astype(np.float32)
    return (own + echo * 10 ** (-below_db / 20)).astype(np.float32)


def packet_loss(x: np.ndarray, percent: float, seed: str) -> np.ndarray:
    """VoIP loss: ``percent`` of 20 ms frames lost, in bursts as on a congested link (a loss is
    followed by another with probability 0.3); half the lost frames are silenced, half repeat the
    frame before (a jitter buffer's concealment)."""
    rng = rng_for(f"loss{percent}" + seed)
    out = x.copy()
    n = len(x) // FRAME
    p_start = percent / 100 * 0.7  # with bursts continuing at 0.3, the mean loss is ``percent``
    lost = False
    for i in range(1, n):
        lost = rng.random() < (0.3 if lost else p_start)
        if lost:
            a = i * FRAME
            out[a : a + FRAME] = out[a - FRAME : a] if rng.random() < 0.5 else 0.0
    return out


@dataclass(frozen=True)
class Codec:
    """A PyAV encoder and the container it is written in (every one round-trips in memory)."""

    codec: str
    rate: int
    bit_rate: int
    container: str
    stereo: bool = False  # the codec carries two channels (else each channel is coded alone)


CODECS: dict[str, Codec] = {
    "amr12": Codec("libopencore_amrnb", 8000, 12200, "amr"),  # a mobile caller, best mode
    "amr475": Codec("libopencore_amrnb", 8000, 4750, "amr"),  # a mobile caller, weakest mode
    "g726": Codec("g726", 8000, 32000, "wav"),  # ADPCM on old PBX trunks
    "g723": Codec("g723_1", 8000, 6300, "g723_1"),  # low-rate VoIP
    "mp3_16": Codec("libmp3lame", 8000, 16000, "mp3", stereo=True),  # a recorder's archive
    "mp3_32": Codec("libmp3lame", 16000, 32000, "mp3", stereo=True),
    # A softphone's leg, one voice per stream (stereo Opus at these rates codes the mid only).
    "opus8": Codec("libopus", 16000, 8000, "ogg"),
    "opus12": Codec("libopus", 16000, 12000, "ogg"),
}


def encoded(x: np.ndarray, codec: Codec) -> bytes:
    """(channels, n) 16 kHz float32 audio encoded with ``codec`` in its container."""
    import av
    import soxr

    narrow = soxr.resample(x.T, SR, codec.rate) if codec.rate != SR else x.T
    pcm = np.ascontiguousarray((np.clip(narrow, -1, 1) * 32767).astype(np.int16).T)
    layout = "stereo" if pcm.shape[0] == 2 else "mono"
    buf = io.BytesIO()
    with av.open(buf, "w", format=codec.container) as out:
        stream = out.add_stream(codec.codec, rate=codec.rate, layout=layout)
        stream.bit_rate = codec.bit_rate
        # Packed s16: one row of interleaved samples, as PyAV takes it.
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1), format="s16", layout=layout)
        frame.rate = codec.rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def decoded(data: bytes, container: str, n: int) -> np.ndarray:
    """(channels, n) 16 kHz float32 from an encoded file, cut or padded to ``n`` samples."""
    import av
    import soxr

    chunks, rate = [], SR
    with av.open(io.BytesIO(data), "r", format=container) as inp:
        stream = inp.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout=stream.codec_context.layout.name)
        for frame in inp.decode(stream):
            rate = frame.rate
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1, stream.codec_context.channels))
    y = np.concatenate(chunks).astype(np.float32)
    y = soxr.resample(y, rate, SR) if rate != SR else y
    y = y.T[:, :n]
    return np.pad(y, ((0, 0), (0, n - y.shape[1]))).astype(np.float32)


def through_ulaw_line(audio: np.ndarray) -> np.ndarray:
    """16 kHz mono audio as an 8 kHz G.711 µ-law line gives it back (as the ``ulaw8k`` recordings
    are written: soundfile's µ-law WAV), at 16 kHz."""
    import soundfile as sf
    import soxr

    wav = io.BytesIO()
    sf.write(wav, soxr.resample(audio, SR, 8000), 8000, format="WAV", subtype="ULAW")
    wav.seek(0)
    return soxr.resample(sf.read(wav, dtype="float32")[0], 8000, SR).astype(np.float32)


def through_codec(x: np.ndarray, codec: Codec) -> np.ndarray:
    """(channels, n) audio coded and decoded again: each channel alone unless the codec is stereo."""
    if codec.stereo or x.shape[0] == 1:
        return decoded(encoded(x, codec), codec.container, x.shape[1])
    return np.concatenate([decoded(encoded(ch[None], codec), codec.container, x.shape[1]) for ch in x])


# --- the call -------------------------------------------------------------------------------------


def tone(freqs: tuple[float, ...], seconds: float, dbfs: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
    ramp = np.minimum(1, np.minimum(t, t[::-1]) / 0.005)  # no clicks
    return (x * ramp * 10 ** (dbfs / 20) * np.sqrt(2)).astype(np.float32)


def ringback(cycles: int = 2) -> np.ndarray:
    """China's ringback: 450 Hz, 1 s on and 4 s off."""
    on = tone((450,), 1.0, -20)
    off = np.zeros(4 * SR, np.float32)
    return np.concatenate([np.concatenate([on, off]) for _ in range(cycles)])


_DTMF = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "4": (770, 1209), "5": (770, 1336),
    "6": (770, 1477), "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "0": (941, 1336),
    "*": (941, 1209), "#": (941, 1477),
}  # fmt: skip


def dtmf(keys: str) -> np.ndarray:
    """Keypad tones, 100 ms each with 100 ms between (a caller keying an extension or a menu)."""
    gap = np.zeros(int(0.1 * SR), np.float32)
    return np.concatenate([np.concatenate([tone(_DTMF[k], 0.1, -10), gap]) for k in keys])


def beep(seconds: float = 0.5) -> np.ndarray:
    """A voicemail's 嘀: 1 kHz, the cue to speak."""
    return tone((1000,), seconds, -14)


# The agent takes the greeting's 您好 for a person and answers it this far into the greeting.
VOICEMAIL_ANSWER_S = 1.2
VOICEMAIL_MESSAGE_SENTENCES = 2


def voicemail_call(
    stereo: np.ndarray, agent: int, truth: dict, greeting: np.ndarray
) -> tuple[np.ndarray, dict]:
    """A call back that meets the caller's voicemail, made from a labelled stereo call.

    The caller's side: China's ringback, then ``greeting`` (a recorded 您好，机主暂时无法接听…请在
    提示音后留言) and its beep. The agent's side: the call's own opening, started over the greeting
    (the agent took its 您好 for a person), then after the beep the agent's next sentences of the
    call as the message, and the line put down. Returns the recording and its truth: the agent's
    sentences only, since nobody was there to interrupt or to be cut off; the opening keeps its
    ``greeting.missing`` label, every other label is gone.
    """
    said = [u for u in truth["utterances"] if u["role"] == "agent" and len(u["text"]) >= 4]
    if len(said) < 2:
        raise ValueError(f"{truth['call_id']}: too few agent sentences for a voicemail message")
    lead = ringback(2)
    cue = beep()
    caller_side = np.concatenate([lead, greeting, np.zeros(int(0.1 * SR), np.float32), cue])
    opening = len(lead) / SR + VOICEMAIL_ANSWER_S
    pieces: list[tuple[float, dict]] = [(opening, said[0])]
    # The message after the beep, or after the opening where the agent talked on past it.
    at = max(len(caller_side) / SR + 0.6, opening + said[0]["end"] - said[0]["start"] + 0.8)
    for u in said[1 : 1 + VOICEMAIL_MESSAGE_SENTENCES]:
        pieces.append((at, u))
        at += u["end"] - u["start"] + 0.5
    n = int((max(len(caller_side) / SR, at) + 1.0) * SR)
    out = np.zeros((2, n), np.float32)
    out[1 - agent, : len(caller_side)] = caller_side
    utterances = []
    for start, u in pieces:
        clip = stereo[agent, int(u["start"] * SR) : int(u["end"] * SR)]
        a = int(round(start * SR))
        out[agent, a : a + len(clip)] = clip
        utterances.append({**u, "start": round(start, 3), "end": round(start + len(clip) / SR, 3)})
    labels = [f for f in truth.get("expected_flags", []) if f == "greeting.missing"]
    record = {**truth, "utterances": utterances, "duration": round(n / SR, 3), "hangup": False}
    return out, {**record, "expected_flags": labels}
