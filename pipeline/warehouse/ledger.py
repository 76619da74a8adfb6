"""The ledger: which files were processed, with what result, so a rerun does only what is missing.

SQLite in the warehouse folder: transactional, so a crash mid-run loses nothing already recorded.
A file is done when its path, size and mtime match an ``ok`` row for the same model; a changed file
is processed again; a failed one is retried on later runs until ``max_attempts``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.records import CallRef

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    agent_id TEXT,
    size INTEGER,
    mtime REAL,
    sha256 TEXT,
    status TEXT NOT NULL,          -- ok | failed
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    model_id TEXT,
    updated_at TEXT NOT NULL
)
"""


class Ledger:
    def __init__(self, warehouse: Path) -> None:
        warehouse.mkdir(parents=True, exist_ok=True)
        self.path = warehouse / "ledger.sqlite"
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

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
            row = rows.get(ref.path)
            if row is None:
                todo.append(ref)
                continue
            size, mtime, status, attempts, done_model = row
            changed = size != ref.size or abs((mtime or 0) - ref.mtime) > 1e-3
            if (
                changed
                or (status == "ok" and done_model != model_id)
                or (status == "failed" and attempts < max_attempts)
            ):
                todo.append(ref)
        return todo

    def _record(self, ref: CallRef, status: str, error: str | None, model_id: str | None) -> None:
        """One row; the caller holds the transaction."""
        previous = self._db.execute(
            "SELECT attempts, size, mtime FROM files WHERE path = ?", (ref.path,)
        ).fetchone()
        same_file = previous is not None and previous[1] == ref.size and previous[2] == ref.mtime
        attempts = (previous[0] if same_file else 0) + 1 if status == "failed" else 0
        self._db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ref.path,
                ref.call_id,
                ref.agent_id,
                ref.size,
                ref.mtime,
                ref.sha256,
                status,
                error,
                attempts,
                model_id,
                datetime.now(UTC).isoformat(),
            ),
        )

    def record_ok(self, refs: Iterable[CallRef], model_id: str) -> None:
        """Files whose rows are stored, in one transaction."""
        with self._db:
            for ref in refs:
                self._record(ref, "ok", None, model_id)

    def record_failure(self, ref: CallRef, error: str) -> None:
        with self._db:
            self._record(ref, "failed", error, None)

    def failures(self) -> list[dict]:
        cur = self._db.execute(
            "SELECT path, call_id, agent_id, error, attempts, updated_at FROM files WHERE status = 'failed' ORDER BY path"
        )
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur]
