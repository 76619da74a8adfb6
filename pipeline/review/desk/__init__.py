"""The review desk (``callqa desk``): hear the moment behind a finding, uphold or overturn it.

A small Starlette app with Jinja2 templates and no JavaScript of its own: agents ranked for a
week, an agent's calls and findings, a call page (timeline, masked transcript, each finding with
an audio player that starts a few seconds before it and the verdict form), and the queue of open
findings by rule. Verdicts go through ``pipeline.review.verdicts.review_finding``: the scores follow.

Personal data: it binds to 127.0.0.1 unless configured otherwise, and anywhere else it refuses to
start without a password (``[desk] password`` or ``CALLQA_DESK_PASSWORD``), reviewers signing in
with their name (HTTP Basic). The reviewer of a verdict is the signed-in user (or, on a loopback
desk, the configured name), never a form field. No URL carries a path: audio is found from a
finding's id (or a call's id and an utterance's number) through the warehouse, and only
recordings inside the share are ever opened; the share is never listed.
"""

from __future__ import annotations

import base64
import getpass
import hmac
import io
import os
import wave
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Config

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class DeskConfigError(ValueError):
    """The desk cannot start safely as configured."""


@dataclass(frozen=True)
class DeskSettings:
    warehouse: Path
    share: Path
    config: Config
    password: str  # empty: loopback only, verdicts signed with ``reviewer``
    reviewer: str


def settings(warehouse: Path, share: Path, cfg: Config, host: str) -> DeskSettings:
    """The desk's settings, refusing a non-loopback host without a password."""
    password = cfg.desk.password or os.environ.get("CALLQA_DESK_PASSWORD", "")
    if host not in LOOPBACK and not password:
        raise DeskConfigError(
            f"the desk serves recordings and transcripts: on {host} it needs a password "
            "([desk] password or CALLQA_DESK_PASSWORD); without one it binds to 127.0.0.1 only"
        )
    reviewer = cfg.desk.reviewer or getpass.getuser()
    return DeskSettings(warehouse, share.resolve(), cfg, password, reviewer)


def wav_bytes(samples, rate: int) -> bytes:
    """16-bit PCM WAV of float samples in [-1, 1], shape (channels, n) or (n,)."""
    import numpy as np

    data = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    pcm = (np.clip(data.T, -1, 1) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes of a single ``Range: bytes=a-b`` request, None for the whole body;
    ValueError when it cannot be satisfied."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        raise ValueError(header)
    first, _, last = spec.strip().partition("-")
    if first == "":  # the last N bytes
        n = int(last)
        start, end = max(0, size - n), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise ValueError(header)
    return start, end


def within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def create_app(desk: DeskSettings):
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import RedirectResponse, Response
    from starlette.routing import Route

    from pipeline.review.desk import pages

    def authorised(request) -> str:
        """The reviewer's name: the signed-in user, or the loopback desk's configured name."""
        if not desk.password:
            return desk.reviewer
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, given = base64.b64decode(token).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user, given = "", ""
            if user.strip() and hmac.compare_digest(given.encode(), desk.password.encode()):
                return user.strip()
        raise HTTPException(401, headers={"WWW-Authenticate": 'Basic realm="callqa desk", charset="UTF-8"'})

    # Pages and clips read Parquet and decode audio: plain functions, which Starlette runs in its
    # thread pool, so one slow clip does not hold up the other reviewers' pages.
    def page(render):
        def endpoint(request):
            reviewer = authorised(request)
            try:
                html = render(desk, reviewer, **request.path_params)
            except (KeyError, ValueError) as exc:  # no such call, agent or week (or not a week)
                raise HTTPException(404, "not found") from exc
            return Response(html, media_type="text/html; charset=utf-8")

        return endpoint

    def home(request):
        authorised(request)
        try:
            return RedirectResponse(f"/week/{pages.latest_week(desk)}", status_code=302)
        except KeyError as exc:
            raise HTTPException(404, "no scorecards yet: run `callqa run` first") from exc

    def clip(request):
        authorised(request)
        try:
            if "event_id" in request.path_params:
                body = pages.clip_wav(desk, request.path_params["event_id"])
            else:
                body = pages.moment_wav(desk, request.path_params["call_id"], request.path_params["idx"])
        except KeyError as exc:
            raise HTTPException(404, "no such finding or recording") from exc
        try:
            wanted = byte_range(request.headers.get("range"), len(body))
        except ValueError:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{len(body)}"})
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
        if wanted is None:
            return Response(body, media_type="audio/wav", headers=headers)
        first, last = wanted
        headers["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
        return Response(body[first : last + 1], status_code=206, media_type="audio/wav", headers=headers)

    async def verdict(request):
        reviewer = authorised(request)
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
            raise HTTPException(403, "verdicts are taken from the desk's own pages only")
        form = await request.form()
        from pipeline.review.verdicts import review_finding
        from pipeline.warehouse.reviews import UnknownEventError

        event_id = request.path_params["event_id"]
        try:
            outcome = review_finding(
                desk.warehouse,
                desk.config.scoring,
                event_id,
                str(form.get("verdict", "")),
                reviewer,
                str(form.get("note", ""))[:500],
            )
        except UnknownEventError as exc:
            raise HTTPException(404, "no such finding") from exc
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse(f"/call/{outcome.review.call_id}#e-{event_id}", status_code=303)

    routes = [
        Route("/", home),
        Route("/week/{week}", page(pages.week_page)),
        Route("/agent/{agent_id}/{week}", page(pages.agent_page)),
        Route("/call/{call_id}", page(pages.call_page)),
        Route("/queue", page(pages.queue_page)),
        Route("/clip/{event_id}.wav", clip),
        # An utterance of a call, by its place in the call (a moment left for a listener).
        Route("/moment/{call_id}/{idx:int}.wav", clip),
        Route("/review/{event_id}", verdict, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def serve(desk: DeskSettings, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(desk), host=host, port=port, log_level="warning")
