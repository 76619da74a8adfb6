"""How right callqa is: a warehouse compared with truth files.

Truth file schema (``callqa.truth/1``, one JSON per call; what ``callqa synth`` writes and what a
call centre's own labelled calls can use):

```json
{
  "schema": "callqa.truth/1",
  "call_id": "S001",                 # the warehouse call id (or see "variants")
  "agent_id": "A101",
  "layout": "stereo-agent-left",     # optional; used to group CER
  "variants": {"S001.mono": {"layout": "mono"}},   # optional: several recordings of one call
  "expected_flags": ["greeting.missing", "phrase.banned:傲慢"],   # rule_id or rule_id:category
  "score_text": true,                # optional; false: no reference words (who spoke when only)
  "score_flags": true,               # optional; false: flags not labelled (who spoke when, words)
  "scored_rules": ["greeting.missing"],   # optional: only these rules are labelled (the others'
                                     # flags are neither expected nor counted on this call)
  "conduct_preset": "guide",         # optional: the reading of 急躁/独断专横 the flags follow
  "expected_flags_by_preset": {"strict": ["conduct.impatient"]},   # optional: those rules' flags
                                     # under another preset
  "utterances": [{"role": "agent", "start": 1.5, "end": 6.2, "text": "您好，..."}]
}
```

Text is compared AISHELL-style: Simplified, punctuation and spaces removed, numbers in one
normal form (Arabic digits: 12, 一二 and 十二 are all 12; 两 is 2, 幺 is 1; see
``pipeline.asr.text.normalize_numbers``), character by character. Flags are compared per call (present or not), giving precision and recall per rule, each with
its 95 % Wilson score interval (the benchmark's calls are a sample: 9 of 10 is not 0.90 for sure).
Backchannels are the reference utterances that are only a listener token (``backchannels.toml``,
or one character) said while the other party was speaking; a floor flag (interruption, 急躁,
独断专横) that was not expected and lies within a second of one is counted as a false alarm
caused by it.

Who spoke when is scored with pyannote.metrics on the turns table (the diarization; the utterance
times for a warehouse from before it): DER and JER with a collar
of 0.25 s in total (0.125 s either side of each reference boundary) and overlapped speech scored
(``skip_overlap=False``), the hypothesis speakers (channels or clusters) mapped optimally onto the
reference roles; role accuracy is the share of recordings whose agent speaker is mapped to the
reference agent. Overlapped speech is scored twice: on the turns (what the diarization found) and
on the utterances, which is what the interruption rules read (an overlap with no words in it, a
breath or the model's false alarm, never reaches them).

Personal data is also checked as transcribed (``"masking"``, ``pipeline.evaluation.masking``): of
what ``redact`` masks in the reference, the share the stored text does not show in the clear.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.asr.text import for_cer, han_count
from pipeline.config import RETIRED_RULES, ROOT
from pipeline.lexicon import load_lexicon
from pipeline.privacy.redact import redact
from pipeline.rules import UNATTRIBUTED_BANNED, UNHEARD
from pipeline.rules.modes import SHADOW_BY_DEFAULT
from pipeline.warehouse.store import read_table


def load_truth(truth_dir: Path) -> list[dict]:
    files = sorted(truth_dir.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no truth files (*.json) in {truth_dir}")
    truths = []
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != "callqa.truth/1":
            raise ValueError(f"{path}: not a callqa.truth/1 file")
        truths.append(data)
    return truths


def char_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit operations, reference length) at character level."""
    import jiwer

    if not reference:
        return len(hypothesis), 0
    if not hypothesis:
        return len(reference), len(reference)
    out = jiwer.process_characters(reference, hypothesis)
    return out.substitutions + out.deletions + out.insertions, len(reference)


def scoring_text(text: str) -> str:
    """AISHELL-style scoring text of the words as stored (numbers as Arabic digits): personal data
    (privacy.redact) is masked in the warehouse, so it is masked in the reference too and left out
    of CER on both sides."""
    return for_cer(redact(text).text)


def truth_text(truth: dict, role: str | None = None) -> str:
    """The scoring text of a truth call (or of one role), in order of speech."""
    ordered = sorted(truth["utterances"], key=lambda u: u["start"])
    return scoring_text("".join(u["text"] for u in ordered if role is None or u["role"] == role))


# Rules scored per category as well as as a whole (the banned-phrase categories of the guide).
_PER_CATEGORY = {"phrase.banned"}


def _flag_keys(rule_id: str, category: str) -> set[str]:
    if category and rule_id in _PER_CATEGORY:
        return {rule_id, f"{rule_id}:{category}"}
    return {rule_id}


def _expected_keys(flags: list[str]) -> set[str]:
    """Truth flags, with ``rule:category`` also counting as ``rule``."""
    keys = set()
    for flag in flags:
        rule_id, _, category = flag.partition(":")
        keys |= _flag_keys(rule_id, category)
    return keys


def _recordings(truth: dict) -> list[tuple[str, str]]:
    """(warehouse call id, recording kind) of every recording of this truth call.

    The kind is the audio format when the truth names it (stereo, mono, ulaw8k, ulaw8k-mono), so
    8 kHz telephone audio is measured apart from 16 kHz; else the channel layout.
    """
    if truth.get("variants"):
        return [(cid, v.get("format") or v.get("layout", "unknown")) for cid, v in truth["variants"].items()]
    return [(truth["call_id"], truth.get("format") or truth.get("layout", "unknown"))]


def recording_kinds(truth_dir: Path) -> dict[str, str]:
    """Every recording's kind (stereo, mono, ulaw8k, ulaw8k-mono ...), keyed by its call id."""
    return {call_id: kind for truth in load_truth(truth_dir) for call_id, kind in _recordings(truth)}


def truths_by_recording(truth_dir: Path) -> dict[str, dict]:
    """Every recording's truth, keyed by its warehouse call id (variants included)."""
    return {call_id: truth for truth in load_truth(truth_dir) for call_id, _ in _recordings(truth)}


COLLAR_S = 0.25


# The first turn "took the other party's first words" where it covers this much of the other
# party's true speech.
OPENING_TAKEN_S = 1.0


def opening_right(
    truth: Sequence[dict], turns: Iterable[tuple[str, float, float]], party_of: Mapping[str, str]
) -> bool:
    """Whether the call's first turn is its first speaker's alone: the voice of the first found
    turn (``turns``: speaker, start, end) is the party (``party_of``, the DER's optimal mapping)
    who speaks first in ``truth``, and that turn covers less than ``OPENING_TAKEN_S`` of the other
    party's speech. An agent's short 喂，物业 run together with the caller's first sentence into
    one turn (or given to the caller's voice) loses the words that greet and say who answers:
    what the roles and greeting.missing read first."""
    spoken = sorted((u for u in truth if u["end"] > u["start"]), key=lambda u: u["start"])
    found = sorted(turns, key=lambda t: t[1])
    if not spoken or not found:
        return not spoken and not found
    speaker, start, end = found[0]
    party = spoken[0]["role"]
    taken = sum(max(0.0, min(end, u["end"]) - max(start, u["start"])) for u in spoken if u["role"] != party)
    return party_of.get(speaker) == party and taken < OPENING_TAKEN_S


class _Diarization:
    """DER and JER accumulated over recordings, per recording kind and in all."""

    def __init__(self) -> None:
        self.metrics: dict[str, tuple] = {}
        self.roles: dict[str, list[bool]] = defaultdict(list)
        self.trusted: dict[str, list[bool]] = defaultdict(list)
        self.openings: dict[str, list[bool]] = defaultdict(list)

    def _pair(self, kind: str):
        if kind not in self.metrics:
            from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

            self.metrics[kind] = (
                DiarizationErrorRate(collar=COLLAR_S, skip_overlap=False),
                JaccardErrorRate(collar=COLLAR_S, skip_overlap=False),
            )
        return self.metrics[kind]

    def add(
        self, kind: str, truth: dict, hyp: pd.DataFrame, agent_speaker: str | None, trusted: bool
    ) -> dict:
        from pyannote.core import Annotation, Segment, Timeline

        reference, hypothesis = Annotation(), Annotation()
        for i, u in enumerate(truth["utterances"]):
            if u["end"] > u["start"]:
                reference[Segment(u["start"], u["end"]), i] = u["role"]
        for row in hyp.itertuples():
            hypothesis[Segment(row.start_ms / 1000, row.end_ms / 1000), row.idx] = row.speaker
        duration = truth.get("duration") or max([u["end"] for u in truth["utterances"]] + [0.0])
        uem = Timeline(
            [Segment(0, max(duration, hypothesis.get_timeline().extent().end if hypothesis else 0))]
        )
        out = {}
        for name in (kind, "all"):
            der, jer = self._pair(name)
            detail = der(reference, hypothesis, uem=uem, detailed=True)
            jer(reference, hypothesis, uem=uem)
            if name == kind:
                out["der"] = round(detail["diarization error rate"], 4)
                mapping = der.optimal_mapping(reference, hypothesis)
                out["role_ok"] = agent_speaker is not None and mapping.get(agent_speaker) == "agent"
                turns = [(r.speaker, r.start_ms / 1000, r.end_ms / 1000) for r in hyp.itertuples()]
                out["opening_ok"] = opening_right(truth["utterances"], turns, mapping)
            self.roles[name].append(out["role_ok"])
            self.trusted[name].append(trusted)
            self.openings[name].append(out["opening_ok"])
        return out

    def report(self) -> dict:
        out = {}
        for kind, (der, jer) in sorted(self.metrics.items()):
            ok, trusted = self.roles[kind], self.trusted[kind]
            out[kind] = {
                "der": round(abs(der), 4),
                "jer": round(abs(jer), 4),
                "role_accuracy": round(sum(ok) / len(ok), 4),
                "recordings": len(ok),
                # Roles the rules acted on (confidence at or above rules.role_min_confidence),
                # and those of them that were wrong: worse than abstaining, the figure to keep at 0.
                "roles_trusted": sum(trusted),
                "confident_role_errors": sum(t and not o for t, o in zip(trusted, ok, strict=True)),
                # The calls that say they are unsure of the roles (their agent rules abstain).
                "roles_unsure_share": round(1 - sum(trusted) / len(trusted), 4),
                # The calls whose first turn is not their first speaker's alone (opening_right).
                "openings_wrong": self.openings[kind].count(False),
            }
        return out


_FRAME_S = 0.01  # overlapped speech is scored on a 10 ms grid


def overlap_frames(turns: Iterable[tuple[str, float, float]], duration: float) -> np.ndarray:
    """One boolean per 10 ms frame of ``duration``: two or more speakers talking at once.
    ``turns`` are (speaker, start, end) in seconds."""
    n = max(0, math.ceil(duration / _FRAME_S))
    active: dict[str, np.ndarray] = {}
    for speaker, start, end in turns:
        a, b = max(0, int(start / _FRAME_S)), min(n, math.ceil(end / _FRAME_S))
        if b > a:
            active.setdefault(speaker, np.zeros(n, bool))[a:b] = True
    if len(active) < 2:
        return np.zeros(n, bool)
    return np.sum(list(active.values()), axis=0) >= 2


class _Overlap:
    """Overlapped-speech detection over time, per recording kind and in all: precision is the
    share of the time called overlapped that was, recall the share of true overlap found."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # ref, hyp, hit

    def add(self, kind: str, truth: dict, hyp: pd.DataFrame) -> dict:
        ref_turns = [(u["role"], u["start"], u["end"]) for u in truth["utterances"]]
        hyp_turns = [(r.speaker, r.start_ms / 1000, r.end_ms / 1000) for r in hyp.itertuples()]
        duration = max([e for _, _, e in ref_turns + hyp_turns] + [truth.get("duration") or 0.0])
        ref, found = overlap_frames(ref_turns, duration), overlap_frames(hyp_turns, duration)
        seconds = [
            float(ref.sum()) * _FRAME_S,
            float(found.sum()) * _FRAME_S,
            float((ref & found).sum()) * _FRAME_S,
        ]
        for name in (kind, "all"):
            self.seconds[name] = [a + b for a, b in zip(self.seconds[name], seconds, strict=True)]
        return {"overlap_ref_s": round(seconds[0], 2), "overlap_hyp_s": round(seconds[1], 2)}

    def report(self) -> dict:
        return {
            kind: {
                "reference_s": round(ref, 2),
                "detected_s": round(hyp, 2),
                "precision": round(hit / hyp, 4) if hyp else None,
                "recall": round(hit / ref, 4) if ref else None,
            }
            for kind, (ref, hyp, hit) in sorted(self.seconds.items())
        }


# Flags about who had the floor: what a listener's 嗯/对/好的 must never raise.
_FLOOR_RULES = ("interruption.agent", "interruption.caller", "conduct.impatient", "conduct.domineering")
_BACKCHANNEL_REACH_S = 1.0


def truth_backchannels(truth: dict, is_backchannel) -> list[dict]:
    """Listener tokens said while the other party was speaking (the reference utterances that the
    floor rules must ignore)."""
    out = []
    for u in truth["utterances"]:
        if not is_backchannel(u["text"]):
            continue
        if any(o["role"] != u["role"] and o["start"] < u["start"] < o["end"] for o in truth["utterances"]):
            out.append(u)
    return out


def backchannel_false_alarms(events: pd.DataFrame, expected: set[str], backchannels: list[dict]) -> int:
    """Floor flags that were not expected and sit within a second of a reference backchannel."""
    count = 0
    for e in events.itertuples():
        if e.rule_id not in _FLOOR_RULES or e.rule_id in expected:
            continue
        start, end = e.start_ms / 1000 - _BACKCHANNEL_REACH_S, e.end_ms / 1000 + _BACKCHANNEL_REACH_S
        count += any(start <= b["start"] <= end for b in backchannels)
    return count


def double_events(events: pd.DataFrame, utterances: pd.DataFrame) -> int:
    """Events that repeat another of the same call, rule and category within one utterance or at
    overlapping times: one moment counted twice in the score."""
    count = 0
    spans = {
        cid: list(zip(g["start_ms"], g["end_ms"], strict=True)) for cid, g in utterances.groupby("call_id")
    }
    for (call_id, _, _), group in events.groupby(["call_id", "rule_id", "category"]):
        moments = sorted(zip(group["start_ms"], group["end_ms"], strict=True))
        seen: set[int] = set()
        for k, (start, _) in enumerate(moments):
            inside = [i for i, (a, b) in enumerate(spans.get(call_id, [])) if a <= start < b]
            overlaps = k > 0 and start < moments[k - 1][1]
            count += overlaps or bool(inside and inside[0] in seen)
            seen.update(inside[:1])
    return count


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of a proportion (sound at 0 and at n of n, unlike the
    normal approximation); None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def _precision_recall(counts: dict[str, int]) -> dict:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision and recall
        else (0.0 if precision is not None and recall is not None else None)
    )
    return {
        **counts,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "precision_ci": wilson_interval(tp, tp + fp),
        "recall_ci": wilson_interval(tp, tp + fn),
    }


def expected_flags(truth: dict, conduct_preset: str) -> tuple[set[str], bool]:
    """The flags a recording should raise under ``conduct_preset``, and whether the preset's rules
    (急躁, 独断专横) can be scored at all: only when the truth labels them for that preset."""
    from pipeline.config import PRESET_RULES

    flags = truth.get("expected_flags", [])
    if conduct_preset == truth.get("conduct_preset", "guide"):
        return _expected_keys(flags), True
    by_preset = truth.get("expected_flags_by_preset", {})
    others = [f for f in flags if f.partition(":")[0] not in PRESET_RULES]
    if conduct_preset in by_preset:
        return _expected_keys(others + list(by_preset[conduct_preset])), True
    return _expected_keys(others), False


def evaluate(
    truth_dir: Path,
    warehouse: Path,
    role_min_confidence: float | None = None,
    conduct_preset: str = "guide",
) -> dict:
    """The accuracy report of ``warehouse`` against the truth files in ``truth_dir``.

    ``role_min_confidence`` and ``conduct_preset`` are the run's (``[rules]`` of its config):
    roles at or above the threshold were trusted, and 急躁/独断专横 followed that preset, so they
    are scored against the truth's labels for it (or left out where the truth has none)."""
    import warnings

    from pipeline.config import PRESET_RULES, RulesConfig
    from pipeline.evaluation.masking import masking_report  # imported here: it uses wilson_interval

    warnings.filterwarnings("ignore", module="pyannote")
    if role_min_confidence is None:
        role_min_confidence = RulesConfig().role_min_confidence
    truths = load_truth(truth_dir)
    diarization, overlap, overlap_words = _Diarization(), _Overlap(), _Overlap()
    calls = read_table(warehouse, "calls").set_index("call_id")
    utterances = read_table(warehouse, "utterances")
    events = read_table(warehouse, "events")
    utt_by_call = {cid: g.sort_values("start_ms") for cid, g in utterances.groupby("call_id")}
    # Who spoke when is scored on the turns table, the diarization itself (and what ``--rttm``
    # exports): a turn the ASR found no words in (a 嗯 under the other party's speech) is still
    # speech, and still overlap. A warehouse from before the turns table falls back on utterances.
    turns = read_table(warehouse, "turns")
    turns_by_call = {cid: g.sort_values("start_ms") for cid, g in turns.groupby("call_id")}
    events_by_call = {cid: g for cid, g in events.groupby("call_id")}
    backchannel_tokens = load_lexicon(ROOT / "lexicons")["backchannels"]

    def is_backchannel(text: str) -> bool:
        return backchannel_tokens.is_whole(text) or 0 < han_count(text) <= 1

    listener = {"backchannels": 0, "false_alarms": 0}
    # Banned phrases of voices whose role was not trusted, left for a listener (the calls table's
    # abstentions): per kind, calls with a banned phrase expected and listed, expected and not,
    # listed and not expected.
    for_listener: dict[str, dict[str, int]] = defaultdict(lambda: {"listed": 0, "missed": 0, "false": 0})
    flags_by_call: dict[str, set[str]] = defaultdict(set)
    for row in events.itertuples():
        flags_by_call[row.call_id] |= _flag_keys(row.rule_id, row.category or "")

    per_call, missing = [], []
    # Personal data as transcribed: (recording, kind, reference, stored texts), and each call's
    # reference once for the same measure on clean text (pipeline.evaluation.masking).
    masking_recordings: list[tuple[str, str, list[dict], list[str]]] = []
    masking_calls: dict[str, list[dict]] = {}
    cer_acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rule_counts: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "abstained": 0})
    )
    for truth in truths:
        ref_all, ref_agent = truth_text(truth), truth_text(truth, "agent")
        # Without reference words (a conversation annotated for who spoke when only) neither the
        # text nor the flags, which depend on the words, can be scored.
        with_text = truth.get("score_text", True)
        # Without labelled flags (real sentences mixed into a conversation, not a service call:
        # nobody greets) the rules' flags are not scored either, only who spoke when and words.
        with_flags = with_text and truth.get("score_flags", True)
        expected, preset_scored = expected_flags(truth, conduct_preset) if with_flags else (set(), False)
        scored_rules = set(truth["scored_rules"]) if "scored_rules" in truth else None
        # A rule retired since the truth was written is no longer run: not scored.
        expected = {k for k in expected if k.partition(":")[0] not in RETIRED_RULES}
        if scored_rules is not None:
            expected = {k for k in expected if k.partition(":")[0] in scored_rules}
        # A truth that does not name its rules labels the rules there were before the guide's
        # later clauses (2026-12-05): the rules on trial are scored only where a truth says so.
        unlabelled = (SHADOW_BY_DEFAULT if scored_rules is None else frozenset()) | RETIRED_RULES.keys()
        backchannels = truth_backchannels(truth, is_backchannel)
        for call_id, layout in _recordings(truth):
            if call_id not in calls.index:
                missing.append(call_id)
                continue
            hyp = utt_by_call.get(
                call_id, pd.DataFrame(columns=["text", "role", "speaker", "start_ms", "end_ms", "idx"])
            )
            hyp_all = scoring_text("".join(hyp["text"]))
            hyp_agent = scoring_text("".join(hyp[hyp["role"] == "agent"]["text"]))
            edits, length = char_errors(ref_all, hyp_all) if with_text else (0, 0)
            agent_edits, agent_length = char_errors(ref_agent, hyp_agent) if with_text else (0, 0)
            for key in (layout, "all") if with_text else ():
                cer_acc[key][0] += edits
                cer_acc[key][1] += length
            if with_text:
                masking_recordings.append((call_id, layout, truth["utterances"], list(hyp["text"])))
                masking_calls[truth["call_id"]] = truth["utterances"]
            confidence = float(calls.loc[call_id, "role_confidence"])
            trusted = confidence >= role_min_confidence
            who_spoke = turns_by_call.get(call_id, hyp)
            who = diarization.add(layout, truth, who_spoke, calls.loc[call_id, "agent_speaker"], trusted)
            overlapped = overlap.add(layout, truth, who_spoke)
            overlap_words.add(layout, truth, hyp)
            predicted = flags_by_call.get(call_id, set()) if with_flags else set()
            if not preset_scored:
                predicted = {p for p in predicted if p.partition(":")[0] not in PRESET_RULES}
            if scored_rules is not None:
                predicted = {p for p in predicted if p.partition(":")[0] in scored_rules}
            predicted = {p for p in predicted if p.partition(":")[0] not in unlabelled}
            false_alarms = (
                backchannel_false_alarms(
                    events_by_call.get(call_id, events.iloc[0:0]), expected, backchannels
                )
                if with_flags
                else 0
            )
            listed = with_flags and any(
                a.startswith(UNATTRIBUTED_BANNED) for a in _as_list(calls.loc[call_id, "abstentions"])
            )
            wanted = any(k.startswith("phrase.banned") for k in expected) and not any(
                k.startswith("phrase.banned") for k in predicted
            )
            if listed or wanted:
                outcome = "listed" if listed and wanted else "missed" if wanted else "false"
                if not trusted or outcome != "missed":
                    for kind in (layout, "all"):
                        for_listener[kind][outcome] += 1
            listener["backchannels"] += len(backchannels)
            listener["false_alarms"] += false_alarms
            # A rule the call's audio could not support ([quality] floors) abstained: its labels
            # are counted apart, neither found nor missed.
            unheard = set(_as_list(calls.loc[call_id, "not_scored"])) if "not_scored" in calls else set()
            for key in expected | predicted:
                outcome = "tp" if key in expected and key in predicted else "fp" if key in predicted else "fn"
                if outcome == "fn" and key.partition(":")[0] in unheard:
                    outcome = "abstained"
                for kind in (layout, "all"):
                    rule_counts[kind][key][outcome] += 1
            per_call.append(
                {
                    "call_id": call_id,
                    "layout": layout,
                    "agent_id_ok": str(calls.loc[call_id, "agent_id"]) == truth["agent_id"],
                    "cer": round(edits / length, 4) if length else None,
                    "cer_agent": round(agent_edits / agent_length, 4) if agent_length else None,
                    "expected": sorted(expected),
                    "predicted": sorted(predicted),
                    "greeting_ok": ("greeting.missing" in expected) == ("greeting.missing" in predicted),
                    "der": who["der"],
                    "role_ok": who["role_ok"],
                    "role_confidence": round(confidence, 3),
                    "role_trusted": trusted,
                    **overlapped,
                    "backchannels": len(backchannels),
                    "backchannel_false_alarms": false_alarms,
                    "not_scored": sorted(unheard),
                    # Rules withheld because the audio could not be heard well enough (not a
                    # voice.flat left unscored for too little of the agent's voice).
                    "audio_withheld": "abstentions" in calls
                    and any(a.startswith(UNHEARD) for a in _as_list(calls.loc[call_id, "abstentions"])),
                }
            )
    rules = {
        kind: {key: _precision_recall(c) for key, c in sorted(counts.items())}
        for kind, counts in sorted(rule_counts.items())
    }
    cer = {k: round(e / n, 4) if n else None for k, (e, n) in cer_acc.items()}
    scored = len(per_call)
    return {
        "summary": {
            "truth_calls": len(truths),
            "recordings_scored": scored,
            "missing_calls": missing,
            "agent_id_accuracy": sum(p["agent_id_ok"] for p in per_call) / scored if scored else None,
            "greeting_accuracy": sum(p["greeting_ok"] for p in per_call) / scored if scored else None,
            "double_events": double_events(events, utterances),
            # Recordings some rule was not scored on because the audio could not be heard well enough.
            "not_scored_recordings": sum(p["audio_withheld"] for p in per_call),
            "conduct_preset": conduct_preset,
        },
        "cer": cer,
        "backchannels": {
            **listener,
            "false_alarms_per_100": round(100 * listener["false_alarms"] / listener["backchannels"], 2)
            if listener["backchannels"]
            else None,
        },
        "banned_for_listener": {kind: dict(v) for kind, v in sorted(for_listener.items())},
        "diarization": diarization.report(),
        "overlap": overlap.report(),
        "overlap_words": overlap_words.report(),
        "rules": rules.get("all", {}),
        "rules_by_kind": {kind: r for kind, r in rules.items() if kind != "all"},
        "masking": masking_report(masking_recordings, masking_calls.items()),
        "calls": per_call,
    }


def _as_list(value) -> list:
    return [] if value is None or (isinstance(value, float) and np.isnan(value)) else list(value)


def render_report(report: dict):
    """Rich tables for the terminal."""
    from rich.console import Group
    from rich.table import Table

    s = report["summary"]
    head = Table("measure", "value", title="evaluation")
    head.add_row("recordings scored", f"{s['recordings_scored']} (truth calls {s['truth_calls']})")
    head.add_row("missing from warehouse", ", ".join(s["missing_calls"]) or "none")
    b = report["backchannels"]
    head.add_row(
        "floor flags raised by a listener's backchannel",
        f"{b['false_alarms']} of {b['backchannels']} backchannels",
    )
    for key in ("agent_id_accuracy", "greeting_accuracy"):
        head.add_row(key.replace("_", " "), "-" if s[key] is None else f"{s[key]:.3f}")
    cer = Table("layout", "CER", title="character error rate")
    for layout, value in sorted(report["cer"].items()):
        cer.add_row(layout, "-" if value is None else f"{value:.3f}")
    who = Table(
        "recordings",
        "n",
        "DER",
        "JER",
        "role accuracy",
        "roles trusted",
        "trusted and wrong",
        "openings wrong",
        title=f"who spoke when (collar {COLLAR_S} s, overlap scored)",
    )
    for kind, d in report["diarization"].items():
        who.add_row(
            kind,
            str(d["recordings"]),
            f"{d['der']:.3f}",
            f"{d['jer']:.3f}",
            f"{d['role_accuracy']:.2f}",
            str(d["roles_trusted"]),
            str(d["confident_role_errors"]),
            str(d["openings_wrong"]),
        )
    overlap = Table(
        "recordings",
        "true overlap s",
        "detected s",
        "precision",
        "recall",
        "P / R in words",
        title="overlapped speech (turns; in words: the utterances the rules read)",
    )

    def fmt(x):
        return "-" if x is None else f"{x:.2f}"

    for kind, o in report["overlap"].items():
        w = report.get("overlap_words", {}).get(kind, {})
        overlap.add_row(
            kind,
            f"{o['reference_s']:.1f}",
            f"{o['detected_s']:.1f}",
            fmt(o["precision"]),
            fmt(o["recall"]),
            f"{fmt(w.get('precision'))} / {fmt(w.get('recall'))}",
        )
    rules = Table(
        "rule", "tp", "fp", "fn", "not scored (audio)", "precision", "recall", "f1", title="flags per call"
    )
    for key, r in report["rules"].items():
        rules.add_row(
            key,
            str(r["tp"]),
            str(r["fp"]),
            str(r["fn"]),
            str(r.get("abstained", 0)),
            fmt(r["precision"]),
            fmt(r["recall"]),
            fmt(r["f1"]),
        )
    kinds = sorted(report["rules_by_kind"])
    by_kind = Table("rule", *kinds, title="flags per call and recording kind: precision / recall")
    for key in report["rules"]:
        cells = []
        for kind in kinds:
            r = report["rules_by_kind"][kind].get(key)
            cells.append("" if r is None else f"{fmt(r['precision'])} / {fmt(r['recall'])}")
        by_kind.add_row(key, *cells)
    calls = Table(
        "call", "layout", "CER", "agent CER", "DER", "roles", "expected", "predicted", title="per call"
    )
    for c in report["calls"]:
        calls.add_row(
            c["call_id"],
            c["layout"],
            fmt(c["cer"]),
            fmt(c["cer_agent"]),
            fmt(c["der"]),
            "ok" if c["role_ok"] else "wrong",
            " ".join(c["expected"]),
            " ".join(c["predicted"]),
        )
    heard = Table(
        "recordings",
        "expected, listed",
        "expected, not found",
        "listed, not expected",
        title="banned phrases of voices whose role is unsure, left for a listener (untrusted calls)",
    )
    for kind, h in report.get("banned_for_listener", {}).items():
        heard.add_row(kind, str(h["listed"]), str(h["missed"]), str(h["false"]))
    return Group(head, cer, who, overlap, rules, by_kind, heard, *_masking_tables(report), calls)


def _masking_tables(report: dict) -> list:
    """Masking recall as transcribed (leaked of items per kind) and the leaks, with no digit or
    name in them: their stored context shows those as #."""
    from rich.table import Table

    masking = report.get("masking")
    if not masking:
        return []
    groups = {**masking["by_kind"], **({"clean text": masking["clean"]} if masking.get("clean") else {})}
    kinds = [k for k in ("phone", "id_number", "unit", "name") if any(g[k]["items"] for g in groups.values())]
    table = Table(
        "recordings",
        *(f"{k} leaked / items" for k in kinds),
        "recall (95 % CI)",
        title="Personal data masked as transcribed (rooms of 3+ digits; clean text: the reference masked)",
    )
    for name, g in groups.items():
        a = g["all"]
        ci = a["recall_ci"]
        recall = "-" if a["recall"] is None else f"{a['recall']:.2f} ({ci[0]:.2f}-{ci[1]:.2f})"
        table.add_row(name, *(f"{g[k]['leaked']} / {g[k]['items']}" for k in kinds), recall)
    tables = [table]
    if masking["leaks"]:
        leaks = Table("recording", "kind", "said by", "exposed", "stored context", title="in the clear")
        for leak in masking["leaks"]:
            leaks.add_row(leak["call_id"], leak["kind"], leak["role"], leak["exposed"], leak["context"])
        tables.append(leaks)
    return tables


def _figures(report: dict) -> dict[str, float | None]:
    """Every figure of a report by a dotted name (per-call CER and DER included)."""
    out: dict[str, float | None] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            out[prefix] = value

    for section in (
        "summary",
        "cer",
        "backchannels",
        "diarization",
        "overlap",
        "overlap_words",
        "rules",
        "rules_by_kind",
    ):
        walk(section, report.get(section, {}))
    walk("masking", report.get("masking", {}).get("by_kind", {}))
    for call in report.get("calls", []):
        walk(f"calls.{call['call_id']}", {k: call.get(k) for k in ("cer", "cer_agent", "der")})
    return out


def compare_reports(before: dict, after: dict) -> list[tuple[str, float | None, float | None]]:
    """(figure, before, after) of every figure that differs between two evaluation reports, or
    is in only one of them: what an upgrade of the lock or a model changed."""
    old, new = _figures(before), _figures(after)
    return [
        (name, old.get(name), new.get(name))
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def _rttm_lines(file_id: str, turns: Iterable[tuple[str, float, float]]) -> list[str]:
    return [
        f"SPEAKER {file_id} 1 {start:.3f} {end - start:.3f} <NA> <NA> {speaker} <NA> <NA>"
        for speaker, start, end in sorted(turns, key=lambda t: t[1])
        if end > start
    ]


def write_rttm(truth_dir: Path, warehouse: Path, out: Path) -> int:
    """Reference and hypothesis RTTM of every scored recording, for any diarization tool
    (pyannote.metrics, dscore, md-eval): ``out/ref/<call>.rttm`` from the truth utterances (by
    role) and ``out/hyp/<call>.rttm`` from the warehouse's turns table (by speaker). Returns
    how many recordings were written."""
    turns = read_table(warehouse, "turns")
    by_call = {cid: g for cid, g in turns.groupby("call_id")}
    (out / "ref").mkdir(parents=True, exist_ok=True)
    (out / "hyp").mkdir(parents=True, exist_ok=True)
    written = 0
    for truth in load_truth(truth_dir):
        ref = [(u["role"], u["start"], u["end"]) for u in truth["utterances"]]
        for call_id, _ in _recordings(truth):
            if call_id not in by_call:
                continue
            hyp = [(r.speaker, r.start_ms / 1000, r.end_ms / 1000) for r in by_call[call_id].itertuples()]
            (out / "ref" / f"{call_id}.rttm").write_text("\n".join(_rttm_lines(call_id, ref)) + "\n")
            (out / "hyp" / f"{call_id}.rttm").write_text("\n".join(_rttm_lines(call_id, hyp)) + "\n")
            written += 1
    return written
