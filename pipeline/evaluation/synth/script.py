"""YAML call scripts: who says what, with which voice, and when.

```yaml
call_id: S001
agent_id: A101
started_at: 2026-11-16T09:12:00+08:00
share: {format: stereo, agent_channel: left}   # format: stereo | mono | ulaw8k | ulaw8k-mono
voices: {agent: jf_tebukuro, caller: jm_kumo}
lead_in: 1.2          # silence before the first utterance (ringback, IVR)
bleed_db: -32         # optional: each party leaks into the other's channel this far down
noise: {kind: pink, snr_db: 15}   # optional: the caller's surroundings (pink | brown | hum) on their side
expect: [greeting.missing]   # the flags a correct QA system raises on this call
utterances:
  - {role: agent, text: 您好，这里是阳光物业客服中心。}
  - {role: caller, text: 我家水管漏了。, gap: 0.4, speed: 1.1}
  - {role: agent, text: 好的。, gap: -0.6}     # negative gap: starts 0.6 s before the other ends
  - {role: caller, text: 那我等一下再打来吧。, cut: 1.0}  # the line drops 1.0 s into this one
```

``gap`` is measured from the end of the conversation so far (the latest end among the earlier
utterances), so a backchannel inside a long turn does not shift what follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

SHARE_FORMATS = ("stereo", "mono", "ulaw8k", "ulaw8k-mono")
NOISE_KINDS = ("pink", "brown", "hum")
DEFAULT_GAP_S = 0.5


@dataclass(frozen=True)
class ScriptLine:
    role: str
    text: str
    voice: str
    speed: float = 1.0
    gap: float = DEFAULT_GAP_S
    cut: float | None = None  # seconds of this line heard before the recording ends


@dataclass(frozen=True)
class CallScript:
    call_id: str
    agent_id: str
    started_at: datetime
    lines: tuple[ScriptLine, ...]
    share_format: str = "stereo"
    agent_channel: str = "left"
    lead_in: float = 1.0
    tail: float = 0.8
    bleed_db: float | None = None
    expect: tuple[str, ...] = ()
    topic: str = ""
    noise_kind: str | None = None
    noise_snr_db: float | None = None

    @property
    def layout(self) -> str:
        if self.share_format in ("mono", "ulaw8k-mono"):
            return "mono"
        return f"stereo-agent-{self.agent_channel}"


def parse_script(data: dict[str, Any], source: str = "<script>") -> CallScript:
    """Validate one script; errors name the file and the line so a script author can fix them."""

    def fail(message: str) -> ValueError:
        return ValueError(f"{source}: {message}")

    for key in ("call_id", "agent_id", "started_at", "utterances"):
        if key not in data:
            raise fail(f"missing key {key!r}")
    voices = data.get("voices", {})
    share = data.get("share", {})
    share_format = share.get("format", "stereo")
    if share_format not in SHARE_FORMATS:
        raise fail(f"share.format must be one of {SHARE_FORMATS}")
    agent_channel = share.get("agent_channel", "left")
    if agent_channel not in ("left", "right"):
        raise fail("share.agent_channel must be left or right")
    lines = []
    for i, raw in enumerate(data["utterances"]):
        role = raw.get("role")
        if role not in ("agent", "caller"):
            raise fail(f"utterance {i}: role must be agent or caller")
        if not str(raw.get("text", "")).strip():
            raise fail(f"utterance {i}: empty text")
        voice = raw.get("voice") or voices.get(role)
        if not voice:
            raise fail(f"utterance {i}: no voice (set voices.{role} or the utterance's voice)")
        if raw.get("cut") is not None and i != len(data["utterances"]) - 1:
            raise fail(f"utterance {i}: only the last utterance can be cut off")
        lines.append(
            ScriptLine(
                role=role,
                text=str(raw["text"]).strip(),
                voice=voice,
                speed=float(raw.get("speed", 1.0)),
                gap=float(raw.get("gap", DEFAULT_GAP_S)),
                cut=None if raw.get("cut") is None else float(raw["cut"]),
            )
        )
    noise = data.get("noise") or {}
    if noise and (noise.get("kind") not in NOISE_KINDS or "snr_db" not in noise):
        raise fail(f"noise needs kind (one of {NOISE_KINDS}) and snr_db")
    started = data["started_at"]
    started_at = started if isinstance(started, datetime) else datetime.fromisoformat(str(started))
    return CallScript(
        call_id=str(data["call_id"]),
        agent_id=str(data["agent_id"]),
        started_at=started_at,
        lines=tuple(lines),
        share_format=share_format,
        agent_channel=agent_channel,
        lead_in=float(data.get("lead_in", 1.0)),
        tail=float(data.get("tail", 0.8)),
        bleed_db=None if data.get("bleed_db") is None else float(data["bleed_db"]),
        expect=tuple(data.get("expect", ())),
        topic=str(data.get("topic", "")),
        noise_kind=noise.get("kind"),
        noise_snr_db=None if not noise else float(noise["snr_db"]),
    )


def load_scripts(folder: Path) -> list[CallScript]:
    import yaml

    scripts = []
    for path in sorted(folder.glob("*.yaml")):
        with open(path, encoding="utf-8") as f:
            scripts.append(parse_script(yaml.safe_load(f), source=str(path)))
    ids = [s.call_id for s in scripts]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate call_id(s) in {folder}: {sorted(duplicates)}")
    return scripts
