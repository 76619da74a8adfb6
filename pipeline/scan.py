"""Listing the recordings in a share, with their metadata from ``manifest.csv`` files.

A manifest row is ``path,call_id,agent_id,started_at,channel_layout``; ``path`` is relative to the
manifest's folder and must stay inside the share. Audio files no manifest mentions are still
processed, with the file name as call id and agent ``unknown``, and reported as such.
"""

from __future__ import annotations

import csv
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
    from zoneinfo import ZoneInfo

    value = value.strip()
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


def read_manifest(
    manifest: Path, share: Path, timezone: str = "Asia/Shanghai"
) -> tuple[list[CallRef], list[str]]:
    refs, problems = [], []
    share = share.resolve()
    with open(manifest, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{manifest}: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            where = f"{manifest}:{line}"
            path = (manifest.parent / row["path"].strip()).resolve()
            if not path.is_relative_to(share):
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
                    path=str(path),
                    agent_id=row["agent_id"].strip() or "unknown",
                    started_at=started_at,
                    layout=layout,
                )
            )
    return refs, problems


def scan_share(
    share: Path, default_layout: str = "stereo-agent-left", timezone: str = "Asia/Shanghai"
) -> ScanResult:
    """Every recording under ``share`` with its metadata and file size/mtime."""
    if not share.is_dir():
        raise FileNotFoundError(f"share not found or not a folder: {share}")
    refs: dict[str, CallRef] = {}
    problems: list[str] = []
    for manifest in sorted(share.rglob("manifest.csv")):
        found, issues = read_manifest(manifest, share, timezone)
        problems += issues
        for ref in found:
            refs[ref.path] = ref
    without = []
    for path in sorted(p for p in share.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()):
        key = str(path.resolve())
        if key not in refs:
            refs[key] = CallRef(path.stem, key, "unknown", None, default_layout)
            without.append(key)
    calls = []
    for ref in refs.values():
        try:
            stat = Path(ref.path).stat()
        except FileNotFoundError:
            problems.append(f"{ref.call_id}: listed in a manifest but missing: {ref.path}")
            calls.append(ref)  # processed, so that it is recorded as failed with its reason
            continue
        calls.append(replace(ref, size=stat.st_size, mtime=stat.st_mtime))
    return ScanResult(sorted(calls, key=lambda r: r.path), without, problems)
