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
