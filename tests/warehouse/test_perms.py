import os
import stat

from pipeline.warehouse.perms import narrow, output_permissions, share_limit


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_warehouse_is_narrowed_to_the_share_and_new_files_follow(tmp_path):
    share = tmp_path / "share"
    share.mkdir(mode=0o750)
    share.chmod(0o750)
    warehouse = tmp_path / "wh"
    (warehouse / "calls").mkdir(parents=True)
    old = warehouse / "calls" / "data.parquet"
    old.write_bytes(b"x")
    old.chmod(0o644)
    (warehouse / "calls").chmod(0o755)
    assert share_limit(share) == 0o050
    before = os.umask(0o022)
    try:
        with output_permissions(warehouse, share):
            new = warehouse / "reports" / "r.html"
            new.parent.mkdir()
            new.write_text("report")
        assert os.umask(0o022) == 0o022  # restored
    finally:
        os.umask(before)
    assert mode(warehouse) == 0o750 and mode(warehouse / "calls") == 0o750
    assert mode(old) == 0o640 and mode(new) == 0o640 and mode(new.parent) == 0o750


def test_nothing_is_widened_and_the_owner_keeps_access(tmp_path):
    private = tmp_path / "private.parquet"
    private.write_bytes(b"x")
    private.chmod(0o600)
    assert narrow(tmp_path, 0o077) == 0 and mode(private) == 0o600
    open_file = tmp_path / "open.parquet"
    open_file.write_bytes(b"x")
    open_file.chmod(0o666)
    narrow(tmp_path, 0o000)
    assert mode(open_file) == 0o600


def test_writers_without_the_share_follow_the_warehouse_folder(tmp_path):
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    warehouse.chmod(0o700)
    with output_permissions(warehouse):
        (warehouse / "report.html").write_text("x")
    assert mode(warehouse / "report.html") == 0o600
