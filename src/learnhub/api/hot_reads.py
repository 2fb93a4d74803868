"""The two hottest reads, anonymous: catalog pages and course pages, without FastAPI's per
request dependency solving and parameter validation, and past every layer of the app.

That machinery cost about 160 us of a catalog request's 1.2 ms on one core (bench/RESULTS.md,
"Hot reads at the stack's limit"), for requests whose whole input is a few query parameters;
the app's layers around it (FastAPI's, Starlette's error layer, the app's middleware) another
15-24 us of the course page's 210-330. `HotReads` offers each request to the hot reads at the app's
door (`LearnHubAPI` in api/app.py). Each takes only requests in the shape it was built for:
no credentials, no conditional header, no body, and only query parameters whose values it
can check by the rules the API declares (the shared patterns below). Any other request goes
through the whole app to the API's route, which answers exactly as before (401s, 304s, 413s,
problem responses for bad input). What a hot read answers is that route's answer, headers
included (tests/api/test_hot_reads.py).

Everything else a request gets stays: what the app's middleware does for every request (the
request id, the access log line, metrics by the API route's template, HEAD, the read
replicas' retry), done by the hot read with the middleware's own functions; a read-only
unit of work, the service and its read model with soft delete and visibility, and the app's
exception handlers (a service's NotFound or a bad cursor is the same problem response). The
unit of work reads on a pooled driver connection without a Session where the app reads
from one PostgreSQL engine (`driver_read_unit_of_work`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette._utils import get_route_path  # the path the routes match (root_path off)
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import Receive, Scope, Send

from learnhub.api.deps import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, read_unit_of_work
from learnhub.api.middleware import (
    REPLICA_READ_FAILED,
    answered_by,
    last_resort_handler,
    request_id_of,
    request_served,
    serving_request,
)
from learnhub.api.routers.courses import (
    CATALOG_SORT_PATTERN,
    CURRENCY_PATTERN,
    MAX_KEY,
    catalog_response,
    outline_response,
)
from learnhub.config import Settings
from learnhub.db.engine import is_sqlite, reads_on_driver
from learnhub.db.uow import AbstractUnitOfWork, DriverReadUnitOfWork
from learnhub.domain.enums import DifficultyLevel
from learnhub.repositories.filters import MAX_CURSOR_LENGTH, CursorPagination
from learnhub.services.catalog import CatalogQuery, CatalogService
from learnhub.services.course_page import CoursePageService

_SORT = re.compile(CATALOG_SORT_PATTERN)
_CURRENCY = re.compile(CURRENCY_PATTERN)
_LIMIT = re.compile(r"^[1-9][0-9]{0,2}$")
# A cursor as `next_cursor` writes it (URL-safe base64); anything else goes to the API route.
_CURSOR = re.compile(rf"^[A-Za-z0-9_=-]{{1,{MAX_CURSOR_LENGTH}}}$")
_DIFFICULTIES = frozenset(level.value for level in DifficultyLevel)
# scope keys: what a hot read took of the request when it matched, and the client's request id
TAKEN_QUERY = "learnhub.hot_read"
GIVEN_REQUEST_ID = "learnhub.given_request_id"


def _simple_catalog_query(query_string: bytes) -> dict[str, str] | None:
    """The catalog query if it has only parameters a hot read takes, each once, each with a
    value the API route would accept with the same meaning; None otherwise."""
    if not query_string:
        return {}
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    given = dict(pairs)
    if len(given) != len(pairs):
        return None  # a parameter given twice
    for name, value in given.items():
        check = _CATALOG_CHECKS.get(name)
        if check is None or not check(value):
            return None
    return given


# fullmatch, not match: Python's `$` also matches before a final newline, which the API's
# own validation (pydantic's regex engine) refuses; "USD\n" is the API route's 422.
_CATALOG_CHECKS: Mapping[str, Callable[[str], bool]] = {
    "sort": lambda value: _SORT.fullmatch(value) is not None,
    "currency": lambda value: _CURRENCY.fullmatch(value) is not None,
    "difficulty": lambda value: value in _DIFFICULTIES,
    "limit": lambda value: _LIMIT.fullmatch(value) is not None and int(value) <= MAX_PAGE_SIZE,
    "cursor": lambda value: _CURSOR.fullmatch(value) is not None,
}


def driver_read_unit_of_work(request: Request) -> AbstractAsyncContextManager[AbstractUnitOfWork]:
    """A read-only unit of work for a hot read whose repositories read on the driver: on a
    driver connection without a Session (DriverReadUnitOfWork; from the app's driver pool,
    db/driver_pool.py, where it has one) where the app reads
    from one engine that allows it, `read_unit_of_work` elsewhere (read replicas, a
    transaction pooler, SQLite, or sessions bound to a connection, as in tests)."""
    state = request.app.state
    engine = state.session_factory.kw.get("bind")
    if (
        getattr(state, "replicas", None) is None
        and isinstance(engine, AsyncEngine)
        and reads_on_driver(engine)
    ):
        # The app's driver pool where it serves this very engine (a test may bind the app
        # to another); else the engine's own pool.
        pool = getattr(state, "driver_pool", None)
        return DriverReadUnitOfWork(
            engine, pool if pool is not None and pool.engine is engine else None
        )
    return read_unit_of_work(request)


# A request with any of these goes to the API's route: credentials, a validator (the route
# answers 304 without reading the page), or a body (the route refuses one too large, 413).
_NOT_HOT_HEADERS = frozenset(
    {b"authorization", b"if-none-match", b"content-length", b"transfer-encoding"}
)


def _anonymous_plain_read(scope: Scope) -> bytes | None:
    """The request's `X-Request-Id` (empty if none) when it is a GET or HEAD with no
    credentials, no conditional header and no body: what the hot reads were built for;
    None otherwise."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    given = b""
    for name, value in scope["headers"]:
        if name in _NOT_HOT_HEADERS:
            return None
        if name == b"x-request-id":
            given = value
    return given


class HotRead:
    """A read that takes only the requests it was built for (`matches`) and answers them
    itself, as the app's whole stack would (`handle`); every other request goes on to the
    API's route for the same path."""

    def __init__(self, path: str, settings: Settings) -> None:
        self.path = path  # the API route's template, for the metrics and the log line
        self.path_regex, _format, self.param_convertors = compile_path(path)
        self.settings = settings

    def matches(self, scope: Scope) -> bool:
        """Whether this read takes the request; if so, what it took is in the scope."""
        # Every request of the app is offered to the hot reads first: the path decides fastest.
        found = self.path_regex.match(get_route_path(scope))
        if found is None:
            return False
        given_request_id = _anonymous_plain_read(scope)
        if given_request_id is None:
            return False
        params = {
            name: self.param_convertors[name].convert(value)
            for name, value in found.groupdict().items()
        }
        query = self.taken_query(params, scope["query_string"])
        if query is None:
            return False
        scope.update(
            {"path_params": params, TAKEN_QUERY: query, GIVEN_REQUEST_ID: given_request_id}
        )
        return True

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What the app's middleware does for every request (the request id in the context,
        the log line, the route's latency; RequestContextMiddleware), around the answer;
        HEAD answered like GET without the body (ConditionalGetMiddleware)."""
        request_id = request_id_of(scope[GIVEN_REQUEST_ID])
        started = time.perf_counter()
        status = 500
        with serving_request(request_id):
            try:
                request = Request(scope, receive)
                response = await self._answered(request)
                if scope.pop(REPLICA_READ_FAILED, False):
                    # Its replica failed under the read: once more, which passes it over.
                    response = await self._answered(request)
                status = response.status_code
                headers = [*response.raw_headers, (b"x-request-id", request_id.encode())]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                body = b"" if scope["method"] == "HEAD" else response.body
                await send({"type": "http.response.body", "body": body})
            finally:
                request_served(self.path, scope, status, time.perf_counter() - started)

    async def _answered(self, request: Request) -> Response:
        try:
            return await self.answer(request, request.scope[TAKEN_QUERY])
        except Exception as error:
            return await _handled(request, error)

    def taken_query(self, path_params: dict[str, Any], query_string: bytes) -> Any:
        """What `answer` needs of the request, or None to leave it to the API's route."""
        raise NotImplementedError

    async def answer(self, request: Request, taken: Any) -> Response:
        raise NotImplementedError


class CatalogHotRead(HotRead):
    def taken_query(self, path_params: dict[str, Any], query_string: bytes) -> Any:
        return _simple_catalog_query(query_string)

    async def answer(self, request: Request, taken: dict[str, str]) -> Response:
        difficulty = taken.get("difficulty")
        query = CatalogQuery(
            difficulty=DifficultyLevel(difficulty) if difficulty else None,
            currency=taken.get("currency"),
        )
        limit = int(taken.get("limit", DEFAULT_PAGE_SIZE))
        pagination = CursorPagination(limit, taken.get("cursor"))
        async with driver_read_unit_of_work(request) as uow:
            cards = await CatalogService(uow).catalog(query, pagination, taken.get("sort"))
        return catalog_response(cards, self.settings)


class CoursePageHotRead(HotRead):
    """Only where the course page has its read model (PostgreSQL): a course that is not
    published is a 404 for an anonymous caller there too (`public_outline`)."""

    def taken_query(self, path_params: dict[str, Any], query_string: bytes) -> Any:
        key: str = path_params["course_id"]
        return key if len(key) <= MAX_KEY and not query_string else None

    async def answer(self, request: Request, taken: str) -> Response:
        async with driver_read_unit_of_work(request) as uow:
            outline = await CoursePageService(uow).public_outline(taken)
        if outline is None:  # not expected: installed only where the read model is
            raise RuntimeError("the course page's read model is not available")
        return outline_response(outline, self.settings)


async def _handled(request: Request, error: Exception) -> Response:
    """`error` answered by the app's handler for it, as the app's layers would answer it:
    a handler for an HTTP error's status first, then the nearest class up the error's MRO
    (Starlette's exception layer), else the last-resort handler's 500, as
    RequestContextMiddleware answers it."""
    handlers = request.app.exception_handlers
    handler = handlers.get(error.status_code) if isinstance(error, HTTPException) else None
    for kind in type(error).__mro__:
        if handler is not None or kind is Exception:
            break
        handler = handlers.get(kind)
    handler = handler or last_resort_handler(request.app)
    if handler is None:
        raise error
    return await answered_by(handler, request, error)


class HotReads:
    """The app's entrance for the hot reads (LearnHubAPI): a request one of them takes is
    answered there, before any of the app's layers; every other goes to the app."""

    def __init__(self, reads: Sequence[HotRead]) -> None:
        self.reads = tuple(reads)

    def read_for(self, scope: Scope) -> HotRead | None:
        """The read that takes this request (what it took now in the scope), if any."""
        for read in self.reads:
            if read.matches(scope):
                return read
        return None


def hot_reads_at(prefix: str, settings: Settings) -> list[HotRead]:
    """The hot reads, for the API mounted at `prefix`."""
    reads: list[HotRead] = [CatalogHotRead(f"{prefix}/courses", settings)]
    if not is_sqlite(settings.database_url):
        reads.append(CoursePageHotRead(f"{prefix}/courses/{{course_id}}", settings))
    return reads
