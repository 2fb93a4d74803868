"""Request-scoped dependencies: the unit of work, the caller, permissions, versions."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from learnhub.api.middleware import COMMITTED_POSITION, REPLICA_READ_FAILED
from learnhub.config import Settings
from learnhub.db.errors import connection_lost
from learnhub.db.replicas import PRIMARY_ONLY, ReplicaSet, parse_lsn
from learnhub.db.uow import UnitOfWork
from learnhub.domain.context import current_actor_id
from learnhub.domain.errors import (
    ConcurrencyConflict,
    NotAuthenticated,
    PreconditionFailed,
)
from learnhub.domain.principal import Principal
from learnhub.services.auth import AuthService, ThrottlePolicy
from learnhub.services.credentials import CredentialService, ResetPolicy
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


def reset_policy(settings: Settings) -> ResetPolicy:
    return ResetPolicy(
        ttl=timedelta(seconds=settings.password_reset_ttl_seconds),
        max_per_window=settings.password_reset_max_per_window,
        window=timedelta(seconds=settings.password_reset_window_seconds),
    )


# Requests that only read: their unit of work runs without a transaction.
READ_METHODS = frozenset({"GET", "HEAD"})


# The WAL position of a client's last write (read replicas, see db/replicas.py): sent back
# after every committed write as a header and a cookie, and taken from either on later reads.
POSITION_HEADER = "LearnHub-LSN"
POSITION_COOKIE = "learnhub_lsn"


def client_position(request: Request) -> int | None:
    """The furthest position the client sent; one that is not a position sends the read to
    the primary (it may stand for a write we cannot place)."""
    given = [
        value
        for value in (request.headers.get(POSITION_HEADER), request.cookies.get(POSITION_COOKIE))
        if value
    ]
    if not given:
        return None
    positions = [parse_lsn(value) for value in given]
    return max(p if p is not None else PRIMARY_ONLY for p in positions)


@asynccontextmanager
async def _unit_of_work(request: Request, *, read_only: bool) -> AsyncIterator[UnitOfWork]:
    state = request.app.state
    replicas: ReplicaSet | None = getattr(state, "replicas", None)
    async with UnitOfWork(
        state.session_factory,
        state.bus,
        read_only=read_only,
        replicas=replicas,
        client_position=client_position(request) if replicas and read_only else None,
    ) as uow:
        try:
            yield uow
        except Exception as error:
            if uow.reads_from_replica and replicas is not None and connection_lost(error):
                # Answered by running the read again on the primary, not with this error.
                replicas.read_failed(uow.session)
                request.scope[REPLICA_READ_FAILED] = True
            if not read_only and uow.kept_despite(error):
                await uow.commit()
                _remember_commit(request, uow)
            raise
        if not read_only:
            await uow.commit()
            _remember_commit(request, uow)


def _remember_commit(request: Request, uow: UnitOfWork) -> None:
    if uow.commit_position is not None:
        earlier = request.scope.get(COMMITTED_POSITION) or 0
        request.scope[COMMITTED_POSITION] = max(earlier, uow.commit_position)


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """One unit of work (one transaction) per request, and the request boundary commits it.

    A write request whose endpoint returned is committed here, before its response is sent
    (the dependency's scope is the endpoint function, see `Uow`): a commit that fails is
    answered like any other error, never with a success for work that was not kept. Any
    error rolls the work back, unless the use case declared that its work stands despite
    that error (`UnitOfWork.keep_despite_error`: a counted failed login, for one). A read
    (GET, HEAD) gets a read-only unit of work: no transaction, and no write possible."""
    async with _unit_of_work(request, read_only=request.method in READ_METHODS) as uow:
        yield uow


def read_unit_of_work(request: Request) -> AbstractAsyncContextManager[UnitOfWork]:
    """`get_uow`'s read-only unit of work, for a route that solves no dependencies (the hot
    reads, api/hot_reads.py)."""
    return _unit_of_work(request, read_only=True)


async def get_write_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A writing unit of work whatever the method, committed like a write's: for the few
    reads that may change what they read (reading a quiz attempt past its deadline closes it
    as overdue and grades it, SPEC 5)."""
    async with _unit_of_work(request, read_only=False) as uow:
        yield uow


# scope="function": the commit runs when the endpoint (and its response model) is done, not
# after the response has gone out, so a client never sees a success that was not committed.
Uow = Annotated[UnitOfWork, Depends(get_uow, scope="function")]
WriteUow = Annotated[UnitOfWork, Depends(get_write_uow, scope="function")]


async def reset_response_floor(request: Request) -> AsyncIterator[None]:
    """Hold the answer to a password reset request until
    `LEARNHUB_PASSWORD_RESET_MIN_RESPONSE_MS` have passed since the request was taken, so a
    known address (a token written, committed and mailed) and an unknown one (one read)
    answer after the same time: no account enumeration by timing. Declared before the unit
    of work, it exits after it: the wait covers the commit and the mail handler too."""
    floor = request.app.state.settings.password_reset_min_response_ms / 1000
    started = time.perf_counter()
    try:
        yield
    finally:
        remaining = floor - (time.perf_counter() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)


ResetResponseFloor = Annotated[None, Depends(reset_response_floor, scope="function")]


def auth_service(request: Request, uow: UnitOfWork) -> AuthService:
    state = request.app.state
    return AuthService(uow, state.token_settings, state.throttle_policy)


def credential_service(
    request: Request, uow: UnitOfWork, owner: Principal | None = None
) -> CredentialService:
    state = request.app.state
    return CredentialService(
        uow, state.token_settings, state.throttle_policy, state.reset_policy, owner=owner
    )


# The bearer scheme as the OpenAPI document declares it, so that "Authorize" in /docs sends
# the token. These dependencies never refuse a request: the header is parsed below, with
# problem details that say what was wrong with it.
BEARER = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="The `access_token` from `POST /api/v1/auth/login` (or `/auth/refresh`).",
    auto_error=False,
)
# The same scheme where a token is taken but not needed (public reads, logout): the app's
# OpenAPI hook (`docs.document_security`) turns it into "anonymous, or bearerAuth".
OPTIONAL_BEARER = HTTPBearer(scheme_name="bearerAuthOptional", bearerFormat="JWT", auto_error=False)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
OptionalBearer = Annotated[HTTPAuthorizationCredentials | None, Security(OPTIONAL_BEARER)]


async def _principal(request: Request, uow: UnitOfWork, authorization: str | None) -> Principal:
    if not authorization:
        raise NotAuthenticated("missing bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("expected 'Authorization: Bearer <token>'")
    principal = await auth_service(request, uow).principal(token.strip())
    # The audit trail and the log lines (learnhub.logging.request_context) name this user
    # from here on.
    current_actor_id.set(principal.user_id)
    return principal


async def get_principal(
    request: Request,
    uow: Uow,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    _declared: Bearer = None,
) -> Principal:
    return await _principal(request, uow, authorization)


async def get_write_principal(
    request: Request,
    uow: WriteUow,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    _declared: Bearer = None,
) -> Principal:
    """The caller, read in the request's writing unit of work (`WriteUow`): one transaction
    per request, as for any other."""
    return await _principal(request, uow, authorization)


async def get_optional_principal(
    request: Request,
    uow: Uow,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    _declared: OptionalBearer = None,
) -> Principal | None:
    """For public reads: anonymous callers are None; a bad token is still a 401."""
    if not authorization:
        return None
    return await get_principal(request, uow, authorization)


# The caller, once per request: every router takes these (none defines its own).
Caller = Annotated[Principal, Depends(get_principal)]
# The caller of a read that may write (with `WriteUow`).
WriteCaller = Annotated[Principal, Depends(get_write_principal)]
# Public reads: anonymous is None, but a bad or dead token is still a 401.
MaybeCaller = Annotated[Principal | None, Depends(get_optional_principal)]
IfMatch = Annotated[str | None, Header(description='W/"<version>" from the ETag, or *')]
# A list's page size (`limit`): 20 unless asked, at most 100.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


# One entity tag: `W/"<version>"`, or `W/"<version>.<stamp>"` where the representation also
# shows counters the system maintains (the stamp); strong tags are taken as their weak twin.
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})(?:\.[A-Za-z0-9]{1,64})?"$')


def parse_if_match(if_match: str | None) -> int | None:
    """The version an `If-Match` header asks for: None when absent or `*` (any version).
    Only the version part of a tag counts, so counters never cause a false conflict."""
    if if_match is None or if_match.strip() == "*":
        return None
    versions = set()
    for tag in if_match.split(","):
        match = _ETAG.match(tag.strip())
        if match is None:
            # An ETag we never issued can never match the current one.
            raise PreconditionFailed("If-Match does not name a version of this resource")
        versions.add(int(match.group(1)))
    if len(versions) != 1:
        raise PreconditionFailed("If-Match names more than one version of this resource")
    return versions.pop()


def etag(version: int, stamp: str | None = None) -> str:
    """`W/"<version>"`, or `W/"<version>.<stamp>"` when the representation shows more than
    the versioned row (counters the system maintains, the course's content)."""
    return f'W/"{version}.{stamp}"' if stamp else f'W/"{version}"'


# `If-None-Match` on reads whose route answers it before doing the work (the catalog).
IfNoneMatch = Annotated[
    str | None, Header(description="an ETag of this page from an earlier answer, or *")
]
# Personalised answers: only the client's own cache keeps them, and asks again every time.
PRIVATE_CACHE = "private, no-cache"
# Secrets (tokens) and whole-account exports: no cache keeps them at all (RFC 6749 5.1).
NO_STORE = "no-store"


def shared_cache_control(settings: Settings) -> str:
    """`Cache-Control` of a page that is the same for every anonymous caller: any cache may
    keep it (`http_cache_*` settings bound for how long before asking again)."""
    max_age = settings.http_cache_max_age_seconds
    stale = settings.http_cache_stale_while_revalidate_seconds
    return f"public, max-age={max_age}, stale-while-revalidate={stale}"


def set_etag(response: Response, version: int, stamp: str | None = None) -> None:
    """The `ETag` header of a versioned entity's representation (see `etag`). A reduced view
    of the same version (locked, or without answer keys) carries its name as the stamp, so a
    learner who enrols is never answered 304 for the locked copy they held."""
    response.headers["ETag"] = etag(version, stamp)


def representation_stamp(body: bytes) -> str:
    """A short fingerprint of a serialised representation, for the stamp of its ETag."""
    return hashlib.blake2b(body, digest_size=8).hexdigest()


async def versioned(
    if_match: str | None,
    body_version: int | None,
    action: Callable[[int | None], Awaitable[T]],
) -> T:
    """Run a versioned write. A stale `If-Match` answers 412; a stale body `version` 409.
    `If-Match: *` asks for no particular version (the body's, if any, still counts)."""
    header_version = parse_if_match(if_match)
    expected = header_version if header_version is not None else body_version
    try:
        return await action(expected)
    except ConcurrencyConflict as exc:
        if header_version is None:
            raise
        raise PreconditionFailed(exc.message, **exc.details) from exc
