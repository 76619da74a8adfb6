"""The reply reader's shadow rules: every agent utterance read with the caller's words before it."""

from __future__ import annotations

from pipeline.records import Event
from pipeline.rules import RULE_THRESHOLDS, CallContext
from pipeline.rules.reader.model import READS, ReplyReader

# With the model's short sha256 after it (ReplyReader.version): the findings of other weights are
# findings of another rule version.
VERSION = "2"

# What the evidence says each kind is, for the desk.
_READ_AS = {
    "hesitation.unsure_learned": "回答犹豫、没有把握",
    "message.not_offered_learned": "只说对方不在，没有主动提出留言或代办",
    "refusal.no_apology_learned": "拒绝，且没有先道歉",
}


def learned_replies(ctx: CallContext, reader: ReplyReader | None = None) -> list[Event]:
    """One finding per agent utterance the reader takes for a reply the guide asks against, at
    its kind's threshold (``RULE_THRESHOLDS``: ``[rules] unsure_reader_threshold`` ...) or more.
    Read as the reader was measured: each scorable agent utterance with the last caller utterance
    before it. What the agent says before the caller has said anything (the opening) replies to
    nobody and is not read: alone, a word such as 说。 can read as anything."""
    if not ctx.roles_trusted:
        return []
    reader = reader or ReplyReader.load()
    thresholds = {kind: getattr(ctx.config, RULE_THRESHOLDS[kind][0]) for kind in READS}
    version = f"{VERSION}.{reader.version}" if reader.version else VERSION
    events, caller = [], ""
    for u in sorted(ctx.utterances, key=lambda u: (u.start, u.end)):
        if u.role == "caller":
            caller = u.text
            continue
        if u.role != "agent" or not u.scorable or not u.text.strip() or not caller:
            continue
        for kind, reading in reader.read_all(caller, u.text, kinds=tuple(READS)).items():
            if reading.probability < thresholds[kind]:
                continue
            # A reply none of whose words of two characters or more pushed towards the kind (好得,
            # Whisper's 好的) was read from single characters and the caller's words: the reviewer
            # is told so, not shown an empty list.
            weighed = (
                "最重的字串 " + "".join(f"「{w}」" for w in reading.weighed)
                if reading.weighed
                else "回复里没有偏向此判读的词，判读来自单字和客户的话，请听录音核对"
            )
            asked = f"（客户：{caller}）" if caller else ""
            events.append(
                ctx.event(
                    kind,
                    version,
                    start=u.start,
                    end=u.end,
                    evidence=f"{u.text}〔模型判读：{_READ_AS[kind]}，把握 {reading.probability:.2f}；{weighed}〕{asked}",
                    severity="minor",
                )
            )
    return events
