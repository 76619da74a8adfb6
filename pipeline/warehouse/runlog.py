"""The run log: every nightly run and weekly report, and what ``callqa serve`` will run next.

SQLite beside the ledger (``runs.sqlite`` in the warehouse), so that ``callqa status`` can say when
the last run was, what it did and when the next one is due without a Prefect server. One row a run:
started, finished, how it was started (``schedule``, ``catch-up`` after a missed due time, or
``manual``), its outcome (``ok``, ``failed``: the run itself failed, ``locked``: another run held the
warehouse, ``running`` while it goes, ``interrupted`` if the process died), and its counts. The
``schedule`` table holds, per job, the last due time served and the next one, written by serve.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.warehouse.store import WarehouseWriteError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,             -- nightly | weekly_report
    trigger TEXT NOT NULL,         -- schedule | catch-up | manual
    due_at TEXT,                   -- the scheduled time it served (ISO 8601, the centre's zone)
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,          -- running | ok | failed | locked | interrupted
    pid INTEGER,
    scanned INTEGER, processed INTEGER, failed INTEGER, rejected INTEGER, waiting INTEGER,
    message TEXT
);
CREATE TABLE IF NOT EXISTS schedule (
    job TEXT PRIMARY KEY,
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    last_due TEXT,                 -- the latest due time that was run, caught up or skipped
    next_due TEXT,
    serve_pid INTEGER,
    updated_at TEXT NOT NULL
)
"""

_COUNTS = ("scanned", "processed", "failed", "rejected", "waiting")


@dataclass(frozen=True)
class RunRecord:
    id: int
    job: str
    trigger: str
    due_at: str | None
    started_at: str
    finished_at: str | None
    status: str
    pid: int | None
    scanned: int | None
    processed: int | None
    failed: int | None
    rejected: int | None
    waiting: int | None
    message: str | None


@dataclass(frozen=True)
class ScheduleRecord:
    job: str
    cron: str
    timezone: str
    last_due: str | None
    next_due: str | None
    serve_pid: int | None
    updated_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLog:
    def __init__(self, warehouse: Path) -> None:
        self.path = warehouse / "runs.sqlite"
        try:
            warehouse.mkdir(parents=True, exist_ok=True)
            # A run that holds the warehouse lock for hours must not block a refused run's row.
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise WarehouseWriteError(f"cannot write the run log {self.path}: {exc}") from exc

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def start(self, job: str, trigger: str, due_at: str | None = None) -> int:
        with self._db:
            cursor = self._db.execute(
                "INSERT INTO runs (job, trigger, due_at, started_at, status, pid) VALUES (?, ?, ?, ?, ?, ?)",
                (job, trigger, due_at, _now(), "running", os.getpid()),
            )
        return int(cursor.lastrowid)

    def finish(self, run_id: int, status: str, summary: dict | None = None, message: str = "") -> None:
        counts = [(summary or {}).get(k) for k in _COUNTS]
        with self._db:
            self._db.execute(
                f"UPDATE runs SET finished_at = ?, status = ?, {', '.join(f'{k} = ?' for k in _COUNTS)}, "
                "message = ? WHERE id = ?",
                (_now(), status, *counts, message or None, run_id),
            )

    def recent(self, limit: int = 10, job: str | None = None) -> list[RunRecord]:
        """The latest runs first; a ``running`` row whose process is gone reads ``interrupted``."""
        where, args = ("WHERE job = ?", (job,)) if job else ("", ())
        rows = self._db.execute(
            f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", (*args, limit)
        ).fetchall()
        records = [RunRecord(*row) for row in rows]
        return [
            RunRecord(**{**r.__dict__, "status": "interrupted"})
            if r.status == "running" and not _pid_alive(r.pid)
            else r
            for r in records
        ]

    def set_schedule(
        self, job: str, cron: str, timezone: str, last_due: str | None, next_due: str | None
    ) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO schedule (job, cron, timezone, last_due, next_due, serve_pid, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job) DO UPDATE SET cron = excluded.cron, "
                "timezone = excluded.timezone, last_due = excluded.last_due, next_due = excluded.next_due, "
                "serve_pid = excluded.serve_pid, updated_at = excluded.updated_at",
                (job, cron, timezone, last_due, next_due, os.getpid(), _now()),
            )

    def schedules(self) -> dict[str, ScheduleRecord]:
        rows = self._db.execute("SELECT * FROM schedule ORDER BY job").fetchall()
        return {row[0]: ScheduleRecord(*row) for row in rows}
