"""Who spoke when, which words are whose, and who is the agent.

Entry point: ``attribution.call_speakers`` (a call's speakers by its layout: ``diarize()`` before
the words, ``attribute(diarized, segments)`` after them, returning an ``Attribution`` of turns,
utterances and roles) and ``attribution.reassign_roles`` (the roles again on stored utterances).

Owns the stereo channel map and, on mono, the speaker embedder (``campplus``, CAM++), the
clustering into two voices and the roles (``clustering``), the overlap-aware segmentation model
(``segmentation``), calls put through to a colleague (``transfers``), replies that start inside
the other's turn (``handover``), clauses in the other party's words (``registers``), and the
words given to the turns they were spoken in (``utterances``).
"""
