"""语气冷淡、有气无力: a flat voice, from the agent's pitch range over the call.

The guide asks for a 和蔼 tone and warns against 有气无力 (注意事项 3, 9 C). That is in the sound,
not the words: a voice that barely moves in pitch sounds cold or tired whatever it says. The
measure is the spread of the agent's voiced pitch over the call (10th to 90th percentile, in
semitones, ``pipeline.audio.prosody``); Mandarin's tones alone move an engaged speaker's pitch by
six semitones and more. Loudness is stored beside it (``calls.agent_loudness_db``) but not judged:
it says as much about the headset and the line as about the agent.

A rendered voice cannot tell whether this rule is right (every TTS voice has its own fixed
melody), so the rule stays in shadow mode until reviewed calls show its precision.
"""

from __future__ import annotations

import math

from pipeline.records import Event
from pipeline.rules import CallContext

VERSION = "1"


def voice_flat(ctx: CallContext) -> list[Event]:
    """One finding per call: the agent's pitch range is under ``flat_pitch_range_st`` over at
    least ``flat_min_voiced_s`` of voiced speech."""
    voice = ctx.agent_voice
    if not ctx.roles_trusted or voice is None or math.isnan(voice.pitch_range_st):
        return []
    if (
        voice.voiced_s < ctx.config.flat_min_voiced_s
        or voice.pitch_range_st >= ctx.config.flat_pitch_range_st
    ):
        return []
    agent = ctx.by_role("agent")
    if not agent:
        return []
    return [
        ctx.event(
            "voice.flat",
            VERSION,
            start=agent[0].start,
            end=agent[-1].end,
            evidence=(
                f"坐席音高起伏 {voice.pitch_range_st:.1f} 个半音（低于 {ctx.config.flat_pitch_range_st:g}），"
                f"中位音高 {voice.pitch_median_hz:.0f} Hz，响度 {voice.loudness_db:.0f} dBFS，"
                f"有声 {voice.voiced_s:.0f} 秒"
            ),
            severity="minor",
        )
    ]
