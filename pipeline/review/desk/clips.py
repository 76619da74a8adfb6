"""The audio the desk plays: a finding's moment or a whole call, cut from the share's recording and
decoded on the fly, as WAV; byte ranges for the browser's player.

No URL carries a path: a recording is found from a call's id through the warehouse, and only
files inside the share are ever opened.
"""

from __future__ import annotations

import io
import threading
import wave
from collections import OrderedDict
from pathlib import Path

from pipeline.warehouse.read import Warehouse


class RecordingUnreadable(RuntimeError):
    """The call's recording is in the share but no longer decodes; the message says which and why,
    in Chinese, for the reviewer."""


def wav_bytes(samples, rate: int) -> bytes:
    """16-bit PCM WAV of float samples in [-1, 1], shape (channels, n) or (n,)."""
    import numpy as np

    data = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    pcm = (np.clip(data.T, -1, 1) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes of a ``Range: bytes=a-b`` request; None for the whole body (no
    Range, or several ranges, which a server may answer with the whole body: RFC 9110 14.2);
    ValueError when it cannot be satisfied."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes":
        raise ValueError(header)
    if "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":  # the last N bytes
            n = int(last)
            start, end = max(0, size - n), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
    except ValueError as exc:
        raise ValueError(header) from exc
    if start > end or start >= size:
        raise ValueError(header)
    return start, end


def within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def clip_wav(desk, event_id: str) -> bytes:
    """The recording around a finding: from ``clip_lead_s`` before it to ``clip_tail_s`` after it,
    as 16 kHz WAV. KeyError when the finding, its call or a recording inside the share cannot be
    found; RecordingUnreadable when the recording no longer decodes."""
    from pipeline.warehouse.reviews import UnknownEventError, find_event

    try:
        event = find_event(desk.warehouse, event_id)
    except UnknownEventError as exc:
        raise KeyError(event_id) from exc
    call = Warehouse(desk.warehouse).call(str(event["call_id"])).call
    lead, tail = desk.config.desk.clip_lead_s, desk.config.desk.clip_tail_s
    return _cut(desk, call, event["start_ms"] / 1000 - lead, event["end_ms"] / 1000 + tail)


def moment_wav(desk, call_id: str, idx: int) -> bytes:
    """The recording around one stored utterance of a call (a moment left for a listener), cut as
    ``clip_wav`` cuts a finding's."""
    view = Warehouse(desk.warehouse).call(call_id)
    rows = view.utterances[view.utterances["idx"] == idx]
    if rows.empty:
        raise KeyError(f"{call_id}/{idx}")
    lead, tail = desk.config.desk.clip_lead_s, desk.config.desk.clip_tail_s
    return _cut(desk, view.call, rows.iloc[0]["start_ms"] / 1000 - lead, rows.iloc[0]["end_ms"] / 1000 + tail)


# The call page's player asks for byte ranges of the same call again and again as the reviewer
# seeks: the last few whole calls are kept decoded (a 5-minute stereo call is 19 MB).
_WHOLE_CALLS: OrderedDict[tuple, bytes] = OrderedDict()
_WHOLE_CALLS_KEPT = 4
_WHOLE_CALLS_LOCK = threading.Lock()


def call_wav(desk, call_id: str) -> bytes:
    """The whole call, for the call page's player (every finding's moment is a seek in it)."""
    call = Warehouse(desk.warehouse).call(call_id).call
    path = recording_path(desk, call)
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _WHOLE_CALLS_LOCK:
        if key in _WHOLE_CALLS:
            _WHOLE_CALLS.move_to_end(key)
            return _WHOLE_CALLS[key]
    body = _cut(desk, call, 0.0, float("inf"))
    with _WHOLE_CALLS_LOCK:
        _WHOLE_CALLS[key] = body
        while len(_WHOLE_CALLS) > _WHOLE_CALLS_KEPT:
            _WHOLE_CALLS.popitem(last=False)
    return body


def _cut(desk, call, start_s: float, end_s: float) -> bytes:
    from pipeline.audio.decode import SAMPLE_RATE, DecodeError, decode

    path = recording_path(desk, call)
    start = max(0.0, start_s)
    try:
        with decode(path, spool_after_s=desk.config.run.spool_after_s) as audio:
            a = int(start * SAMPLE_RATE)
            b = audio.n_samples if end_s == float("inf") else min(audio.n_samples, int(end_s * SAMPLE_RATE))
            samples = [track[a:b] for track in audio.tracks]
    except DecodeError as exc:
        raise RecordingUnreadable(
            f"通话 {call['call_id']} 的录音 {_shown(desk, path, call)} 无法解码（{_reason(exc)}）。"
            "请检查共享目录里的这个文件是否被替换、截断或损坏。"
        ) from exc
    return wav_bytes(samples, SAMPLE_RATE)


def _shown(desk, path: Path, call) -> str:
    """The recording as the share's people know it: relative to the share (as stored, pseudonyms
    included), never where the share is mounted."""
    stored = Path(str(call["path"]))
    if stored.is_absolute():
        return str(path.resolve().relative_to(desk.share))
    return str(stored)


def _reason(exc: Exception) -> str:
    """The decoder's reason without the file's full path (the message names the stored path)."""
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text


def recording_path(desk, call) -> Path:
    """The share's file of a stored call; KeyError when it is not inside the share (never say which)."""
    path = Path(str(call["path"]))
    if not path.is_absolute():
        path = desk.share / path
    if not path.is_file():  # a stored path whose personal numbers were pseudonymised
        path = _recording(desk, str(call["path"])) or path
    if not within(path, desk.share) or not path.is_file():
        raise KeyError(str(call["call_id"]))
    return path


_RECORDINGS: dict[str, dict[str, Path]] = {}


def _recording(desk, stored: str) -> Path | None:
    """The share's file whose stored path is ``stored``, from an index of the share made once
    (again when a file is not in it: a recording added since). None without the pseudonym key."""
    from pipeline.privacy.identifiers import key_file, load_pseudonyms
    from pipeline.run.scan import stored_paths

    if not key_file(desk.config.privacy.pseudonym_key_file).exists():
        return None
    index = _RECORDINGS.get(str(desk.share))
    if index is None or stored not in index:
        pseudonyms = load_pseudonyms(desk.config.privacy.pseudonym_key_file)
        index = _RECORDINGS[str(desk.share)] = stored_paths(desk.share, pseudonyms.scrub)
    return index.get(stored)
