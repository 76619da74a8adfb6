from dataclasses import replace

from pipeline.records import CallRef
from pipeline.warehouse.ledger import Ledger


def ref(path, size=100, mtime=1.0):
    return CallRef(path.split("/")[-1].removesuffix(".wav"), path, "A1", None, "mono", "", size, mtime)


def test_only_new_changed_and_retryable_files_are_pending(tmp_path):
    done, changed, failed, gave_up, new = (
        ref(f"/s/{n}.wav") for n in ("done", "changed", "failed", "gave_up", "new")
    )
    with Ledger(tmp_path) as ledger:
        ledger.record_ok([done, changed], "m1")
        ledger.record_failure(failed, "cannot decode")
        for _ in range(3):
            ledger.record_failure(gave_up, "cannot decode")
        pending = ledger.pending(
            [done, replace(changed, size=200), failed, gave_up, new], "m1", max_attempts=3
        )
        assert [r.call_id for r in pending] == ["changed", "failed", "new"]
        # A new model means everything is transcribed again.
        assert len(ledger.pending([done], "m2")) == 1
        failures = ledger.failures()
        assert [(f["call_id"], f["attempts"]) for f in failures] == [("failed", 1), ("gave_up", 3)]


def test_the_ledger_survives_reopening(tmp_path):
    with Ledger(tmp_path) as ledger:
        ledger.record_ok([ref("/s/a.wav")], "m1")
    with Ledger(tmp_path) as ledger:
        assert ledger.pending([ref("/s/a.wav")], "m1") == []


def test_rejections_are_replaced_by_each_scan_and_never_block_a_file(tmp_path):
    a, b = ref("/s/a.wav"), ref("/s/b.wav")
    with Ledger(tmp_path) as ledger:
        ledger.set_rejected([(a, "duplicate call_id"), (b, "bad date")])
        assert [(f["call_id"], f["error"], f["attempts"]) for f in ledger.failures()] == [
            ("a", "duplicate call_id", 0),
            ("b", "bad date", 0),
        ]
        ledger.set_rejected([(b, "bad date")])
        assert [f["call_id"] for f in ledger.failures()] == ["b"]
        assert ledger.pending([a, b], "m1") == [a, b]  # judged afresh: pending once no longer refused
        ledger.record_ok([b], "m1")
        ledger.set_rejected([])
        assert ledger.failures() == [] and ledger.owners() == {"b": "/s/b.wav"}


def test_dates_stay_dirty_until_their_scorecards_are_recomputed(tmp_path):
    with Ledger(tmp_path) as ledger:
        ledger.record_ok([ref("/s/a.wav")], "m1", {"2026-11-16", "2026-11-17"})
    with Ledger(tmp_path) as ledger:  # e.g. the run was killed before its scorecards
        assert ledger.dirty_dates() == {"2026-11-16", "2026-11-17"}
        ledger.clear_dirty({"2026-11-16"})
        assert ledger.dirty_dates() == {"2026-11-17"}


def test_an_upgrade_rekeys_rows_recorded_under_the_real_path(tmp_path):
    """Rows written before paths were stored relative and pseudonymised keep their state."""
    from dataclasses import replace

    from pipeline.records import CallRef
    from pipeline.warehouse.ledger import Ledger

    old = CallRef("C1", "/srv/share/C1.flac", "A101", None, "mono", size=10, mtime=1.0)
    with Ledger(tmp_path) as ledger:
        ledger.record_ok([old], "m")
        new = replace(old, stored_path="C1.flac")
        ledger.rekey({old.path: new.stored_path})
        assert ledger.pending([new], "m") == []  # done: not processed again
        assert ledger.owners() == {"C1": "C1.flac"}


def test_two_old_rows_for_one_stored_path_do_not_stop_the_rekey(tmp_path):
    from pipeline.records import CallRef
    from pipeline.warehouse.ledger import Ledger

    a = CallRef("C1", "/srv/share/2026/x.wav", "A101", None, "mono", size=1, mtime=1.0)
    b = CallRef("C2", "/srv/share/latest/x.wav", "A101", None, "mono", size=1, mtime=1.0)
    with Ledger(tmp_path) as ledger:
        ledger.record_ok([a, b], "m")
        ledger.rekey({a.path: "2026/x.wav", b.path: "2026/x.wav"})  # no IntegrityError
        assert set(ledger.owners().values()) == {"2026/x.wav", b.path}


def test_a_ledger_from_before_marks_were_counted_is_migrated_once(tmp_path):
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.warehouse.ledger import Ledger

    old = sqlite3.connect(tmp_path / "ledger.sqlite")
    old.execute("CREATE TABLE dirty_dates (call_date TEXT PRIMARY KEY)")
    old.execute("INSERT INTO dirty_dates VALUES ('2026-11-16')")
    old.commit()
    old.close()

    def open_it(_):
        with Ledger(tmp_path) as ledger:
            return ledger.dirty_dates()

    # Verdicts given at once open the old ledger together: one adds the column, none fails.
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(open_it, range(8))) == [{"2026-11-16"}] * 8
