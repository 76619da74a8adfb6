"""Re-applying the rules to stored calls, without transcribing again.

After a lexicon fix or a threshold change, ``callqa rescore --since 2026-10-01`` rebuilds each
call's events (and, on mono recordings, its roles, which depend on the self-introduction cues,
and the clauses ``pipeline.speakers.registers`` gives back to the other voice)
from the utterances in the warehouse, replaces those calls' rows and rebuilds the scorecards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from pipeline.audio.prosody import VoiceMeasures
from pipeline.config import Config
from pipeline.lexicon import Lexicon, load_lexicon
from pipeline.privacy.redact import redact_call
from pipeline.records import (
    AudioQuality,
    CallMetrics,
    CallRef,
    CallResult,
    ChannelQuality,
    GreetingHearing,
    RoleAssignment,
    Turn,
    Utterance,
    Word,
)
from pipeline.rules.conduct import polite_counts
from pipeline.run.process import numbered, score_call
from pipeline.speakers.attribution import reassign_roles
from pipeline.warehouse.schemas import AGENT_MEASURES
from pipeline.warehouse.scorecards import settle_scorecards
from pipeline.warehouse.store import partition_dates, read_table, store_calls


def _partitions(folder: Path, since: date | None) -> list[Path]:
    parts = sorted(folder.glob("call_date=*"))
    if since is None:
        return parts
    return [p for p in parts if p.name.split("=", 1)[1] >= since.isoformat()]


def _read(folder: Path, since: date | None) -> pd.DataFrame:
    frames = [
        pd.read_parquet(p).assign(call_date=p.name.split("=", 1)[1]) for p in _partitions(folder, since)
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def utterances_of(rows: pd.DataFrame) -> tuple[Utterance, ...]:
    """Stored utterance rows (of one call) as records, in order."""
    return tuple(
        Utterance(
            call_id=r.call_id,
            idx=int(r.idx),
            role=r.role,
            start=r.start_ms / 1000,
            end=r.end_ms / 1000,
            text=r.text,
            words=tuple(
                Word(w["text"], w["start_ms"] / 1000, w["end_ms"] / 1000, float(w["prob"])) for w in r.words
            ),
            confidence=float(r.confidence),
            speaker=r.speaker,
            flags=tuple(r.flags),
        )
        for r in rows.sort_values("idx").itertuples()
    )


def stored_utterances(warehouse: Path, since: date | None = None) -> list[Utterance]:
    """Every stored utterance (of calls dated ``since`` or later), as records."""
    dates = [d for d in partition_dates(warehouse) if since is None or d >= since.isoformat()]
    rows = read_table(warehouse, "utterances", dates)
    return [u for _, group in rows.groupby("call_id") for u in utterances_of(group)] if not rows.empty else []


def _turns(rows: pd.DataFrame) -> tuple[Turn, ...]:
    return tuple(
        Turn(r.speaker, r.role, r.start_ms / 1000, r.end_ms / 1000, int(r.channel))
        for r in rows.sort_values("idx").itertuples()
    )


def _stored_metrics(
    call: Any, ref: CallRef, utterances: tuple[Utterance, ...], lexicon: Lexicon
) -> CallMetrics:
    """A stereo call's figures as stored (its channels fix who is who), the polite words counted again."""
    return CallMetrics(
        call_id=ref.call_id,
        agent_id=ref.agent_id,
        duration=call.duration_ms / 1000,
        talk_agent=call.talk_agent_ms / 1000,
        talk_caller=call.talk_caller_ms / 1000,
        silence=call.silence_ms / 1000,
        overlap=call.overlap_ms / 1000,
        agent_chars_per_s=float(call.agent_chars_per_s),
        n_utterances=int(call.n_utterances),
        overlap_started_by_agent=call.overlap_agent_started_ms / 1000,
        overlap_started_by_caller=call.overlap_caller_started_ms / 1000,
        polite_counts=polite_counts(utterances, lexicon["polite"].phrases),
    )


def _stored_voice(call: Any) -> VoiceMeasures | None:
    """The agent's voice measures of a stored call row; None for a call stored before they were
    measured, or whose roles were not trusted (nulls)."""
    values = {name: getattr(call, f"agent_{name}", None) for name in VoiceMeasures.__dataclass_fields__}
    if values["voiced_s"] is None or pd.isna(values["voiced_s"]):
        return None
    return VoiceMeasures(
        **{k: float("nan") if v is None or pd.isna(v) else float(v) for k, v in values.items()}
    )


def _listed(values: Any, n: int) -> list:
    """A stored per-channel column as a list of ``n``; Nones where the call has no such column."""
    if values is None or not isinstance(values, list | tuple | np.ndarray) or len(values) != n:
        return [None] * n
    return list(values)


def _stored_quality(call: Any) -> AudioQuality | None:
    """The audio-quality reading of a stored call row; None for a call stored before it was read."""
    levels = getattr(call, "audio_speech_dbfs", None)
    if levels is None or (not isinstance(levels, list | tuple | np.ndarray)) or len(levels) == 0:
        return None

    def value(v: Any) -> float:
        return float("nan") if v is None or pd.isna(v) else float(v)

    fields = (
        "speech_dbfs",
        "noise_dbfs",
        "clipped_share",
        "dropout_share",
        "bandwidth_hz",
        "behind_db",
        "voice_dbfs",
    )
    # (a call stored before a measure existed has no column, or nulls, for it: NaN)
    columns = [_listed(getattr(call, f"audio_{f}", None), len(levels)) for f in fields]
    channels = tuple(
        ChannelQuality(**{f: value(col[i]) for f, col in zip(fields, columns, strict=True)})
        for i in range(len(levels))
    )
    at, margin = getattr(call, "audio_greeting_at_ms", None), getattr(call, "audio_greeting_margin", None)
    greeting = (
        None
        if at is None or pd.isna(at) or margin is None or pd.isna(margin)
        else GreetingHearing(int(at) / 1000, float(margin))
    )
    return AudioQuality(
        channels,
        int(call.audio_source_rate),
        str(call.audio_codec),
        value(call.audio_doubted_share),
        greeting=greeting,
    )


def rescore_call(
    call: Any,
    utterances: tuple[Utterance, ...],
    cfg: Config,
    lexicon: Lexicon,
    turns: tuple[Turn, ...] = (),
) -> CallResult:
    """One stored call (a row of the calls table) through the current rules: a pure function of rows."""
    tz = ZoneInfo(cfg.timezone)
    started = call.started_at.to_pydatetime().astimezone(tz) if pd.notna(call.started_at) else None
    caller = getattr(call, "caller_id", None)
    ref = CallRef(
        call.call_id,
        call.path,
        call.agent_id,
        started,
        call.layout,
        call.sha256,
        stored_path=call.path,
        caller_id=caller if isinstance(caller, str) else "",
    )
    roles = RoleAssignment(call.agent_speaker, float(call.role_confidence), call.role_reason)
    regrouped = False
    if call.layout == "mono":
        # The roles and the clauses in the other party's words, as the nightly run reads them (a
        # lexicon fix can make a stored call's voices mixed, or no longer). Moves stored earlier
        # stay made.
        spoken = reassign_roles(turns, utterances, lexicon, cfg)
        roles = spoken.roles
        regrouped = spoken.clauses_moved or roles.agent_speaker != call.agent_speaker
        turns = tuple(spoken.turns)
        utterances = tuple(numbered(spoken.utterances) if spoken.clauses_moved else spoken.utterances)
    # The agent's voice as measured from the audio, unless the agent is now another voice.
    voice = _stored_voice(call) if roles.agent_speaker == call.agent_speaker else None
    result = score_call(
        ref,
        call.duration_ms / 1000,
        turns,
        utterances,
        roles,
        cfg,
        lexicon,
        call.model_id,
        voice,
        _stored_quality(call),
    )
    if not regrouped:
        # Who is who and which words are whose are as stored: so are the talk and pace figures
        # (computed before the text was masked); the polite words and the agent's word measures
        # are counted again.
        stored = _stored_metrics(call, ref, utterances, lexicon)
        measured = {name: getattr(result.metrics, name) for name in AGENT_MEASURES}
        result = replace(result, metrics=replace(stored, **measured))
    result = replace(result, timings=dict(call.stage_seconds or []))
    # Stored text is already masked; masking again is a no-op unless privacy.redact grew since.
    return redact_call(result, cfg.privacy.redact)


def rescore(
    warehouse: Path, cfg: Config, since: date | None = None, progress: Callable[[str], None] | None = None
) -> int:
    """Rescore every stored call dated ``since`` or later; returns how many calls were rescored.

    Holds the warehouse's lock (waiting up to ``[run] lock_wait_s`` for a run or a verdict's
    recompute to finish; RunLocked after that): its read-modify-write of whole day partitions
    must not interleave with another writer's."""
    from pipeline.run.batch import RunLock

    with RunLock(warehouse, wait_s=cfg.run.lock_wait_s):
        return _rescore(warehouse, cfg, since, progress)


def _rescore(warehouse: Path, cfg: Config, since: date | None, progress: Callable[[str], None] | None) -> int:
    lexicon = load_lexicon(cfg.lexicons_path)
    dates = [d for d in partition_dates(warehouse) if since is None or d >= since.isoformat()]
    calls = read_table(warehouse, "calls", dates)
    if calls.empty:
        return 0
    touched: set[str] = set()
    for call_date, day in calls.groupby("call_date"):
        utterances = read_table(warehouse, "utterances", [call_date])
        turns = read_table(warehouse, "turns", [call_date])
        by_call = dict(tuple(utterances.groupby("call_id"))) if not utterances.empty else {}
        turns_by_call = dict(tuple(turns.groupby("call_id"))) if not turns.empty else {}
        results = [
            rescore_call(
                call,
                utterances_of(by_call.get(call.call_id, utterances.iloc[0:0])),
                cfg,
                lexicon,
                _turns(turns_by_call.get(call.call_id, turns.iloc[0:0])),
            )
            for call in day.itertuples()
        ]
        # A call stays in the partition it was filed under, whatever the time zone setting says now.
        touched |= store_calls(warehouse, results, {r.call.call_id: call_date for r in results})
        if progress:
            progress(f"{call_date}: {len(results)} calls, {sum(len(r.events) for r in results)} events")
    settle_scorecards(warehouse, cfg.scoring, touched)
    return len(calls)
