"""The desk's web app: routes, sign-in, verdicts, and the worker that finishes pending scores."""

from __future__ import annotations

import base64
import contextlib
import hmac
import logging
import threading

from pipeline.review.desk import DeskSettings
from pipeline.review.desk.guard import TOKEN_COOKIE, FormTokens, LoginThrottle

log = logging.getLogger("callqa.desk")


def settle_pending(desk: DeskSettings) -> set[str]:
    """Recompute the scorecards of every date whose verdicts they do not count yet, if no other
    writer holds the warehouse (then it does, as it ends; or the next call here). Returns the
    dates recomputed."""
    from pipeline.run.batch import RunLock, RunLocked
    from pipeline.warehouse.scorecards import pending_dates, settle_scorecards

    if not pending_dates(desk.warehouse):
        return set()
    try:
        with RunLock(desk.warehouse):
            return settle_scorecards(desk.warehouse, desk.config.scoring)
    except RunLocked:
        return set()


class PendingScores:
    """A thread that settles pending scores every ``every_s`` while the desk runs: a verdict given
    while a nightly run held the warehouse counts in the scores as soon as the run lets go, even
    if the run ended before the verdict was marked."""

    def __init__(self, desk: DeskSettings, every_s: float) -> None:
        self.desk, self.every_s = desk, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="callqa-desk-scores", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                if done := settle_pending(self.desk):
                    log.info("scorecards recomputed for pending verdicts: %s", ", ".join(sorted(done)))
            except Exception:  # a full disk, say: logged, tried again next time
                log.exception("recomputing pending scorecards failed")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def create_app(desk: DeskSettings):
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from pipeline.review.desk import clips, pages
    from pipeline.warehouse.read import Warehouse
    from pipeline.warehouse.reviews import find_event

    tokens = FormTokens()
    throttle = LoginThrottle(desk.config.desk.max_failed_logins, desk.config.desk.login_window_s)

    def authorised(request) -> str:
        """The reviewer's name: the signed-in user, or the loopback desk's configured name."""
        if not desk.password:
            return desk.reviewer
        address = request.client.host if request.client else ""
        wait = throttle.retry_after(address)
        if wait:
            raise HTTPException(
                429,
                f"密码错误次数过多，请 {int(wait) + 1} 秒后再试",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, given = base64.b64decode(token).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user, given = "", ""
            if user.strip() and hmac.compare_digest(given.encode(), desk.password.encode()):
                throttle.succeeded(address)
                return user.strip()
            if token:
                throttle.failed(address)
        raise HTTPException(
            401,
            "请用您的姓名和复核台的密码登录",
            headers={"WWW-Authenticate": 'Basic realm="callqa desk", charset="UTF-8"'},
        )

    def viewer_of(request) -> tuple[pages.Viewer, str | None]:
        """The viewer with their form token, and the cookie to set when the browser has none."""
        reviewer = authorised(request)
        nonce = request.cookies.get(TOKEN_COOKIE, "")
        fresh = None
        if not nonce or len(nonce) > 64:
            nonce = fresh = tokens.new_nonce()
        # Roles only where people sign in: a loopback desk without a password is the lead's own.
        agent_id = desk.config.desk.agents.get(reviewer) if desk.password else None
        return pages.Viewer(reviewer, tokens.sign(nonce, reviewer), agent_id), fresh

    async def posted(request) -> tuple[pages.Viewer, dict]:
        """The signed-in viewer and a form posted from one of the desk's own pages (its Origin,
        its token); 403 otherwise."""
        viewer, _ = viewer_of(request)
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
            raise HTTPException(403, "只接受复核台自己页面提交的表单")
        form = await request.form()
        nonce = request.cookies.get(TOKEN_COOKIE, "")
        if not tokens.valid(str(form.get("token", "")), nonce, viewer.reviewer):
            raise HTTPException(403, "页面已过期或不是复核台的页面：请刷新页面后再提交")
        return viewer, form

    def lead_only(viewer: pages.Viewer) -> None:
        if viewer.is_agent:
            raise HTTPException(403, "坐席可以查看自己的问题并提出申诉，复核结论由质检人员给出")

    def html(body: str, fresh_nonce: str | None, status: int = 200) -> Response:
        response = HTMLResponse(body, status_code=status)
        if fresh_nonce:
            response.set_cookie(TOKEN_COOKIE, fresh_nonce, httponly=True, samesite="strict", path="/")
        return response

    # Pages and clips read Parquet and decode audio: plain functions, which Starlette runs in its
    # thread pool, so one slow clip does not hold up the other reviewers' pages.
    def page(render):
        def endpoint(request):
            viewer, fresh = viewer_of(request)
            try:
                body = render(desk, viewer, **request.path_params)
            except pages.Forbidden as exc:
                raise HTTPException(403, str(exc)) from exc
            except (KeyError, ValueError) as exc:  # no such call, agent or week (or not a week)
                raise HTTPException(404, "没有这个页面：通话、坐席或周次不存在") from exc
            return html(body, fresh)

        return endpoint

    def week(request):
        viewer, _ = viewer_of(request)
        if viewer.is_agent:  # an agent sees their own week, not the ranking
            return RedirectResponse(
                f"/agent/{viewer.agent_id}/{request.path_params['week']}", status_code=302
            )
        return week_page(request)

    week_page = page(pages.week_page)

    def appeals_list(request):
        viewer, fresh = viewer_of(request)
        lead_only(viewer)
        state = "decided" if request.query_params.get("state") == "decided" else "filed"
        return html(pages.appeals_page(desk, viewer, state), fresh)

    def queue(request):
        viewer, fresh = viewer_of(request)
        lead_only(viewer)
        return html(pages.queue_page(desk, viewer, pages.QueueQuery.parse(request.query_params)), fresh)

    def home(request):
        viewer, _ = viewer_of(request)
        try:
            latest = pages.latest_week(desk)
            if viewer.is_agent:
                return RedirectResponse(f"/agent/{viewer.agent_id}/{latest}", status_code=302)
            return RedirectResponse(f"/week/{latest}", status_code=302)
        except KeyError as exc:
            raise HTTPException(404, "还没有评分：请先运行 `callqa run`") from exc

    def audio(request):
        viewer, _ = viewer_of(request)
        params = request.path_params
        try:
            if viewer.is_agent:  # an agent hears only their own calls (and is never told whose)
                owner = (
                    str(find_event(desk.warehouse, params["event_id"])["agent_id"])
                    if "event_id" in params
                    else str(Warehouse(desk.warehouse).call(params["call_id"]).call["agent_id"])
                )
                if owner != viewer.agent_id:
                    raise KeyError(owner)
            if "event_id" in params:
                body = clips.clip_wav(desk, params["event_id"])
            elif "idx" in params:
                body = clips.moment_wav(desk, params["call_id"], params["idx"])
            else:
                body = clips.call_wav(desk, params["call_id"])
        except KeyError as exc:
            raise HTTPException(404, "找不到这条问题或它的录音") from exc
        except clips.RecordingUnreadable as exc:
            raise HTTPException(500, str(exc)) from exc
        try:
            wanted = clips.byte_range(request.headers.get("range"), len(body))
        except ValueError:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{len(body)}"})
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
        if wanted is None:
            return Response(body, media_type="audio/wav", headers=headers)
        first, last = wanted
        headers["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
        return Response(body[first : last + 1], status_code=206, media_type="audio/wav", headers=headers)

    async def verdict(request):
        viewer, form = await posted(request)
        lead_only(viewer)
        reviewer = viewer.reviewer
        from starlette.concurrency import run_in_threadpool

        from pipeline.review.verdicts import review_finding
        from pipeline.warehouse.reviews import UnknownEventError

        event_id = request.path_params["event_id"]
        try:
            # Writes a file and recomputes scorecards (or waits a little for the lock): off the loop.
            outcome = await run_in_threadpool(
                review_finding,
                desk.warehouse,
                desk.config.scoring,
                event_id,
                str(form.get("verdict", "")),
                reviewer,
                str(form.get("note", "")),
                desk.verdict_wait_s,
            )
        except UnknownEventError as exc:
            raise HTTPException(404, "没有这条问题") from exc
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        review = outcome.review
        if "application/json" in request.headers.get("accept", ""):
            status = "open" if review.verdict == "reopened" else review.verdict
            return JSONResponse(
                {
                    "event_id": event_id,
                    "status": status,
                    "status_name": pages.STATUS[status],
                    "scorecards_updated": outcome.scorecards_updated,
                }
            )
        target = str(form.get("next", ""))
        # Only a path of this desk (never //host or a scheme): a form cannot send a reviewer away.
        if not (target.startswith("/") and not target.startswith("//") and "\\" not in target):
            target = f"/call/{review.call_id}#e-{event_id}"
        return RedirectResponse(target, status_code=303)

    async def appeal(request):
        """An agent appeals a finding of their own, with a reason."""
        from starlette.concurrency import run_in_threadpool

        from pipeline.warehouse.appeals import AppealError, file_appeal
        from pipeline.warehouse.reviews import UnknownEventError

        viewer, form = await posted(request)
        if not viewer.is_agent:
            raise HTTPException(403, "申诉由坐席本人提出：请以坐席的名字登录")
        event_id = request.path_params["event_id"]
        try:
            filed = await run_in_threadpool(
                file_appeal,
                desk.warehouse,
                event_id,
                viewer.agent_id,
                viewer.reviewer,
                str(form.get("reason", "")),
            )
        except UnknownEventError as exc:
            raise HTTPException(404, "没有这条问题") from exc
        except AppealError as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse(f"/call/{filed.call_id}#e-{event_id}", status_code=303)

    async def decide(request):
        """A lead grants (the finding overturned) or denies (upheld) an appeal."""
        from starlette.concurrency import run_in_threadpool

        from pipeline.review.verdicts import decide_appeal
        from pipeline.warehouse.appeals import AppealError

        viewer, form = await posted(request)
        lead_only(viewer)
        decision = str(form.get("decision", ""))
        if decision not in ("granted", "denied"):
            raise HTTPException(400, "请选择：申诉成立或不成立")
        try:
            await run_in_threadpool(
                decide_appeal,
                desk.warehouse,
                desk.config.scoring,
                request.path_params["appeal_id"],
                decision == "granted",
                viewer.reviewer,
                str(form.get("note", "")),
            )
        except KeyError as exc:
            raise HTTPException(404, "没有这条申诉") from exc
        except (AppealError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse("/appeals", status_code=303)

    async def http_error(request, exc):
        body = pages.error_page(exc.status_code, str(exc.detail))
        return HTMLResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    async def not_found(request, exc):
        if isinstance(exc, HTTPException):
            return await http_error(request, exc)
        return HTMLResponse(pages.error_page(404, "没有这个页面"), status_code=404)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        worker = PendingScores(desk, desk.settle_every_s)
        worker.start()
        try:
            yield
        finally:
            worker.stop()

    routes = [
        Route("/", home),
        Route("/week/{week}", week),
        Route("/agent/{agent_id}/{week}", page(pages.agent_page)),
        Route("/call/{call_id}", page(pages.call_page)),
        Route("/queue", queue),
        Route("/clip/{event_id}.wav", audio),
        # An utterance of a call, by its place in the call (a moment left for a listener).
        Route("/moment/{call_id}/{idx:int}.wav", audio),
        # The whole call, for the call page's player.
        Route("/audio/{call_id}.wav", audio),
        Route("/review/{event_id}", verdict, methods=["POST"]),
        Route("/appeals", appeals_list),
        Route("/appeal/{event_id}", appeal, methods=["POST"]),
        Route("/appeals/{appeal_id}", decide, methods=["POST"]),
        # The queue's keyboard script: the package's own file, no CDN.
        Mount("/static", app=StaticFiles(packages=[("pipeline.review.desk", "static")]), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=desk.hosts)],
        exception_handlers={HTTPException: http_error, 404: not_found},
        lifespan=lifespan,
    )


def serve(desk: DeskSettings, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(desk), host=host, port=port, log_level="warning")
