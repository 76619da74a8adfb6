"""Train the overlap-aware segmentation model and export it to ONNX (``[train]`` extra: torch).

Torch is needed here and nowhere else: the runtime reads the exported ONNX with onnxruntime.

    make segmentation-model          # pool -> train -> export -> models/segmentation/
    .venv-train/bin/python -m pipeline.speakers.segmentation.train data/train/pool models/segmentation --steps 6000

The network (about 0.5 M parameters): a fixed log-mel front end (STFT as a convolution, so the
ONNX takes raw 16 kHz samples), per-window normalisation, two 1-D convolutions (the second halves
the frame rate to 20 ms), two bidirectional LSTM layers, and a linear layer to the 4 powerset
classes of two speakers. The loss is cross-entropy, permutation-invariant over the two speakers.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pipeline.speakers.segmentation.simulate import SR, SimulationOptions, load_pool, simulate

N_FFT, WIN, HOP, N_MELS = 512, 400, 160, 64
WINDOW_S = 10.0
CLASSES = 4  # nobody, speaker 1, speaker 2, both


def _mel_matrix() -> np.ndarray:
    from pipeline.speakers.segmentation.features import mel_filterbank

    return mel_filterbank(SR, N_FFT, N_MELS)


class SegmentationNet(nn.Module):
    """(batch, 1, samples) at 16 kHz -> (batch, frames, 4) log-probabilities."""

    def __init__(self, hidden: int = 128, channels: int = 128) -> None:
        super().__init__()
        window = torch.zeros(N_FFT)
        left = (N_FFT - WIN) // 2
        window[left : left + WIN] = torch.hamming_window(WIN, periodic=True)
        k = torch.arange(N_FFT // 2 + 1, dtype=torch.float64)[:, None]
        t = torch.arange(N_FFT, dtype=torch.float64)[None, :]
        angle = 2 * math.pi * k * t / N_FFT
        kernel = torch.cat([torch.cos(angle), -torch.sin(angle)]).float() * window
        self.register_buffer("dft", kernel[:, None, :])  # (2 * bins, 1, N_FFT)
        self.register_buffer("mel", torch.from_numpy(_mel_matrix()).float())  # (mels, bins)
        self.conv = nn.Sequential(
            nn.Conv1d(N_MELS, channels, 5, padding=2),
            nn.BatchNorm1d(channels),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2),
            nn.BatchNorm1d(channels),
            nn.ReLU(),
        )
        self.lstm = nn.LSTM(channels, hidden, num_layers=2, batch_first=True, bidirectional=True, dropout=0.1)
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, CLASSES))

    def features(self, waveform: torch.Tensor) -> torch.Tensor:
        spec = nn.functional.conv1d(waveform, self.dft, stride=HOP)  # (b, 2 * bins, frames)
        bins = spec.shape[1] // 2
        power = spec[:, :bins] ** 2 + spec[:, bins:] ** 2
        logmel = torch.log(torch.matmul(self.mel, power) + 1e-6)  # (b, mels, frames)
        mean = logmel.mean(dim=2, keepdim=True)
        std = logmel.std(dim=2, keepdim=True) + 1e-3
        return (logmel - mean) / std

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.features(waveform))  # (b, channels, frames)
        x, _ = self.lstm(x.transpose(1, 2))
        return torch.log_softmax(self.head(x), dim=-1)


_SWAP = torch.tensor([0, 2, 1, 3])  # speaker 1 <-> speaker 2


def pit_loss(log_probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy under the better of the two speaker orders, per window."""
    nll = nn.functional.nll_loss
    a = nll(log_probs.transpose(1, 2), labels, reduction="none").mean(dim=1)
    b = nll(log_probs.transpose(1, 2), _SWAP[labels], reduction="none").mean(dim=1)
    return torch.minimum(a, b).mean()


class Windows(torch.utils.data.IterableDataset):
    def __init__(self, pool_dir: Path, n_frames: int, seed: int, options: SimulationOptions) -> None:
        self.pool_dir, self.n_frames, self.seed, self.options = pool_dir, n_frames, seed, options

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, info.id if info else 0])
        pool = load_pool(self.pool_dir)
        while True:
            x, y = simulate(pool, rng, self.n_frames, self.options)
            yield torch.from_numpy(x)[None], torch.from_numpy(y)


def overlap_scores(log_probs: torch.Tensor, labels: torch.Tensor) -> tuple[int, int, int]:
    """(true positive, predicted, actual) overlapped frames: argmax class 3 against label 3."""
    pred = log_probs.argmax(dim=-1) == 3
    true = labels == 3
    return int((pred & true).sum()), int(pred.sum()), int(true.sum())


def train(
    pool_dir: Path, out_dir: Path, steps: int, batch: int, seed: int, workers: int, init: Path | None = None
) -> dict:
    torch.manual_seed(seed)
    net = SegmentationNet()
    if init is not None:
        net.load_state_dict(torch.load(init))
    n_frames = net(torch.zeros(1, 1, int(WINDOW_S * SR))).shape[1]
    options = SimulationOptions()
    loader = torch.utils.data.DataLoader(
        Windows(pool_dir, n_frames, seed, options), batch_size=batch, num_workers=workers
    )
    # A fixed validation set from other draws of the same simulator.
    val_rng = np.random.default_rng(seed + 1000)
    val_pool = load_pool(pool_dir)
    val = [simulate(val_pool, val_rng, n_frames, options) for _ in range(48)]
    val_x = torch.from_numpy(np.stack([v[0] for v in val]))[:, None]
    val_y = torch.from_numpy(np.stack([v[1] for v in val]))
    optimizer = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    step, history = 0, []
    started = time.monotonic()
    for x, y in loader:
        net.train()
        loss = pit_loss(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        optimizer.step()
        step += 1
        if step % 100 == 0 or step == steps:
            net.eval()
            with torch.no_grad():
                out = net(val_x)
                val_loss = float(pit_loss(out, val_y))
                tp, pred, true = overlap_scores(out, val_y)
            entry = {
                "step": step,
                "minutes": round((time.monotonic() - started) / 60, 1),
                "train_loss": round(float(loss.detach()), 4),
                "val_loss": round(val_loss, 4),
                "val_overlap_precision": round(tp / max(pred, 1), 3),
                "val_overlap_recall": round(tp / max(true, 1), 3),
            }
            history.append(entry)
            print(json.dumps(entry), flush=True)
            out_dir.mkdir(parents=True, exist_ok=True)
            torch.save(net.state_dict(), out_dir / "segmentation.pt")
        if step == steps:
            break
        # Cosine decay over the steps.
        frac = step / steps
        for group in optimizer.param_groups:
            group["lr"] = 2e-3 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
    return {"steps": step, "batch": batch, "frames": n_frames, "history": history}


def calibrate(net: SegmentationNet, pool_dir: Path, seed: int, windows: int = 256) -> dict:
    """The overlap threshold with the best F1 on fresh simulated windows (never on evaluation
    material): P(overlap) per frame against the label, at thresholds 0.3-0.8."""
    net.eval()
    rng = np.random.default_rng(seed + 2000)
    pool = load_pool(pool_dir)
    n_frames = net(torch.zeros(1, 1, int(WINDOW_S * SR))).shape[1]
    probs, labels = [], []
    with torch.no_grad():
        for _ in range(windows // 16):
            batch = [simulate(pool, rng, n_frames) for _ in range(16)]
            x = torch.from_numpy(np.stack([b[0] for b in batch]))[:, None]
            probs.append(net(x).exp()[..., 3].numpy())
            labels.append(np.stack([b[1] for b in batch]) == 3)
    p, y = np.concatenate(probs).ravel(), np.concatenate(labels).ravel()
    table = {}
    for t in np.arange(0.3, 0.81, 0.05):
        hit = ((p > t) & y).sum()
        precision, recall = hit / max((p > t).sum(), 1), hit / max(y.sum(), 1)
        table[round(float(t), 2)] = round(float(2 * precision * recall / max(precision + recall, 1e-9)), 3)
    best = max(table, key=table.get)
    return {"overlap_threshold": best, "f1_by_threshold": table}


def export(net: SegmentationNet, path: Path) -> None:
    """ONNX, input ``waveform`` (batch, 1, samples), output ``log_probs`` (batch, frames, 4)."""
    net.eval()
    dummy = torch.zeros(1, 1, int(WINDOW_S * SR))
    torch.onnx.export(
        net,
        (dummy,),
        str(path),
        input_names=["waveform"],
        output_names=["log_probs"],
        dynamic_axes={"waveform": {0: "batch"}, "log_probs": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )


def install(out_dir: Path, models_dir: Path) -> Path:
    """Copy the exported model and its training log under ``models/segmentation`` and record the
    ONNX's size and sha256 in ``models/manifest.json`` (then commit both)."""
    import hashlib
    import shutil

    target = models_dir / "segmentation"
    target.mkdir(parents=True, exist_ok=True)
    onnx_path = target / "segmentation.onnx"
    shutil.copyfile(out_dir / "segmentation.onnx", onnx_path)
    shutil.copyfile(out_dir / "training-log.json", target / "training-log.json")
    manifest_path = models_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["segmentation"] = {
        "kind": "committed",
        "license": "Apache-2.0",
        "recipe": "make segmentation-model (pipeline/speakers/segmentation/train.py); card: models/segmentation/MODEL_CARD.md",
        "files": {
            "segmentation.onnx": {
                "size": onnx_path.stat().st_size,
                "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
            }
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return onnx_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pool", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--init", type=Path, help="start from these weights (segmentation.pt)")
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--install", type=Path, metavar="MODELS_DIR", help="then copy it there (models/)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not args.export_only:
        log = train(args.pool, args.out, args.steps, args.batch, args.seed, args.workers, args.init)
        (args.out / "training-log.json").write_text(json.dumps(log, indent=1) + "\n")
    net = SegmentationNet()
    net.load_state_dict(torch.load(args.out / "segmentation.pt"))
    log_path = args.out / "training-log.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    log["calibration"] = calibrate(net, args.pool, args.seed)
    log_path.write_text(json.dumps(log, indent=1) + "\n")
    print(json.dumps(log["calibration"]))
    export(net, args.out / "segmentation.onnx")
    print(args.out / "segmentation.onnx")
    if args.install:
        print(install(args.out, args.install))


if __name__ == "__main__":
    main()
