"""The review desk on a busy week: page times on a generated warehouse of one ISO week of calls.

Generates (once; kept while the parameters match) a warehouse of one week (2026-W47, 16-22
November 2026) of calls through the real storage API, so layout and schemas are the real ones:
``pipeline.records`` objects written with ``store_calls`` a day at a time, scorecards built with
``update_scorecards``, a few hundred verdicts recorded with ``record_review`` and a handful of
small FLAC recordings in the share for the clips. Each call: 2-4 minutes, 30-60 utterances of
Chinese text with their words and turns, 2-8 findings drawn from a realistic rule mix.

Then, in one process, times the desk's pages through Starlette's TestClient: the week ranking,
an agent's week, the queue (and, if it takes them, a rule filter and a second page), a few call
pages and a finding's clip. For each: the first request (cold), median and p95 of N warm
repeats, the response size and whether it is under 300 ms; then a cProfile of one warm request
of the slowest page, top entries by cumulative time.

    .venv/bin/python benchmarks/desk_pages.py [--dir /tmp/callqa-desk-bench] [--calls 3000] [--agents 40]
        [--seed 7] [--reviews 300] [--repeats 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.records import (  # noqa: E402
    CallMetrics,
    CallRef,
    CallResult,
    Event,
    RoleAssignment,
    Turn,
    Utterance,
    Word,
)

FIRST_DAY = date(2026, 11, 16)  # Monday of 2026-W47
WEEK = "2026-W47"
CST = timezone(timedelta(hours=8))
BUDGET_MS = 300.0
BASE_URL = "http://127.0.0.1:8765"  # a loopback Host, should the desk check it
RECORDINGS = 6
RECORDING_S = 240  # as long as the longest call, so every clip has audio under it
RECORDING_RATE = 8000  # telephone audio
FORMAT = 1  # bump when the generated data changes shape, so an old folder is regenerated

# (rule_id, category, severity, role, weight): the mix of warehouse_scale.RULES plus hold.no_apology.
RULE_MIX = [
    ("interruption.agent", "", "minor", "agent", 0.30),
    ("pace.fast", "", "minor", "agent", 0.20),
    ("closing.missing", "", "major", "agent", 0.12),
    ("self_intro.missing", "", "minor", "agent", 0.10),
    ("greeting.missing", "", "major", "agent", 0.08),
    ("phrase.banned", "傲慢", "major", "agent", 0.06),
    ("phrase.banned", "不耐烦/粗鲁", "major", "agent", 0.04),
    ("conduct.impatient", "急躁", "minor", "agent", 0.04),
    ("interruption.caller", "", "info", "caller", 0.03),
    ("hold.no_notice", "", "minor", "agent", 0.02),
    ("hold.no_apology", "", "minor", "agent", 0.01),
    ("conduct.domineering", "独断专横", "minor", "agent", 0.007),
    ("hangup.premature", "", "major", "agent", 0.003),
]
ONCE_PER_CALL = {"greeting.missing", "self_intro.missing", "closing.missing", "hangup.premature", "pace.fast"}

GREETING = "您好，这里是自来水公司客服热线，工号{n}，很高兴为您服务。"
CLOSING = "感谢您的来电，请您对我的服务作出评价，再见。"
AGENT_LINES = [
    "请问您是哪个小区的？",
    "好的，请您稍等，我帮您查询一下。",
    "让您久等了，系统显示您所在区域今天在抢修管道。",
    "预计下午五点之前恢复供水。",
    "请您提供一下户号，我帮您登记。",
    "您的户号是多少？",
    "好的，已经为您登记了报修，维修师傅会在两个小时内联系您。",
    "这个问题我需要转给相关部门处理。",
    "请问还有什么可以帮您的吗？",
    "水费可以通过手机银行或者营业厅缴纳。",
    "您说的情况我已经记录下来了。",
    "麻烦您再说一下详细地址。",
    "不好意思，刚才没有听清楚，请您再说一遍。",
    "我们会尽快安排人员上门查看。",
    "您可以关注我们的公众号查询停水通知。",
    "这个月的账单金额是一百二十八元。",
    "欠费超过三个月会暂停供水，请您及时缴费。",
    "好的，明白了。",
    "对不起，给您带来不便了。",
    "请您保持电话畅通。",
]
CALLER_LINES = [
    "喂，你好，我家从早上开始就停水了。",
    "我是阳光花园三期的。",
    "怎么又停水了，上周才停过一次。",
    "户号是三二零一五七八六。",
    "那大概什么时候能来水？",
    "我家卫生间的水管在漏水，楼下都渗下去了。",
    "地址是建设路一百二十号二单元五零二。",
    "好的好的，谢谢你。",
    "我想问一下这个月的水费怎么这么高。",
    "你们能不能快一点，家里老人等着用水。",
    "嗯，对。",
    "没有了，谢谢。",
    "我打了好几次电话都没人接。",
    "那我要等多久？",
    "能不能派人来看一下水表？",
    "行，那我等你们电话。",
]
BANNED = {"傲慢": ["不知道", "现在没空"], "不耐烦/粗鲁": ["你有完没完", "我已经说过了"]}
IMPATIENT = ["快点说，后面还有人排队。", "你到底要办什么？"]
DOMINEERING = ["就这样定了，你不用再说了。"]
REVIEWERS = ["王组长", "李质检", "张质检", "陈主管"]
NOTES = ["", "", "", "有问候", "客户先挂断", "录音确认", "语速正常"]


@dataclass(frozen=True)
class Params:
    calls: int
    agents: int
    seed: int
    reviews: int

    def stamp(self) -> dict[str, Any]:
        return {"format": FORMAT, **self.__dict__}


# --- generation ---------------------------------------------------------------------------------


def write_recordings(share: Path, rng: np.random.Generator) -> list[Path]:
    """A few quiet stereo FLACs (low noise) that every call points at: a clip decodes real audio."""
    import soundfile as sf

    folder = share / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(RECORDINGS):
        path = folder / f"rec-{i:02d}.flac"
        noise = rng.normal(0, 0.01, (RECORDING_S * RECORDING_RATE, 2)).astype(np.float32)
        sf.write(path, noise, RECORDING_RATE)
        paths.append(path)
    return paths


def words_of(text: str, start: float, end: float, rng: np.random.Generator) -> tuple[Word, ...]:
    """One word per character (as the ASR's Chinese word timestamps), spread over the span."""
    chars = [c for c in text if c not in "，。？！、“”"]
    step = (end - start) / max(1, len(chars))
    probs = rng.uniform(0.75, 1.0, len(chars))
    return tuple(
        Word(c, round(start + i * step, 3), round(start + (i + 1) * step, 3), round(float(p), 3))
        for i, (c, p) in enumerate(zip(chars, probs, strict=True))
    )


def make_call(
    call_id: str, agent_id: str, started: datetime, recording: Path, share: Path, rng: np.random.Generator
) -> CallResult:
    """One scored call: alternating agent and caller utterances with their words and turns, a few
    findings placed on them, and the metrics the store keeps."""
    stereo = rng.random() < 0.85  # most recordings are stereo (channel map); the rest mono
    duration = float(rng.uniform(120, 240))
    n = int(rng.integers(30, 61))
    slots = np.cumsum(rng.uniform(0.5, 1.5, n))
    slots = 1.0 + slots / slots[-1] * (duration - 3.0)  # speech from 1 s to 2 s before the end
    bounds = np.concatenate([[1.0], slots])
    speakers = ("ch0", "ch1") if stereo else ("S0", "S1")
    utterances: list[Utterance] = []
    turns: list[Turn] = []
    for idx in range(n):
        role = "agent" if idx % 2 == 0 else "caller"
        start = float(bounds[idx]) + 0.2
        end = float(bounds[idx + 1])
        if idx == 0:
            text = GREETING.format(n=1000 + int(agent_id[1:]))
        elif idx == n - 1 and role == "agent":
            text = CLOSING
        else:
            text = str(rng.choice(AGENT_LINES if role == "agent" else CALLER_LINES))
        speaker = speakers[0] if role == "agent" else speakers[1]
        utterances.append(
            Utterance(
                call_id,
                idx,
                role,
                round(start, 3),
                round(end, 3),
                text,
                words_of(text, start, end, rng),
                round(float(rng.uniform(0.7, 0.98)), 3),
                speaker,
            )
        )
        turns.append(Turn(speaker, role, round(start, 3), round(end, 3), 0 if role == "agent" else 1))

    events = place_events(call_id, agent_id, utterances, rng)
    confidence = 1.0 if stereo else round(float(rng.uniform(0.3, 0.95)), 2)
    roles = RoleAssignment(speakers[0], confidence, "channel map" if stereo else "read from the words")
    abstentions = () if confidence >= 0.5 else ("角色不可信：坐席相关规则未评分",)
    talk_agent = sum(u.end - u.start for u in utterances if u.role == "agent")
    talk_caller = sum(u.end - u.start for u in utterances if u.role == "caller")
    agent_chars = sum(len(u.words) for u in utterances if u.role == "agent")
    metrics = CallMetrics(
        call_id,
        agent_id,
        round(duration, 3),
        round(talk_agent, 3),
        round(talk_caller, 3),
        round(max(0.0, duration - talk_agent - talk_caller), 3),
        round(float(rng.uniform(0, 6)), 3),
        round(agent_chars / max(talk_agent, 1e-3), 2),
        n,
        polite_counts={p: int(rng.integers(0, 4)) for p in ("您好", "请", "谢谢", "对不起", "再见")},
    )
    ref = CallRef(
        call_id,
        str(recording),
        agent_id,
        started,
        "stereo-agent-left" if stereo else "mono",
        sha256=f"{int(rng.integers(0, 2**63)):064x}",
        size=recording.stat().st_size,
        mtime=started.timestamp(),
        stored_path=str(recording.relative_to(share)),
    )
    timings = {"decode": 0.4, "segment": 2.1, "transcribe": 11.0, "rules": 0.05}
    return CallResult(
        ref,
        "whisper-large-v3-turbo",
        "lex-3f9a",
        roles,
        tuple(utterances),
        events,
        metrics,
        timings,
        abstentions,
        tuple(turns),
    )


def place_events(
    call_id: str, agent_id: str, utterances: list[Utterance], rng: np.random.Generator
) -> tuple[Event, ...]:
    """2-8 findings from RULE_MIX, each on an utterance of the right party with its text as evidence;
    never the same rule twice on one utterance (that would be one finding, one event_id)."""
    weights = np.array([w for *_, w in RULE_MIX])
    weights /= weights.sum()
    agent_utts = [u for u in utterances if u.role == "agent"]
    caller_utts = [u for u in utterances if u.role == "caller"]
    taken: set[tuple[str, str, int]] = set()
    events: list[Event] = []
    for pick in rng.choice(len(RULE_MIX), int(rng.integers(2, 9)), p=weights):
        rule_id, category, severity, role, _ = RULE_MIX[pick]
        if rule_id == "greeting.missing" or rule_id == "self_intro.missing":
            u = agent_utts[0]
        elif rule_id in ("closing.missing", "hangup.premature"):
            u = agent_utts[-1]
        else:
            pool = caller_utts if role == "caller" else agent_utts
            u = pool[int(rng.integers(0, len(pool)))]
        key = (rule_id, category, -1 if rule_id in ONCE_PER_CALL else u.idx)
        if key in taken:
            continue
        taken.add(key)
        evidence = u.text
        if rule_id == "phrase.banned":
            evidence = str(rng.choice(BANNED[category]))
        elif rule_id == "conduct.impatient":
            evidence = str(rng.choice(IMPATIENT))
        elif rule_id == "conduct.domineering":
            evidence = str(rng.choice(DOMINEERING))
        elif rule_id == "pace.fast":
            evidence = f"语速 {rng.uniform(5.5, 7.5):.1f} 字/秒"
        events.append(
            Event(
                call_id,
                agent_id,
                rule_id,
                category,
                severity,
                u.start,
                u.end,
                role,
                evidence,
                round(float(rng.uniform(0.6, 1.0)), 3),
                "1+lex.lex-3f9a",
            )
        )
    return tuple(sorted(events, key=lambda e: e.start))


def record_verdicts(warehouse: Path, n: int, rng: np.random.Generator) -> int:
    """``n`` verdicts on findings picked at random, most upheld, some overturned, a few revised
    later (the latest wins), each given a day or two after its call, as the QA team works."""
    from pipeline.warehouse.reviews import record_review
    from pipeline.warehouse.store import read_table

    events = read_table(warehouse, "events", columns=["event_id", "call_id", "role"])
    events = events[events["role"] == "agent"]  # the queue a reviewer works from
    chosen = events.iloc[rng.choice(len(events), min(n, len(events)), replace=False)]
    written = 0
    for row in chosen.itertuples():
        day = date.fromisoformat(row.call_date)
        when = datetime(day.year, day.month, day.day, 9, tzinfo=CST) + timedelta(
            hours=float(rng.uniform(18, 60))
        )
        verdict = "overturned" if rng.random() < 0.2 else "upheld"
        record_review(
            warehouse,
            row.event_id,
            verdict,
            str(rng.choice(REVIEWERS)),
            str(rng.choice(NOTES)),
            when.astimezone(UTC),
        )
        written += 1
        if rng.random() < 0.05:  # a second opinion overrides the first
            other = "upheld" if verdict == "overturned" else "overturned"
            record_review(
                warehouse,
                row.event_id,
                other,
                "陈主管",
                "复听后改判",
                (when + timedelta(hours=4)).astimezone(UTC),
            )
            written += 1
    return written


def generate(folder: Path, params: Params) -> dict[str, Any]:
    from pipeline.config import ScoringConfig
    from pipeline.warehouse.scorecards import update_scorecards
    from pipeline.warehouse.store import store_calls

    rng = np.random.default_rng(params.seed)
    share, warehouse = folder / "share", folder / "warehouse"
    recordings = write_recordings(share, rng)
    agents = [f"A{1001 + i}" for i in range(params.agents)]
    # Fewer calls at the weekend, as a centre staffs it.
    day_weights = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.4])
    per_day = rng.multinomial(params.calls, day_weights / day_weights.sum())
    n_events = 0
    for offset, n_calls in enumerate(per_day):
        day = FIRST_DAY + timedelta(days=offset)
        results = []
        for i in range(int(n_calls)):
            started = datetime(day.year, day.month, day.day, 8, tzinfo=CST) + timedelta(
                seconds=float(rng.uniform(0, 12 * 3600))
            )
            call_id = f"{day:%Y%m%d}-{i + 1:05d}"
            agent = agents[int(rng.integers(0, len(agents)))]
            recording = recordings[int(rng.integers(0, len(recordings)))]
            results.append(make_call(call_id, agent, started, recording, share, rng))
        n_events += sum(len(r.events) for r in results)
        store_calls(warehouse, results)  # one batch per day, as the nightly run stores a day
    update_scorecards(warehouse, ScoringConfig())
    verdicts = record_verdicts(warehouse, params.reviews, rng)
    update_scorecards(warehouse, ScoringConfig())  # overturned findings deduct nothing
    return {"calls": int(per_day.sum()), "events": n_events, "verdicts": verdicts}


def ensure_warehouse(folder: Path, params: Params) -> dict[str, Any]:
    """The generated warehouse's sizes, generating it first unless the folder holds these params."""
    stamp = folder / "params.json"
    if stamp.exists():
        kept = json.loads(stamp.read_text())
        if kept.get("params") == params.stamp():
            return {**kept["sizes"], "generation_s": kept["generation_s"], "generated_now": False}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t = time.perf_counter()
    sizes = generate(folder, params)
    seconds = round(time.perf_counter() - t, 1)
    stamp.write_text(json.dumps({"params": params.stamp(), "sizes": sizes, "generation_s": seconds}))
    return {**sizes, "generation_s": seconds, "generated_now": True}


# --- measurement --------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    path: str
    status: int
    cold_ms: float
    median_ms: float
    p95_ms: float
    kb: float
    note: str = ""

    @property
    def under_budget(self) -> bool:
        return self.status < 400 and self.p95_ms < BUDGET_MS


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def time_page(client, name: str, path: str, repeats: int, note: str = "") -> tuple[Timing, bytes]:
    t = time.perf_counter()
    first = client.get(path)
    cold = (time.perf_counter() - t) * 1000
    warm = []
    changed: set[int] = set()  # a page that starts failing midway must not pass for fast
    for _ in range(repeats):
        t = time.perf_counter()
        response = client.get(path)
        warm.append((time.perf_counter() - t) * 1000)
        if response.status_code != first.status_code:
            changed.add(response.status_code)
    if changed:
        note = "; ".join([*([note] if note else []), f"later status {sorted(changed)}"])
    timing = Timing(
        name,
        path,
        max(changed | {first.status_code}),  # the worst status seen decides the verdict
        round(cold, 1),
        round(statistics.median(warm), 1),
        round(p95(warm), 1),
        round(len(first.content) / 1024, 1),
        note,
    )
    return timing, first.content


def pick_calls(warehouse: Path, rng: np.random.Generator) -> dict[str, str]:
    """Call pages worth timing: the call with the most findings, a mono call whose roles are not
    trusted (the page then scans it for banned phrases any voice said) and an ordinary one."""
    from pipeline.warehouse.store import read_table

    calls = read_table(warehouse, "calls", columns=["call_id", "n_events", "role_confidence", "layout"])
    picked = {"most findings": str(calls.sort_values("n_events").iloc[-1]["call_id"])}
    untrusted = calls[calls["role_confidence"] < 0.5]
    if not untrusted.empty:
        picked["mono, roles untrusted"] = str(untrusted.iloc[int(rng.integers(0, len(untrusted)))]["call_id"])
    stereo = calls[calls["layout"] != "mono"]
    picked["ordinary stereo"] = str(stereo.iloc[int(rng.integers(0, len(stereo)))]["call_id"])
    return picked


def measure(folder: Path, repeats: int, seed: int) -> tuple[list[Timing], Any, dict[str, Any]]:
    """Every page's timing, the app (for profiling) and which agent and calls were timed."""
    from starlette.testclient import TestClient

    from pipeline.config import Config, DeskConfig
    from pipeline.review.desk import create_app, settings
    from pipeline.warehouse.store import read_table

    warehouse, share = folder / "warehouse", folder / "share"
    rng = np.random.default_rng(seed + 1)
    app = create_app(settings(warehouse, share, Config(desk=DeskConfig(reviewer="bench")), "127.0.0.1"))
    headers = {}
    password = os.environ.get("CALLQA_DESK_PASSWORD", "")
    if password:  # a password in the environment makes even the loopback desk ask for one
        import base64

        headers["Authorization"] = "Basic " + base64.b64encode(f"bench:{password}".encode()).decode()

    calls = read_table(warehouse, "calls", columns=["call_id", "agent_id", "layout"])
    busiest = str(calls["agent_id"].value_counts().index[0])  # the agent page with the most rows
    events = read_table(warehouse, "events", columns=["event_id", "call_id"])
    clippable = events[events["call_id"].isin(calls.loc[calls["layout"] != "mono", "call_id"])]
    clip_event = str(clippable.iloc[int(rng.integers(0, len(clippable)))]["event_id"])
    chosen_calls = pick_calls(warehouse, rng)

    timings: list[Timing] = []
    # A page that fails is a 500 in the table, not the end of the run. ``with`` runs the app's
    # lifespan (its background workers), as a served desk would.
    with TestClient(app, base_url=BASE_URL, headers=headers, raise_server_exceptions=False) as client:
        timings.append(time_page(client, "week", f"/week/{WEEK}", repeats)[0])
        timings.append(time_page(client, "agent (busiest)", f"/agent/{busiest}/{WEEK}", repeats)[0])
        queue, queue_body = time_page(client, "queue", "/queue", repeats)
        timings.append(queue)
        # Filters and paging, should the desk take them; one that changes nothing is said to be ignored.
        for name, path in (
            ("queue, one rule", "/queue?rule=interruption.agent"),
            ("queue, page 2", "/queue?page=2"),
        ):
            timing, body = time_page(client, name, path, repeats)
            if timing.status == 200 and body == queue_body:
                timing.note = "ignored: same page as /queue"
            elif timing.status != 200:
                timing.note = f"not served ({timing.status})"
            timings.append(timing)
        for label, call_id in chosen_calls.items():
            timings.append(time_page(client, f"call ({label})", f"/call/{call_id}", repeats)[0])
        timing, body = time_page(client, "clip", f"/clip/{clip_event}.wav", repeats)
        timing.note = "audio/wav" if body[:4] == b"RIFF" else f"not a WAV ({timing.status})"
        timings.append(timing)
    if all(t.status == 400 for t in timings):
        print("every page answered 400: the desk refuses this Host or request", file=sys.stderr)
    return timings, app, {"busiest_agent": busiest, "calls": chosen_calls, "clip_event": clip_event}


def profile_request(app, path: str, top: int = 10) -> str:
    """cProfile of one request of ``path``, run in this thread (the TestClient runs a sync endpoint
    in a worker thread, which a profiler of this thread would not see): the route's endpoint is
    called directly, middleware aside. Top ``top`` entries by cumulative time."""
    import asyncio
    import cProfile
    import inspect
    import io
    import pstats
    from urllib.parse import urlsplit

    from starlette.requests import Request
    from starlette.routing import Match

    url = urlsplit(path)
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": url.path,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "headers": [(b"host", b"127.0.0.1:8765")],
        "app": app,
        "scheme": "http",
        "server": ("127.0.0.1", 8765),
        "client": ("127.0.0.1", 50000),
    }
    for route in getattr(app, "routes", []):  # a middleware-wrapped app has none: say so
        match, child = route.matches(scope)
        if match == Match.FULL:
            scope.update(child)
            endpoint: Callable = route.endpoint
            break
    else:
        return f"no route for {path}"
    request = Request(scope)
    profiler = cProfile.Profile()
    profiler.enable()
    if inspect.iscoroutinefunction(endpoint):
        asyncio.run(endpoint(request))
    else:
        endpoint(request)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def table(timings: list[Timing]) -> str:
    rows = [
        "| page | path | status | cold ms | warm median ms | warm p95 ms | KB | < 300 ms (p95) | note |",
        "|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for t in timings:
        rows.append(
            f"| {t.name} | `{t.path}` | {t.status} | {t.cold_ms:.1f} | {t.median_ms:.1f} | {t.p95_ms:.1f} "
            f"| {t.kb:.1f} | {'yes' if t.under_budget else 'NO'} | {t.note} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="/tmp/callqa-desk-bench")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reviews", type=int, default=300, help="verdicts recorded on random findings")
    parser.add_argument("--repeats", type=int, default=15, help="warm requests per page")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--profile", metavar="PATH", help="profile this page (default: the slowest)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile")
    args = parser.parse_args()
    folder = Path(args.dir)
    params = Params(args.calls, args.agents, args.seed, args.reviews)

    sizes = ensure_warehouse(folder, params)
    done = "generated" if sizes["generated_now"] else "reused (generated earlier)"
    print(
        f"warehouse {folder / 'warehouse'}: {sizes['calls']:,} calls, {sizes['events']:,} findings, "
        f"{sizes['verdicts']} verdicts, {args.agents} agents, week {WEEK}; {done} in {sizes['generation_s']:.0f} s"
    )
    timings, app, extra = measure(folder, args.repeats, args.seed)
    print(f"\n{args.repeats} warm repeats each; budget {BUDGET_MS:.0f} ms\n")
    print(table(timings))

    profile = ""
    served = [t for t in timings if t.status == 200]
    if served and not args.no_profile:
        path = args.profile or max(served, key=lambda t: t.median_ms).path
        profile = profile_request(app, path)
        print(f"\nprofile of one warm request of {path}:\n{profile}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "params": params.stamp(),
                    "warehouse": {k: v for k, v in sizes.items() if k != "generated_now"},
                    "repeats": args.repeats,
                    "budget_ms": BUDGET_MS,
                    "pages": [{**t.__dict__, "under_budget": t.under_budget} for t in timings],
                    "profile": profile,
                    **extra,
                },
                ensure_ascii=False,
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
