"""The ledger: which files were processed, with what result, so a rerun does only what is missing.

SQLite in the warehouse folder: transactional, so a crash mid-run loses nothing already recorded.
A file is done when its path, size and mtime match an ``ok`` row for the same model; a changed file
is processed again; a failed one is retried on later runs until ``max_attempts``. A ``rejected`` file
(refused before processing: unusable manifest row, duplicate call id, a path outside the share) is
judged afresh by every scan: its rows are replaced by the current scan's rejections.

``dirty_dates`` holds the call dates whose scorecards are behind their rows: stored by a run not
yet finished (or killed between the two), or given a verdict while another writer held the
warehouse. Whoever holds the warehouse's lock next recomputes them
(``pipeline.warehouse.scorecards.settle_scorecards``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline.records import CallRef
from pipeline.warehouse.store import WarehouseWriteError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    agent_id TEXT,
    size INTEGER,
    mtime REAL,
    sha256 TEXT,
    status TEXT NOT NULL,          -- ok | failed | rejected
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    model_id TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dirty_dates (call_date TEXT PRIMARY KEY, mark INTEGER NOT NULL DEFAULT 1)
"""
# Each mark of a dirty date counts up, so that a recompute unmarks only what it read: a date
# marked again while its scorecards were being recomputed stays marked (and shows as pending).
_MARK = (
    "INSERT INTO dirty_dates (call_date, mark) VALUES (?, 1)"
    " ON CONFLICT (call_date) DO UPDATE SET mark = mark + 1"
)


class Ledger:
    def __init__(self, warehouse: Path) -> None:
        self.path = warehouse / "ledger.sqlite"
        try:
            warehouse.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(dirty_dates)")}
            if "mark" not in columns:  # a ledger from before marks were counted
                try:
                    self._db.execute("ALTER TABLE dirty_dates ADD COLUMN mark INTEGER NOT NULL DEFAULT 1")
                except sqlite3.OperationalError as exc:
                    # Another process opening the same old ledger added it first.
                    if "duplicate column" not in str(exc):
                        raise
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise WarehouseWriteError(f"cannot write the ledger {self.path}: {exc}") from exc

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction; a full disk or a read-only warehouse is a WarehouseWriteError."""
        try:
            with self._db:
                yield
        except sqlite3.OperationalError as exc:
            raise WarehouseWriteError(f"cannot write the ledger {self.path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pending(self, refs: Iterable[CallRef], model_id: str, max_attempts: int = 3) -> list[CallRef]:
        rows = {
            r[0]: r[1:]
            for r in self._db.execute("SELECT path, size, mtime, status, attempts, model_id FROM files")
        }
        todo = []
        for ref in refs:
            row = rows.get(_key(ref))
            if row is None:
                todo.append(ref)
                continue
            size, mtime, status, attempts, done_model = row
            changed = size != ref.size or abs((mtime or 0) - ref.mtime) > 1e-3
            if (
                changed
                or status == "rejected"
                or (status == "ok" and done_model != model_id)
                or (status == "failed" and attempts < max_attempts)
            ):
                todo.append(ref)
        return todo

    def _record(self, ref: CallRef, status: str, error: str | None, model_id: str | None) -> None:
        """One row; the caller holds the transaction."""
        previous = self._db.execute(
            "SELECT attempts, size, mtime FROM files WHERE path = ?", (_key(ref),)
        ).fetchone()
        same_file = previous is not None and previous[1] == ref.size and previous[2] == ref.mtime
        attempts = (previous[0] if same_file else 0) + 1 if status == "failed" else 0
        self._db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _key(ref),
                ref.call_id,
                ref.agent_id,
                ref.size,
                ref.mtime,
                ref.sha256,
                status,
                error,
                attempts,
                model_id,
                _now(),
            ),
        )

    def record_ok(self, refs: Iterable[CallRef], model_id: str, dates: Iterable[str] = ()) -> None:
        """Files whose rows are stored, and the call dates those rows changed, in one transaction."""
        with self._writing():
            for ref in refs:
                self._record(ref, "ok", None, model_id)
            self._db.executemany(_MARK, [(d,) for d in dates])

    def mark_dirty(self, dates: Iterable[str]) -> None:
        """Call dates whose scorecards must be recomputed (a verdict recorded during a run)."""
        with self._writing():
            self._db.executemany(_MARK, [(d,) for d in dates])

    def record_failure(self, ref: CallRef, error: str) -> None:
        if ref.stored_path:  # the message names the file as stored, never where it is
            error = error.replace(ref.path, ref.stored_path)
        with self._writing():
            self._record(ref, "failed", error, None)

    def rekey(self, keys: dict[str, str]) -> None:
        """Rows recorded under a file's real path (before paths were stored relative to the share,
        pseudonymised) take the key it has now, so that an upgrade does not process the share again."""
        old = [(new, path) for path, new in keys.items() if new and new != path]
        if not old:
            return
        known = {r[0] for r in self._db.execute("SELECT path FROM files")}
        moves = []
        for new, path in old:
            if path in known and new not in known:  # a key already taken stays with its row
                moves.append((new, path))
                known.add(new)
        if moves:
            with self._writing():
                self._db.executemany("UPDATE files SET path = ? WHERE path = ?", moves)

    def set_rejected(self, rejected: Iterable[tuple[CallRef, str]]) -> None:
        """This scan's rejections replace the previous ones (a fixed manifest row is no longer one)."""
        rows = [
            (_key(r), r.call_id, r.agent_id, r.size, r.mtime, "", "rejected", reason, 0, None, _now())
            for r, reason in rejected
        ]
        with self._writing():
            self._db.execute("DELETE FROM files WHERE status = 'rejected'")
            self._db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )

    def owners(self) -> dict[str, str]:
        """call_id -> the path stored under it (the latest, should an old ledger hold several)."""
        cur = self._db.execute("SELECT call_id, path FROM files WHERE status = 'ok' ORDER BY updated_at")
        return dict(cur.fetchall())

    def dirty_dates(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT call_date FROM dirty_dates")}

    def dirty_marks(self) -> dict[str, int]:
        """Each dirty date with its mark (``clear_marks`` unmarks exactly these)."""
        return dict(self._db.execute("SELECT call_date, mark FROM dirty_dates").fetchall())

    def clear_marks(self, marks: dict[str, int]) -> None:
        """Unmark the dates of ``marks`` that have not been marked again since they were read."""
        with self._writing():
            self._db.executemany(
                "DELETE FROM dirty_dates WHERE call_date = ? AND mark = ?", list(marks.items())
            )

    def clear_dirty(self, dates: Iterable[str]) -> None:
        with self._writing():
            self._db.executemany("DELETE FROM dirty_dates WHERE call_date = ?", [(d,) for d in dates])

    def failures(self) -> list[dict]:
        cur = self._db.execute(
            "SELECT path, call_id, agent_id, error, attempts, updated_at FROM files"
            " WHERE status IN ('failed', 'rejected') ORDER BY path"
        )
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur]


def _key(ref: CallRef) -> str:
    """A file's row: by its stored path (relative, pseudonymised), else its path (a ref made by hand)."""
    return ref.stored_path or ref.path


def _now() -> str:
    return datetime.now(UTC).isoformat()
