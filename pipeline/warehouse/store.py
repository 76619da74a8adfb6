"""Writing and reading the warehouse's Parquet tables.

Each table is Hive-partitioned by the call centre's local call date, one file per partition:
``<table>/call_date=<YYYY-MM-DD>/data.parquet``. Storing calls rewrites the partitions they touch:
their old rows are dropped and the new ones added, so storing a call again replaces its rows and
never duplicates them. Every file is written to a temp name and renamed over the old one, so a
crash leaves the last good partition readable. A batch of calls is written in two steps: every
partition it changes is written to its temp file first, and only when all are written are they
renamed into place (``calls`` last: a call's row there marks it complete), so a full disk or an
unwritable folder changes nothing. A write that fails raises ``WarehouseWriteError`` and leaves no
temp file; the temp files of a killed process are removed by the next run (``remove_stale_temps``).

Files stay few (one per day and table) however many calls a day has, so a year of a large centre
reads in seconds, and pandas, DuckDB and Polars read the folders as they are.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.records import CallResult
from pipeline.warehouse import schemas

CALL_TABLES = ("turns", "utterances", "events", "calls")
TABLE_SCHEMAS = {
    "calls": schemas.CALLS,
    "turns": schemas.TURNS,
    "utterances": schemas.UTTERANCES,
    "events": schemas.EVENTS,
    "scorecards": schemas.SCORECARDS,
    "failures": schemas.FAILURES,
}
PARTITION_FILE = "data.parquet"


class WarehouseWriteError(OSError):
    """The warehouse cannot be written (full disk, read-only folder, a file where a folder should
    be); what was stored before is unchanged."""


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f": {exc.filename}" if exc.filename else "")
    return str(exc)


def write_all(items: Iterable[tuple[pa.Table, Path]]) -> None:
    """Write every (table, path) to a temp file as it comes, then rename them all into place, in
    order.

    Nothing is renamed unless every file was written; no temp file is left behind.
    """
    import pyarrow.parquet as pq

    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []  # partition folders this write made, removed again if it fails
    target = None
    try:
        for table, target in items:
            if not target.parent.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                created.append(target.parent)
            staged.append((_temp_name(target), target))
            pq.write_table(table, staged[-1][0], compression="zstd")
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise WarehouseWriteError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def write_atomic(table: pa.Table, path: Path) -> None:
    write_all([(table, path)])


def append_record(folder: Path, schema: pa.Schema, row: dict, at: datetime, record_id: str) -> Path:
    """One row of an append-only folder (``reviews/``, ``appeals/``) as its own Parquet file,
    ``<time>-<id>.parquet``, written to a temp name and renamed: never half-written, never
    rewriting another, safe beside a nightly run."""
    path = folder / f"{at.strftime('%Y%m%dT%H%M%S%f')}-{record_id}.parquet"
    write_atomic(pa.Table.from_pylist([{"schema_version": 1, **row}], schema=schema), path)
    return path


# Files of an append-only folder never change once renamed into place: each folder's are read
# once, then only the new ones (the desk reads the verdicts for every page; a year is tens of
# thousands of files).
_APPENDED: dict[Path, tuple[frozenset[str], pa.Table]] = {}
_APPENDED_LOCK = threading.Lock()


def read_appended(folder: Path, schema: pa.Schema) -> pa.Table:
    """Every row of an append-only folder, in file order (time, then id)."""
    import pyarrow.parquet as pq

    folder = folder.resolve()
    names = frozenset(f.name for f in folder.glob("*.parquet")) if folder.is_dir() else frozenset()
    if not names:
        return schema.empty_table()
    with _APPENDED_LOCK:
        seen, table = _APPENDED.get(folder, (frozenset(), schema.empty_table()))
        if not seen <= names:  # a folder replaced (restored from a backup): read it afresh
            seen, table = frozenset(), schema.empty_table()
        if new := sorted(names - seen):
            table = pa.concat_tables([table, *(pq.read_table(folder / n, schema=schema) for n in new)])
            _APPENDED[folder] = (names, table)
    return table


def remove_stale_temps(warehouse: Path) -> int:
    """Temp files a killed run left behind (call only while holding the run lock)."""
    removed = 0
    for tmp in warehouse.rglob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def ensure_writable(warehouse: Path) -> None:
    """Fail before any work, with a clear reason, when the warehouse cannot be written."""
    probe = _temp_name(warehouse / "probe")
    try:
        warehouse.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
    except OSError as exc:
        raise WarehouseWriteError(f"cannot write the warehouse {warehouse}: {_describe(exc)}") from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)


def partition_dates(warehouse: Path, table: str = "calls") -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in (warehouse / table).glob("call_date=*") if p.is_dir())


def _partition_path(warehouse: Path, table: str, call_date: str) -> Path:
    return warehouse / table / f"call_date={call_date}" / PARTITION_FILE


def stored_dates(warehouse: Path, call_ids: Iterable[str]) -> dict[str, str]:
    """Where each of ``call_ids`` is stored now (call_id -> call_date), for those that are."""
    import pyarrow.compute as pc

    wanted = pa.array(sorted(set(call_ids)), pa.string())
    found: dict[str, str] = {}
    for call_date in partition_dates(warehouse):
        ids = _read_partition(warehouse, "calls", call_date, ["call_id"])["call_id"]
        for call_id in ids.filter(pc.is_in(ids, value_set=wanted)).to_pylist():
            found[call_id] = call_date
    return found


def _read_partition(
    warehouse: Path, table: str, call_date: str, columns: list[str] | None = None
) -> pa.Table:
    import pyarrow.parquet as pq

    path = _partition_path(warehouse, table, call_date)
    if not path.exists():
        schema = TABLE_SCHEMAS[table]
        return (
            schema.empty_table()
            if columns is None
            else pa.schema([schema.field(c) for c in columns]).empty_table()
        )
    schema = TABLE_SCHEMAS[table]
    if pq.read_schema(path).names == schema.names:
        return pq.read_table(path, columns=columns)
    # Written by an older callqa: brought to today's schema (one partition at a time, rarely).
    conformed = schemas.conform(table, pq.read_table(path), schema)
    return conformed if columns is None else conformed.select(columns)


def store_calls(
    warehouse: Path, results: Sequence[CallResult], call_dates: dict[str, str] | None = None
) -> set[str]:
    """Replace everything stored for these calls; returns the call dates whose partitions changed.

    ``call_dates`` may pin a call's partition (re-scoring keeps a call where it was filed).
    """
    import pyarrow.compute as pc

    if not results:
        return set()
    target = {r.call.call_id: (call_dates or {}).get(r.call.call_id) or r.call.call_date for r in results}
    previous = stored_dates(warehouse, target)
    touched = set(target.values()) | set(previous.values())
    new_rows: dict[str, dict[str, list[pa.Table]]] = {t: defaultdict(list) for t in CALL_TABLES}
    for result in results:
        for table, rows in schemas.call_tables(result).items():
            new_rows[table][target[result.call.call_id]].append(rows)
    replaced = pa.array(sorted(target), pa.string())
    emptied: list[Path] = []

    def partitions() -> Iterator[tuple[pa.Table, Path]]:
        # One partition in memory at a time: each is written to its temp file as it is built.
        for table in CALL_TABLES:  # calls last
            for call_date in sorted(touched):
                existing = _read_partition(warehouse, table, call_date)
                kept = existing.filter(pc.invert(pc.is_in(existing["call_id"], value_set=replaced)))
                combined = pa.concat_tables([kept, *new_rows[table].get(call_date, [])]).combine_chunks()
                path = _partition_path(warehouse, table, call_date)
                if combined.num_rows == 0 and table == "calls":
                    emptied.append(path)
                else:
                    yield combined, path

    write_all(partitions())
    for path in emptied:
        path.unlink(missing_ok=True)
    return touched


def store_call(warehouse: Path, result: CallResult, call_date: str | None = None) -> set[str]:
    return store_calls(warehouse, [result], {result.call.call_id: call_date} if call_date else None)


def read_arrow(
    warehouse: Path,
    name: str,
    dates: Iterable[str] | None = None,
    columns: list[str] | None = None,
    call_ids: Iterable[str] | None = None,
) -> pa.Table:
    """A per-call table (or the partitions of ``dates``) as one Arrow table with ``call_date``;
    only the rows of ``call_ids`` when given (kept in Arrow: a day's utterances are 20,000 rows
    with their words, and the desk's call page wants one call's)."""
    import pyarrow.compute as pc

    wanted = partition_dates(warehouse, name) if dates is None else sorted(set(dates))
    ids = None if call_ids is None else pa.array(sorted(set(call_ids)), pa.string())
    frames = []
    for call_date in wanted:
        if _partition_path(warehouse, name, call_date).exists():
            part = _read_partition(warehouse, name, call_date, columns)
            if ids is not None:
                part = part.filter(pc.is_in(part["call_id"], value_set=ids))
            frames.append(
                part.append_column("call_date", pa.repeat(pa.scalar(call_date, pa.string()), part.num_rows))
            )
    if not frames:
        schema = TABLE_SCHEMAS[name]
        fields = list(schema) if columns is None else [schema.field(c) for c in columns]
        return pa.schema([*fields, pa.field("call_date", pa.string())]).empty_table()
    return pa.concat_tables(frames)


def read_table(
    warehouse: Path,
    name: str,
    dates: Iterable[str] | None = None,
    columns: list[str] | None = None,
    call_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """A table (or the partitions of ``dates``, the rows of ``call_ids``) as a DataFrame, with
    ``call_date`` as a column.

    Empty, with the right columns, when nothing is stored yet.
    """
    if name in CALL_TABLES:
        return read_arrow(warehouse, name, dates, columns, call_ids).to_pandas()
    folder = warehouse / name
    if not folder.exists() or not any(folder.rglob("*.parquet")):
        return TABLE_SCHEMAS[name].empty_table().to_pandas()
    return pd.read_parquet(folder, columns=columns)
