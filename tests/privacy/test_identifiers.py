import os
import stat

import pytest

from pipeline.privacy.identifiers import (
    PSEUDONYM,
    PseudonymKeyError,
    Pseudonyms,
    check_fingerprint,
    load_pseudonyms,
    personal_numbers,
)

KEY = Pseudonyms(b"k" * 32)


@pytest.mark.parametrize(
    ("name", "numbers"),
    [
        ("A101_20261120093000_13812345678.wav", ["13812345678"]),  # the time stamp is not personal
        ("calls/13812345678/A101_0930.wav", ["13812345678"]),  # a folder per caller
        ("S13812345678.flac", ["13812345678"]),
        ("138-1234-5678.wav", ["138-1234-5678"]),
        ("11010519491231002X.wav", ["11010519491231002X"]),
        ("0755 8888 1234.wav", ["0755 8888 1234"]),
        ("2026-11-20/S001.flac", []),
        ("A101/E001.mono.flac", []),
        ("hotline_4008201234.wav", []),
    ],
)
def test_personal_numbers_in_names(name, numbers):
    assert [name[s:e] for s, e in personal_numbers(name)] == numbers


def test_a_number_gets_one_pseudonym_however_it_is_written_and_none_without_the_key():
    plain, grouped = KEY.scrub("A101_13812345678.wav"), KEY.scrub("A101_138-1234-5678.wav")
    assert plain == grouped and "1381234" not in plain
    (token,) = PSEUDONYM.findall(plain)
    assert not any(ch.isdigit() for ch in token)
    assert Pseudonyms(b"x" * 32).scrub("13812345678") != KEY.scrub("13812345678")
    assert KEY.scrub("A101/2026-11-20/S001.flac") == "A101/2026-11-20/S001.flac"


def test_the_key_is_created_private_refused_inside_the_warehouse_and_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("CALLQA_PSEUDONYM_KEY_FILE", raising=False)
    path = tmp_path / "keys" / "pseudonym.key"
    first = load_pseudonyms(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_pseudonyms(str(path)) == first
    with pytest.raises(PseudonymKeyError, match="inside the warehouse"):
        load_pseudonyms(str(tmp_path / "wh" / "pseudonym.key"), tmp_path / "wh")
    check_fingerprint(tmp_path / "wh", first, path)
    check_fingerprint(tmp_path / "wh", first, path)  # the same key: fine
    with pytest.raises(PseudonymKeyError, match="not the key this warehouse was written with"):
        check_fingerprint(tmp_path / "wh", Pseudonyms(b"y" * 32), path)
