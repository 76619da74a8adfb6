"""A learned reader of what an agent's reply does: 优柔寡断, 留言 and 婉拒.

The phrase-list rules that read these clauses first (hesitation.unsure, message.not_offered and
refusal.no_apology, retired 2026-12-07) read a reply's phrases and shapes; each new wording took a
fifth to a half of their recall back (docs/evaluation.md, "Guide benchmark"). The reader learns
the reply kinds from the guide benchmark's wordings instead (``model``: character n-grams,
logistic regression; ``train``: its recipe) and raises its own shadow rules (``rule``), which the
desk's verdicts measure before the quality lead promotes them.
"""

from pipeline.rules.reader.model import READS, Reading, ReplyReader

__all__ = ["READS", "Reading", "ReplyReader"]
