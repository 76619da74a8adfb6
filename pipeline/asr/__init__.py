"""Speech to words: Whisper (faster-whisper), the domain words it mishears, and text in one form.

Entry points: ``whisper.Transcriber.transcribe`` (speech pieces to segments with timed words,
loops and text over silence flagged), ``vocabulary.correct_words`` (a misheard domain term
rewritten as the term), ``text`` (Simplified Chinese, punctuation, numbers in one form) and
``matching`` (a listed phrase found in noisy ASR text: exactly, by sound, within a small edit
budget; used by the lexicon and the rules).
"""
