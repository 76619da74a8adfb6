"""Listing the recordings in a share, with their metadata from ``manifest.csv`` files.

A manifest row is ``path,call_id,agent_id,started_at,channel_layout``; ``path`` is relative to the
manifest's folder and must stay inside the share. Audio files no manifest mentions take their
metadata from the configured file-name pattern; failing that they are still processed, with the
file name as call id and agent ``unknown``, and reported as such.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, replace
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
    path: Path, share: Path, pattern: re.Pattern, default_layout: str, timezone: str
) -> CallRef | None:
    """Metadata from the file's path (relative to the share) by the configured pattern."""
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
    )


def read_manifest(
    manifest: Path, share: Path, timezone: str = "Asia/Shanghai"
) -> tuple[list[CallRef], list[str]]:
    refs, problems = [], []
    root = os.path.realpath(share)
    folder = os.path.realpath(manifest.parent)
    with open(manifest, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{manifest}: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            where = f"{manifest}:{line}"
            # Lexical normalisation: one realpath per manifest, not per row (100k rows scan in seconds).
            path = os.path.normpath(os.path.join(folder, row["path"].strip()))
            if not path.startswith(root + os.sep):
                problems.append(f"{where}: path {row['path']!r} is outside the share; refused")
                continue
            layout = row["channel_layout"].strip()
            if layout not in LAYOUTS:
                problems.append(f"{where}: channel_layout {layout!r} is not one of {', '.join(LAYOUTS)}")
                continue
            try:
                started_at = _parse_time(row["started_at"], timezone)
            except ValueError:
                problems.append(f"{where}: started_at {row['started_at']!r} is not an ISO 8601 time")
                continue
            refs.append(
                CallRef(
                    call_id=row["call_id"].strip(),
                    path=path,
                    agent_id=row["agent_id"].strip() or "unknown",
                    started_at=started_at,
                    layout=layout,
                )
            )
    return refs, problems


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
) -> ScanResult:
    """Every recording under ``share`` with its metadata and file size/mtime."""
    if not share.is_dir():
        raise FileNotFoundError(f"share not found or not a folder: {share}")
    refs: dict[str, CallRef] = {}
    problems: list[str] = []
    pattern = re.compile(filename_pattern) if filename_pattern else None
    root = Path(os.path.realpath(share))
    manifests, audio = _walk(root)
    for manifest in sorted(manifests):
        found, issues = read_manifest(Path(manifest), root, timezone)
        problems += issues
        for ref in found:
            refs[ref.path] = ref
    without = []
    for key in sorted(audio):
        if key in refs:
            continue
        named = from_filename(Path(key), root, pattern, default_layout, timezone) if pattern else None
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
    return ScanResult(sorted(calls, key=lambda r: r.path), without, problems)
