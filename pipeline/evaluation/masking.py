"""Masking recall on personal data as transcribed: what the stored text still shows of what was said.

``privacy.redact`` is unit-tested on clean text, but it runs on Whisper's words, and Whisper damages
numbers (一三八零零一二三四五六 stored as 以3800123456) and the cues that find names (我姓王 heard as
我星王). So the personal items are listed where they are known, in the truth's reference text (by
``redact`` itself: every phone, ID number, room and self-introduced name it masks there), and each
is looked for in the clear in what the warehouse stored for the recording (already masked):

- a number (phone, ID, room) leaks when ``min(6, its length)`` consecutive digits of it stand in
  one run of stored digits (spoken and full-width digits read as digits; the separators Whisper
  writes inside a number are crossed, the mask ＊ and any other character end a run);
- a name leaks when it stands in the stored text.

A number Whisper garbled beyond recognition is not a leak: nobody can read it back either, which is
the point of measuring as transcribed. A secret long enough to be unique (6 digits or more, a name of
two characters or more) is looked for anywhere in the recording; a shorter one (a room's 3-5
digits, a surname alone) recurs by chance (the agent's 工号201, 钱 as money), so only in the stored
characters aligned with where it was said (jiwer's character alignment of the whole recording).

Reports never carry a secret: a leak is its recording, kind and who said it, with the stored
context around it, every digit and the name's characters shown as ``#``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.evaluation.evaluate import wilson_interval
from pipeline.privacy.redact import _DIGIT_CHARS, _TO_DIGIT, PII_KINDS, redact

# Rooms shorter than this are not counted: a building's or entrance's "3" identifies nobody alone.
MIN_UNIT_DIGITS = 3
# Digits of a number that must stand together in the clear to call it leaked (all of a shorter one).
LEAK_WINDOW = 6
# How far around the aligned position a short secret is looked for, in characters: Whisper inserts
# or drops a character next to it (a room run into the 一 of 一年).
_SLACK = 2
# Stored utterances (and reference ones) are joined by a character that is no separator of a
# number, so digits of two utterances never make one run.
_JOIN = "|"
_SEPARATOR = r"[\s，,、.．·\-‐‑–—－()（）]*"
_DIGIT_RUN = re.compile(rf"[{_DIGIT_CHARS}](?:{_SEPARATOR}[{_DIGIT_CHARS}])*")
_DIGIT = re.compile(rf"[{_DIGIT_CHARS}]")
_CONTEXT = 6  # stored characters shown either side of a leak


@dataclass(frozen=True)
class PersonalItem:
    """One piece of personal data said in a call: its digits or name, where the reference says it.

    Said twice (the agent reads a number back), it is one item with two spans: whether it leaked
    is decided on the recording's whole stored text, so counting it twice would count one leak twice.
    """

    kind: str  # one of PII_KINDS
    secret: str = field(repr=False)  # ASCII digits, or a name's Han characters; never reported
    spans: tuple[tuple[int, int], ...]  # in the joined reference text (see reference_text)
    role: str  # who said it first


@dataclass(frozen=True)
class Outcome:
    """One item in one recording: leaked or not, and if so what the stored text shows around it."""

    call_id: str
    kind: str
    role: str
    leaked: bool
    exposed: int = 0  # digits (or name characters) of it that stand together in the clear
    length: int = 0  # its digits (or characters)
    context: str = ""  # the stored text around the leak, digits and name characters as #


@dataclass(frozen=True)
class Tally:
    """Items and leaks of one group; recall is the share masked (or garbled beyond reading)."""

    items: int = 0
    leaked: int = 0

    def add(self, leaked: bool) -> Tally:
        return Tally(self.items + 1, self.leaked + leaked)

    def to_dict(self) -> dict:
        masked = self.items - self.leaked
        return {
            "items": self.items,
            "leaked": self.leaked,
            "recall": round(masked / self.items, 4) if self.items else None,
            "recall_ci": wilson_interval(masked, self.items),
        }


def _ordered(utterances: Iterable[Mapping]) -> list[Mapping]:
    return sorted(utterances, key=lambda u: u.get("start", 0.0))


def reference_text(utterances: Iterable[Mapping]) -> str:
    """The reference utterances in order of speech, joined as the stored ones are."""
    return _JOIN.join(u["text"] for u in _ordered(utterances))


def digits_of(text: str) -> str:
    """The ASCII digits of ``text``, spoken (一, 幺, 两, 〇) and full-width ones included."""
    return re.sub(r"[^0-9]", "", text.translate(_TO_DIGIT))


def personal_items(utterances: Iterable[Mapping]) -> tuple[PersonalItem, ...]:
    """The personal data said in a call, as ``redact`` finds it in the reference text.

    Phones and ID numbers as their digits; rooms only with ``MIN_UNIT_DIGITS`` digits or more; names
    as their Han characters. The spans index :func:`reference_text` of the same utterances.
    """
    found: dict[tuple[str, str], tuple[list[tuple[int, int]], str]] = {}
    offset = 0
    for u in _ordered(utterances):
        text = u["text"]
        for r in redact(text).redactions:
            said = text[r.start : r.end]
            if r.kind == "name":
                secret = "".join(ch for ch in said if "\u4e00" <= ch <= "\u9fff")
            else:
                secret = digits_of(said)
                if r.kind == "unit" and len(secret) < MIN_UNIT_DIGITS:
                    continue
            if not secret:
                continue
            spans, _ = found.setdefault((r.kind, secret), ([], u["role"]))
            spans.append((offset + r.start, offset + r.end))
        offset += len(text) + len(_JOIN)
    return tuple(
        PersonalItem(kind, secret, tuple(spans), role) for (kind, secret), (spans, role) in found.items()
    )


def _aligned(reference: str, hypothesis: str) -> list[tuple[int, int, int, int]]:
    """(reference start, end, hypothesis start, end) of each chunk of a character alignment."""
    import jiwer

    chars = jiwer.ReduceToListOfListOfChars()  # keeps spaces: offsets stay the texts'
    out = jiwer.process_characters(
        reference, hypothesis, reference_transform=chars, hypothesis_transform=chars
    )
    return [(c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx) for c in out.alignments[0]]


def _where_said(chunks: list[tuple[int, int, int, int]], start: int, end: int) -> tuple[int, int]:
    """The stored characters aligned with ``reference[start:end]``."""
    lo, hi = None, None
    for r0, r1, h0, h1 in chunks:
        inserted_at_edge = r0 == r1 and start <= r0 <= end
        if not inserted_at_edge and (r1 <= start or r0 >= end):
            continue
        if r1 - r0 == h1 - h0:  # equal or substituted: character for character
            a, b = h0 + max(0, start - r0), h0 + min(r1, end) - r0
        else:  # deleted (nothing stored) or inserted (stored, nothing said)
            a, b = h0, h1
        lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
    return (0, 0) if lo is None else (lo, hi)


def _longest_exposed(secret: str, digits: str) -> int:
    """The most consecutive digits of ``secret`` that ``digits`` shows."""
    for k in range(len(secret), 0, -1):
        if any(secret[i : i + k] in digits for i in range(len(secret) - k + 1)):
            return k
    return 0


def _context(hypothesis: str, start: int, end: int, hide: str) -> str:
    """The stored text around a leak, every digit and every character of ``hide`` shown as #."""
    shown = _DIGIT.sub("#", hypothesis[max(0, start - _CONTEXT) : end + _CONTEXT])
    for ch in set(hide):
        shown = shown.replace(ch, "#")
    return shown.replace(_JOIN, " | ")


def check_item(
    item: PersonalItem,
    call_id: str,
    hypothesis: str,
    chunks: list[tuple[int, int, int, int]] | None,
    hide: str = "",
) -> Outcome:
    """Whether ``item`` stands in the clear in ``hypothesis`` (the recording's stored text, joined).

    ``chunks`` (the alignment of the reference with it) is needed for short secrets only; ``hide``:
    characters never to show in the context (the call's names: the agent's 王先生 stays in the clear
    by design, and may stand next to a leaked room).
    """
    short = len(item.secret) < (2 if item.kind == "name" else LEAK_WINDOW)
    regions = [(0, len(hypothesis))]
    if short:
        if chunks is None:
            raise ValueError("a short secret is looked for where it was said: give the alignment")
        regions = [_where_said(chunks, s, e) for s, e in item.spans]
        regions = [(max(0, a - _SLACK), min(len(hypothesis), b + _SLACK)) for a, b in regions]
    length = len(item.secret)
    if item.kind == "name":
        for a, b in regions:
            if (pos := hypothesis.find(item.secret, a, b)) >= 0:
                context = _context(hypothesis, pos, pos + length, hide + item.secret)
                return Outcome(call_id, item.kind, item.role, True, length, length, context)
        return Outcome(call_id, item.kind, item.role, False, 0, length)
    window = min(LEAK_WINDOW, length)
    best = 0
    for run in _DIGIT_RUN.finditer(hypothesis):
        if not any(run.start() < b and run.end() > a for a, b in regions):
            continue
        exposed = _longest_exposed(item.secret, digits_of(run.group()))
        if exposed >= window:
            context = _context(hypothesis, run.start(), run.end(), hide)
            return Outcome(call_id, item.kind, item.role, True, exposed, length, context)
        best = max(best, exposed)
    return Outcome(call_id, item.kind, item.role, False, best, length)


def check_recording(
    call_id: str, reference_utterances: Sequence[Mapping], stored_texts: Sequence[str]
) -> list[Outcome]:
    """Every personal item of a call's reference, checked against one recording's stored texts
    (in order of speech)."""
    items = personal_items(reference_utterances)
    if not items:
        return []
    hypothesis = _JOIN.join(stored_texts)
    if not hypothesis:
        return [Outcome(call_id, i.kind, i.role, False, 0, len(i.secret)) for i in items]
    chunks = None
    if any(len(i.secret) < LEAK_WINDOW for i in items):
        chunks = _aligned(reference_text(reference_utterances), hypothesis)
    names = "".join(i.secret for i in items if i.kind == "name")
    return [check_item(item, call_id, hypothesis, chunks, names) for item in items]


def _tallies(outcomes: Iterable[tuple[str, Outcome]]) -> dict[str, dict[str, dict]]:
    counts: dict[str, dict[str, Tally]] = defaultdict(lambda: {k: Tally() for k in (*PII_KINDS, "all")})
    for group, o in outcomes:
        for name in (group, "all"):
            counts[name][o.kind] = counts[name][o.kind].add(o.leaked)
            counts[name]["all"] = counts[name]["all"].add(o.leaked)
    return {g: {k: t.to_dict() for k, t in by.items()} for g, by in sorted(counts.items())}


def masking_report(
    recordings: Iterable[tuple[str, str, Sequence[Mapping], Sequence[str]]],
    calls: Iterable[tuple[str, Sequence[Mapping]]] = (),
) -> dict:
    """Masking recall per recording kind and item kind, and the leaks, with no secret in them.

    ``recordings``: (call id, recording kind, the truth's utterances, the stored texts in order).
    ``calls``: (call id, the truth's utterances) once per call, for the same measure on the clean reference
    text masked by ``redact`` (``"clean"``): what the recall would be if Whisper made no error.
    """
    outcomes: list[tuple[str, Outcome]] = []
    for call_id, kind, utterances, texts in recordings:
        outcomes += [(kind, o) for o in check_recording(call_id, utterances, texts)]
    clean = [
        ("clean", o)
        for call_id, utterances in calls
        for o in check_recording(call_id, utterances, [redact(u["text"]).text for u in _ordered(utterances)])
    ]
    return {
        "by_kind": _tallies(outcomes),
        "clean": _tallies(clean).get("clean", {}),
        "leaks": [
            {
                "call_id": o.call_id,
                "recording": kind,
                "kind": o.kind,
                "role": o.role,
                "exposed": f"{o.exposed} of {o.length}",
                "context": o.context,
            }
            for kind, o in outcomes
            if o.leaked
        ],
    }
