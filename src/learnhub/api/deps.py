"""Request-scoped dependencies: the unit of work, the caller, permissions, versions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

import structlog
from fastapi import Depends, Header, Request

from learnhub.config import Settings
from learnhub.db.uow import UnitOfWork
from learnhub.domain.context import current_actor_id
from learnhub.domain.errors import ConcurrencyConflict, NotAuthenticated, PreconditionFailed
from learnhub.domain.principal import Principal
from learnhub.services.auth import AuthService, ThrottlePolicy
from learnhub.services.tokens import TokenSettings

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def token_settings(settings: Settings) -> TokenSettings:
    return TokenSettings(
        secret=settings.signing_secret(),
        issuer=settings.jwt_issuer,
        access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
    )


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        window=timedelta(seconds=settings.login_window_seconds),
        max_per_account=settings.login_max_failures_per_account,
        max_per_ip=settings.login_max_failures_per_ip,
    )


# Requests that only read: their unit of work runs without a transaction.
READ_METHODS = frozenset({"GET", "HEAD"})


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """One unit of work (one transaction) per request; the endpoint commits, else rollback.
    A read (GET) gets a read-only unit of work: no transaction, and no write possible."""
    state = request.app.state
    read_only = request.method in READ_METHODS
    async with UnitOfWork(state.session_factory, state.bus, read_only=read_only) as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(get_uow)]


def auth_service(request: Request, uow: UnitOfWork) -> AuthService:
    state = request.app.state
    return AuthService(uow, state.token_settings, state.throttle_policy)


async def get_principal(
    request: Request,
    uow: Uow,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    if not authorization:
        raise NotAuthenticated("missing bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("expected 'Authorization: Bearer <token>'")
    principal = await auth_service(request, uow).principal(token.strip())
    # The audit trail and the logs name this user from here on.
    current_actor_id.set(principal.user_id)
    structlog.contextvars.bind_contextvars(actor_id=str(principal.user_id))
    return principal


async def get_optional_principal(
    request: Request,
    uow: Uow,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal | None:
    """For public reads: anonymous callers are None; a bad token is still a 401."""
    if not authorization:
        return None
    return await get_principal(request, uow, authorization)


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits callers holding `permission` (403 otherwise)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(permission)
        return principal

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return dependency


_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')


def parse_if_match(if_match: str | None) -> int | None:
    """The version an `If-Match: W/"<version>"` header asks for (None when absent)."""
    if if_match is None:
        return None
    match = _ETAG.match(if_match)
    if match is None:
        # An ETag we never issued can never match the current one.
        raise PreconditionFailed("If-Match does not name a version of this resource")
    return int(match.group(1))


def etag(version: int) -> str:
    return f'W/"{version}"'


async def versioned(
    if_match: str | None,
    body_version: int | None,
    action: Callable[[int | None], Awaitable[T]],
) -> T:
    """Run a versioned write. A stale `If-Match` answers 412; a stale body `version` 409."""
    header_version = parse_if_match(if_match)
    expected = header_version if header_version is not None else body_version
    try:
        return await action(expected)
    except ConcurrencyConflict as exc:
        if header_version is None:
            raise
        raise PreconditionFailed(exc.message, **exc.details) from exc
