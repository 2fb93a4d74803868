"""A forgotten password, in the browser (issue 16): asking for a reset link by e-mail, and
the page that link opens (`LEARNHUB_PASSWORD_RESET_URL`, by default this app's
`/password-reset/confirm`) to choose a new password. The same service as
`POST /api/v1/auth/password-reset` and `/confirm`: the answer to a request is the same
whether or not an account has the address, after the same minimum time; a token works once,
and using it ends every session of the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from learnhub.api.deps import ResetResponseFloor, Uow, credential_service
from learnhub.domain.errors import InvalidResetToken, InvalidValue
from learnhub.services.passwords import MAX_LENGTH
from learnhub.web.base import (
    AnyCaller,
    expect_form_failure,
    redirect,
    render,
    require_csrf,
)
from learnhub.web.errors import WEB_TAG

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])
Field = Annotated[str, Form()]
RESET = "/password-reset"
CONFIRM = "/password-reset/confirm"
MAX_TOKEN = 256  # longer is no token the service ever made


def ttl_minutes(request: Request) -> int:
    return int(request.app.state.settings.password_reset_ttl_seconds // 60)


@router.get(RESET, name="web_password_reset")
async def reset_page(request: Request, caller: AnyCaller) -> Response:
    sent = request.query_params.get("sent") == "1"
    return render(request, "password_reset.html", caller, sent=sent, minutes=ttl_minutes(request))


@router.post(RESET, name="web_password_reset_submit")
async def ask_for_link(
    _floor: ResetResponseFloor, request: Request, uow: Uow, email: Field = ""
) -> Response:
    # Whatever the address (known, unknown, malformed), the same answer after the same time.
    await credential_service(request, uow).request_reset(email[:254])
    return redirect(request, f"{RESET}?sent=1")


@router.get(CONFIRM, name="web_password_reset_confirm")
async def confirm_page(request: Request, caller: AnyCaller) -> Response:
    token = request.query_params.get("token", "")[: MAX_TOKEN + 1]
    return render(request, "password_reset_confirm.html", caller, token=token, missing=not token)


@router.post(CONFIRM, name="web_password_reset_confirm_submit")
async def choose_password(
    request: Request,
    uow: Uow,
    token: Field = "",
    new_password: Field = "",
    new_password_again: Field = "",
) -> Response:
    # A used, replaced or expired link, or a refused password: the page again, saying so
    # (and, for the link, where to ask for a new one).
    expect_form_failure(request, "password_reset_confirm.html", token=token[: MAX_TOKEN + 1])
    if not token:
        raise InvalidResetToken("the reset token is invalid or has expired")
    if new_password != new_password_again:
        raise InvalidValue("the two new passwords differ: type the same one twice")
    await credential_service(request, uow).confirm_reset(
        token[: MAX_TOKEN + 1], new_password[: MAX_LENGTH + 1]
    )
    return redirect(request, "/login?reset=1")
