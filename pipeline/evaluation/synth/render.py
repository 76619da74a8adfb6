"""Render call scripts into recordings with exact ground truth.

Per call, ``render_call`` lays the utterances on a timeline (gaps, overlaps, a dropped line) and
returns the agent and caller tracks at 16 kHz plus the truth. ``write_share`` writes the one
format a script asks for into a share with its manifest (the committed sample share);
``write_all_variants`` writes every call in the recording kinds callqa is measured on (16 kHz
stereo FLAC, 16 kHz mono FLAC, 8 kHz G.711 µ-law stereo and mono WAV, 8 kHz A-law stereo WAV and
a recorder's 32 kbit/s mono MP3), one manifest row per variant, for evaluation across layouts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.evaluation.synth.script import CallScript

SR = 16000
_TARGET_RMS_DB = -20.0
_MIX_GAIN = 0.7
MANIFEST_FIELDS = ("path", "call_id", "agent_id", "started_at", "channel_layout")


@dataclass(frozen=True)
class RenderedCall:
    script: CallScript
    agent: np.ndarray  # float32, 16 kHz, agent's own track (no bleed)
    caller: np.ndarray
    truth: dict

    def stereo(self, agent_channel: str = "left") -> np.ndarray:
        """(n, 2) with bleed of each party into the other's channel if the script asks for it."""
        agent, caller = self.agent, self.caller
        if self.script.bleed_db is not None:
            gain = 10 ** (self.script.bleed_db / 20)
            delay = int(0.012 * SR)  # a hybrid echo arrives a little late
            agent, caller = agent + gain * _delayed(caller, delay), caller + gain * _delayed(agent, delay)
        pair = (agent, caller) if agent_channel == "left" else (caller, agent)
        return np.clip(np.stack(pair, axis=1), -1, 1).astype(np.float32)

    def mono(self) -> np.ndarray:
        return np.clip(_MIX_GAIN * (self.agent + self.caller), -1, 1).astype(np.float32)


def _delayed(x: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([np.zeros(n, np.float32), x[: len(x) - n]])


def background_noise(kind: str, n: int, seed: str) -> np.ndarray:
    """Unit-RMS noise: ``pink`` (street, office hiss), ``brown`` (traffic rumble) or ``hum``
    (50 Hz mains and its harmonics, a little hiss). Seeded by the call id: renders are repeatable."""
    import zlib

    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    if kind == "hum":
        t = np.arange(n) / SR
        noise = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.3)) / k for k in (1, 2, 3, 5))
        noise = noise + 0.1 * rng.standard_normal(n)
    else:
        spectrum = np.fft.rfft(rng.standard_normal(n))
        freqs = np.fft.rfftfreq(n, 1 / SR)
        freqs[0] = freqs[1]
        spectrum /= np.sqrt(freqs) if kind == "pink" else freqs
        noise = np.fft.irfft(spectrum, n)
    return (noise / (np.sqrt(np.mean(noise**2)) + 1e-12)).astype(np.float32)


def _level(audio: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(audio**2))) if audio.size else 0.0
    if rms == 0:
        return audio
    return np.clip(audio * (10 ** (_TARGET_RMS_DB / 20) / rms), -1, 1).astype(np.float32)


Synthesize = Callable[[str, str, float], np.ndarray]  # (text, voice, speed) -> 16 kHz float32


def render_call(script: CallScript, synthesize: Synthesize) -> RenderedCall:
    clips = [_level(synthesize(line.text, line.voice, line.speed)) for line in script.lines]
    placed = []
    conversation_end = script.lead_in
    recording_end: float | None = None
    for i, (line, clip) in enumerate(zip(script.lines, clips, strict=True)):
        start = script.lead_in if i == 0 else max(0.0, conversation_end + line.gap)
        duration = len(clip) / SR
        heard = duration if line.cut is None else min(line.cut, duration)
        end = start + heard
        placed.append((line, clip, start, end, duration))
        conversation_end = max(conversation_end, end)
        if line.cut is not None:
            recording_end = end
    total = recording_end if recording_end is not None else conversation_end + script.tail
    n = int(round(total * SR))
    tracks = {"agent": np.zeros(n, np.float32), "caller": np.zeros(n, np.float32)}
    if script.noise_kind:
        # The caller's surroundings, the whole call long, on the caller's side of the line.
        level = 10 ** ((_TARGET_RMS_DB - script.noise_snr_db) / 20)
        tracks["caller"] += level * background_noise(script.noise_kind, n, seed=script.call_id)
    utterances = []
    for line, clip, start, end, duration in placed:
        a = int(round(start * SR))
        b = min(n, a + len(clip))
        tracks[line.role][a:b] += clip[: b - a]
        text = line.text
        truncated = end - start < duration - 1e-6
        if truncated:
            # Keep the share of characters actually heard: the truth for a dropped line.
            keep = max(1, int(len(text) * (end - start) / duration))
            text = text[:keep]
        utterances.append(
            {
                "role": line.role,
                "start": round(start, 3),
                "end": round(end, 3),
                "text": text,
                "text_full": line.text,
                "truncated": truncated,
                "voice": line.voice,
                "speed": line.speed,
            }
        )
    truth = {
        "schema": "callqa.truth/1",
        "call_id": script.call_id,
        "agent_id": script.agent_id,
        "started_at": script.started_at.isoformat(),
        "topic": script.topic,
        "duration": round(total, 3),
        "bleed_db": script.bleed_db,
        "noise": None
        if not script.noise_kind
        else {"kind": script.noise_kind, "snr_db": script.noise_snr_db},
        "hangup": recording_end is not None,
        "expected_flags": sorted(script.expect),
        "conduct_preset": "guide",  # the scripts' 急躁/独断专横 labels read the guide's wording
        "utterances": utterances,
    }
    return RenderedCall(script, tracks["agent"], tracks["caller"], truth)


def _write_audio(path: Path, audio: np.ndarray, fmt: str) -> None:
    import soundfile as sf
    import soxr

    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt.startswith(("ulaw8k", "alaw8k")):
        narrow = soxr.resample(audio, SR, 8000).astype(np.float32)
        subtype = "ULAW" if fmt.startswith("ulaw8k") else "ALAW"
        sf.write(path, np.clip(narrow, -1, 1), 8000, format="WAV", subtype=subtype)
    elif fmt == "mp3-mono":
        from pipeline.evaluation.impairments import CODECS, encoded

        path.write_bytes(encoded(np.atleast_2d(audio), CODECS["mp3_32"]))
    else:
        sf.write(path, audio, SR, format="FLAC", subtype="PCM_16")


def _share_audio(rendered: RenderedCall, fmt: str, agent_channel: str) -> np.ndarray:
    if fmt in ("mono", "ulaw8k-mono", "mp3-mono"):
        return rendered.mono()
    return rendered.stereo(agent_channel)


def _suffix(fmt: str) -> str:
    if fmt == "mp3-mono":
        return ".mp3"
    return ".wav" if fmt.startswith(("ulaw8k", "alaw8k")) else ".flac"


def write_share(rendered_calls: Iterable[RenderedCall], out_dir: Path) -> Path:
    """One recording per call in the format its script names, plus manifest.csv and truth/."""
    rows = []
    for rc in rendered_calls:
        s = rc.script
        rel = Path("recordings") / s.started_at.date().isoformat() / f"{s.call_id}{_suffix(s.share_format)}"
        _write_audio(out_dir / rel, _share_audio(rc, s.share_format, s.agent_channel), s.share_format)
        truth = {**rc.truth, "layout": s.layout, "format": s.share_format, "audio": str(rel)}
        _write_json(out_dir / "truth" / f"{s.call_id}.json", truth)
        rows.append((str(rel), s.call_id, s.agent_id, s.started_at.isoformat(), s.layout))
    return _write_manifest(out_dir, rows)


# Recording kind -> channel layout. ulaw8k-mono is how most centres archive a call: one mixed
# channel, 8 kHz G.711 µ-law, as the phone system gives it; alaw8k is China's network (G.711
# A-law) kept as two channels, mp3-mono a recorder's archive at 32 kbit/s.
VARIANTS = {
    "stereo": "stereo-agent-left",
    "mono": "mono",
    "ulaw8k": "stereo-agent-left",
    "ulaw8k-mono": "mono",
    "alaw8k": "stereo-agent-left",
    "mp3-mono": "mono",
}


def write_all_variants(
    rendered_calls: Iterable[RenderedCall], out_dir: Path, kinds: Iterable[str] = tuple(VARIANTS)
) -> Path:
    """Every call in every kind of ``VARIANTS`` (or those of ``kinds``)."""
    kinds = tuple(kinds)
    unknown = set(kinds) - set(VARIANTS)
    if unknown:
        raise ValueError(f"unknown recording kind(s) {sorted(unknown)}; choose from {list(VARIANTS)}")
    rows = []
    for rc in rendered_calls:
        s = rc.script
        variants = {}
        for fmt, layout in VARIANTS.items():
            if fmt not in kinds:
                continue
            call_id = f"{s.call_id}.{fmt}"
            rel = Path("recordings") / f"{call_id}{_suffix(fmt)}"
            _write_audio(out_dir / rel, _share_audio(rc, fmt, "left"), fmt)
            variants[call_id] = {"layout": layout, "format": fmt, "audio": str(rel)}
            rows.append((str(rel), call_id, s.agent_id, s.started_at.isoformat(), layout))
        _write_json(out_dir / "truth" / f"{s.call_id}.json", {**rc.truth, "variants": variants})
    return _write_manifest(out_dir, rows)


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _write_manifest(out_dir: Path, rows: list[tuple]) -> Path:
    path = out_dir / "manifest.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(MANIFEST_FIELDS)
        writer.writerows(sorted(rows, key=lambda r: r[1]))
    return path
