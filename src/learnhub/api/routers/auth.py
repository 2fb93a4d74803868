"""Registration, login, token refresh, logout and password reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Request, Response, status

from learnhub.api.deps import (
    NO_STORE,
    OptionalBearer,
    ResetResponseFloor,
    Uow,
    auth_service,
    credential_service,
    get_principal,
)
from learnhub.api.schemas.common import PROBLEM_RESPONSES
from learnhub.api.schemas.users import (
    AcceptedOut,
    LoginIn,
    LogoutIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserOut,
)
from learnhub.services.tokens import TokenPair
from learnhub.services.user import UserService

router = APIRouter(prefix="/auth", tags=["auth"], responses=PROBLEM_RESPONSES)


def _tokens(pair: TokenPair, response: Response) -> TokenOut:
    """Tokens are secrets: no cache may keep the answer (RFC 6749 5.1)."""
    response.headers["Cache-Control"] = NO_STORE
    response.headers["Pragma"] = "no-cache"
    return TokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
    )


@router.post("/register", summary="Create a learner account", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterIn, uow: Uow) -> UserOut:
    """Create a learner account (role `student`); it can log in at once."""
    user = await UserService(uow).register(body.email, body.password, body.display_name)
    return UserOut.of(user)


@router.post("/login", summary="Log in: access and refresh tokens")
async def login(body: LoginIn, request: Request, response: Response, uow: Uow) -> TokenOut:
    """Exchange e-mail and password for an access token and a refresh token."""
    pair = await auth_service(request, uow).login(
        body.email,
        body.password,
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    return _tokens(pair, response)


@router.post("/refresh", summary="Rotate the refresh token")
async def refresh(body: RefreshIn, request: Request, response: Response, uow: Uow) -> TokenOut:
    """Rotate the refresh token; presenting an already-rotated one ends the session."""
    pair = await auth_service(request, uow).refresh(body.refresh_token)
    return _tokens(pair, response)


@router.post("/logout", summary="End a session", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request,
    uow: Uow,
    body: Annotated[LogoutIn | None, Body()] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    _declared: OptionalBearer = None,
) -> Response:
    """End the session the refresh token belongs to; without one, the session of the
    `Authorization: Bearer` access token."""
    service = auth_service(request, uow)
    if body is not None and body.refresh_token is not None:
        await service.logout(body.refresh_token)
    else:
        # Only then is the bearer read: a stale access token sent along with a refresh
        # token must not stop the logout.
        await service.end_session(await get_principal(request, uow, authorization))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password-reset",
    summary="Ask for a password reset e-mail",
    status_code=status.HTTP_202_ACCEPTED,
)
async def request_password_reset(
    _floor: ResetResponseFloor, body: PasswordResetIn, request: Request, uow: Uow
) -> AcceptedOut:
    """Always 202, whether or not an account has this address (no account enumeration).
    For a live, active account a one-time link is e-mailed; it expires after
    `LEARNHUB_PASSWORD_RESET_TTL_SECONDS` and replaces any link sent before. Either way the
    answer comes after the same minimum time (`LEARNHUB_PASSWORD_RESET_MIN_RESPONSE_MS`)."""
    await credential_service(request, uow).request_reset(body.email)
    return AcceptedOut()


@router.post(
    "/password-reset/confirm",
    summary="Set a new password with a reset token",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def confirm_password_reset(
    body: PasswordResetConfirmIn, request: Request, uow: Uow
) -> Response:
    """Set the new password and use the token up; every session of the account ends (log
    in again). An unknown, used, replaced or expired token is a 400 `reset_token_invalid`."""
    await credential_service(request, uow).confirm_reset(body.token, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
