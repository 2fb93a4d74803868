"""RFC 9457 problem responses, and the one table mapping errors to statuses and codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from learnhub.db.errors import INTEGRITY_KINDS, DbError, classify, translate_integrity_error
from learnhub.domain import errors

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("learnhub.api")

# Most specific first: the first matching class decides.
STATUS_BY_ERROR: list[tuple[type[errors.DomainError], int]] = [
    (errors.InvalidCursor, 400),
    (errors.InvalidResetToken, 400),
    (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.InvalidValue, 422),
    (errors.NotAuthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.PreconditionFailed, 412),
    (errors.ConcurrencyConflict, 409),
    (errors.Conflict, 409),
    (errors.TooManyRequests, 429),
    (errors.ServiceUnavailable, 503),
]
CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


def problem(
    status: int,
    code: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return Problem(status, code, detail, headers or {}, extra).response()


@dataclass(frozen=True)
class Problem:
    """A problem before it is written: the API writes it as RFC 9457 JSON (`response`), the
    web app as a page (web/errors.py), from the same status, detail and headers. Shared
    (one instance may answer every request of its kind), so read-only throughout."""

    status: int
    code: str
    detail: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # more members of the body

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        # An extra member never replaces one of the problem's own (a domain error's details
        # are free-form).
        body.update(
            {k: v for k, v in self.extra.items() if v is not None and k not in _OWN_MEMBERS}
        )
        return JSONResponse(
            body,
            status_code=self.status,
            media_type=PROBLEM_JSON,
            headers=dict(self.headers) or None,
        )


_OWN_MEMBERS = frozenset({"type", "title", "status", "code", "detail"})


def status_for(exc: errors.DomainError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 400


def domain_problem(exc: errors.DomainError) -> Problem:
    headers = {}
    if isinstance(exc, errors.NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, errors.TooManyRequests | errors.ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    safe = {k: v for k, v in exc.details.items() if isinstance(v, str | int | float | bool)}
    return Problem(status_for(exc), exc.code, exc.message, headers, safe)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    return domain_problem(exc).response()


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    return problem(422, "validation_error", "the request is not valid", errors=details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_BY_STATUS.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return problem(exc.status_code, code, detail, headers=headers or None)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's 405 names only the first
    route that matched the path: `DELETE /courses` said `Allow: GET`, not `GET, HEAD, POST`).
    HEAD goes wherever GET does (see ConditionalGetMiddleware)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for pattern, served in getattr(request.app.state, "methods_by_path", ()):
        if pattern.match(path):
            methods |= served
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def broken_rule_of(exc: Exception) -> errors.DomainError | None:
    """The domain error a database refusal stands for (a constraint the request broke: a
    duplicate, a missing reference), if `exc` is one."""
    if isinstance(exc, DBAPIError) and classify(exc) in INTEGRITY_KINDS:
        return translate_integrity_error(exc)
    return None


def _database_problem(exc: Exception) -> Problem:
    """A safety net for database errors no layer translated: bad input the database refused
    is the client's (4xx); an unreachable database is a 503; anything else stays a 500."""
    assert isinstance(exc, DBAPIError)
    broken_rule = broken_rule_of(exc)
    if broken_rule is not None:
        return domain_problem(broken_rule)
    kind = classify(exc)
    if kind is DbError.INVALID_VALUE:
        return Problem(422, "invalid_value", "the database refused a value as invalid")
    # A lock not granted in time (SQLite's busy timeout: another writer holds the database)
    # passes like an outage: retry later.
    if kind in (DbError.UNAVAILABLE, DbError.LOCK_TIMEOUT):
        log.warning("database_unavailable", error=type(exc.orig).__name__)
        return _UNAVAILABLE
    # PostgreSQL rolled the whole transaction back because a concurrent one touched the same
    # rows (a deadlock, a serialization failure): nothing was written, the same request may
    # pass when retried. A 409 says "your request collided", Retry-After says "try again".
    if kind is DbError.SERIALIZATION_FAILURE:
        log.warning("database_transaction_collided", error=type(exc.orig).__name__)
        return Problem(
            409,
            "concurrent_update",
            "another request changed the same data at the same time; nothing was saved, retry",
            {"Retry-After": "1"},
        )
    # The statement outran statement_timeout: the database is too busy for it right now.
    if kind is DbError.STATEMENT_TIMEOUT:
        log.warning("database_statement_timeout", error=type(exc.orig).__name__)
        return Problem(
            503,
            "query_timeout",
            "the database took too long to answer; nothing was saved, retry later",
            {"Retry-After": "5"},
        )
    return _unexpected_problem(exc)


def _connection_problem(exc: Exception) -> Problem:
    """A network failure below the driver's error types: asyncpg lets the socket's own
    ConnectionRefusedError (or a reset, or a timeout) out of connect when PostgreSQL is down.
    Unhandled, it became a 500 and uvicorn then dropped the keep-alive connection."""
    log.warning("database_unavailable", error=type(exc).__name__)
    return _UNAVAILABLE


def _pool_timeout_problem(exc: Exception) -> Problem:
    """No pooled connection freed up within the pool timeout: the service is overloaded
    (the load run at 200 users on two busy cores saw it), so retry later, not a 500."""
    log.warning("database_pool_exhausted", error=type(exc).__name__)
    return Problem(503, "service_unavailable", "the service is overloaded", {"Retry-After": "5"})


_UNAVAILABLE = Problem(
    503, "service_unavailable", "the database is unavailable", {"Retry-After": "5"}
)


def _unexpected_problem(exc: Exception) -> Problem:
    log.exception("unhandled_error", error=type(exc).__name__)
    return Problem(500, "internal_error", "an unexpected error occurred")


# What the service could not do (and, for database errors, a rule the request broke that
# no layer translated: `broken_rule_of`), with the problem each is, found for the class the
# app registers it under: the web app answers these with a page where a browser asked for
# one (web/errors.py).
FAILURE_PROBLEMS: dict[type[Exception], Callable[[Exception], Problem]] = {
    DBAPIError: _database_problem,
    OSError: _connection_problem,
    PoolTimeout: _pool_timeout_problem,
    # The last resort (Starlette's ServerErrorMiddleware, RequestContextMiddleware): a 500.
    Exception: _unexpected_problem,
}


def answering(problem_of: Callable[[Exception], Problem]) -> Any:
    """An exception handler answering `problem_of(exc)` as problem JSON."""

    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        return problem_of(exc).response()

    return handler


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for failure, problem_of in FAILURE_PROBLEMS.items():
        app.add_exception_handler(failure, answering(problem_of))


def document_problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Errors travel as `application/problem+json`: say so in the OpenAPI document, for every
    4xx/5xx response (FastAPI files models under application/json, and describes 422 with
    its own validation schema, which is not what LearnHub sends)."""
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if str(status)[0] not in "45":
                    continue
                response["content"] = {PROBLEM_JSON: {"schema": problem_ref}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
