"""Mandarin speech from Kokoro-82M (int8 ONNX) with misaki's pinyin-to-phoneme table.

The Kokoro voices are Japanese voices reading Mandarin phonemes, so they carry an accent; tone
sandhi (3-3 -> 2-3, 不 and 一 before other tones) is applied here because misaki's legacy
Mandarin path reads every syllable in its citation tone, which makes 你好/不在/一下 hard to
recognise.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

SAMPLE_RATE = 24000
VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
# Kokoro's native Mandarin voices (model kokoro-voices-zh, from the npm package kokoro-js), used by
# the generated benchmark only: the corpus, the sample share and the segmentation model's training
# pool never hear them.
ZH_VOICES = (
    "zf_xiaobei",
    "zf_xiaoni",
    "zf_xiaoxiao",
    "zf_xiaoyi",
    "zm_yunjian",
    "zm_yunxi",
    "zm_yunxia",
    "zm_yunyang",
)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+|[^\u4e00-\u9fff]+")


def apply_tone_sandhi(syllables: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(character, pinyin with tone digit) pairs of one phrase, with Mandarin tone sandhi applied."""
    out = list(syllables)
    for i in range(len(out) - 1):
        char, py = out[i]
        next_tone = out[i + 1][1][-1:]
        if char == "不" and py == "bu4" and next_tone == "4":
            out[i] = (char, "bu2")
        elif char == "一" and py == "yi1" and next_tone in "1234":
            out[i] = (char, "yi2" if next_tone == "4" else "yi4")
    # Right to left so that 3-3-3 becomes 2-2-3, the common reading of short chains.
    for i in range(len(out) - 2, -1, -1):
        if out[i][1].endswith("3") and out[i + 1][1].endswith("3"):
            out[i] = (out[i][0], out[i][1][:-1] + "2")
    return out


class MandarinPhonemizer:
    """Chinese text to the Kokoro phoneme alphabet, through a private jieba tokenizer."""

    def __init__(self) -> None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()

    def __call__(self, text: str) -> str:
        from misaki.zh import ZHG2P
        from pypinyin import Style, lazy_pinyin

        text = ZHG2P.map_punctuation(text)
        out = []
        for run in _HAN_RUN.findall(text):
            if not re.match(r"[\u4e00-\u9fff]", run):
                out.append(run)
                continue
            words = self._tokenizer.lcut(run)
            pinyin = [lazy_pinyin(w, style=Style.TONE3, neutral_tone_with_five=True) for w in words]
            flat = apply_tone_sandhi(
                [(c, p) for w, ps in zip(words, pinyin, strict=True) for c, p in zip(w, ps, strict=True)]
            )
            k = 0
            ipa_words = []
            for w in words:
                ipa_words.append("".join(ZHG2P.py2ipa(p) for _, p in flat[k : k + len(w)]))
                k += len(w)
            out.append(" ".join(ipa_words))
        return "".join(out).replace(chr(815), "")


class KokoroTTS:
    """Kokoro-82M loaded once from the assembled model folder (see models/manifest.json)."""

    def __init__(self, model_dir: Path, threads: int = 2, extra_voices: Path | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            str(model_dir / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with np.load(model_dir / "voices.npz") as npz:
            self._voices = {k: npz[k] for k in npz.files}
        # More packs of the same model: raw float32 (510, 1, 256) files named after their voice.
        for path in sorted(extra_voices.glob("*.bin")) if extra_voices else ():
            self._voices[path.stem] = np.fromfile(path, "<f4").reshape(510, 1, 256)
        self._phonemize = MandarinPhonemizer()

    def synthesize(self, text: str, voice: str, speed: float = 1.0) -> np.ndarray:
        """float32 mono audio at 24 kHz, leading and trailing silence trimmed."""
        pack = self.voice_pack(voice)
        phonemes = self._phonemize(text)
        tokens = [self._vocab[c] for c in phonemes if c in self._vocab][:510]
        if not tokens:
            raise ValueError(f"no speakable phonemes in {text!r}")
        style = pack[len(tokens) - 1].reshape(1, 256).astype(np.float32)
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style,
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        return _trim(np.asarray(audio, np.float32).ravel())

    def voice_pack(self, voice: str) -> np.ndarray:
        """A voice's style vectors; ``a*0.6+b*0.4`` blends voices into a new one (the
        segmentation model trains on blends, never on the voices the evaluation corpus uses)."""
        parts = []
        for term in voice.split("+"):
            name, _, weight = term.partition("*")
            if name not in self._voices:
                raise ValueError(f"unknown voice {name!r}; choose one of {sorted(self._voices)}")
            parts.append(float(weight or 1.0) * self._voices[name])
        return sum(parts)


def _trim(audio: np.ndarray, threshold: float = 0.01, pad_s: float = 0.02) -> np.ndarray:
    idx = np.flatnonzero(np.abs(audio) > threshold)
    if idx.size == 0:
        return audio
    pad = int(pad_s * SAMPLE_RATE)
    return audio[max(0, idx[0] - pad) : idx[-1] + pad]
