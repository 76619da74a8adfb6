import shutil
from pathlib import Path

import yaml

from pipeline.lexicon import load_lexicon

SCRIPTS = Path(__file__).resolve().parent.parent / "data" / "call_scripts"


def test_phrases_are_found_through_punctuation_and_traditional_script(lexicon):
    assert lexicon["greetings"].find("喂，您好！") == "您好"
    assert lexicon["closings"].find("感謝您的來電，再見") is not None


def test_homophone_asr_errors_still_match(lexicon):
    # Whisper hears the accented 物业 as 屋业 / 午夜 / 乌夜: same or near pinyin.
    assert lexicon["self_intro"].find("阳光屋业") == "物业"
    assert lexicon["self_intro"].find("阳光屋业", homophones=False) is None


def test_no_match_when_the_phrase_is_absent(lexicon):
    assert lexicon["greetings"].find("物业客服，什么事？") is None


def test_backchannel_utterances_are_recognised_whole(lexicon):
    backchannels = lexicon["backchannels"]
    assert backchannels.is_whole("嗯嗯。")
    assert backchannels.is_whole("好的好的")
    assert not backchannels.is_whole("好的，那一个月多少钱？")


def test_lexicon_version_changes_with_content(tmp_path, lexicon):
    copy = tmp_path / "lexicons"
    shutil.copytree(lexicon.folder, copy)
    assert load_lexicon(copy).version == lexicon.version
    (copy / "greetings.toml").write_text('phrases = ["您好", "哈喽"]\n', encoding="utf-8")
    changed = load_lexicon(copy)
    assert changed.version != lexicon.version
    assert changed["greetings"].find("哈喽，物业") == "哈喽"


def test_tokenizer_is_private_and_knows_domain_words(lexicon):
    import jieba

    words = lexicon.tokenizer().lcut("我想交物业费")
    assert "物业费" in words
    assert lexicon.tokenizer() is not jieba.dt


def test_lexicon_check_counts_what_each_banned_entry_would_flag(tmp_path):
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.records import CallMetrics, CallRef, CallResult, RoleAssignment
    from pipeline.warehouse.store import store_call
    from tests.conftest import utt

    when = datetime(2026, 11, 16, 9, tzinfo=timezone(timedelta(hours=8)))
    said = [
        ("agent", "不知道。"),
        ("agent", "随便，你自己看着办吧。"),
        ("caller", "不知道。"),
        ("agent", "我不知道怎么办。"),
    ]
    utterances = tuple(replace(utt(r, i, i + 1, t, idx=i), call_id="C1") for i, (r, t) in enumerate(said))
    result = CallResult(
        CallRef("C1", "/s/C1.flac", "A1", when, "stereo-agent-left"),
        "m",
        "l",
        RoleAssignment("ch0", 1.0, "channel map"),
        utterances,
        (),
        CallMetrics("C1", "A1", 4, 3, 1, 0, 0, 4, 4),
    )
    store_call(tmp_path, result)
    out = CliRunner().invoke(app, ["lexicon", "check", "--warehouse", str(tmp_path), "--phrase", "不知道"])
    assert out.exit_code == 0, out.output
    row = next(line for line in out.output.splitlines() if "不知道" in line and "whole" in line)
    # The agent's curt 不知道 only: not the caller's, not 我不知道怎么办.
    assert row.split("│")[4].strip() == "1"
    assert "4 stored utterances checked" in out.output
    missing = CliRunner().invoke(
        app, ["lexicon", "check", "--warehouse", str(tmp_path), "--phrase", "没这个"]
    )
    assert missing.exit_code == 2


def test_a_phrase_list_counts_the_different_phrases_a_text_holds(lexicon):
    agent = lexicon["agent_language"]
    assert agent.count("好的，请问您家是几栋？我这边给您登记。") >= 3  # 请问, 我这边, 给您登记 ...
    assert agent.count("我家厨房漏水了") == 0
    assert lexicon["caller_language"].count("我家漏水了，你们能不能派人来？") >= 3


def test_a_phrase_in_one_of_its_lists_innocent_contexts_does_not_count(lexicon):
    intro = lexicon["self_intro"]
    assert intro.find("您好，阳光物业客服中心") is not None
    assert intro.find("喂，物业，什么事？") is not None
    # The caller's fee and the centre addressed as 你们 are not the agent naming the centre,
    # nor is a homophone of them (屋业费), and no phrase matches across the cut.
    assert intro.find("您好，我在手机上交物业费") is None
    assert intro.find("我交屋业费") is None
    assert intro.find("你们物业怎么回事") is None
    assert intro.count("我交物业费，这里是阳光物业") == 2  # 这里是, 物业 (the agent's own)


def test_lexicon_terms_shows_what_each_domain_term_rewrites():
    from typer.testing import CliRunner

    from pipeline.cli import app

    out = CliRunner().invoke(app, ["lexicon", "terms"], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    row = next(line for line in out.output.splitlines() if "│ 物业 " in line)
    assert "午夜 (231)" in row  # rewritten
    row = next(line for line in out.output.splitlines() if "│ 不在 " in line)
    assert "不再 (6513)" in row.split("│")[-2]  # kept as heard: the last column


def _lines(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _lines(value)
    elif isinstance(node, list):
        for value in node:
            yield from _lines(value)


def test_no_sentence_a_person_says_in_any_call_script_reads_as_a_recorded_prompt(lexicon):
    # A prompt's words are never scored: an agent's 正在为您转接 or 请不要挂机 must stay the agent's.
    prompts = lexicon["prompts"]
    said = [
        line for path in sorted(SCRIPTS.rglob("*.yaml")) for line in _lines(yaml.safe_load(path.read_text()))
    ]
    assert len(said) > 3000
    assert [line for line in said if prompts.find(line, homophones=False)] == []
    # The announcements themselves are found, the voicemail's as Whisper read it too.
    for heard in (
        "您好，欢迎致电阳光物业服务热线，本次通话可能会被录音",
        "基主暂时无法接听您的电话，请在提示一后留言。",
    ):
        assert prompts.find(heard, homophones=False), heard
