"""Listing the recordings in a share, with their metadata from ``manifest.csv`` files.

A manifest row is ``path,call_id,agent_id,started_at,channel_layout``; ``path`` is relative to the
manifest's folder and must stay inside the share. Audio files no manifest mentions take their
metadata from the configured file-name pattern; failing that they are still processed, with the
file name as call id and agent ``unknown``, and reported as such.

A manifest never stops the scan. A row that cannot be used (a path outside the share, a bad date or
channel layout, an empty call id, missing fields) is a problem of that row, and the recording it
names is *rejected*: recorded in ``failures`` with the reason, not processed with made-up metadata,
and looked at again on every run, so fixing the manifest is enough. A manifest that cannot be read
at all (missing columns, not UTF-8, not CSV) rejects the recordings under its folder that no other
manifest lists.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from pipeline.records import LAYOUTS, CallRef

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".amr"}
REQUIRED = ("path", "call_id", "agent_id", "started_at", "channel_layout")


class ManifestError(ValueError):
    """A manifest row that cannot be used; names the file and line."""


@dataclass(frozen=True)
class ScanResult:
    calls: list[CallRef]
    without_metadata: list[str]  # paths processed with agent 'unknown'
    problems: list[str]  # manifest rows skipped, with the reason
    # Recordings that must not be processed, with the reason (recorded in failures).
    rejected: list[tuple[CallRef, str]] = field(default_factory=list)


def _parse_time(value: str, timezone: str) -> datetime | None:
    """ISO 8601, or the compact YYYYmmddHHMMSS of recorder file names; local time if no offset."""
    from zoneinfo import ZoneInfo

    value = value.strip()
    if not value:
        return None
    moment = (
        datetime.strptime(value, "%Y%m%d%H%M%S")
        if re.fullmatch(r"\d{14}", value)
        else datetime.fromisoformat(value)
    )
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


def from_filename(
    path: Path,
    share: Path,
    pattern: re.Pattern,
    default_layout: str,
    timezone: str,
    personal_groups: tuple[str, ...] = ("caller",),
) -> CallRef | None:
    """Metadata from the file's path (relative to the share) by the configured pattern. The first
    personal group that matched is the caller (stored only as its pseudonym: plan_run)."""
    match = pattern.search(path.relative_to(share).as_posix())
    if match is None:
        return None
    groups = match.groupdict()
    try:
        started_at = _parse_time(groups.get("started_at") or "", timezone)
    except ValueError:
        started_at = None
    return CallRef(
        call_id=groups.get("call_id") or path.stem,
        path=str(path),
        agent_id=groups.get("agent_id") or "unknown",
        started_at=started_at,
        layout=groups.get("layout") if groups.get("layout") in LAYOUTS else default_layout,
        caller_id=next((groups[g] for g in personal_groups if groups.get(g)), ""),
    )


def read_manifest(
    manifest: Path, share: Path, timezone: str = "Asia/Shanghai"
) -> tuple[list[CallRef], list[str]]:
    """The usable rows of a manifest, and a problem per unusable row. Raises ManifestError when the
    manifest itself cannot be used (missing columns, not UTF-8 CSV)."""
    refs, problems, _ = read_manifest_rows(manifest, share, timezone)
    return refs, problems


def read_manifest_rows(
    manifest: Path, share: Path, timezone: str = "Asia/Shanghai"
) -> tuple[list[CallRef], list[str], list[tuple[CallRef, str]]]:
    """Usable rows, problems, and the recordings of unusable rows with the reason (rejected)."""
    refs, problems, rejected = [], [], []
    root = os.path.realpath(share)
    folder = os.path.realpath(manifest.parent)
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise ManifestError(f"{manifest}: missing column(s) {', '.join(missing)}; manifest not used")
            for line, row in enumerate(reader, start=2):
                where = f"{manifest}:{line}"
                raw = (row.get("path") or "").strip()
                if not raw:
                    problems.append(f"{where}: empty path; row skipped")
                    continue
                # Lexical normalisation: one realpath per manifest, not per row (100k rows scan in
                # seconds); symbolic links are checked for the files a run processes (plan_run).
                path = os.path.normpath(os.path.join(folder, raw))
                call_id = (row.get("call_id") or "").strip()
                agent_id = (row.get("agent_id") or "").strip() or "unknown"
                layout = (row.get("channel_layout") or "").strip()
                # An optional ``caller`` column: stored only as its pseudonym (plan_run).
                caller = (row.get("caller") or "").strip()
                ref = CallRef(call_id or Path(path).stem, path, agent_id, None, layout, caller_id=caller)
                reason = None
                if not path.startswith(root + os.sep):
                    reason = f"path {raw!r} is outside the share; refused"
                elif any(row.get(c) is None for c in REQUIRED):
                    absent = [c for c in REQUIRED if row.get(c) is None]
                    reason = f"the row ends before {', '.join(absent)}"
                elif not call_id:
                    reason = "empty call_id"
                elif layout not in LAYOUTS:
                    reason = f"channel_layout {layout!r} is not one of {', '.join(LAYOUTS)}"
                else:
                    try:
                        ref = replace(ref, started_at=_parse_time(row["started_at"], timezone))
                    except ValueError:
                        reason = f"started_at {row['started_at']!r} is not an ISO 8601 time"
                if reason is None:
                    refs.append(ref)
                else:
                    problems.append(f"{where}: {reason}")
                    rejected.append((ref, f"manifest row {where}: {reason}"))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"{manifest}: not a UTF-8 CSV file ({exc}); manifest not used") from exc
    return refs, problems, rejected


def _walk(root: Path) -> tuple[list[str], dict[str, os.stat_result]]:
    """Manifests and audio files under ``root`` in one pass (os.scandir: no per-file path objects)."""
    manifests: list[str] = []
    audio: dict[str, os.stat_result] = {}
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.name == "manifest.csv":
                    manifests.append(entry.path)
                elif os.path.splitext(entry.name)[1].lower() in AUDIO_SUFFIXES and entry.is_file():
                    audio[entry.path] = entry.stat()
    return manifests, audio


def scan_share(
    share: Path,
    default_layout: str = "stereo-agent-left",
    timezone: str = "Asia/Shanghai",
    filename_pattern: str | None = None,
    personal_groups: tuple[str, ...] = ("caller",),
) -> ScanResult:
    """Every recording under ``share`` with its metadata and file size/mtime, as the share names
    them (``pipeline.privacy.identifiers.protect`` makes what is stored of them)."""
    if not share.is_dir():
        raise FileNotFoundError(f"share not found or not a folder: {share}")
    refs: dict[str, CallRef] = {}
    problems: list[str] = []
    rejected: dict[str, tuple[CallRef, str]] = {}
    unusable: list[tuple[str, str]] = []  # (folder, reason) of manifests that cannot be read
    pattern = re.compile(filename_pattern) if filename_pattern else None
    root = Path(os.path.realpath(share))
    manifests, audio = _walk(root)
    for manifest in sorted(manifests):
        try:
            found, issues, refused = read_manifest_rows(Path(manifest), root, timezone)
        except ManifestError as exc:
            problems.append(str(exc))
            unusable.append((os.path.dirname(manifest) + os.sep, str(exc)))
            continue
        problems += issues
        for ref in found:
            if ref.path in refs:  # one recording, one call: the first row that lists it
                problems.append(
                    f"{ref.path}: listed again as {ref.call_id!r}; kept as {refs[ref.path].call_id!r}"
                )
            else:
                refs[ref.path] = ref
        for ref, reason in refused:
            rejected.setdefault(ref.path, (ref, reason))
    without = []
    for key in sorted(audio):
        if key in refs or key in rejected:
            continue
        broken = next((reason for folder, reason in unusable if key.startswith(folder)), None)
        if broken is not None:
            ref = CallRef(Path(key).stem, key, "unknown", None, default_layout)
            rejected[key] = (ref, f"no usable metadata: {broken}")
            continue
        named = (
            from_filename(Path(key), root, pattern, default_layout, timezone, personal_groups)
            if pattern
            else None
        )
        if named is not None:
            refs[key] = named
        else:
            refs[key] = CallRef(Path(key).stem, key, "unknown", None, default_layout)
            without.append(key)
    calls = []
    for ref in refs.values():
        stat = audio.get(ref.path)
        if stat is None:
            try:
                stat = os.stat(ref.path)
            except FileNotFoundError:
                problems.append(f"{ref.call_id}: listed in a manifest but missing: {ref.path}")
                calls.append(ref)  # processed, so that it is recorded as failed with its reason
                continue
        calls.append(replace(ref, size=stat.st_size, mtime=stat.st_mtime))
    # A rejected row that names a recording another row lists validly is only a manifest problem.
    refused = [
        (
            replace(ref, size=audio[ref.path].st_size, mtime=audio[ref.path].st_mtime)
            if ref.path in audio
            else ref,
            why,
        )
        for path, (ref, why) in sorted(rejected.items())
        if path not in refs
    ]
    return ScanResult(sorted(calls, key=lambda r: r.path), without, problems, refused)


def stored_paths(share: Path, scrub) -> dict[str, Path]:
    """Every recording of the share by its stored path (relative, ``scrub`` applied): how the desk
    finds the file behind a call whose stored path was pseudonymised."""
    root = Path(os.path.realpath(share))
    _, audio = _walk(root)
    return {scrub(Path(key).relative_to(root).as_posix()): Path(key) for key in audio}
