"""Explicit pyarrow schemas of every table, and records -> rows.

``call_date`` (and ``period`` for scorecards) are Hive partition keys: they live in the folder
names, not in the files, and readers (pandas, DuckDB, Polars) add them back as columns.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pyarrow as pa

from pipeline.records import CallResult

SCHEMA_VERSION = 1


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


# The agent's measures (CallMetrics fields of the same names), stored as they are, NaN as null.
AGENT_MEASURES = (
    "agent_hedges_per_min",
    "agent_fillers_per_min",
    "agent_answer_latency_s",
    "agent_nin_share",
    "agent_voiced_s",
    "agent_pitch_median_hz",
    "agent_pitch_range_st",
    "agent_loudness_db",
    "agent_loudness_range_db",
    "agent_loudness_slope_db_per_min",
)

# The audio-quality reading's per-channel measures (records.ChannelQuality fields, prefixed).
AUDIO_CHANNEL_MEASURES = (
    "audio_speech_dbfs",
    "audio_noise_dbfs",
    "audio_snr_db",
    "audio_clipped_share",
    "audio_dropout_share",
    "audio_bandwidth_hz",
    "audio_behind_db",
    "audio_voice_dbfs",
)

CALLS = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("call_id", pa.string()),
        ("agent_id", pa.string()),
        ("started_at", pa.timestamp("ms", tz="UTC")),
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("layout", pa.string()),
        ("duration_ms", pa.int64()),
        ("model_id", pa.string()),
        ("lexicon_version", pa.string()),
        ("agent_speaker", pa.string()),
        ("role_confidence", pa.float32()),
        ("role_reason", pa.string()),
        ("talk_agent_ms", pa.int64()),
        ("talk_caller_ms", pa.int64()),
        ("silence_ms", pa.int64()),
        ("overlap_ms", pa.int64()),
        ("overlap_agent_started_ms", pa.int64()),
        ("overlap_caller_started_ms", pa.int64()),
        ("agent_chars_per_s", pa.float32()),
        ("n_utterances", pa.int32()),
        ("n_events", pa.int32()),
        ("polite_counts", pa.map_(pa.string(), pa.int32())),
        ("polite_total", pa.int32()),
        ("abstentions", pa.list_(pa.string())),
        ("status", pa.string()),
        ("processed_at", pa.timestamp("ms", tz="UTC")),
        ("stage_seconds", pa.map_(pa.string(), pa.float32())),
        # The caller's pseudonym (``CallRef.caller_id``), null where the share names no caller.
        ("caller_id", pa.string()),
        # The agent's measures, whether or not a rule fires (null: roles not trusted, nothing to
        # measure, or a call stored before they existed). Words (pipeline.rules.answers): hedges and
        # fillers per minute of the agent's speech, the median seconds before answering a question,
        # 您 / (您 + 你). Voice (pipeline.audio.prosody): voiced seconds, median pitch, pitch range
        # (10th-90th percentile), loudness (median dBFS), its range and its slope over the call.
        *((name, pa.float32()) for name in AGENT_MEASURES),
        # How well the call can be heard (pipeline.audio.quality; null: stored before
        # 2026-12-05). Per channel as scored (stereo: left, right; mono: the mix): the speech's
        # level and the noise floor under it (dBFS), their difference, the share of speech frames
        # clipped and lost to digital silence, where the speech spectrum ends (Hz), and on stereo
        # the sound of other people's voices while neither party talks against the channel's
        # talker (dB; null: mono, not measurable, or stored before 2026-12-06). Then how
        # the file was stored, and the share of the call's words Whisper doubted.
        *((name, pa.list_(pa.float32())) for name in AUDIO_CHANNEL_MEASURES),
        ("audio_codec", pa.string()),
        ("audio_source_rate", pa.int32()),
        ("audio_doubted_share", pa.float32()),
        # Where the agent's opening was flagged for a missing greeting, what its sound says
        # (pipeline.asr.hearing): where the opening read starts, and the log-probability margin of
        # the best reading starting with 您好/你好 over the best without one (null: not read).
        ("audio_greeting_at_ms", pa.int32()),
        ("audio_greeting_margin", pa.float32()),
        # The rules not scored because the audio could not be heard well enough ([quality]
        # floors); why is in abstentions.
        ("not_scored", pa.list_(pa.string())),
    ]
)

WORD = pa.struct(
    [("text", pa.string()), ("start_ms", pa.int64()), ("end_ms", pa.int64()), ("prob", pa.float32())]
)

UTTERANCES = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("call_id", pa.string()),
        ("idx", pa.int32()),
        ("role", pa.string()),
        ("speaker", pa.string()),
        ("start_ms", pa.int64()),
        ("end_ms", pa.int64()),
        ("text", pa.string()),
        ("confidence", pa.float32()),
        ("flags", pa.list_(pa.string())),
        ("words", pa.list_(WORD)),
    ]
)

# Who spoke when, as the diarization found it (a channel's speech in stereo, a voice cluster in
# mono): what the timeline plots and RTTM exports read. ``overlapped``: the other party was
# speaking during some of the turn.
TURNS = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("call_id", pa.string()),
        ("idx", pa.int32()),
        ("speaker", pa.string()),
        ("role", pa.string()),
        ("channel", pa.int8()),
        ("start_ms", pa.int64()),
        ("end_ms", pa.int64()),
        ("overlapped", pa.bool_()),
    ]
)

EVENTS = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("event_id", pa.string()),  # records.event_id: stable across rescoring
        ("call_id", pa.string()),
        ("agent_id", pa.string()),
        ("rule_id", pa.string()),
        ("category", pa.string()),
        ("severity", pa.string()),
        ("start_ms", pa.int64()),
        ("end_ms", pa.int64()),
        ("role", pa.string()),
        ("evidence", pa.string()),
        ("confidence", pa.float32()),
        ("rule_version", pa.string()),
    ]
)

SCORECARDS = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("agent_id", pa.string()),
        ("period_start", pa.date32()),
        ("n_calls", pa.int32()),
        ("talk_minutes", pa.float32()),
        ("greeting_compliance", pa.float32()),
        ("self_intro_compliance", pa.float32()),
        ("closing_compliance", pa.float32()),
        ("interruptions_per_call", pa.float32()),
        ("calls_impatient", pa.int32()),
        ("calls_domineering", pa.int32()),
        ("premature_hangups", pa.int32()),
        ("banned_rude", pa.int32()),
        ("banned_arrogant", pa.int32()),
        ("banned_irresponsible", pa.int32()),
        ("banned_impatient", pa.int32()),
        ("banned_improper", pa.int32()),
        ("banned_total", pa.int32()),
        ("median_agent_chars_per_s", pa.float32()),
        ("polite_per_call", pa.float32()),
        ("n_events", pa.int32()),
        ("events_per_call", pa.float32()),
        ("deduction_per_call", pa.float32()),
        ("score", pa.float32()),
        # The quality team's verdicts (reviews/): findings reviewed, overturned (deducting
        # nothing), and still open.
        ("events_reviewed", pa.int32()),
        ("events_overturned", pa.int32()),
        ("events_open", pa.int32()),
        # Findings of rules in shadow mode (试运行: pipeline.rules.modes), costing nothing.
        ("shadow_findings", pa.int32()),
        # The agent's measures over the period's calls that have them (calls.agent_*): median
        # seconds before answering a question, hedges per minute of speech, 您 / (您 + 你), and the
        # median pitch range in semitones.
        ("median_answer_latency_s", pa.float32()),
        ("hedges_per_min", pa.float32()),
        ("nin_share", pa.float32()),
        ("median_pitch_range_st", pa.float32()),
    ]
)

# The quality team's verdicts (pipeline.warehouse.reviews): one file per verdict, append-only.
REVIEWS = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("review_id", pa.string()),
        ("event_id", pa.string()),
        ("call_id", pa.string()),
        ("agent_id", pa.string()),
        ("rule_id", pa.string()),
        ("category", pa.string()),
        ("call_date", pa.string()),
        ("verdict", pa.string()),
        ("reviewer", pa.string()),
        ("note", pa.string()),
        ("reviewed_at", pa.timestamp("ms", tz="UTC")),
    ]
)

# Agents' appeals (申诉) against findings and the quality lead's decisions
# (pipeline.warehouse.appeals): one file per action, append-only; an appeal's latest action is
# its state (filed, granted: the finding overturned, denied: upheld).
APPEALS = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("appeal_id", pa.string()),
        ("action", pa.string()),
        ("event_id", pa.string()),
        ("call_id", pa.string()),
        ("agent_id", pa.string()),
        ("rule_id", pa.string()),
        ("call_date", pa.string()),
        ("by", pa.string()),
        ("text", pa.string()),
        ("at", pa.timestamp("ms", tz="UTC")),
    ]
)

FAILURES = pa.schema(
    [
        ("schema_version", pa.int16()),
        ("path", pa.string()),
        ("call_id", pa.string()),
        ("agent_id", pa.string()),
        ("error", pa.string()),
        ("attempts", pa.int32()),
        ("failed_at", pa.timestamp("ms", tz="UTC")),
    ]
)


def conform(name: str, table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A partition written by an older callqa, in today's schema: columns it lacks are added
    (an event's id computed from its call, rule, category and start; others null)."""
    if table.schema.names == schema.names:
        return table
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table[field.name].cast(field.type))
        elif name == "events" and field.name == "event_id":
            from pipeline.records import event_id

            rows = zip(
                *(table[c].to_pylist() for c in ("call_id", "rule_id", "category", "start_ms")), strict=True
            )
            columns.append(pa.array([event_id(*r) for r in rows], pa.string()))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _measure(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _overlapped(turns, i: int) -> bool:
    t = turns[i]
    return any(o.speaker != t.speaker and o.start < t.end and t.start < o.end for o in turns)


def _quality_columns(result: CallResult) -> dict:
    q = result.quality
    if q is None:
        return {"not_scored": list(result.not_scored)}
    per_channel = {
        name: [_measure(getattr(ch, name.removeprefix("audio_"))) for ch in q.channels]
        for name in AUDIO_CHANNEL_MEASURES
    }
    return {
        **per_channel,
        "audio_codec": q.codec,
        "audio_source_rate": q.source_rate,
        "audio_doubted_share": _measure(q.doubted_share),
        "audio_greeting_at_ms": None if q.greeting is None else round(q.greeting.at * 1000),
        "audio_greeting_margin": None if q.greeting is None else _measure(q.greeting.margin),
        "not_scored": list(result.not_scored),
    }


def call_tables(result: CallResult) -> dict[str, pa.Table]:
    """The rows one call contributes to calls, turns, utterances and events."""
    call, m = result.call, result.metrics
    started = call.started_at.astimezone(UTC) if call.started_at else None
    calls = pa.Table.from_pylist(
        [
            {
                "schema_version": SCHEMA_VERSION,
                "call_id": call.call_id,
                "agent_id": call.agent_id,
                "started_at": started,
                "path": call.stored_path or call.path,
                "sha256": call.sha256,
                "layout": call.layout,
                "duration_ms": _ms(m.duration),
                "model_id": result.model_id,
                "lexicon_version": result.lexicon_version,
                "agent_speaker": result.roles.agent_speaker,
                "role_confidence": result.roles.confidence,
                "role_reason": result.roles.reason,
                "talk_agent_ms": _ms(m.talk_agent),
                "talk_caller_ms": _ms(m.talk_caller),
                "silence_ms": _ms(m.silence),
                "overlap_ms": _ms(m.overlap),
                "overlap_agent_started_ms": _ms(m.overlap_started_by_agent),
                "overlap_caller_started_ms": _ms(m.overlap_started_by_caller),
                "agent_chars_per_s": m.agent_chars_per_s,
                "n_utterances": m.n_utterances,
                "n_events": len(result.events),
                "polite_counts": list(m.polite_counts.items()),
                "polite_total": sum(m.polite_counts.values()),
                "abstentions": list(result.abstentions),
                "status": "scored",
                "processed_at": datetime.now(UTC),
                "stage_seconds": list(result.timings.items()),
                "caller_id": call.caller_id or None,
                **{name: _measure(getattr(m, name)) for name in AGENT_MEASURES},
                **_quality_columns(result),
            }
        ],
        schema=CALLS,
    )
    utterances = pa.Table.from_pylist(
        [
            {
                "schema_version": SCHEMA_VERSION,
                "call_id": u.call_id,
                "idx": u.idx,
                "role": u.role,
                "speaker": u.speaker,
                "start_ms": _ms(u.start),
                "end_ms": _ms(u.end),
                "text": u.text,
                "confidence": u.confidence,
                "flags": list(u.flags),
                "words": [
                    {"text": w.text, "start_ms": _ms(w.start), "end_ms": _ms(w.end), "prob": w.prob}
                    for w in u.words
                ],
            }
            for u in result.utterances
        ],
        schema=UTTERANCES,
    )
    events = pa.Table.from_pylist(
        [
            {
                "schema_version": SCHEMA_VERSION,
                "event_id": e.event_id,
                "call_id": e.call_id,
                "agent_id": e.agent_id,
                "rule_id": e.rule_id,
                "category": e.category,
                "severity": e.severity,
                "start_ms": _ms(e.start),
                "end_ms": _ms(e.end),
                "role": e.role,
                "evidence": e.evidence,
                "confidence": e.confidence,
                "rule_version": e.rule_version,
            }
            for e in result.events
        ],
        schema=EVENTS,
    )
    turns = pa.Table.from_pylist(
        [
            {
                "schema_version": SCHEMA_VERSION,
                "call_id": call.call_id,
                "idx": i,
                "speaker": t.speaker,
                "role": t.role,
                "channel": t.channel,
                "start_ms": _ms(t.start),
                "end_ms": _ms(t.end),
                "overlapped": _overlapped(result.turns, i),
            }
            for i, t in enumerate(result.turns)
        ],
        schema=TURNS,
    )
    return {"calls": calls, "turns": turns, "utterances": utterances, "events": events}
