"""Writing and reading the warehouse's Parquet tables.

A call's rows live in one file per table, ``<table>/call_date=<date>/<call_id>.parquet``: storing a
call again replaces exactly its rows (never duplicates them), and each file is written to a temp
name and renamed, so a crash leaves the previous good file readable. The ``calls`` file is
written last: it is the commit mark of a call.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.records import CallResult
from pipeline.warehouse import schemas

CALL_TABLES = ("utterances", "events", "calls")
TABLE_SCHEMAS = {
    "calls": schemas.CALLS,
    "utterances": schemas.UTTERANCES,
    "events": schemas.EVENTS,
    "scorecards": schemas.SCORECARDS,
    "failures": schemas.FAILURES,
}


def write_atomic(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _safe_name(call_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)


def store_call(warehouse: Path, result: CallResult, call_date: str | None = None) -> None:
    """Replace everything stored for this call with ``result`` (filed under ``call_date`` if given)."""
    name = f"{_safe_name(result.call.call_id)}.parquet"
    partition = f"call_date={call_date or result.call.call_date}"
    for table_name, table in ((t, schemas.call_tables(result)[t]) for t in CALL_TABLES):
        target = warehouse / table_name / partition / name
        write_atomic(table, target)
        # The call may have moved date (its metadata was corrected): drop its rows elsewhere.
        for stale in (warehouse / table_name).glob(f"call_date=*/{name}"):
            if stale != target:
                stale.unlink()


def read_table(warehouse: Path, name: str) -> pd.DataFrame:
    """A whole table as a DataFrame (empty, with the right columns, if nothing is stored yet)."""
    folder = warehouse / name
    if not folder.exists() or not any(folder.rglob("*.parquet")):
        return TABLE_SCHEMAS[name].empty_table().to_pandas()
    return pd.read_parquet(folder)
