"""Overlap-aware speaker segmentation of mono recordings: who speaks in each 20 ms, both included.

The model contract is pyannote segmentation-3.0's, so its ONNX can stand in for callqa's own
(``[speech] segmentation_model``):

- input: one float32 tensor (batch, 1, samples), 16 kHz, 10 s windows (160 000 samples);
- output: (batch, frames, classes) log-probabilities over the *powerset* of local speakers,
  frames spread evenly over the window (frame i is centred at ``(i + 0.5) * 10 s / frames``);
  classes in powerset order, by size then lexicographically: nobody, each speaker alone, then
  each pair. 4 classes are two speakers (callqa's model); 7 are three speakers with at most two
  at once (pyannote's).

Local speakers are per window: speaker 1 of one window need not be speaker 1 of the next, so
what is read across windows is permutation-free (speech, overlap), and who is who is compared
only inside one window.

- ``model``: ``Segmenter`` (onnxruntime, sliding windows) and its result ``Segmentation``;
- ``changes``: changes of voice inside a turn (a reply with no pause before it);
- ``overlaps``: overlapped-speech regions and what they do to mono turns;
- ``voices``: two voices from the windows' local speakers, where the region clustering cannot
  split two alike voices (``[speech] window_voices``);
- ``simulate``, ``pool``, ``train``: the training recipe (``train`` needs the ``[train]`` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pipeline.speakers.segmentation.model import Segmentation, Segmenter, powerset_classes

if TYPE_CHECKING:
    from pipeline.config import SpeechConfig
    from pipeline.records import Turn
    from pipeline.speakers.segmentation.changes import Change

__all__ = ["Segmentation", "Segmenter", "powerset_classes", "segmented_turns"]


def segmented_turns(
    turns: Sequence[Turn],
    seg: Segmentation,
    cfg: SpeechConfig,
    unsure: Sequence[tuple[float, float]] = (),
    confirm: Callable[[list[Change]], list[bool]] | None = None,
    pause_confirm: Callable[[list[Change]], list[bool]] | None = None,
) -> list[Turn]:
    """Mono turns from the clustering, refined by what the segmentation model heard: the regions
    the clustering was unsure of (``speakers.MonoSpeakers.unsure``) given to the voice heard in
    them; turns cut at the short pauses the model hears inside them, a stretch between two going
    to the other voice where ``pause_confirm`` (the speaker vectors) says it is that voice
    (``pause_split_s``); turns split where another voice speaks alone inside them
    (``change_min_s``; a piece only where ``confirm`` agrees it is that voice); then overlaps
    placed where both speak."""
    from pipeline.speakers.segmentation.changes import (
        ChangeOptions,
        PauseOptions,
        settle_unsure,
        split_at_pauses,
        split_turns,
    )
    from pipeline.speakers.segmentation.overlaps import OverlapOptions, overlapped_turns

    turns = settle_unsure(turns, seg, unsure)
    # A change the model proposes is taken only where the speaker vectors confirm it: without
    # them (too little speech for the two voices' prints) the clustering's turns stand. The
    # pauses come first: a stretch they give the other voice is then whole, where the model's own
    # change, often named the wrong way round, would leave its last half-second behind.
    if cfg.pause_split_s > 0 and pause_confirm is not None:
        turns = split_at_pauses(turns, seg, pause_confirm, PauseOptions(min_pause_s=cfg.pause_split_s))
    if cfg.change_min_s > 0 and confirm is not None:
        turns = split_turns(turns, seg, ChangeOptions(min_piece_s=cfg.change_min_s), confirm)
    options = OverlapOptions(
        threshold=cfg.overlap_threshold,
        min_s=cfg.overlap_min_s,
        bridge_s=cfg.overlap_bridge_s,
        after_pause_s=cfg.overlap_after_pause_s,
    )
    return overlapped_turns(turns, seg, options)
