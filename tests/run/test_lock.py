"""The environment the tests run in is exactly uv.lock: the same packages at the same versions.

`make test` installs with `uv sync --locked`; this checks the result independently of uv, by
walking the lock's dependency graph from callqa (with the extras `make test` installs) under this
interpreter's markers and comparing it with what importlib.metadata sees installed.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib

from packaging.markers import Marker

from pipeline.config import ROOT

TEST_EXTRAS = ("synth", "dask", "dev")  # the Makefile's DEV_EXTRAS


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict:
    return tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))


def _applies(dep: dict, extra: str = "") -> bool:
    marker = dep.get("marker")
    return marker is None or Marker(marker).evaluate({"extra": extra})


def expected_environment(lock: dict, extras: tuple[str, ...]) -> dict[str, str]:
    """name -> version of every package the lock installs for callqa with ``extras`` here."""
    packages: dict[str, list[dict]] = {}
    for pkg in lock["package"]:
        packages.setdefault(_norm(pkg["name"]), []).append(pkg)

    def find(dep: dict) -> dict:
        candidates = packages[_norm(dep["name"])]
        if "version" in dep:
            candidates = [p for p in candidates if p["version"] == dep["version"]]
        assert len(candidates) == 1, f"ambiguous lock entry for {dep}"
        return candidates[0]

    root = packages["callqa"][0]
    todo = [(d, "") for d in root.get("dependencies", [])]
    for extra in extras:
        todo += [(d, extra) for d in root["optional-dependencies"][extra]]
    found: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    while todo:
        dep, extra = todo.pop()
        if not _applies(dep, extra):
            continue
        pkg = find(dep)
        name = _norm(pkg["name"])
        found[name] = pkg["version"]
        for wanted in ("", *dep.get("extra", [])):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            deps = pkg.get("dependencies", []) if not wanted else pkg["optional-dependencies"][wanted]
            todo += [(d, wanted) for d in deps]
    return found


def installed_environment() -> dict[str, str]:
    return {
        _norm(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions()
        if _norm(d.metadata["Name"]) != "callqa"
    }


def test_installed_packages_are_exactly_the_lock():
    expected = expected_environment(_lock(), TEST_EXTRAS)
    installed = installed_environment()
    differ = {n: (installed.get(n), v) for n, v in expected.items() if installed.get(n) != v}
    extra = sorted(set(installed) - set(expected))
    assert not differ, f"installed version != lock (installed, lock): {differ}"
    assert not extra, f"installed but not in the lock: {extra}"
    # The packages whose numerics decide the transcripts are among them.
    assert {"ctranslate2", "faster-whisper", "onnxruntime", "numpy", "av"} <= set(expected)


def test_lock_matches_pyproject():
    """Every dependency named in pyproject.toml is in the lock's view of callqa (a stale lock
    would install something else than pyproject.toml says)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    root = next(p for p in _lock()["package"] if p["name"] == "callqa")

    def names(specs: list[str]) -> set[str]:
        return {_norm(re.split(r"[\s<>=!~\[;]", s, maxsplit=1)[0]) for s in specs}

    assert names(project["dependencies"]) == {_norm(d["name"]) for d in root["dependencies"]}
    for extra, specs in project["optional-dependencies"].items():
        locked = {_norm(d["name"]) for d in root["optional-dependencies"][extra]}
        assert names(specs) == locked, extra
