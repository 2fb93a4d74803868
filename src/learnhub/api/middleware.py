"""A plain ASGI middleware (no BaseHTTPMiddleware overhead): request id, body size limit,
latency histogram by route template, and one access log line per request."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learnhub.api.problems import problem
from learnhub.db.replicas import format_lsn
from learnhub.domain.context import current_actor_id, current_request_id
from learnhub.logging import HotLogger
from learnhub.metrics import request_duration

# request.scope key: the WAL position of the work the request committed (see api/deps.py).
COMMITTED_POSITION = "learnhub.committed_position"
# Set by a read whose replica failed under it (see ReplicaReadRetryMiddleware).
REPLICA_READ_FAILED = "learnhub.replica_read_failed"

log = HotLogger("learnhub.access")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _new_request_id() -> str:
    """128 random bits as 32 hex digits, like `uuid4().hex`. From `random`, not the
    operating system: an id is not a secret (clients send their own) and needs only to be
    unique, and `os.urandom` is a system call, which gives up the GIL; under granian, whose
    own threads take it then, that cost 3% of the course page (bench/RESULTS.md). `random`
    is seeded afresh in each forked worker."""
    return f"{random.getrandbits(128):032x}"


def request_id_of(given: bytes) -> str:
    """The client's `X-Request-Id` when it is a safe one, else a new id."""
    text = given.decode("latin-1")
    return text if _SAFE_REQUEST_ID.fullmatch(text) else _new_request_id()


class serving_request:  # lower case: used as a context-manager function would be
    """The request's id and (not yet known) actor in `domain.context` while it is served,
    for every log line written meanwhile. A class: a generator costs more, on every request."""

    __slots__ = ("actor_token", "request_id", "request_token")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id

    def __enter__(self) -> None:
        self.request_token = current_request_id.set(self.request_id)
        self.actor_token = current_actor_id.set(None)

    def __exit__(self, *_: object) -> None:
        current_request_id.reset(self.request_token)
        current_actor_id.reset(self.actor_token)


def last_resort_handler(app: Any) -> Callable[[Request, Exception], Awaitable[Response]] | None:
    """The app's handler for an error nothing else handles (registered for `Exception`, or
    for 500), as Starlette's ServerErrorMiddleware finds it."""
    handlers = app.exception_handlers
    return handlers.get(Exception) or handlers.get(500)  # type: ignore[no-any-return]


async def answered_by(handler: Any, request: Request, error: Exception) -> Response:
    """An exception handler's answer, async or not (Starlette runs a plain function in its
    thread pool)."""
    if is_async_callable(handler):
        return cast(Response, await handler(request, error))
    return cast(Response, await run_in_threadpool(handler, request, error))


def request_served(route: str, scope: Scope, status: int, elapsed: float) -> None:
    """What every request leaves behind: its latency under its route's template, and the
    access log line."""
    request_duration(route, scope["method"], status).observe(elapsed)
    log.info(
        "request",
        method=scope["method"],
        route=route,
        path=scope["path"],
        status=status,
        duration_ms=round(elapsed * 1000, 2),
    )


class RequestContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        route_templates: dict[int, str] | None = None,
        templates_by_path: list[tuple[re.Pattern[str], str]] | None = None,
        upload_paths: re.Pattern[str] | None = None,
        max_upload_body_bytes: int = 0,
        upload_refusal: str = "the file is too large",
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Paths that take a file (a video upload): a limit of their own, and a body past it
        # is refused inside the app (HTTP 413 raised while reading), so the web's page and
        # the API's problem both say why.
        self.upload_paths = upload_paths
        self.max_upload_body_bytes = max_upload_body_bytes
        self.upload_refusal = upload_refusal
        # id(route object, or a plain route's endpoint) -> full path template, prefix included
        self.route_templates = route_templates if route_templates is not None else {}
        self.templates_by_path = templates_by_path or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = request_id_of(headers.get(b"x-request-id", b""))
        status = {"code": 500, "started": False}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        received = {"bytes": 0}
        upload = self.upload_paths is not None and self.upload_paths.match(scope["path"])
        limit = self.max_upload_body_bytes if upload else self.max_body_bytes
        refusal = self.upload_refusal if upload else "request body too large"
        refused_route: str | None = None

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received["bytes"] += len(message.get("body", b""))
                if received["bytes"] > limit:
                    raise HTTPException(413, refusal)
            return message

        async def refused_receive() -> Message:
            raise HTTPException(413, refusal)  # before a byte of the body is read

        with serving_request(request_id):
            try:
                length = headers.get(b"content-length")
                too_large = length is not None and (not length.isdigit() or int(length) > limit)
                if too_large and not upload:
                    # Refused before routing: named by the route its path matches.
                    refused_route = self._template_of_path(scope["path"])
                    response = problem(413, "payload_too_large", refusal)
                    await response(scope, receive, send_with_id)
                    return
                receiving = refused_receive if too_large else limited_receive
                await self.app(scope, receiving, send_with_id)
            except Exception as error:
                # Answered here, not by Starlette's error layer outside: the 500 carries the
                # request id, and so does its handler's log line, which holds the traceback
                # (the one record of it: not raised on for the server to print again).
                handler = last_resort_handler(scope["app"])
                if handler is None or status["started"] or scope["app"].debug:
                    raise
                answer = await answered_by(handler, Request(scope), error)
                await answer(scope, receive, send_with_id)
            finally:
                route = refused_route or self._route_template(scope)
                request_served(route, scope, status["code"], time.perf_counter() - started)

    def _template_of_path(self, path: str) -> str:
        for pattern, template in self.templates_by_path:
            if pattern.match(path):
                return template
        return "unmatched"

    def _route_template(self, scope: Scope) -> str:
        # Templates, not raw paths: ids in paths would make one time series per resource.
        route = scope.get("route")
        if route is None:
            # A plain route or a mount (/openapi.json, static files) names its endpoint only.
            return self.route_templates.get(id(scope.get("endpoint")), "unmatched")
        return self.route_templates.get(id(route)) or str(getattr(route, "path", "unmatched"))


# Headers a 304 keeps (RFC 9110 15.4.5): the ones a cache would update its stored copy from.
_NOT_MODIFIED_HEADERS = frozenset(
    {b"etag", b"cache-control", b"content-location", b"date", b"expires", b"vary"}
)


def _opaque(tag: str) -> str:
    """The opaque part of an entity tag, for the weak comparison (RFC 9110 8.8.3.2)."""
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str, etag: str | None) -> bool:
    """Whether `If-None-Match` (`*` or a list of tags) matches the representation's ETag."""
    if if_none_match.strip() == "*":
        return True
    if etag is None:
        return False
    current = _opaque(etag)
    return any(_opaque(tag) == current for tag in if_none_match.split(","))


class ConditionalGetMiddleware:
    """`HEAD` answers like `GET` without the body (headers included, `Content-Length` too),
    wherever `GET` works; `GET` and `HEAD` honour `If-None-Match` with a 304 when the
    representation's ETag matches (weak comparison, a list of tags, or `*`).

    The routes stay GET only, so the OpenAPI document lists each operation once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if_none_match = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"), None
        )
        if not head and if_none_match is None:
            await self.app(scope, receive, send)
            return
        state = {"drop_body": head}

        async def conditional_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                if head:
                    # The server reads the method from this very scope to know that the
                    # answer has no body (uvicorn fails a HEAD answered as a GET whose body
                    # is missing); the routes have chosen theirs by now.
                    scope["method"] = "HEAD"
                if if_none_match is not None and message["status"] == 200:
                    headers = message.get("headers", [])
                    etag = next((v.decode("latin-1") for k, v in headers if k == b"etag"), None)
                    if none_match(if_none_match, etag):
                        kept = [(k, v) for k, v in headers if k in _NOT_MODIFIED_HEADERS]
                        message = {**message, "status": 304, "headers": kept}
                        state["drop_body"] = True
            elif message["type"] == "http.response.body" and state["drop_body"]:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # The router matches the GET route; the scope goes back to HEAD for the outer layers
        # (the access log and the metrics name the method the client used).
        scope["method"] = "GET"
        try:
            await self.app(scope, receive, conditional_send)
        finally:
            if head:
                scope["method"] = "HEAD"


class CommitPositionMiddleware:
    """Read-your-writes with read replicas: a response to a request that committed carries
    the commit's WAL position (`deps.COMMITTED_POSITION`, set only when replicas are
    configured) as the `LearnHub-LSN` header and the `learnhub_lsn` cookie. Browsers send
    the cookie back by themselves; other clients send either, and their reads go to a
    replica only once it has replayed that far (db/replicas.py)."""

    def __init__(self, app: ASGIApp, header: str, cookie: str, max_age_seconds: int) -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")
        self.cookie = cookie
        self.max_age_seconds = max_age_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_position(message: Message) -> None:
            position = scope.get(COMMITTED_POSITION)
            if message["type"] == "http.response.start" and position is not None:
                value = format_lsn(position)
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                cookie = (
                    f"{self.cookie}={value}; Max-Age={self.max_age_seconds}; Path=/; "
                    f"HttpOnly; SameSite=Lax{secure}"
                )
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (self.header, value.encode("latin-1")),
                        (b"set-cookie", cookie.encode("latin-1")),
                    ],
                }
            await send(message)

        await self.app(scope, receive, send_with_position)


class ReplicaReadRetryMiddleware:
    """A read whose replica failed in the middle of it (the replica stopped after the check
    that chose it) is run once more, on the primary, instead of being answered 503: a GET or
    HEAD changes nothing, so running it again is safe, and the failed answer was held back,
    not sent. The unit of work marks the request (`REPLICA_READ_FAILED`) and passes the
    replica over for its retry period, so the second run does not pick it again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        pristine = dict(scope)  # before routing adds to it

        async def unless_failed(message: Message) -> None:
            if not scope.get(REPLICA_READ_FAILED):
                await send(message)

        await self.app(scope, receive, unless_failed)
        if not scope.get(REPLICA_READ_FAILED):
            return
        request_sent = False

        async def receive_again() -> Message:
            # The request's (empty) body once more; after that, whatever the client sends.
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return await receive()

        await self.app(pristine, receive_again, send)
