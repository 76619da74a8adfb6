"""Writes the notebooks from the cell sources below (run once after editing, then `ruff check --fix
notebooks && ruff format notebooks`; outputs are not kept)."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def setup(*imports: str, rule_names: bool = False) -> str:
    report = "from pipeline.report import " + ("RULE_NAMES, _cjk_font" if rule_names else "_cjk_font")
    lines = sorted([report, "from pipeline.warehouse.read import Warehouse", *imports])
    return "\n".join(
        [
            "import os",
            "",
            "import matplotlib.pyplot as plt",
            "import pandas as pd",
            "",
            *lines,
            "",
            'plt.rcParams["font.family"] = _cjk_font()',
            "# The warehouse built by `make run` from the sample share; CI points this at its own run.",
            'wh = Warehouse(os.environ.get("CALLQA_WAREHOUSE", "../data/warehouse"))',
        ]
    )


AGENT = [
    new_markdown_cell(
        "# Agent drill-down\\nChoose an agent and a period: score trend, what cost the points, the worst calls, "
        "every event with its evidence and time, and a timeline of one call."
    ),
    new_code_cell(setup("from pipeline.config import Config", rule_names=True)),
    new_code_cell("""AGENT = os.environ.get("CALLQA_AGENT", "A104")
START, END = "2026-11-16", "2026-11-22"
weeks = wh.scorecards("week", agent_id=AGENT)
days = wh.scorecards("day", agent_id=AGENT)
weeks[["period_label", "n_calls", "score", "greeting_compliance", "closing_compliance", "interruptions_per_call", "banned_total"]]"""),
    new_code_cell("""fig, ax = plt.subplots(figsize=(6, 2.5))
ax.plot(pd.to_datetime(days["period_label"]), days["score"], marker="o")
ax.set_ylim(0, 105); ax.set_title(f"{AGENT} 每日得分"); fig.autofmt_xdate()"""),
    new_code_cell("""events = wh.events(START, END, agent_id=AGENT)
events.assign(rule=events["rule_id"].map(RULE_NAMES)).groupby(["rule", "category"]).size().rename("events").to_frame()"""),
    new_code_cell("""calls = wh.calls(START, END, agent_id=AGENT)
weights = Config().scoring.weights
deduction = events.assign(w=events["rule_id"].map(weights)).groupby("call_id")["w"].sum()
worst = calls.assign(deduction=calls["call_id"].map(deduction).fillna(0)).sort_values("deduction", ascending=False)
worst[["call_id", "call_date", "layout", "duration_ms", "deduction", "n_events"]].head(5)"""),
    new_code_cell(
        """events[["call_id", "start_s", "end_s", "rule_id", "category", "evidence", "confidence"]]"""
    ),
    new_code_cell("""CALL = worst["call_id"].iloc[0]
view = wh.call(CALL)
fig, ax = plt.subplots(figsize=(10, 2.6))
for lane, role in enumerate(["agent", "caller"]):
    part = view.turns[view.turns["role"] == role]
    ax.broken_barh([(r.start_ms / 1000, (r.end_ms - r.start_ms) / 1000) for r in part.itertuples()], (lane * 10, 8),
                   color=["#3b7dd8", "#999999"][lane])
    # Overlapped speech: the stretches where both parties talk, hatched on both lanes.
    other = view.turns[view.turns["role"] != role]
    both = [(max(a.start_ms, b.start_ms) / 1000, (min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms)) / 1000)
            for a in part.itertuples() for b in other.itertuples() if a.start_ms < b.end_ms and b.start_ms < a.end_ms]
    ax.broken_barh(both, (lane * 10, 8), facecolor="none", edgecolor="#222222", hatch="///")
for ev in view.events.itertuples():
    ax.axvspan(ev.start_ms / 1000, ev.end_ms / 1000, color="#d8713b", alpha=0.25)
    ax.text(ev.start_ms / 1000, 21, RULE_NAMES.get(ev.rule_id, ev.rule_id), fontsize=8, rotation=20)
ax.set_yticks([4, 14]); ax.set_yticklabels(["坐席", "客户"]); ax.set_xlabel("秒"); ax.set_ylim(0, 30)
ax.set_title(f"{CALL}: 谁在何时说话（斜线为双方同时说话），橙色为触发规则的时段")"""),
    new_code_cell("""view.utterances[["idx", "role", "start_ms", "end_ms", "text", "flags"]]"""),
]

LEXICON = [
    new_markdown_cell(
        "# Lexicon tuning\\nBefore adding a phrase to `lexicons/banned.toml`: how many past calls would it "
        "flag, and on what words? Matching is the rule's own (word boundaries, homophones)."
    ),
    new_code_cell(setup("from pipeline.config import Config")),
    new_code_cell("""from pipeline.lexicon import load_lexicon
from pipeline.run.rescore import stored_utterances
from pipeline.rules.phrases import BannedPhrase, find_banned
from pipeline.asr.text import for_scoring

lexicon = load_lexicon(Config().lexicons_path)
tokenizer = lexicon.tokenizer()
agent = [u for u in stored_utterances(wh.path) if u.role == "agent" and u.scorable]
len(agent), len({u.call_id for u in agent})"""),
    new_code_cell('''def would_flag(phrase: str, match: str = "contains", unless: tuple[str, ...] = ()) -> pd.DataFrame:
    """Agent utterances the candidate phrase would flag (clauses, sound, edits, unless), with the
    confidence of the match."""
    entry = BannedPhrase(for_scoring(phrase), "candidate", "agent", match, tuple(for_scoring(x) for x in unless))
    rows = [
        {"call_id": u.call_id, "start_s": u.start, "text": u.text, "confidence": m.score}
        for u in agent
        for _, m in find_banned(u, (entry,), tokenizer)
    ]
    return pd.DataFrame(rows, columns=["call_id", "start_s", "text", "confidence"])

CANDIDATES = ["明天再打", "你自己去看", "这是规定", "不在"]
summary = pd.DataFrame([{"phrase": p, "utterances": len(would_flag(p)), "calls": would_flag(p)["call_id"].nunique()} for p in CANDIDATES])
summary'''),
    new_code_cell("""fig, ax = plt.subplots(figsize=(5, 2.4))
ax.barh(summary["phrase"], summary["calls"], color="#d8713b")
ax.set_xlabel("会被标记的通话数"); ax.set_title("候选用语的影响（历史通话）")"""),
    new_code_cell("""would_flag("你自己去看")"""),
    new_code_cell(
        """would_flag("不在", match="whole")  # a whole clause only: 不在乎 / 不在家 are not flagged"""
    ),
]

TEAM = [
    new_markdown_cell(
        "# Team overview\\nThe week's ranking, compliance, where the points went, and what could not be scored."
    ),
    new_code_cell(setup(rule_names=True)),
    new_code_cell("""WEEK = os.environ.get("CALLQA_WEEK", "2026-W47")
cards = wh.scorecards("week")
week = cards[cards["period_label"] == WEEK].sort_values("score", ascending=False)
week[["agent_id", "score", "n_calls", "greeting_compliance", "self_intro_compliance", "closing_compliance",
      "interruptions_per_call", "calls_impatient", "calls_domineering", "premature_hangups", "banned_total",
      "median_agent_chars_per_s", "polite_per_call", "events_reviewed", "events_overturned", "events_open"]]"""),
    new_code_cell("""fig, ax = plt.subplots(figsize=(6, 2.8))
ax.barh(week["agent_id"], week["score"], color="#3b7dd8"); ax.set_xlim(0, 100); ax.invert_yaxis()
ax.set_title(f"{WEEK} 坐席得分")"""),
    new_code_cell("""events = wh.events()
table = events.assign(rule=events["rule_id"].map(RULE_NAMES)).pivot_table(index="agent_id", columns="rule", values="call_id", aggfunc="count", fill_value=0)
table"""),
    new_code_cell("""fig, ax = plt.subplots(figsize=(8, 3))
im = ax.imshow(table.to_numpy(), cmap="Oranges")
ax.set_xticks(range(len(table.columns))); ax.set_xticklabels(table.columns, rotation=45, ha="right")
ax.set_yticks(range(len(table.index))); ax.set_yticklabels(table.index); fig.colorbar(im)
ax.set_title("问题次数：坐席 × 规则")"""),
    new_code_cell("""failures_path = wh.path / "failures" / "failures.parquet"
failures = pd.read_parquet(failures_path) if failures_path.exists() else pd.DataFrame()
abstained = wh.calls()[["call_id", "agent_id", "abstentions"]]
failures, abstained[abstained["abstentions"].apply(len) > 0]"""),
]

for name, cells in (("agent_drilldown", AGENT), ("lexicon_tuning", LEXICON), ("team_overview", TEAM)):
    nb = new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, Path(__file__).with_name(f"{name}.ipynb"))
