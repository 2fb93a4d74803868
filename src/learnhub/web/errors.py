"""Errors on the web app's routes become pages, never problem JSON: a form's domain error
shows the form again with its message, a session that ended goes to the login page, a
refused CSRF check is a 403 page, and what the service could not do (an unexpected error,
the database unavailable) a page with the API's status and a reference to quote. Elsewhere
the API's own handlers answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog
from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette._utils import get_route_path  # the path the routes match (root_path off)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from learnhub.api.deps import read_unit_of_work
from learnhub.api.middleware import answered_by
from learnhub.api.problems import FAILURE_PROBLEMS, Problem, broken_rule_of, status_for
from learnhub.domain.context import current_request_id
from learnhub.domain.errors import ConcurrencyConflict, DomainError, NotFound, PermissionDenied
from learnhub.domain.principal import Principal
from learnhub.web import security
from learnhub.web.base import (
    CsrfRefused,
    FormFailure,
    LoginRequired,
    SessionEnded,
    login_url,
    redirect,
    render,
    web_caller_or_none,
)

WEB_TAG = "web"
log = structlog.get_logger("learnhub.web")


def is_web(request: Request) -> bool:
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and WEB_TAG in (route.tags or [])


def sentence(message: str) -> str:
    message = message.strip()
    return (message[:1].upper() + message[1:]).rstrip(".") + "." if message else "Error."


def page_message(error: DomainError) -> str:
    """The error's message for a person: a missing permission names what the account
    lacks in words, with the permission's name for whoever grants it."""
    permission = error.details.get("permission")
    if isinstance(error, PermissionDenied) and permission:
        return f"Your account may not open this page or do this (it needs {permission})."
    if isinstance(error, ConcurrencyConflict):
        # The API's message names ids and version numbers; a person needs what to do.
        what = error.entity.lower() if error.entity != "entity" else "item"
        return (
            f"Someone else changed this {what} after you opened the page, so nothing was "
            "changed. Reload the page to see their version, then try again."
        )
    return sentence(error.message)


def wants_a_page(request: Request) -> bool:
    """A browser's request outside the API: it asks for HTML."""
    path = get_route_path(request.scope)  # behind a root path too
    return "text/html" in request.headers.get("accept", "") and not path.startswith("/api/")


def back_path(request: Request) -> str:
    """Where a browser goes back to after logging in again: the page itself for a read,
    the page the form was on for a form."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return security.local_path(request.url.path + query)
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    return security.local_path(referer.path + (f"?{referer.query}" if referer.query else ""))


Handler = Callable[[Request, Exception], Awaitable[Response]]


def _as_a_page(problem_of: Callable[[Exception], Problem], domain_error: Handler) -> Handler:
    """What the service could not do, as a page for a browser and the API's problem for
    anyone else: the problem's status and detail, the request id to quote for a server
    error, its Retry-After. A rule the request broke that only the database noticed (a
    duplicate) is a domain error, which shows a form again with its message."""

    async def handler(request: Request, exc: Exception) -> Response:
        problem = problem_of(exc)
        if not (is_web(request) or wants_a_page(request)):
            return problem.response()
        try:
            broken_rule = broken_rule_of(exc)
            if broken_rule is not None:
                return await domain_error(request, broken_rule)
            return _failure_page(request, problem)
        except Exception:
            # The page itself failed (a template, the session): the API's answer, which
            # needs nothing, rather than a second error.
            log.exception("error_page_failed")
            return problem.response()

    return handler


def _failure_page(request: Request, problem: Problem) -> Response:
    message = sentence(problem.detail or "the request could not be completed")
    if problem.status >= 500:
        message += " " + _TRY_AGAIN.format(reference=current_request_id.get() or "none")
    page = _error_page(request, problem.status, message)
    if "Retry-After" in problem.headers:
        page.headers["Retry-After"] = problem.headers["Retry-After"]
    return page


def _error_page(request: Request, status: int, message: str) -> Response:
    """error.html with `message`, for the caller the page's route knew (if it got that far)."""
    principal = getattr(request.state, "web_principal", None)
    return render(request, "error.html", principal, status, message=message)


async def _browser_caller(request: Request) -> Principal | None:
    """Who is logged in in this browser, for a page whose request reached no page route
    (which reads it otherwise): its navigation shows them, not the logged-out one. A session
    that ended counts as logged out; if the caller cannot be read, the page still is."""
    if not request.cookies.get(security.SESSION_COOKIE):
        return None
    try:
        async with read_unit_of_work(request) as uow:
            return await web_caller_or_none(request, uow)
    except Exception:
        log.warning("error_page_caller_unread", exc_info=True)
        return None


_TRY_AGAIN = (
    "Try again in a moment. If it keeps happening, give the administrators this reference: "
    "{reference}."
)


def install(app: FastAPI) -> None:
    api_domain_error = app.exception_handlers[DomainError]

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not is_web(request):
            return await answered_by(api_domain_error, request, exc)
        principal = getattr(request.state, "web_principal", None)
        form = getattr(request.state, "form", None)
        if isinstance(form, FormFailure):
            context = {**form.context, "error": page_message(exc)}
            return render(request, form.template, principal, status_for(exc), **context)
        if isinstance(exc, NotFound):
            return render(request, "not_found.html", principal, 404)
        return _error_page(request, status_for(exc), page_message(exc))

    async def session_ended(request: Request, exc: Exception) -> Response:
        response = redirect(request, login_url(back_path(request), ended="1"))
        security.clear_cookie(request, response, security.SESSION_COOKIE)
        return response

    async def login_required(request: Request, exc: Exception) -> Response:
        return redirect(request, login_url(back_path(request)))

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        message = (
            "This form expired or did not come from this site. Go back, reload the page and "
            "try again."
        )
        return render(request, "error.html", None, 403, message=message)

    api_http_error = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: Exception) -> Response:
        # A body past its limit (a video file too large) while a web form was read: a page
        # that says so, not problem JSON.
        assert isinstance(exc, StarletteHTTPException)
        if is_web(request) and exc.status_code == 413:
            return _error_page(request, 413, sentence(exc.detail))
        if exc.status_code == 404 and request.scope.get("route") is None and wants_a_page(request):
            # An address no route serves, asked by a browser (a mistyped link, an old
            # bookmark): a page, not problem JSON. The API's paths stay problems.
            message = "There is no page at this address."
            caller = await _browser_caller(request)
            return render(request, "not_found.html", caller, 404, message=message)
        return await answered_by(api_http_error, request, exc)

    # What the service could not do (an unexpected error, the database down or refusing,
    # the pool exhausted): the API's problem for API clients, a page for a browser, with the
    # problem's status and headers (Retry-After) and the request id to quote.
    for failure, problem_of in FAILURE_PROBLEMS.items():
        app.add_exception_handler(failure, _as_a_page(problem_of, domain_error))
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(SessionEnded, session_ended)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
