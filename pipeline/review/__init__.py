"""The quality team's verdicts on findings, and the review desk they give them in.

Entry points: ``verdicts.review_finding`` (``callqa review``) and ``desk`` (``callqa desk``, a
small local web app).
"""
