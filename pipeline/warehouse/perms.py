"""Output permissions: nothing in the warehouse is readable by more people than the share is.

The limit is the permission bits of the share's root folder. The nightly run narrows the warehouse
folder and everything in it to that limit (group and other bits the share lacks are removed; the
owner keeps read and write) and writes every new file under a matching umask. Writers that do not
see the share (the weekly report, re-scoring) take the limit from the warehouse folder itself, which
the nightly run has narrowed. A share of 0750 gives folders 0750 and files 0640: nothing
world-readable. Nothing is ever widened.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_GROUP_OTHER = 0o077


def share_limit(share: Path) -> int:
    """The group/other permission bits of the share's root folder."""
    return stat.S_IMODE(os.stat(share).st_mode) & _GROUP_OTHER


def narrow(root: Path, limit: int) -> int:
    """Remove from ``root`` and everything under it the group/other bits not in ``limit``;
    returns how many entries changed. Symbolic links are left alone."""
    changed = 0
    entries = [root]
    for folder, dirs, files in os.walk(root):
        entries += [Path(folder, name) for name in (*dirs, *files)]
    for path in entries:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            continue
        mode = stat.S_IMODE(st.st_mode)
        narrowed = mode & ~(_GROUP_OTHER & ~limit)
        if narrowed != mode:
            os.chmod(path, narrowed)
            changed += 1
    return changed


@contextmanager
def output_permissions(warehouse: Path, share: Path | None = None) -> Iterator[int]:
    """Within: the warehouse narrowed to the share's limit (or its own) and a umask that keeps new
    files and folders within it. Yields the limit (group/other bits allowed)."""
    from pipeline.warehouse.store import WarehouseWriteError

    try:
        warehouse.mkdir(parents=True, exist_ok=True)
        limit = share_limit(share) if share is not None else share_limit(warehouse)
        narrow(warehouse, limit)
    except OSError as exc:
        raise WarehouseWriteError(f"cannot set the permissions of {warehouse}: {exc}") from exc
    previous = os.umask(0o077)
    os.umask(previous | (_GROUP_OTHER & ~limit))
    try:
        yield limit
    finally:
        os.umask(previous)
