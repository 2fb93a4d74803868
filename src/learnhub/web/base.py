"""What every page handler shares: the templates, the caller of a browser session, the CSRF
check of state-changing forms, and the errors that become pages instead of problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from learnhub.api.deps import Uow, auth_service
from learnhub.domain.context import current_actor_id
from learnhub.domain.errors import NotAuthenticated
from learnhub.domain.principal import Principal
from learnhub.services.passwords import MIN_LENGTH
from learnhub.web import security

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def money(amount: Decimal | str | float, currency: str) -> str:
    value = Decimal(str(amount))
    return "Free" if value == 0 else f"{value:,.2f} {currency}"


def duration(seconds: int) -> str:
    """1:05, 12:00, 1:02:03."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


templates.env.filters["money"] = money
templates.env.filters["duration"] = duration
templates.env.globals["min_password"] = MIN_LENGTH


class SessionEnded(Exception):
    """The browser's session cookie names a session that is over: log in again."""


class LoginRequired(Exception):
    """A page only for a logged-in caller, asked for by a logged-out browser: log in first."""


class CsrfRefused(Exception):
    """A state-changing request without the form's valid CSRF token."""


@dataclass
class FormFailure:
    """How to show a domain error raised by the use case a form called: the form's page
    again, with what was typed and the error's message. Set on `request.state.form` before
    the call; the exception handler (`errors.py`) renders it, after the request boundary
    has rolled back (or kept what the use case declared, a counted failed login)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


def expect_form_failure(request: Request, template: str, **context: Any) -> None:
    request.state.form = FormFailure(template, context)


async def web_caller(request: Request, uow: Uow) -> Principal | None:
    """The logged-in learner of this browser, None when logged out; a cookie naming a session
    that ended (logout elsewhere, suspension, deletion, a password change, expiry) is
    `SessionEnded`: the browser goes to the login page."""
    token = request.cookies.get(security.SESSION_COOKIE)
    if not token:
        return None
    try:
        principal = await auth_service(request, uow).session_principal(token)
    except NotAuthenticated:
        raise SessionEnded from None
    request.state.web_principal = principal
    current_actor_id.set(principal.user_id)
    return principal


async def web_caller_or_none(request: Request, uow: Uow) -> Principal | None:
    """For the login and register pages (and the missing page): a session that ended counts
    as logged out (and its cookie goes), so they never send the browser to themselves in a
    loop."""
    try:
        return await web_caller(request, uow)
    except SessionEnded:
        request.state.session_ended = True
        return None


async def signed_in_caller(caller: Annotated[Principal | None, Depends(web_caller)]) -> Principal:
    """The logged-in caller of a page that needs one (the admin console); logged out, the
    browser goes to the login page and comes back. What the caller may do there, the
    services decide (a 403 page otherwise)."""
    if caller is None:
        raise LoginRequired
    return caller


WebCaller = Annotated[Principal | None, Depends(web_caller)]
SignedIn = Annotated[Principal, Depends(signed_in_caller)]
# Logged out or not, whatever the cookie says (the login and register pages).
AnyCaller = Annotated[Principal | None, Depends(web_caller_or_none)]


def _csrf_key(request: Request) -> bytes:
    key: bytes = request.app.state.csrf_key
    return key


def csrf_value(request: Request) -> str:
    """This browser's CSRF cookie value, minted once per request when it has none yet."""
    value = request.cookies.get(security.CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not value:
        value = request.state.new_csrf = security.new_csrf_value()
    return value


def csrf_token(request: Request) -> str:
    """The token of this page's forms, bound to the session the browser will send with
    them (none when this response clears an ended session's cookie)."""
    ended = getattr(request.state, "session_ended", False)
    session = None if ended else request.cookies.get(security.SESSION_COOKIE)
    return security.csrf_token(_csrf_key(request), csrf_value(request), session)


async def require_csrf(request: Request) -> None:
    """Every state-changing request of the web app carries the form's CSRF token (a router
    dependency of the web router, so no form can forget it): a form in its hidden field, a
    script's JSON request in the `X-CSRF-Token` header."""
    if request.method in SAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    given = ""
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.form()).get(security.CSRF_FIELD)
        given = value if isinstance(value, str) else ""
    elif content_type == "application/json":
        # The app's own scripts send JSON by fetch, the page's token in a header: another
        # site can neither read the token nor send this content type without CORS consent.
        given = request.headers.get("x-csrf-token", "")
    if not security.csrf_valid(
        _csrf_key(request),
        request.cookies.get(security.CSRF_COOKIE),
        request.cookies.get(security.SESSION_COOKIE),
        given,
    ):
        raise CsrfRefused


def finish(request: Request, response: Response) -> Response:
    """The headers every web response carries, and the CSRF cookie when it was just made."""
    response.headers.update(security.PAGE_HEADERS)
    if getattr(request.state, "session_ended", False):
        security.clear_cookie(request, response, security.SESSION_COOKIE)
    new = getattr(request.state, "new_csrf", None)
    if new:
        security.set_cookie(request, response, security.CSRF_COOKIE, new, max_age=365 * 86400)
    return response


def render(
    request: Request,
    template: str,
    principal: Principal | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    context = {
        "user": principal,
        "csrf_token": csrf_token(request),
        "status_code": status_code,
        **context,
    }
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    return finish(request, response)


def redirect(request: Request, url: str) -> Response:
    """303 See Other: after a form, the browser GETs the next page."""
    return finish(request, Response(status_code=303, headers={"Location": url}))


def login_url(next_path: str, **extra: str) -> str:
    return "/login?" + urlencode({"next": next_path, **extra})
