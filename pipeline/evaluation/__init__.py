"""Accuracy against ground truth, and the material it is measured on.

Entry points: ``evaluate.evaluate`` (``callqa evaluate``), ``synth`` (call scripts rendered into
recordings with their truth, ``callqa synth``) and ``realspeech`` (real human clips from pinned
packages, made into conversations).
"""
