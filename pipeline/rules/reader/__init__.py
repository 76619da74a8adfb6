"""A learned reader of what an agent's reply does, beside the phrase-list rules on trial.

The rules hesitation.unsure, message.not_offered and refusal.no_apology read a reply's phrases and
shapes; each new wording took a fifth to a half of their recall back (docs/evaluation.md, "Guide
benchmark"). The reader learns the reply kinds from the guide benchmark's wordings instead
(``model``: character n-grams, logistic regression; ``train``: its recipe) and raises its own
shadow rules (``rule``), so that the desk's verdicts measure it and the lists side by side.
"""

from pipeline.rules.reader.model import READS, Reading, ReplyReader

__all__ = ["READS", "Reading", "ReplyReader"]
