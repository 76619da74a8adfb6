"""Personal numbers in identifiers: file names, folder names and manifest fields.

Many recorders name a file after the call, and the caller's number is usually part of the name
(``A101_20261120093000_13812345678.wav``). Whatever the share's names carry is never stored as it
is: each digit run that could be a phone or ID number (7 digits or more, with the ``-`` or space
a number is written with, an ID's final X, but not a date or time stamp such as ``20261120`` or
``20261120093000``) is replaced by a **keyed pseudonym**: ``p-`` and ten letters, the HMAC-SHA256
of the digits under a key kept outside the warehouse. The same number always gives the same
pseudonym, so one caller's calls still group together, but without the key the number cannot be
recovered from it, not even by trying every phone number.

The key (32 random bytes) lives in ``[privacy] pseudonym_key_file`` (default
``~/.config/callqa/pseudonym.key``; ``CALLQA_PSEUDONYM_KEY_FILE`` overrides it), is created on
first use with permissions 0600, and is refused inside the warehouse. The warehouse records the
key's fingerprint: a run with another key (a lost or replaced key file) is refused, because every
stored pseudonym, and every ledger entry keyed by one, would change.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.records import CallRef

# Digits in a row, or in groups of 3-4 as numbers are written (138-1234-5678, 0755 8888 1234),
# possibly an ID's final X. Not groups of two: 2026-11-20 is a date.
_DIGIT_RUN = re.compile(
    r"(?<![0-9])(?:[0-9]{3,4}(?:[- ][0-9]{3,4}){1,3}|[0-9]{7,})(?:[Xx](?![A-Za-z]))?(?![0-9])"
)
MIN_DIGITS = 7
# The centre's own 400/800 hotline numbers are not personal.
_HOTLINE = re.compile(r"[48]00[0-9]{7}")
# Labels of numbers that are not personal (an order's, a work ticket's): a run right after one is
# not taken for a phone or ID number. Searched up to the run's start.
NUMBER_LABEL_BEFORE = re.compile(r"(?:订单|工单|单|编|流水|快递)号(?:是|为|：|:)?\s*$")
PSEUDONYM = re.compile(r"p-[a-z]{10}")
DEFAULT_KEY_FILE = "~/.config/callqa/pseudonym.key"
KEY_ENV = "CALLQA_PSEUDONYM_KEY_FILE"


class PseudonymKeyError(RuntimeError):
    """The pseudonym key cannot be used: unreadable, inside the warehouse, or not this warehouse's."""


def is_timestamp(digits: str) -> bool:
    """A date or time stamp of a recorder's name: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS."""
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if len(digits) not in formats or not 1990 <= int(digits[:4]) <= 2100:
        return False
    try:
        datetime.strptime(digits, formats[len(digits)])
    except ValueError:
        return False
    return True


def personal_numbers(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds a number that could be a phone or ID number: (start, end) spans."""
    spans = []
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"[^0-9]", "", match.group())
        if len(digits) < MIN_DIGITS or is_timestamp(digits) or _HOTLINE.fullmatch(digits):
            continue
        if NUMBER_LABEL_BEFORE.search(text, 0, match.start()):
            continue
        spans.append(match.span())
    return spans


@dataclass(frozen=True)
class Pseudonyms:
    """Keyed pseudonyms of personal numbers (see the module's docstring)."""

    key: bytes

    def token(self, value: str) -> str:
        """The pseudonym of a number (however it is written: its digits count) or of any other
        personal value (a caller's name: the value itself, trimmed)."""
        digits = re.sub(r"[^0-9Xx]", "", value).upper()
        number = re.fullmatch(r"[0-9Xx\s+()-]+", value.strip()) is not None and digits
        mac = hmac.new(self.key, (digits if number else value.strip()).encode(), hashlib.sha256).digest()
        return "p-" + "".join(chr(ord("a") + b % 26) for b in mac[:10])

    def scrub(self, text: str) -> str:
        """``text`` with every personal number replaced by its pseudonym."""
        out, last = [], 0
        for start, end in personal_numbers(text):
            out += [text[last:start], self.token(text[start:end])]
            last = end
        return "".join(out) + text[last:]

    @property
    def fingerprint(self) -> str:
        """Identifies the key without revealing it (stored in the warehouse)."""
        return hmac.new(self.key, b"callqa pseudonym key", hashlib.sha256).hexdigest()[:16]


def key_file(configured: str = "") -> Path:
    return Path(os.environ.get(KEY_ENV) or configured or DEFAULT_KEY_FILE).expanduser()


def load_pseudonyms(configured: str, warehouse: Path | None = None) -> Pseudonyms:
    """The key from its file, created (0600) when there is none; refused inside the warehouse."""
    path = key_file(configured)
    if warehouse is not None:
        inside = path.resolve().is_relative_to(warehouse.resolve())
        if inside:
            raise PseudonymKeyError(
                f"the pseudonym key {path} is inside the warehouse {warehouse}: whoever reads the "
                "warehouse could then undo the pseudonyms. Keep it elsewhere ([privacy] pseudonym_key_file)"
            )
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
        key = bytes.fromhex(path.read_text().strip())
    except FileExistsError:  # another process created it meanwhile
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise PseudonymKeyError(f"cannot use the pseudonym key {path}: {exc}") from exc
    if len(key) < 16:
        raise PseudonymKeyError(f"the pseudonym key {path} is too short (16 bytes at least)")
    return Pseudonyms(key)


def check_fingerprint(warehouse: Path, pseudonyms: Pseudonyms, key_path: Path) -> None:
    """The warehouse's pseudonyms were made with this key (recorded on first use)."""
    marker = warehouse / "pseudonym-key.fingerprint"
    if not marker.exists():
        warehouse.mkdir(parents=True, exist_ok=True)
        marker.write_text(pseudonyms.fingerprint + "\n")
        return
    if marker.read_text().strip() != pseudonyms.fingerprint:
        raise PseudonymKeyError(
            f"the pseudonym key {key_path} is not the key this warehouse was written with "
            f"({marker}): its stored identifiers and ledger would no longer match. Restore the "
            "original key file"
        )


def protect(ref: CallRef, root: Path, pseudonyms: Pseudonyms) -> CallRef:
    """What is stored of a recording's identity: its path relative to the share, and its call id,
    agent id and path with every personal number (and the caller's own value, whatever it is)
    replaced by its pseudonym; the caller as a pseudonym. ``path`` stays where the file is."""
    from dataclasses import replace

    caller = ref.caller_id
    token = pseudonyms.token(caller) if caller else ""

    def scrub(text: str) -> str:
        if caller and len(caller) >= 2:
            text = text.replace(caller, token)
        return pseudonyms.scrub(text)

    # Lexically, not through links: a link inside the share keeps its own name (its target's
    # would make two files one). What lies outside the share is marked so.
    relative = os.path.relpath(os.path.normpath(ref.path), root)
    if relative == ".." or relative.startswith(".." + os.sep):
        relative = "outside-the-share/" + Path(ref.path).name
    relative = Path(relative).as_posix()
    return replace(
        ref,
        call_id=scrub(ref.call_id),
        agent_id=scrub(ref.agent_id),
        stored_path=scrub(relative),
        caller_id=token,
    )


def protect_text(text: str, ref: CallRef, pseudonyms: Pseudonyms) -> str:
    """A message about a recording (an error, a reason) as it may be stored: its path as stored."""
    if ref.stored_path:
        text = text.replace(ref.path, ref.stored_path)
        text = text.replace(Path(ref.path).name, Path(ref.stored_path).name)  # as decode names it
    return pseudonyms.scrub(text)
