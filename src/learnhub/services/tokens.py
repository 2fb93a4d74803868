"""Access tokens (JWT, HS256 only), opaque refresh tokens and password reset tokens (both
stored as SHA-256 hashes only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from learnhub.domain.errors import NotAuthenticated

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class TokenSettings:
    secret: str
    issuer: str = "learnhub"
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID


def issue_access_token(
    settings: TokenSettings, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> str:
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "iss": settings.issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + settings.access_ttl).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, settings.secret, algorithm=ALGORITHM)


def decode_access_token(settings: TokenSettings, token: str) -> AccessClaims:
    """Verify signature, algorithm (no `none`, no RS/HS confusion), issuer and expiry."""
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            settings.secret,
            algorithms=[ALGORITHM],
            issuer=settings.issuer,
            options={"require": ["exp", "iat", "sub", "sid", "iss"]},
        )
        return AccessClaims(uuid.UUID(str(payload["sub"])), uuid.UUID(str(payload["sid"])))
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("access token expired") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise NotAuthenticated("access token invalid") from None


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_secret(secret: str) -> str:
    # A 256-bit random secret needs no slow hash; SHA-256 keeps lookups cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def compose_refresh_token(session_id: uuid.UUID, secret: str) -> str:
    return f"{session_id}.{secret}"


def parse_refresh_token(token: str) -> tuple[uuid.UUID, str]:
    session_part, _, secret = token.partition(".")
    try:
        session_id = uuid.UUID(session_part)
    except ValueError:
        raise NotAuthenticated("refresh token invalid") from None
    if not 16 <= len(secret) <= 128:
        raise NotAuthenticated("refresh token invalid")
    return session_id, secret


# Domain separation: a reset token is never a valid anything else signed with the same key.
_RESET_CONTEXT = b"learnhub:password-reset:v1:"


def reset_token(settings: TokenSettings, token_id: uuid.UUID) -> str:
    """The password reset token of the row `token_id`: HMAC-SHA256 of the row's id under the
    signing key, 256 bits, URL-safe. Unpredictable without the key, and derivable again by
    the mail handler from the id alone, so neither the outbox nor the table holds the token
    (the table holds `hash_reset_token` of it)."""
    digest = hmac.new(
        settings.secret.encode(), _RESET_CONTEXT + token_id.bytes, hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_reset_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
