"""Personal data: what callers say about themselves is masked before anything is stored.

Entry points: ``redact.redact_call`` (phone and ID numbers, addresses and names in a call's text,
words and evidence, each character masked so times and offsets still line up),
``identifiers.protect`` (a recording's identity as stored: its path relative to the share, personal
numbers in its names replaced by keyed pseudonyms) and ``check.check_warehouse`` (``callqa privacy
check``: every number in a warehouse that could be a phone or ID number).
"""
