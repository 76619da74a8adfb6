import shutil

from pipeline.scan import scan_share


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
