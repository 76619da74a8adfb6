"""Telephone conditions: labelled stereo calls made worse one way at a time, run and scored.

Takes a labelled share whose truth files list variants (the generated benchmark's parts,
``make eval-bench``, or the evaluation corpus) and writes, for each condition, a share of the same
calls' stereo recordings under that condition, with its truth and manifest; with ``--run`` it runs
the nightly batch on each and scores it with ``callqa evaluate``, and prints one table (and, with
``--chart``, each rule's F1 against the noise level and against the bit rate).

Conditions (each alone; N is a number; the impairments are ``pipeline/evaluation/impairments.py``):
  clean                   the stereo recording as it is
  babbleN                 four other conversations of the same share on the agent's channel, N dB
                          under the agent's speech (the next desks of an open-plan floor)
  streetN / musicN / tvN  traffic, music or a television on the caller's side at an SNR of N dB
                          (street-5: 5 dB louder than the caller)
  alaw / ulaw             8 kHz G.711 A-law (China's network) or µ-law, both channels
  amr12 / amr475          AMR-NB at 12.2 / 4.75 kbit/s (a mobile caller), each channel coded alone
  g726 / g723             G.726 ADPCM 32 kbit/s, G.723.1 6.3 kbit/s, each channel coded alone
  mp3_16 / mp3_32         a recorder's MP3 archive at 16 / 32 kbit/s (stereo, stored as .mp3)
  opus8 / opus12          Opus at 8 / 12 kbit/s (a softphone; stereo, stored as .ogg)
  lossN                   N % of 20 ms frames lost on both channels (bursts; silenced or repeated)
  quietN                  the caller's speech at -N dBFS
  clipN                   the agent's input N dB too hot, clipped at full scale
  agc                     automatic gain control pumping both channels' hiss in every pause
  echoN                   each party's voice coming back on the other's channel N dB under, 150 ms late
  swapped                 the agent on the other channel than the manifest says
  twice                   the mixed call stored on both channels
  ivr                     ringback and a recorded IVR prompt (欢迎致电…本次通话可能被录音) before the agent
  hold                    music on hold through every pause of 5 s or more (the agent's channel)
  dtmf                    keypad tones from the caller in the call's longest pause
  voicemail               a call back that meets the caller's voicemail: ringback, a recorded greeting
                          and its beep on the caller's side, the agent's opening over the greeting
                          (taken for a person), then two of the agent's sentences as the message
  spontaneous             the same generated calls with half their sentences said as people do:
                          a filler, a repeated word, a false start or a self-correction (rendered
                          anew by ``callqa generate --spontaneous``; a generated benchmark's share only)

    .venv/bin/python benchmarks/conditions.py data/eval/bench-dev/share /tmp/conditions-dev \\
        --calls 16 --conditions clean,babble20,babble15,babble10 --run
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.evaluation import impairments as imp  # noqa: E402
from pipeline.records import agent_channel  # noqa: E402

SR = imp.SR
BABBLE_VOICES = 4
# Every condition's name: a fixed word, or a word and a number (its level).
FIXED = (
    "clean", "alaw", "ulaw", "swapped", "twice", "agc", "ivr", "hold", "dtmf", "voicemail",
    "spontaneous", *imp.CODECS,
)  # fmt: skip
LEVELLED = ("babble", "street", "music", "tv", "loss", "quiet", "clip", "echo")
IVR_PROMPT = "您好，欢迎致电阳光物业服务热线，本次通话可能会被录音，正在为您转接人工客服，请稍候。"
IVR_VOICE = "zf_xiaoyi"
# A network's voicemail (秘书台): not a phrase of any call script, and read by a voice shifted
# away from the IVR's.
VOICEMAIL_GREETING = "您好，机主暂时无法接听您的电话，请在提示音后留言。"
VOICEMAIL_VOICE = "zf_xiaoyi@1.06"
HOLD_MIN_S = 5.0
REAL_DAY = "2026-11-01T09:00:00+08:00"
SPONTANEOUS_SHARE = 0.5
TTS_CACHE = ROOT / "data" / "eval" / "tts-cache"


def parse(condition: str) -> tuple[str, float | None]:
    """``babble15`` -> ("babble", 15.0); ``amr12`` -> ("amr12", None). Raises ValueError."""
    if condition in FIXED:
        return condition, None
    match = re.fullmatch(r"([a-z]+)(-?\d+(?:\.\d+)?)", condition)
    if not match or match.group(1) not in LEVELLED:
        raise ValueError(condition)
    return match.group(1), float(match.group(2))


def _read(path: Path) -> np.ndarray:
    from pipeline.audio.decode import decode

    with decode(path) as audio:
        return audio.samples.astype(np.float32)  # (channels, n) at 16 kHz


def babble(others: list[np.ndarray], n: int) -> np.ndarray:
    """Four other conversations (each a call's two channels mixed), looped to ``n`` samples, summed."""
    out = np.zeros(n, np.float32)
    for i, other in enumerate(others):
        mixed = other.sum(axis=0)
        start = (i * len(mixed)) // max(1, len(others))  # each starts somewhere else
        looped = np.resize(np.roll(mixed, -start), n)
        out += looped / (imp.active_rms(looped) + 1e-9)
    return out


def pauses(truth: dict, min_s: float) -> list[tuple[float, float]]:
    """The stretches of ``min_s`` or more in which neither party speaks (by the truth)."""
    spans = sorted((u["start"], u["end"]) for u in truth["utterances"])
    out, end = [], 0.0
    for start, stop in spans:
        if start - end >= min_s:
            out.append((end, start))
        end = max(end, stop)
    return out


class Prompts:
    """Recorded announcements (the IVR's welcome, a voicemail's greeting), spoken once by the
    benchmark's TTS and kept beside the conditions."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def ivr(self) -> np.ndarray:
        return self._spoken("ivr-prompt.flac", IVR_PROMPT, IVR_VOICE)

    def voicemail(self) -> np.ndarray:
        return self._spoken("voicemail-greeting.flac", VOICEMAIL_GREETING, VOICEMAIL_VOICE)

    def _spoken(self, name: str, text: str, voice: str) -> np.ndarray:
        import soundfile as sf

        path = self._folder / name
        if not path.exists():
            import soxr

            from pipeline.evaluation.synth.generate import shifted
            from pipeline.evaluation.synth.tts import KokoroTTS

            models = ROOT / "models"
            tts = KokoroTTS(models / "kokoro-82m-int8", extra_voices=models / "kokoro-voices-zh")
            speak = shifted(lambda t, v, speed: soxr.resample(tts.synthesize(t, v, speed), 24000, SR))
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, imp.at_level(speak(text, voice, 1.0), -22), SR, format="FLAC", subtype="PCM_16")
        audio, _ = sf.read(path, dtype="float32")
        return audio


def impaired(
    stereo: np.ndarray,
    agent: int,
    condition: str,
    others: list[np.ndarray],
    truth: dict,
    prompts: Prompts | None = None,
) -> tuple[np.ndarray, float]:
    """The (2, n) recording under ``condition`` (the agent on channel ``agent``), and the seconds
    added before the call (the truth's times move by as much)."""
    kind, level = parse(condition)
    seed = truth["call_id"]
    out = stereo.copy()
    caller = 1 - agent
    n = out.shape[1]
    shift = 0.0
    if kind == "babble":
        noise = babble(others, n)
        out[agent] += (
            noise * imp.active_rms(out[agent]) / (imp.active_rms(noise) + 1e-9) * 10 ** (-level / 20)
        )
    elif kind in ("street", "music", "tv"):
        if kind == "street":
            noise = imp.street(n, seed)
        elif kind == "music":
            noise = imp.music(n, seed)
        else:
            noise = imp.television(n, seed, others[0].sum(axis=0))
        out[caller] = imp.mixed_under(out[caller], noise, level)
    elif kind in imp.CODECS and not imp.CODECS[kind].stereo:
        out = imp.through_codec(out, imp.CODECS[kind])  # each leg; a recorder's codec is the file's
    elif kind == "loss":
        out = np.stack([imp.packet_loss(ch, level, f"{seed}{i}") for i, ch in enumerate(out)])
    elif kind == "quiet":
        out[caller] = imp.at_level(out[caller], -level)
    elif kind == "clip":
        out[agent] = imp.clipped(out[agent], level)
    elif kind == "agc":
        out = np.stack([imp.agc_pumped(ch, f"{seed}{i}") for i, ch in enumerate(out)])
    elif kind == "echo":
        out = np.stack([imp.with_echo(stereo[i], stereo[1 - i], level) for i in range(2)])
    elif kind == "swapped":
        out = out[::-1].copy()
    elif kind == "twice":
        mixed = out.sum(axis=0) / 2
        out = np.stack([mixed, mixed])
    elif kind == "ivr":
        assert prompts is not None
        before = np.concatenate([imp.ringback(2), prompts.ivr(), np.zeros(SR, np.float32)])
        lead = np.zeros((2, len(before)), np.float32)
        lead[agent] = before  # the centre's side of the line plays it
        out = np.concatenate([lead, out], axis=1)
        shift = len(before) / SR
    elif kind == "hold":
        for start, end in pauses(truth, HOLD_MIN_S):
            a, b = int((start + 0.5) * SR), int((end - 0.3) * SR)
            out[agent, a:b] += imp.at_level(imp.music(b - a, seed + str(a)), -30)
    elif kind == "dtmf":
        gaps = pauses(truth, 0.0)
        if gaps:
            start, end = max(gaps, key=lambda g: g[1] - g[0])
            keys = imp.dtmf("8#" if end - start < 1.5 else "1023#")
            a = int((start + 0.1) * SR)
            out[caller, a : a + len(keys)] += keys[: n - a]
    return np.clip(out, -1, 1), shift


def _write(path: Path, audio: np.ndarray, condition: str) -> None:
    import soundfile as sf
    import soxr

    path.parent.mkdir(parents=True, exist_ok=True)
    kind, _ = parse(condition)
    if kind in ("alaw", "ulaw"):
        narrow = soxr.resample(audio.T, SR, 8000).astype(np.float32)
        sf.write(
            path, np.clip(narrow, -1, 1), 8000, format="WAV", subtype="ALAW" if kind == "alaw" else "ULAW"
        )
    elif kind in imp.CODECS and imp.CODECS[kind].stereo:
        path.write_bytes(imp.encoded(audio, imp.CODECS[kind]))
    elif kind in imp.CODECS:  # each leg decoded from its codec: what a recorder keeps of it
        rate = imp.CODECS[kind].rate
        narrow = soxr.resample(audio.T, SR, rate).astype(np.float32) if rate != SR else audio.T
        sf.write(path, np.clip(narrow, -1, 1), rate, format="WAV", subtype="PCM_16")
    else:
        sf.write(path, audio.T, SR, format="FLAC", subtype="PCM_16")


def _suffix(condition: str) -> str:
    kind, _ = parse(condition)
    if kind in imp.CODECS and imp.CODECS[kind].stereo:
        return "." + imp.CODECS[kind].container
    return ".wav" if kind in ("alaw", "ulaw") or kind in imp.CODECS else ".flac"


def shifted(truth: dict, seconds: float) -> dict:
    """The truth of a call with ``seconds`` of something else put before it."""
    if not seconds:
        return truth
    moved = [{**u, "start": u["start"] + seconds, "end": u["end"] + seconds} for u in truth["utterances"]]
    return {**truth, "utterances": moved, "duration": truth["duration"] + seconds}


def _load(share: Path, calls: int) -> list[tuple[dict, dict, int, np.ndarray]]:
    """The first ``calls`` labelled calls of ``share`` with a stereo recording: (truth, its stereo
    variant, the agent's channel, the recording)."""
    loaded = []
    for path in sorted((share / "truth").glob("*.json")):
        truth = json.loads(path.read_text(encoding="utf-8"))
        stereo = next((v for v in truth.get("variants", {}).values() if v["format"] == "stereo"), None)
        if stereo is None:  # a truth of one recording only (the real-voice share's PYS)
            continue
        if len(loaded) == calls:
            break
        agent = agent_channel(stereo["layout"])
        loaded.append((truth, stereo, agent, _read(share / stereo["audio"])))
    return loaded


def spoken_calls(loaded: list, out: Path) -> list[tuple[dict, dict, int, np.ndarray]]:
    """The same generated calls, their sentences said spontaneously, rendered under ``out``."""
    from pipeline.evaluation.synth.generate import GeneratorOptions, generate

    truths = [truth for truth, *_ in loaded]
    numbers = [int(re.sub(r"\D", "", t["call_id"])) for t in truths]
    if any("part" not in t for t in truths) or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise SystemExit("spontaneous: the share must be a generated benchmark's (callqa generate)")
    generate(
        out,
        truths[0]["part"],
        len(truths),
        ROOT / "models",
        seed=int(truths[0].get("generator_seed", 0)),
        first=numbers[0],
        kinds=("stereo",),
        reuse=True,
        tts_cache=TTS_CACHE,
        progress=print,
        options=GeneratorOptions(spontaneous=SPONTANEOUS_SHARE),
    )
    return _load(out, len(truths))


# A mono recorder keeps the two legs mixed, as the generated benchmark's mono kind is made.
MONO_GAIN = 0.7
NOT_ON_MONO = ("swapped", "twice")


def build(share: Path, out: Path, conditions: list[str], calls: int, mono: bool = False) -> list[Path]:
    """One share per condition under ``out``; returns their folders. ``mono``: each recording is
    the two legs mixed into one channel after the condition (a line's codec on each leg, a
    recorder's MP3 on the mix)."""
    if mono and set(conditions) & set(NOT_ON_MONO):
        raise SystemExit(f"{', '.join(NOT_ON_MONO)}: conditions of two channels, not of a mono recording")
    loaded = _load(share, calls)
    spoken = spoken_calls(loaded, out / "spontaneous-calls") if "spontaneous" in conditions else []
    prompts = Prompts(out)
    shares = []
    for condition in conditions:
        folder = out / condition
        rows = []
        calls_here = spoken if condition == "spontaneous" else loaded
        for i, (truth, stereo, agent, audio) in enumerate(calls_here):
            others = [loaded[(i + k) % len(loaded)][3] for k in range(1, BABBLE_VOICES + 1)]
            call_id = f"{truth['call_id']}.{condition}"
            rel = Path("recordings") / f"{call_id}{_suffix(condition)}"
            if condition == "voicemail":
                worse, told = imp.voicemail_call(audio, agent, truth, prompts.voicemail())
            else:
                worse, shift = impaired(audio, agent, condition, others, truth, prompts)
                told = shifted(truth, shift)
            if mono:
                worse = np.clip(MONO_GAIN * worse.sum(axis=0, keepdims=True), -1, 1)
            _write(folder / rel, worse, condition)
            layout = "mono" if mono else stereo["layout"]  # the manifest keeps it, swapped or not
            # The truth is by role, not by channel: a swapped call's agent is still the agent.
            variants = {call_id: {"layout": layout, "format": condition, "audio": str(rel)}}
            record = {**told, "variants": variants}
            (folder / "truth").mkdir(parents=True, exist_ok=True)
            (folder / "truth" / f"{truth['call_id']}.json").write_text(
                json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            # (the real-voice conversations' truth has no start: their manifest's day)
            started = truth.get("started_at", REAL_DAY)
            rows.append((str(rel), call_id, truth["agent_id"], started, layout))
        with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "call_id", "agent_id", "started_at", "channel_layout"])
            writer.writerows(rows)
        shares.append(folder)
    return shares


def run_and_score(folder: Path, config: Path) -> dict:
    callqa = str(Path(sys.executable).parent / "callqa")
    warehouse = folder / "warehouse"
    subprocess.run(
        [callqa, "run", str(folder), "--warehouse", str(warehouse), "--config", str(config)], check=True
    )
    report = folder / "eval.json"
    subprocess.run(
        [
            callqa,
            "evaluate",
            str(folder / "truth"),
            "--warehouse",
            str(warehouse),
            "--config",
            str(config),
            "--json",
            str(report),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return json.loads(report.read_text(encoding="utf-8"))


def _f1(rule: dict | None) -> str:
    if rule and rule.get("f1") is None and rule.get("fp"):
        return f"{rule['fp']} false"  # nothing to find, and found anyway
    if not rule or rule.get("f1") is None:
        return "-"
    return f"{rule['f1']:.2f}"


RULES = (
    "greeting.missing",
    "interruption.agent",
    "interruption.caller",
    "hangup.premature",
    "conduct.domineering",
)


def table(results: dict[str, dict]) -> str:
    lines = [
        "| condition | CER | DER | roles right | not scored | " + " | ".join(f"{r} F1" for r in RULES) + " |",
        "|---|---|---|---|---|" + "---|" * len(RULES),
    ]
    for condition, report in results.items():
        who = report["diarization"]["all"]
        summary = report["summary"]
        withheld = summary.get("not_scored_recordings", 0)
        lines.append(
            f"| {condition} | {report['cer'].get('all') or 0:.3f} | {who.get('der') or 0:.3f} | "
            f"{who.get('role_accuracy') or 0:.2f} | {withheld}/{summary['recordings_scored']} | "
            + " | ".join(_f1(report["rules"].get(r)) for r in RULES)
            + " |"
        )
    return "\n".join(lines)


def summary(results: dict[str, dict]) -> dict[str, dict]:
    """Each condition's headline figures: what the docs quote, without the per-call detail."""
    out = {}
    for condition, report in results.items():
        who = report["diarization"]["all"]
        out[condition] = {
            "recordings": report["summary"]["recordings_scored"],
            "not_scored_recordings": report["summary"].get("not_scored_recordings", 0),
            "cer": report["cer"].get("all"),
            "der": who.get("der"),
            "role_accuracy": who.get("role_accuracy"),
            "rules": {
                rule: {k: r.get(k) for k in ("tp", "fp", "fn", "abstained", "precision", "recall", "f1")}
                for rule, r in report["rules"].items()
            },
        }
    return out


# Bit rates for the chart (kbit/s a channel); clean is 16 kHz 16-bit PCM.
BIT_RATES = {
    "clean": 256, "alaw": 64, "ulaw": 64, "g726": 32, "mp3_32": 16, "mp3_16": 8,
    "amr12": 12.2, "opus12": 12, "opus8": 8, "g723": 6.3, "amr475": 4.75,
}  # fmt: skip


def chart(results: dict[str, dict], out: Path) -> list[Path]:
    """Each rule's F1 and the CER against the noise level (one panel per kind of noise) and against
    the bit rate, as scored (run the conditions with the floors off to see where callqa stops being
    right); PNGs under ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def f1(report: dict, rule: str) -> float:
        value = report["rules"].get(rule, {}).get("f1")
        return float("nan") if value is None else value

    def panel(ax, points: list[tuple[str, dict]], title: str) -> None:
        xs = range(len(points))
        for rule in RULES:
            ax.plot(xs, [f1(r, rule) for _, r in points], marker="o", label=rule)
        cer = [min(1.2, r["cer"].get("all") or 0) for _, r in points]
        ax.plot(xs, cer, "k--", marker="x", label="CER (cut at 1.2)")
        ax.set_xticks(list(xs), [label for label, _ in points], fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(-0.05, 1.25)
        ax.grid(alpha=0.3)

    out.mkdir(parents=True, exist_ok=True)
    written = []
    clean = results.get("clean")
    titles = {
        "babble": "voices in the agent's headset (dB under the agent)",
        "street": "street, caller's side (SNR dB)",
        "music": "music, caller's side (SNR dB)",
        "tv": "television, caller's side (SNR dB)",
    }
    noises = [k for k in titles if any(parse(c)[0] == k for c in results)]
    if noises:
        fig, axes = plt.subplots(1, len(noises), figsize=(4 * len(noises), 3.6), sharey=True, squeeze=False)
        for ax, kind in zip(axes[0], noises, strict=True):
            levels = sorted(
                ((parse(c)[1], r) for c, r in results.items() if parse(c)[0] == kind), key=lambda p: -p[0]
            )
            points = ([("clean", clean)] if clean else []) + [(f"{level:g}", r) for level, r in levels]
            panel(ax, points, titles[kind])
        axes[0][0].set_ylabel("F1; CER dashed")
        axes[0][-1].legend(fontsize=7, loc="lower left")
        fig.tight_layout()
        written.append(out / "conditions-noise.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    coded = sorted(((BIT_RATES[c], c, r) for c, r in results.items() if c in BIT_RATES), key=lambda p: -p[0])
    if len(coded) > 1:
        fig, ax = plt.subplots(figsize=(8, 3.8))
        panel(ax, [(f"{c}\n{b:g}", r) for b, c, r in coded], "codecs: kbit/s a channel")
        ax.set_ylabel("F1; CER dashed")
        ax.legend(fontsize=7, loc="lower left")
        fig.tight_layout()
        written.append(out / "conditions-bitrate.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("share", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--conditions", default="clean,babble20,babble15,babble10,alaw,swapped,twice")
    parser.add_argument("--config", type=Path, default=ROOT / "data/call_scripts/eval/eval.toml")
    parser.add_argument("--run", action="store_true", help="run and score each condition")
    parser.add_argument("--reuse", action="store_true", help="keep conditions already built and scored")
    parser.add_argument("--chart", type=Path, help="draw the F1 charts into this folder")
    parser.add_argument("--summary", type=Path, help="write each condition's figures (compact JSON) here")
    parser.add_argument(
        "--mono", action="store_true", help="store each call as one mixed channel, as a mono recorder does"
    )
    args = parser.parse_args()
    conditions = args.conditions.split(",")
    unknown = []
    for condition in conditions:
        try:
            parse(condition)
        except ValueError:
            unknown.append(condition)
    if unknown:
        parser.error(
            f"unknown condition(s) {unknown}; choose from {', '.join(FIXED)} or "
            f"{', '.join(k + 'N' for k in LEVELLED)}"
        )
    todo = [c for c in conditions if not (args.reuse and (args.out / c / "eval.json").exists())]
    build(args.share, args.out, todo, args.calls, args.mono)
    print(f"{len(todo)} condition(s) of {args.calls} calls built under {args.out}")
    if args.run:
        results = {}
        for condition in conditions:
            folder = args.out / condition
            if condition in todo:
                results[condition] = run_and_score(folder, args.config)
            else:
                results[condition] = json.loads((folder / "eval.json").read_text(encoding="utf-8"))
            (args.out / "conditions.json").write_text(
                json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8"
            )
    else:
        scored = args.out / "conditions.json"
        results = json.loads(scored.read_text(encoding="utf-8")) if scored.exists() else {}
    if results:
        print(table(results))
    if args.summary and results:
        args.summary.write_text(
            json.dumps(summary(results), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    if args.chart:
        for path in chart(results, args.chart):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
