"""Personal data: what callers say about themselves is masked before anything is stored.

Entry point: ``redact.redact_call`` (phone and ID numbers, addresses and names in a call's text,
words and evidence, each character masked so times and offsets still line up).
"""
