"""The review desk (``callqa desk``): hear the moment behind a finding, uphold or overturn it.

A small Starlette app with Jinja2 templates and a little progressive JavaScript (the pages work
without it): agents ranked for a week, an agent's calls and findings, a call page (timeline,
masked transcript, each finding with an audio player that starts a few seconds before it, its
verdicts and the form), and the queue where the day's findings are filtered, heard and decided
(keyboard included). Verdicts go through ``pipeline.review.verdicts.review_finding``: the scores
follow, and a score that does not count a verdict yet (another writer held the warehouse) is shown
as pending until the desk's worker recomputes it.

Modules: ``app`` (routes, sign-in, verdicts, the pending-score worker), ``pages`` (what each page
shows), ``clips`` (audio cut from the share), ``guard`` (allowed Host names, form tokens, sign-in
throttle).

Personal data: it binds to 127.0.0.1 unless configured otherwise, and anywhere else it refuses to
start without a password (``[desk] password`` or ``CALLQA_DESK_PASSWORD``), reviewers signing in
with their name (HTTP Basic). It answers only the Host names it was started for. The reviewer of a
verdict is the signed-in user (or, on a loopback desk, the configured name), never a form field.
No URL carries a path: audio is found from a finding's id (or a call's id and an utterance's
number) through the warehouse, and only recordings inside the share are ever opened; the share is
never listed.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config
from pipeline.review.desk.clips import byte_range, wav_bytes, within
from pipeline.review.desk.guard import LOOPBACK, allowed_hosts
from pipeline.review.verdicts import VERDICT_LOCK_WAIT_S

__all__ = [
    "DeskConfigError",
    "DeskSettings",
    "byte_range",
    "create_app",
    "serve",
    "settings",
    "wav_bytes",
    "within",
]


class DeskConfigError(ValueError):
    """The desk cannot start safely as configured."""


@dataclass(frozen=True)
class DeskSettings:
    warehouse: Path
    share: Path
    config: Config
    password: str  # empty: loopback only, verdicts signed with ``reviewer``
    reviewer: str
    hosts: tuple[str, ...] = LOOPBACK  # the Host names answered (guard.allowed_hosts)
    # How long a verdict waits for another writer before its score is left pending.
    verdict_wait_s: float = VERDICT_LOCK_WAIT_S
    # How often the desk recomputes pending scores (``app.PendingScores``).
    settle_every_s: float = 2.0


def settings(warehouse: Path, share: Path, cfg: Config, host: str) -> DeskSettings:
    """The desk's settings, refusing a non-loopback host without a password."""
    password = cfg.desk.password or os.environ.get("CALLQA_DESK_PASSWORD", "")
    if host not in LOOPBACK and not password:
        raise DeskConfigError(
            f"the desk serves recordings and transcripts: on {host} it needs a password "
            "([desk] password or CALLQA_DESK_PASSWORD); without one it binds to 127.0.0.1 only"
        )
    reviewer = cfg.desk.reviewer or getpass.getuser()
    hosts = tuple(allowed_hosts(host, cfg.desk))
    return DeskSettings(warehouse, share.resolve(), cfg, password, reviewer, hosts)


def create_app(desk: DeskSettings):
    """The desk as an ASGI app (see ``app``)."""
    from pipeline.review.desk.app import create_app as build

    return build(desk)


def serve(desk: DeskSettings, host: str, port: int) -> None:
    from pipeline.review.desk.app import serve as run

    run(desk, host, port)
