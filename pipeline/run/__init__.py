"""The nightly run: scan the share, process each call, store it; on a schedule or by hand.

Entry points: ``process.process_call`` (one call through every stage, no framework),
``batch`` (plan, process one, store, lock), ``flows.run_nightly`` (the Prefect flow of a whole
run), ``schedule.serve`` (``callqa serve``), ``rescore.rescore`` (the rules again on stored calls).
"""
