import pytest

from pipeline.config import Config


def test_toml_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "callqa.toml"
    path.write_text(
        'warehouse = "/srv/wh"\n[model]\nbeam_size = 2\n[scoring.weights]\n"greeting.missing" = 20\n'
    )
    cfg = Config.load(path)
    assert cfg.warehouse == "/srv/wh"
    assert cfg.model.beam_size == 2 and cfg.model.cpu_threads == Config().model.cpu_threads
    assert cfg.scoring.weights["greeting.missing"] == 20
    assert cfg.scoring.weights["hangup.premature"] == Config().scoring.weights["hangup.premature"]


def test_unknown_keys_are_errors_not_silent_defaults(tmp_path):
    path = tmp_path / "callqa.toml"
    path.write_text("[model]\nbeam_szie = 2\n")
    with pytest.raises(ValueError, match="beam_szie"):
        Config.load(path)


def test_a_misspelt_or_negative_rule_weight_is_an_error_not_a_rule_that_costs_nothing(tmp_path):
    path = tmp_path / "callqa.toml"
    path.write_text('[scoring.weights]\n"greeting.mising" = 20\n')
    with pytest.raises(ValueError, match=r"no rule named greeting\.mising"):
        Config.load(path)
    path.write_text('[scoring.weights]\n"interruption.caller" = -1\n')
    with pytest.raises(ValueError, match="0 or more"):
        Config.load(path)
    # A rule with no default weight may be given one; a retired rule's name is still a rule.
    path.write_text('[scoring.weights]\n"interruption.caller" = 1\n"refusal.no_apology" = 0\n')
    assert Config.load(path).scoring.weights["interruption.caller"] == 1


def test_config_survives_a_dict_round_trip():
    cfg = Config()
    assert Config.from_dict(cfg.to_dict()) == cfg


def test_privacy_redacts_every_kind_by_default_and_refuses_unknown_kinds():
    assert set(Config().privacy.redact) == {"phone", "id_number", "unit", "name"}
    assert Config.from_dict({"privacy": {"redact": []}}).privacy.redact == ()
    with pytest.raises(ValueError, match="unknown kind"):
        Config.from_dict({"privacy": {"redact": ["email"]}})


def test_conduct_presets_set_the_thresholds_of_impatience_and_domineering(tmp_path):
    from pipeline.config import RulesConfig

    guide = Config().rules
    assert guide.conduct_preset == "guide"
    assert (guide.impatient_min_chars, guide.domineering_min_interruptions) == (20, 3)
    strict = Config.from_dict({"rules": {"conduct_preset": "strict"}}).rules
    assert (strict.impatient_min_chars, strict.impatient_min_chars_per_s) == (0, 0.0)
    assert strict.domineering_min_interruptions == 2
    # A key written next to the preset wins over it.
    mixed = Config.from_dict({"rules": {"conduct_preset": "strict", "domineering_min_interruptions": 4}})
    assert mixed.rules.domineering_min_interruptions == 4 and mixed.rules.impatient_min_chars == 0
    assert RulesConfig.preset("strict") == strict
    assert Config.from_dict(Config(rules=strict).to_dict()).rules == strict
    with pytest.raises(ValueError, match="conduct_preset"):
        Config.from_dict({"rules": {"conduct_preset": "lenient"}})


def test_configuration_page_is_generated_from_the_settings():
    from pipeline.config import REFERENCE_PATH, ROOT, reference_markdown

    page = ROOT / REFERENCE_PATH
    assert page.exists(), f"{REFERENCE_PATH} is missing: run `python -m pipeline.config` to regenerate it"
    assert page.read_text(encoding="utf-8") == reference_markdown(), (
        f"{REFERENCE_PATH} is stale: run `python -m pipeline.config` to regenerate it"
    )


def _page_rows(page: str) -> dict[tuple[str, str], list[str]]:
    """(heading, key) -> the row's cells, from the page's markdown tables."""
    import re

    rows, heading = {}, ""
    for line in page.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip("`")
        elif line.startswith("| `"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[(heading, cells[0].strip("`"))] = cells
    return rows


def test_every_setting_has_a_description_on_the_configuration_page():
    import dataclasses
    import json

    from pipeline.config import reference_markdown

    expected = set()
    defaults = Config()
    for f in dataclasses.fields(Config):
        value = getattr(defaults, f.name)
        if not dataclasses.is_dataclass(value):
            expected.add(("Top-level keys", f.name))
            continue
        for g in dataclasses.fields(value):
            inner = getattr(value, g.name)
            if isinstance(inner, dict):
                expected |= {(f"[{f.name}.{g.name}]", json.dumps(k, ensure_ascii=False)) for k in inner}
            else:
                expected.add((f"[{f.name}]", g.name))
    rows = _page_rows(reference_markdown())
    assert set(rows) == expected
    undescribed = sorted(f"{heading} {key}" for (heading, key), cells in rows.items() if not cells[-1])
    assert not undescribed, (
        f"settings without a description (add a comment above the field in pipeline/config.py): {undescribed}"
    )
    for cells in rows.values():
        assert len(cells) == 5 and cells[1], cells


def test_configuration_check_reports_a_stale_page_without_writing_it(tmp_path, capsys):
    from pipeline.config import REFERENCE_PATH, _main, reference_markdown

    page = tmp_path / REFERENCE_PATH
    assert _main(["--check"], root=tmp_path) == 1 and not page.exists()
    assert "python -m pipeline.config" in capsys.readouterr().err
    page.parent.mkdir(parents=True)
    page.write_text("stale\n")
    assert _main(["--check"], root=tmp_path) == 1 and page.read_text() == "stale\n"
    assert _main([], root=tmp_path) == 0 and page.read_text(encoding="utf-8") == reference_markdown()
    assert _main(["--check"], root=tmp_path) == 0


def test_the_worker_layout_follows_the_machine_unless_configured():
    import pipeline.config

    layout = getattr(pipeline.config.machine_layout, "machine", pipeline.config.machine_layout)
    assert layout(2, 24_000, gpu=False) == (2, 1)  # a worker a core, one Whisper thread each
    assert layout(16, 128_000, gpu=False) == (16, 1)
    assert layout(16, 4_000, gpu=False) == (2, 1)  # as many as the memory holds
    assert layout(1, 0, gpu=False) == (1, 1)  # memory unknown: the cores decide
    assert layout(8, 64_000, gpu=False, threads=2) == (4, 2)  # threads configured: cores / threads
    assert layout(16, 128_000, gpu=True) == (1, 1)  # one on the GPU

    explicit = Config.from_dict({"run": {"workers": 3}, "model": {"cpu_threads": 2}})
    assert (explicit.run.workers, explicit.model.cpu_threads) == (3, 2)
    resolved = Config()
    assert resolved.run.workers >= 1 and resolved.model.cpu_threads >= 1
    assert Config.from_dict(resolved.to_dict()) == resolved


def test_settings_given_as_key_value_take_their_fields_types():
    base = Config()
    cfg = base.with_settings(
        ["pause_split_s=0", "words_by_voice_heard=false", "rules.hangup_cut_s=0.3", "model.device=cpu"]
    )
    assert cfg.speech.pause_split_s == 0.0 and isinstance(cfg.speech.pause_split_s, float)
    assert cfg.speech.words_by_voice_heard is False and cfg.rules.hangup_cut_s == 0.3
    assert cfg.model.device == "cpu" and cfg.speech.vad_threshold == base.speech.vad_threshold
    assert base.with_settings(["words_by_voice_heard=0"]).speech.words_by_voice_heard is False
    assert base.with_settings(["max_behind_db=-20"], section="quality").quality.max_behind_db == -20.0
    for wrong in ("no_such_key=1", "rules.no_such_key=1", "pause_split_s", "nowhere.key=1"):
        with pytest.raises(ValueError, match="not a setting"):
            base.with_settings([wrong])
