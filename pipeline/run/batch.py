"""A batch run's steps as plain functions: plan, process one call and store it, finish.

The Prefect flows (``pipeline.run.flows``) only arrange these; tests and notebooks can call them
directly.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.audio.decode import DecodeError
from pipeline.config import Config
from pipeline.models.store import sha256_file
from pipeline.records import CallRef, CallResult
from pipeline.run.process import Models, process_call
from pipeline.run.scan import scan_share
from pipeline.warehouse.ledger import Ledger
from pipeline.warehouse.store import store_calls


@dataclass(frozen=True)
class CallOutcome:
    call_id: str
    path: str
    status: str  # ok | failed
    error: str = ""
    audio_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    todo: list[CallRef]
    scanned: int
    without_metadata: list[str]
    problems: list[str]
    waiting: list[str] = field(default_factory=list)  # files still being written
    # Recordings refused before processing, with the reason (in the failures table).
    rejected: list[tuple[CallRef, str]] = field(default_factory=list)
    # A message about a recording as it may be stored (its stored path, personal numbers
    # pseudonymised): applied to every failure before the ledger, the summary and the run log.
    safe_message: Callable[[CallRef, str], str] = lambda ref, text: text


def duplicate_call_ids(refs: list[CallRef], owners: dict[str, str]) -> list[tuple[CallRef, str]]:
    """One call id, one recording: of the files sharing a call id, the one already stored under it
    (``owners``: call_id -> path, from the ledger) keeps it, else the first by path; the others are
    refused, never stored over it. Re-judged on every run: when the owner leaves the share (a moved
    or removed file), the next file takes the id."""
    by_id: dict[str, list[CallRef]] = defaultdict(list)
    for ref in refs:
        by_id[ref.call_id].append(ref)
    refused = []
    for call_id, group in by_id.items():
        if len(group) < 2:
            continue
        paths = sorted(r.stored_path or r.path for r in group)
        owner = owners.get(call_id) if owners.get(call_id) in paths else paths[0]
        refused += [
            (
                r,
                f"duplicate call_id {call_id!r}: {owner} already has it; not processed, so that neither "
                "overwrites the other (give one of them its own call_id)",
            )
            for r in group
            if (r.stored_path or r.path) != owner
        ]
    return refused


def duplicate_stored_paths(refs: list[CallRef]) -> list[tuple[CallRef, str]]:
    """Two files whose stored paths are one (rare: names equal once their numbers are
    pseudonymised): the first by path keeps it, the others are refused, never stored over it."""
    seen: dict[str, CallRef] = {}
    refused = []
    for ref in sorted(refs, key=lambda r: r.path):
        key = ref.stored_path or ref.path
        if key in seen:
            refused.append(
                (ref, f"stored as {key!r}, as another recording already is; not processed (rename it)")
            )
        else:
            seen[key] = ref
    return refused


def outside_share(refs: list[CallRef], share: Path) -> list[tuple[CallRef, str]]:
    """Files that resolve outside the share through a symbolic link (the scan checks paths only)."""
    root = os.path.realpath(share) + os.sep
    return [
        (r, f"resolves outside the share ({os.path.realpath(r.path)}); refused")
        for r in refs
        if not os.path.realpath(r.path).startswith(root)
    ]


def plan_run(share: Path, warehouse: Path, cfg: Config, model_id: str, now: float | None = None) -> Plan:
    """What this run must do: new, changed and retryable files that are not still being written.

    Every recording's identity is protected first (``pipeline.privacy.identifiers.protect``): what
    is stored of it, and what the ledger is keyed by, is its path relative to the share with
    personal numbers pseudonymised. Recordings that must not be processed (unusable manifest rows,
    duplicate call ids, links out of the share) are recorded in the ledger as rejected, with the
    reason, replacing the last run's."""
    from pipeline.privacy.identifiers import (
        check_fingerprint,
        key_file,
        load_pseudonyms,
        protect,
        protect_text,
    )

    pseudonyms = load_pseudonyms(cfg.privacy.pseudonym_key_file, warehouse)
    check_fingerprint(warehouse, pseudonyms, key_file(cfg.privacy.pseudonym_key_file))
    scan = scan_share(
        share, cfg.default_layout, cfg.timezone, cfg.share.filename_pattern, cfg.privacy.personal_groups
    )
    root = Path(os.path.realpath(share))
    calls = [protect(r, root, pseudonyms) for r in scan.calls]
    scan_rejected = [
        (safe, protect_text(why.replace(str(root) + os.sep, ""), safe, pseudonyms))
        for safe, why in ((protect(r, root, pseudonyms), why) for r, why in scan.rejected)
    ]
    with Ledger(warehouse) as ledger:
        ledger.rekey({r.path: r.stored_path for r in calls + [r for r, _ in scan_rejected]})
        rejected = scan_rejected + duplicate_stored_paths(calls) + duplicate_call_ids(calls, ledger.owners())
        refused = {r.path for r, _ in rejected}
        pending = ledger.pending([r for r in calls if r.path not in refused], model_id, cfg.run.max_attempts)
        escaped = [(r, protect_text(why, r, pseudonyms)) for r, why in outside_share(pending, share)]
        rejected += escaped
        ledger.set_rejected(rejected)
    refused |= {r.path for r, _ in escaped}
    pending = [r for r in pending if r.path not in refused]
    cutoff = (time.time() if now is None else now) - cfg.share.quiet_period_s
    todo = [r for r in pending if r.mtime <= cutoff]
    waiting = [r.path for r in pending if r.mtime > cutoff]
    scanned = len(scan.calls) + len(scan.rejected)
    return Plan(
        todo,
        scanned,
        scan.without_metadata,
        scan.problems,
        waiting,
        rejected,
        lambda ref, text: protect_text(text, ref, pseudonyms),
    )


def process_one(ref: CallRef, cfg: Config, models: Models) -> tuple[CallOutcome, CallResult | None]:
    """One call through every stage. A recording that cannot be decoded is a failed outcome;
    one whose size changed since the scan is still being written and waits for the next run."""
    try:
        if Path(ref.path).stat().st_size != ref.size:
            return CallOutcome(ref.call_id, ref.path, "waiting", "still being written"), None
        ref = replace(ref, sha256=sha256_file(Path(ref.path)))
        result = process_call(ref, cfg, models)
    except (DecodeError, FileNotFoundError) as exc:
        message = str(exc).replace(ref.path, ref.stored_path) if ref.stored_path else str(exc)
        return CallOutcome(ref.call_id, ref.path, "failed", message), None
    outcome = CallOutcome(
        ref.call_id, ref.path, "ok", audio_s=result.metrics.duration, timings=result.timings
    )
    return outcome, result


class StoreBuffer:
    """Collects finished calls and stores them a batch at a time.

    A day's partition is rewritten once per batch, not once per call. The ledger records a call as
    done only after its rows are stored: a crash loses at most one unstored batch, which the next run
    processes again.
    """

    def __init__(self, warehouse: Path, refs: dict[str, CallRef], model_id: str, batch_calls: int) -> None:
        self.warehouse, self.refs, self.model_id, self.batch_calls = warehouse, refs, model_id, batch_calls
        self.pending: list[tuple[CallOutcome, CallResult]] = []
        self.touched_dates: set[str] = set()

    def add(self, outcome: CallOutcome, result: CallResult | None) -> None:
        if outcome.status == "waiting":
            return
        if result is None:
            with Ledger(self.warehouse) as ledger:
                ledger.record_failure(self.refs[outcome.path], outcome.error)
            return
        self.pending.append((outcome, result))
        if len(self.pending) >= self.batch_calls:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        dates = store_calls(self.warehouse, [result for _, result in self.pending])
        self.touched_dates |= dates
        with Ledger(self.warehouse) as ledger:
            stored = [replace(self.refs[o.path], sha256=r.call.sha256) for o, r in self.pending]
            # The dates stay "dirty" until their scorecards are recomputed (settle_scorecards).
            ledger.record_ok(stored, self.model_id, dates)
        self.pending.clear()


def write_failures(warehouse: Path) -> int:
    """The ledger's failed files as the ``failures`` Parquet table, for analysts and the report."""
    from datetime import datetime

    import pyarrow as pa

    from pipeline.warehouse import schemas
    from pipeline.warehouse.store import write_atomic

    with Ledger(warehouse) as ledger:
        rows = ledger.failures()
    table = pa.Table.from_pylist(
        [
            {
                "schema_version": schemas.SCHEMA_VERSION,
                "path": r["path"],
                "call_id": r["call_id"],
                "agent_id": r["agent_id"],
                "error": r["error"],
                "attempts": r["attempts"],
                "failed_at": datetime.fromisoformat(r["updated_at"]),
            }
            for r in rows
        ],
        schema=schemas.FAILURES,
    )
    write_atomic(table, warehouse / "failures" / "failures.parquet")
    return len(rows)


def unexpected_error(exc: BaseException) -> str:
    """A one-line reason for the failures table, with where it happened."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


class RunLocked(RuntimeError):
    """Another run holds this warehouse."""


class RunLock:
    """One run at a time per warehouse: an OS file lock, released by the kernel if the holder dies.

    Subclasses lock another file of the warehouse for another purpose (``schedule.ServeLock``)."""

    FILE = ".callqa.lock"

    def __init__(self, warehouse: Path, wait_s: float = 0.0) -> None:
        """``wait_s``: how long to wait for a holder to finish before giving up (0: not at all)."""
        self.path = warehouse / self.FILE
        self.wait_s = wait_s
        self._file = None

    def busy(self, holder: str) -> Exception:
        """What taking a lock that ``holder`` has raises."""
        return RunLocked(f"another callqa run is using {self.path.parent} ({holder}); try again when it ends")

    def __enter__(self) -> RunLock:
        import fcntl

        from pipeline.warehouse.store import WarehouseWriteError

        folder = self.path.parent
        try:
            if folder.exists() and not folder.is_dir():
                raise NotADirectoryError(20, "it is a file, not a folder", str(folder))
            folder.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+")
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(folder) else ""
            raise WarehouseWriteError(
                f"cannot use {folder} as the warehouse: {exc.strerror or exc}{where}"
            ) from exc
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                handle.close()
                raise self.busy(holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None

    @classmethod
    def holder(cls, warehouse: Path) -> str | None:
        """Who holds the lock now ("pid N since ..."), or None when it is free. A look only: the
        holder-to-be still takes the lock."""
        import fcntl

        try:
            with open(warehouse / cls.FILE) as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    return handle.read().strip() or "unknown"
        except OSError:
            pass
        return None


class ProgressReport:
    """Calls done of total, audio hours and ETA, one line per call on stderr (never the flow log)."""

    def __init__(self, total: int, stream=None) -> None:
        import sys

        self.total, self.done, self.audio_s = total, 0, 0.0
        self.started = time.perf_counter()
        self.stream = stream or sys.stderr

    def update(self, outcome: CallOutcome) -> None:
        self.done += 1
        self.audio_s += outcome.audio_s
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        detail = "" if outcome.status == "ok" else f" ({outcome.error[:80]})"
        self.stream.write(
            f"[{self.done}/{self.total}] {outcome.call_id} {outcome.status}{detail} | "
            f"audio {self.audio_s / 3600:.2f} h | elapsed {elapsed:.0f} s | ETA {eta:.0f} s\n"
        )
        self.stream.flush()


def _layout_warnings(warehouse: Path, call_ids: list[str]) -> list[str]:
    """The run's stereo calls that mostly contradicted the channel map, per agent, day and run."""
    from pipeline.warehouse.layout import contradicted_layouts
    from pipeline.warehouse.store import read_table

    if not call_ids:
        return []
    columns = ["call_id", "agent_id", "layout", "role_reason"]
    calls = read_table(warehouse, "calls", columns=columns, call_ids=call_ids)
    return [w.message() for w in contradicted_layouts(calls)]


def _quality_warning(warehouse: Path, call_ids: list[str]) -> str | None:
    """How many of the run's calls had rules not scored because of their audio, by cause."""
    from pipeline.rules import unheard_summary
    from pipeline.warehouse.store import read_table

    if not call_ids:
        return None
    calls = read_table(warehouse, "calls", columns=["call_id", "abstentions"], call_ids=call_ids)
    return unheard_summary(list(a) if a is not None else [] for a in calls["abstentions"])


def summarize(plan: Plan, outcomes: list[CallOutcome], warehouse: Path, started: float) -> dict:
    wall = time.perf_counter() - started
    audio = sum(o.audio_s for o in outcomes)
    failed = [o for o in outcomes if o.status == "failed"]
    waiting = plan.waiting + [o.path for o in outcomes if o.status == "waiting"]
    return {
        "warehouse": str(warehouse),
        "scanned": plan.scanned,
        "processed": sum(o.status == "ok" for o in outcomes),
        "skipped": plan.scanned - len(plan.todo) - len(plan.waiting) - len(plan.rejected),
        "waiting": len(waiting),
        "waiting_paths": waiting,
        "failed": len(failed),
        "failures": [{"call_id": o.call_id, "path": o.path, "error": o.error} for o in failed],
        "rejected": len(plan.rejected),
        "rejections": [{"call_id": r.call_id, "path": r.path, "error": why} for r, why in plan.rejected],
        "without_metadata": plan.without_metadata,
        "manifest_problems": plan.problems,
        "layout_warnings": _layout_warnings(warehouse, [o.call_id for o in outcomes if o.status == "ok"]),
        "quality_warning": _quality_warning(warehouse, [o.call_id for o in outcomes if o.status == "ok"]),
        "audio_s": round(audio, 2),
        "wall_s": round(wall, 2),
        "rtf": round(wall / audio, 4) if audio else 0.0,
    }
