"""Words into utterances: the words Whisper heard, given to the speaker turns they were spoken in.

Whoever knows the turns (the channel map on stereo, the speaker models on mono) calls
``UtteranceBuilder`` with them; a turn's words become one utterance with its normalised text, its
confidence and its flags (``HALLUCINATION``: only words Whisper was unsure of, or a phrase Whisper
invents over silence).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.asr.text import normalize_transcript
from pipeline.asr.vocabulary import correct_words
from pipeline.asr.whisper import AsrSegment
from pipeline.lexicon import Lexicon
from pipeline.records import Turn, Utterance, Word

HALLUCINATION = "hallucination"
PROMPT = "prompt"  # a recorded announcement (an IVR's welcome, 本次通话可能会被录音): lexicons/prompts.toml
# A recorded prompt is set apart from the agent's own words by at least this pause (the ringing
# or the queue between the announcement and the agent picking up).
_PROMPT_PAUSE_S = 0.7

# A word with whether its ASR segment looked like a hallucination (a loop, text over silence).
HeardWord = tuple[Word, bool]


def words_of(segments: Sequence[AsrSegment], channel: int) -> list[HeardWord]:
    """The words of one channel, each with its segment's doubt."""
    return [
        (w, seg.suspicious)
        for seg in segments
        for w, ch in zip(seg.words, seg.channels, strict=True)
        if ch == channel
    ]


# Where Whisper ends what one voice was saying: a sentence, or a clause (it closes the interrupted
# voice's clause with a comma as often as with a full stop before writing the newcomer's words).
_CLAUSE_END = ("。", "？", "！", "?", "!", "，", ",", "；", ";")

# The voice heard alone over most of a stretch of time (start, end), or None: on mono, what the
# segmentation model hears (``segmentation.changes.alone_voice``).
HeardAlone = Callable[[float, float], str | None]


def assign_words(
    turns: Sequence[Turn], words: Sequence[HeardWord], heard: HeardAlone | None = None
) -> list[list[HeardWord]]:
    """Each word to the turn covering most of it (nearest turn if none does).

    Where two voices' turns overlap (a cut-in on a mono recording), both cover a word alike. A
    word that ``heard`` says one of the two voices spoke alone is that voice's: the turns of an
    overlap are stretched to cover it whole, while the model hears where each voice speaks by
    itself (the agent's 物业，说吧 before the caller talked over its end). Otherwise: Whisper writes
    overlapped speech one voice after the other, the voice that was speaking finishes its
    sentence or clause, then the newcomer's words follow. So a word both cover stays with the
    voice of the word before it, unless that word ended a sentence or a clause (。？！，；): then it
    is the other voice's (the agent's 请让我先解释 after the caller's 休息两个小时？, both under the
    same second; the caller's 那就麻烦你们了 after the agent's 再见，). An overlap changes voice
    once: a later clause end inside it is the newcomer's own. ``words`` are in order of time.
    """
    buckets: list[list[HeardWord]] = [[] for _ in turns]
    if not turns:
        return buckets
    starts = np.array([t.start for t in turns])
    ends = np.array([t.end for t in turns])
    previous: tuple[int, str] | None = None  # the last word's turn, and its text
    # The overlaps (their turns) where Whisper has already gone on to the newcomer's words: it
    # writes the two voices one after the other, so an overlap changes voice once, and a later
    # clause end inside it is the newcomer's own comma.
    switched: set[frozenset[int]] = set()
    for item in words:
        w = item[0]
        cover = np.minimum(ends, w.end) - np.maximum(starts, w.start)
        best = int(np.argmax(cover))
        if cover[best] <= 0:
            mid = (w.start + w.end) / 2
            best = int(np.argmin(np.minimum(np.abs(starts - mid), np.abs(ends - mid))))
        else:
            both = [i for i in np.flatnonzero(cover >= cover[best] - 1e-6) if i != best]
            alone = heard(w.start, w.end) if both and heard is not None else None
            named = [i for i in [best, *both] if turns[i].speaker == alone]
            if named:
                best = named[0]
            elif both and previous is not None:
                candidates = [best, *both]
                before = previous[0]
                others = [i for i in candidates if turns[i].speaker != turns[before].speaker]
                overlap = frozenset(candidates)
                ended = previous[1].endswith(_CLAUSE_END) and bool(others) and overlap not in switched
                if before in candidates and not ended:
                    best = before
                elif ended:
                    best = others[0]
                    switched.add(overlap)
        buckets[best].append(item)
        previous = (best, w.text)
    return buckets


def build_utterances(
    call_id: str,
    turns: Sequence[Turn],
    words: Sequence[HeardWord],
    lexicon: Lexicon,
    terms: Sequence[str] = (),
    heard: HeardAlone | None = None,
) -> list[Utterance]:
    """Utterances of one channel (or of a mono recording): its turns with the words spoken in them.

    ``words`` pairs each word with whether its ASR segment looked like a hallucination; words that
    sound like one of ``terms`` are written as the term (``pipeline.asr.vocabulary``); ``heard``
    settles words that two voices' turns cover alike (``assign_words``).
    """
    # In the order they were spoken: the words of a second pass (speech the first skipped,
    # whisper.unheard_pieces) come after the first pass's in ``words``, and read in that order
    # a turn's text came out shuffled (RC06 at 8 kHz: 欢迎 + 就是我万人敬仰的太乙真人 + 大家来体验).
    words = sorted(words, key=lambda item: item[0].start)
    out = []
    for turn, bucket in zip(turns, assign_words(turns, words, heard), strict=True):
        # A doubtful segment's words (a loop, text over silence) beside words Whisper was sure
        # of in the same turn are left out: the turn is the real words' (E030 at 8 kHz: a caller's
        # 你们不能每次都这么说啊 followed by a segment of a hundred 抱 flagged the whole reply,
        # and the hang-up it was cut off by went unseen). A turn of doubtful words only is kept,
        # flagged, never scored.
        if any(not flag for _, flag in bucket):
            bucket = [(w, flag) for w, flag in bucket if not flag]
        if not bucket:
            continue
        if terms:
            fixed = correct_words([w for w, _ in bucket], terms, lexicon.tokenizer())
            bucket = [(w, flag) for w, (_, flag) in zip(fixed, bucket, strict=True)]
        pieces = _apart_from_prompts(bucket, lexicon)
        for i, (piece, prompt) in enumerate(pieces):
            text = normalize_transcript("".join(w.text for w, _ in piece))
            if not text:
                continue
            suspicious = all(flag for _, flag in piece)
            hallucinated = suspicious or lexicon["hallucinations"].find(text, homophones=False)
            flags = (PROMPT,) if prompt else (HALLUCINATION,) if hallucinated else ()
            first, last = i == 0, i == len(pieces) - 1
            out.append(
                Utterance(
                    call_id=call_id,
                    idx=0,
                    role=turn.role,
                    start=round(min(turn.start, piece[0][0].start) if first else piece[0][0].start, 3),
                    end=round(max(turn.end, piece[-1][0].end) if last else piece[-1][0].end, 3),
                    text=text,
                    words=tuple(w for w, _ in piece),
                    confidence=round(float(np.mean([w.prob for w, _ in piece])), 3),
                    speaker=turn.speaker,
                    flags=flags,
                )
            )
    return out


def _apart_from_prompts(bucket: list[HeardWord], lexicon: Lexicon) -> list[tuple[list[HeardWord], bool]]:
    """A turn's words as one piece, or, where a recorded prompt (``lexicons/prompts.toml``) is among
    them, cut at the pauses around it: each piece with whether it is the prompt. The agent's own
    greeting after an IVR's 您好，欢迎致电… then stays the agent's first words."""
    prompts = lexicon["prompts"]
    if not prompts.find(normalize_transcript("".join(w.text for w, _ in bucket)), homophones=False):
        return [(bucket, False)]
    pieces: list[list[HeardWord]] = [[bucket[0]]]
    for before, item in itertools.pairwise(bucket):
        if item[0].start - before[0].end >= _PROMPT_PAUSE_S:
            pieces.append([])
        pieces[-1].append(item)
    marked = [
        bool(prompts.find(normalize_transcript("".join(w.text for w, _ in p)), homophones=False))
        for p in pieces
    ]
    # Pieces that are not prompts and lie next to each other stay one utterance.
    out: list[tuple[list[HeardWord], bool]] = []
    for piece, prompt in zip(pieces, marked, strict=True):
        if out and not prompt and not out[-1][1]:
            out[-1][0].extend(piece)
        else:
            out.append((list(piece), prompt))
    return out


@dataclass(frozen=True)
class UtteranceBuilder:
    """``build_utterances`` for one call: its id, lexicon and domain terms fixed, the turns given."""

    call_id: str
    lexicon: Lexicon
    terms: tuple[str, ...] = ()

    def __call__(
        self, turns: Sequence[Turn], words: Sequence[HeardWord], heard: HeardAlone | None = None
    ) -> list[Utterance]:
        return build_utterances(self.call_id, turns, words, self.lexicon, self.terms, heard)
