"""The learner's own account in the browser (issue 16): the display name, the password, the
data export. Each form calls the service the API's `/users/me` routes call, for the session's
own principal: a display name travels with the version the page was read at (a stale form is
refused, never an overwrite), a password change ends every other session and keeps this one
(the cookie names the kept session, so it stays as it is), the export is the API's document.

The API has no way for people to delete their own account (only administrators delete or
erase one), so neither has this page."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from learnhub.api.deps import Uow, credential_service
from learnhub.api.schemas.privacy import export_document
from learnhub.api.schemas.users import UserOut
from learnhub.domain.clock import utc_now
from learnhub.domain.errors import ConcurrencyConflict, InvalidValue
from learnhub.domain.principal import Principal
from learnhub.services.passwords import MAX_LENGTH
from learnhub.services.privacy import PrivacyService
from learnhub.services.user import MAX_DISPLAY_NAME, AccountService, UserChanges
from learnhub.web.base import (
    WebCaller,
    expect_form_failure,
    finish,
    login_url,
    redirect,
    render,
    require_csrf,
)
from learnhub.web.errors import WEB_TAG

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])
Field = Annotated[str, Form()]
ACCOUNT = "/account"
NOTICES = {
    "name": "Your name is saved.",
    "password": "Your password is changed. Your other sessions have ended; this one goes on.",
}
STALE_NAME = (
    "Your account was changed elsewhere since this page was opened, so your name was not "
    "saved. This is its current state: change it again if you still want to."
)


async def account_of(uow: Uow, caller: Principal) -> UserOut:
    """The account as the page shows it: plain values, still readable after a failed form
    has rolled its transaction back."""
    return UserOut.of(await AccountService(uow, caller).get())


def page(
    request: Request, caller: Principal, account: UserOut, status: int = 200, **extra: Any
) -> Response:
    context: dict[str, Any] = {"account": account, "name_value": account.display_name}
    return render(request, "account.html", caller, status, **context | extra)


def expect_account_failure(request: Request, account: UserOut, **extra: Any) -> None:
    context: dict[str, Any] = {"account": account, "name_value": account.display_name}
    expect_form_failure(request, "account.html", **context | extra)


@router.get(ACCOUNT, name="web_account")
async def account_page(request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return redirect(request, login_url(ACCOUNT))
    notice = NOTICES.get(request.query_params.get("saved", ""))
    return page(request, caller, await account_of(uow, caller), notice=notice)


@router.post(f"{ACCOUNT}/name", name="web_account_name")
async def change_name(
    request: Request, uow: Uow, caller: WebCaller, display_name: Field = "", version: Field = ""
) -> Response:
    if caller is None:
        return redirect(request, login_url(ACCOUNT))
    account = await account_of(uow, caller)
    typed = display_name[: MAX_DISPLAY_NAME * 2]
    expect_account_failure(request, account, name_value=typed, name_error=True)
    if not version.isdecimal() or len(version) > 9:
        raise InvalidValue("this form is out of date: reload the page and try again")
    try:
        await AccountService(uow, caller).update(UserChanges(display_name=typed), int(version))
    except ConcurrencyConflict:
        # The account as it is now (read above, in this transaction), and why nothing changed.
        return page(request, caller, account, 409, error=STALE_NAME, name_error=True)
    return redirect(request, f"{ACCOUNT}?saved=name")


@router.post(f"{ACCOUNT}/password", name="web_account_password")
async def change_password(
    request: Request,
    uow: Uow,
    caller: WebCaller,
    current_password: Field = "",
    new_password: Field = "",
    new_password_again: Field = "",
) -> Response:
    if caller is None:
        return redirect(request, login_url(ACCOUNT))
    account = await account_of(uow, caller)
    # A wrong current password (counted as a failed login, as the API counts it), a refused
    # new one, too many tries: the page again, saying so.
    expect_account_failure(request, account, password_error=True)
    if new_password != new_password_again:
        raise InvalidValue("the two new passwords differ: type the same one twice")
    await credential_service(request, uow, owner=caller).change_password(
        current_password[:MAX_LENGTH],
        new_password[: MAX_LENGTH + 1],  # one more: too long is refused, never cut
        ip_address=request.client.host if request.client else None,
    )
    return redirect(request, f"{ACCOUNT}?saved=password")


@router.get(f"{ACCOUNT}/export", name="web_account_export")
async def export(request: Request, uow: Uow, caller: WebCaller) -> Response:
    """The API's export document (`GET /api/v1/users/me/export`), as a file to keep."""
    if caller is None:
        return redirect(request, login_url(ACCOUNT))
    document = export_document(await PrivacyService(uow, caller).export())
    name = f"learnhub-export-{utc_now().date().isoformat()}.json"
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return finish(request, response)
