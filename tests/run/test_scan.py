import shutil

from pipeline.run.scan import scan_share


def test_sample_share_manifest_gives_every_call_its_metadata(sample_share):
    scan = scan_share(sample_share)
    assert len(scan.calls) == 10 and not scan.problems and not scan.without_metadata
    s004 = next(c for c in scan.calls if c.call_id == "S004")
    assert s004.agent_id == "A104" and s004.layout == "stereo-agent-right"
    assert s004.started_at.isoformat() == "2026-11-17T11:20:00+08:00"
    assert s004.size > 0 and s004.mtime > 0


def test_bad_rows_are_reported_and_unlisted_audio_still_processed(tmp_path, sample_share):
    share = tmp_path / "share"
    share.mkdir()
    shutil.copy(sample_share / "recordings/2026-11-16/S001.flac", share / "a.flac")
    shutil.copy(sample_share / "recordings/2026-11-16/S001.flac", share / "loose.flac")
    (tmp_path / "secret.wav").write_bytes(b"x")
    (share / "manifest.csv").write_text(
        "path,call_id,agent_id,started_at,channel_layout\n"
        "a.flac,C1,A1,2026-11-16T09:00:00+08:00,stereo-agent-left\n"
        "../secret.wav,C2,A1,2026-11-16T09:00:00+08:00,mono\n"
        "a.flac,C3,A1,2026-11-16T09:00:00+08:00,quadraphonic\n"
        "a.flac,C4,A1,yesterday,mono\n"
    )
    scan = scan_share(share)
    assert [c.call_id for c in scan.calls] == ["C1", "loose"]
    loose = scan.calls[1]
    assert loose.agent_id == "unknown" and scan.without_metadata == [loose.path]
    assert len(scan.problems) == 3
    assert any("outside the share" in p for p in scan.problems)
    assert any("quadraphonic" in p for p in scan.problems)
    assert any("yesterday" in p for p in scan.problems)


HEADER = "path,call_id,agent_id,started_at,channel_layout\n"


def _share(tmp_path, sample_share, *names):
    share = tmp_path / "share"
    for name in names:
        (share / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_share / "recordings/2026-11-16/S002.flac", share / name)
    return share


def test_an_unusable_row_rejects_its_recording_instead_of_inventing_metadata(tmp_path, sample_share):
    share = _share(tmp_path, sample_share, "a.flac", "b.flac", "c.flac")
    (share / "manifest.csv").write_text(
        HEADER + "a.flac,C1,A1,2026-13-45T10:00:00,mono\n"  # bad date
        "b.flac,C2,A1\n"  # the row stops early
        "c.flac,,A1,2026-11-16T09:00:00+08:00,mono\n"  # no call id
        "../../etc/passwd,C4,A1,2026-11-16T09:00:00+08:00,mono\n"
    )
    scan = scan_share(share)
    assert scan.calls == [] and scan.without_metadata == []
    reasons = {ref.call_id: why for ref, why in scan.rejected}
    assert "started_at '2026-13-45T10:00:00' is not an ISO 8601 time" in reasons["C1"]
    assert "the row ends before started_at, channel_layout" in reasons["C2"]
    assert "empty call_id" in reasons["c"]
    assert "'../../etc/passwd' is outside the share; refused" in reasons["C4"]
    assert all(why.startswith(f"manifest row {share.resolve()}/manifest.csv:") for why in reasons.values())
    outside = next(ref for ref, _ in scan.rejected if ref.call_id == "C4")
    assert outside.size == 0  # never looked at


def test_an_unreadable_manifest_rejects_the_recordings_under_it_and_the_scan_goes_on(tmp_path, sample_share):
    share = _share(tmp_path, sample_share, "ok/a.flac", "cols/b.flac", "cols/deeper/c.flac", "bytes/d.flac")
    (share / "ok" / "manifest.csv").write_text(HEADER + "a.flac,A,A1,2026-11-16T09:00:00+08:00,mono\n")
    (share / "cols" / "manifest.csv").write_text("path,call_id\nb.flac,B\n")
    (share / "bytes" / "manifest.csv").write_bytes(HEADER.encode() + b"d.flac,\xff\xfe,A1,,mono\n")
    scan = scan_share(share)
    assert [c.call_id for c in scan.calls] == ["A"]
    reasons = {ref.path.split("/share/")[1]: why for ref, why in scan.rejected}
    assert sorted(reasons) == ["bytes/d.flac", "cols/b.flac", "cols/deeper/c.flac"]
    assert (
        "missing column(s) agent_id, started_at, channel_layout; manifest not used" in reasons["cols/b.flac"]
    )
    assert "not a UTF-8 CSV file" in reasons["bytes/d.flac"]
    assert len(scan.problems) == 2


def test_one_recording_listed_twice_is_one_call(tmp_path, sample_share):
    share = _share(tmp_path, sample_share, "a.flac")
    (share / "manifest.csv").write_text(
        HEADER + "a.flac,C1,A1,2026-11-16T09:00:00+08:00,mono\na.flac,C2,A1,2026-11-16T09:00:00+08:00,mono\n"
    )
    scan = scan_share(share)
    assert [c.call_id for c in scan.calls] == ["C1"] and scan.rejected == []
    assert any("listed again as 'C2'; kept as 'C1'" in p for p in scan.problems)
