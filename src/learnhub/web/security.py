"""The web app's browser security, in one place: the session cookie, CSRF tokens, the
Content-Security-Policy and the other headers every page carries (docs/decisions.md,
"Web sessions, CSRF and CSP").

- The session cookie holds the refresh token of a session row (`<session id>.<secret>`),
  the same rows the API's tokens name: ending the row ends the browser session.
- CSRF: a signed double-submit token. A random value lives in its own HttpOnly cookie; each
  form carries HMAC(key, cookie value | session id) in a hidden field, checked on every
  state-changing request of the web app. Binding to the session id means a token minted by
  someone else's session (or before logging in) is refused.
  A script's JSON fetch sends the same token in the `X-CSRF-Token` header.
- The CSP allows scripts, styles, images and form targets from this origin only: no inline
  script, no CDN."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "learnhub_session"
CSRF_COOKIE = "learnhub_csrf"
CSRF_FIELD = "csrf_token"
# The same token, sent by the pages' scripts with a JSON fetch (the player's heartbeats).
CSRF_HEADER = "X-CSRF-Token"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages show who is logged in and carry CSRF tokens: no shared cache keeps them.
    "Cache-Control": "no-store",
}


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_https(request))


def csrf_key(signing_secret: str) -> bytes:
    """A key of its own for CSRF tokens, derived from the app's signing secret."""
    return hmac.new(signing_secret.encode(), b"learnhub-web-csrf", hashlib.sha256).digest()


def new_csrf_value() -> str:
    return secrets.token_urlsafe(32)


def session_id_part(session_cookie: str | None) -> str:
    """The session id the session cookie names (unverified: it only binds CSRF tokens)."""
    return (session_cookie or "").partition(".")[0][:64]


def csrf_token(key: bytes, csrf_value: str, session_cookie: str | None) -> str:
    message = f"{csrf_value}|{session_id_part(session_cookie)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def csrf_valid(key: bytes, csrf_value: str | None, session_cookie: str | None, given: str) -> bool:
    if not csrf_value or not given:
        return False
    return hmac.compare_digest(csrf_token(key, csrf_value, session_cookie), given)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site (where to go back after logging in), else
    `default`: never another host (`//evil.example`, `https://...`, backslashes)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target
