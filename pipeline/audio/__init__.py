"""Audio: a recording decoded to 16 kHz float32 per channel, and where in it there is speech.

Entry points: ``decode.decode`` (a file to an ``Audio``; ``DecodeError`` for a file that cannot be
used), ``speech.speech_regions`` (mono) and ``speech.stereo_regions`` (a channel a party, bleed
from the other channel left out).
"""
