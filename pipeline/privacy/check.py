"""``callqa privacy check``: where a warehouse holds a number that could be a phone or ID number.

Scans every table's text (calls, turns, utterances, events, scorecards, reviews, failures), the
ledger and the run log (every text column), and the reports' visible text, for digit runs of 7
or more (``identifiers.personal_numbers``: grouped as numbers are written, an ID's X, but not a
date or time stamp). Columns that are hashes or versions (``sha256``, ``event_id`` ...) are not
text anyone said or named and are skipped: hex digests hold digit runs by chance.

Each finding names the file, the column, the row (its call id where it has one) and the number
with all but its first three digits hidden, so the check's own output leaks nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from pipeline.privacy.identifiers import personal_numbers

TABLES = ("calls", "turns", "utterances", "events", "scorecards", "reviews", "failures")
# Digests and versions: not personal, and digit runs in them are chance.
SKIPPED_COLUMNS = frozenset(
    {"sha256", "event_id", "review_id", "model_id", "lexicon_version", "rule_version", "model"}
)


@dataclass(frozen=True)
class Finding:
    where: str  # a file of the warehouse, relative to it
    column: str
    row: str  # the call id, or the row's number
    number: str  # the number found, all but its first three digits hidden


def _hidden(number: str) -> str:
    seen = 0
    out = []
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= 3 else "•")
        else:
            out.append(ch)
    return "".join(out)


def _safe(text: str) -> str:
    """A row's label as the check may print it: its own personal numbers hidden too."""
    out, last = [], 0
    for start, end in personal_numbers(text):
        out += [text[last:start], _hidden(text[start:end])]
        last = end
    return "".join(out) + text[last:]


def _strings(value: object) -> Iterator[str]:
    """The text in a cell: a string, or the strings inside lists, maps and structs."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _findings(where: str, column: str, row: str, value: object) -> Iterator[Finding]:
    for text in _strings(value):
        for start, end in personal_numbers(text):
            yield Finding(_safe(where), column, _safe(row), _hidden(text[start:end]))


def _tables(warehouse: Path) -> Iterator[Finding]:
    import pyarrow.parquet as pq

    for name in TABLES:
        for file in sorted((warehouse / name).rglob("*.parquet")):
            table = pq.read_table(file)
            columns = [c for c in table.column_names if c not in SKIPPED_COLUMNS]
            ids = table.column("call_id").to_pylist() if "call_id" in table.column_names else None
            for column in columns:
                if not _has_text(table.schema.field(column).type):
                    continue
                for i, value in enumerate(table.column(column).to_pylist()):
                    row = str(ids[i]) if ids is not None else str(i)
                    yield from _findings(file.relative_to(warehouse).as_posix(), column, row, value)


def _has_text(arrow_type) -> bool:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return True
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return _has_text(arrow_type.value_type)
    if pa.types.is_map(arrow_type):
        return _has_text(arrow_type.key_type) or _has_text(arrow_type.item_type)
    if pa.types.is_struct(arrow_type):
        return any(_has_text(arrow_type.field(i).type) for i in range(arrow_type.num_fields))
    return False


def _databases(warehouse: Path) -> Iterator[Finding]:
    for file in sorted(warehouse.glob("*.sqlite")):
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                if table.startswith("sqlite_"):
                    continue
                cursor = db.execute(f'SELECT * FROM "{table}"')
                names = [d[0] for d in cursor.description]
                for n, row in enumerate(cursor):
                    key = str(row[names.index("call_id")]) if "call_id" in names else str(n)
                    for name, value in zip(names, row, strict=True):
                        if name not in SKIPPED_COLUMNS and isinstance(value, str):
                            yield from _findings(f"{file.name}:{table}", name, key, value)


class _VisibleText(HTMLParser):
    """The text a reader sees: not tags, attributes (embedded images), scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _reports(warehouse: Path) -> Iterator[Finding]:
    for file in sorted((warehouse / "reports").glob("*.html")):
        parser = _VisibleText()
        parser.feed(file.read_text(errors="replace"))
        for n, text in enumerate(parser.parts):
            yield from _findings(file.relative_to(warehouse).as_posix(), "text", str(n), text)


def check_warehouse(warehouse: Path) -> list[Finding]:
    """Every number in the warehouse that could be a phone or ID number."""
    return [*_tables(warehouse), *_databases(warehouse), *_reports(warehouse)]
