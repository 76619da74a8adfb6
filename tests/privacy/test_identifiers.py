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


def test_a_caller_named_by_a_name_gets_a_pseudonym_of_its_own():
    assert KEY.token("张三") != KEY.token("李四") != KEY.token("")
    assert KEY.token("138-1234-5678") == KEY.token("13812345678")


def test_a_link_inside_the_share_keeps_its_own_stored_path(tmp_path):
    from pipeline.privacy.identifiers import protect
    from pipeline.records import CallRef

    root = tmp_path / "share"
    (root / "a").mkdir(parents=True)
    (root / "a" / "0930.wav").write_bytes(b"x")
    (root / "b").mkdir()
    (root / "b" / "0930.wav").symlink_to(root / "a" / "0930.wav")
    paths = [
        protect(CallRef("c", str(root / d / "0930.wav"), "A1", None, "mono"), root, KEY).stored_path
        for d in "ab"
    ]
    assert paths == ["a/0930.wav", "b/0930.wav"]
    outside = protect(CallRef("c", str(tmp_path / "elsewhere" / "0930.wav"), "A1", None, "mono"), root, KEY)
    assert outside.stored_path == "outside-the-share/0930.wav"


def test_two_files_stored_under_one_path_are_not_both_processed():
    from pipeline.records import CallRef
    from pipeline.run.batch import duplicate_stored_paths

    first = CallRef("c1", "/s/a.wav", "A1", None, "mono", stored_path="x.wav")
    second = CallRef("c2", "/s/b.wav", "A1", None, "mono", stored_path="x.wav")
    ((refused, why),) = duplicate_stored_paths([second, first])
    assert refused is second and "already is" in why
