"""Registering, logging in and out in the browser. Logging in opens a session row exactly as
`POST /api/v1/auth/login` does (same service, same throttle); its refresh token becomes the
session cookie. Logging out revokes that row."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from learnhub.api.deps import Uow, auth_service
from learnhub.api.schemas.users import RegisterIn
from learnhub.domain.errors import NotAuthenticated
from learnhub.services.user import UserService
from learnhub.web import security
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
FIELD_NAMES = {"email": "E-mail", "password": "Password", "display_name": "Name"}


@router.get("/login", name="web_login")
async def login_page(request: Request, caller: AnyCaller) -> Response:
    target = security.local_path(request.query_params.get("next"))
    if caller is not None:
        return redirect(request, target)
    notice = None
    if request.query_params.get("ended") == "1":
        notice = "Your session has ended. Please log in again."
    elif request.query_params.get("registered") == "1":
        notice = "Your account is ready. Log in to start learning."
    elif request.query_params.get("reset") == "1":
        notice = "Your password is changed. Log in with the new one."
    return render(request, "login.html", None, next=target, notice=notice, email="")


@router.post("/login", name="web_login_submit")
async def login(
    request: Request, uow: Uow, email: Field = "", password: Field = "", next: Field = "/"
) -> Response:
    target = security.local_path(next)
    # A wrong password, a suspended account or too many tries: the form again, saying so.
    expect_form_failure(request, "login.html", next=target, email=email[:254])
    if not email or not password:
        raise NotAuthenticated("enter your e-mail and password")
    pair = await auth_service(request, uow).login(
        email[:254],
        password[:256],
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    response = redirect(request, target)
    max_age = int(request.app.state.token_settings.refresh_ttl.total_seconds())
    security.set_cookie(request, response, security.SESSION_COOKIE, pair.refresh_token, max_age)
    return response


@router.get("/register", name="web_register")
async def register_page(request: Request, caller: AnyCaller) -> Response:
    if caller is not None:
        return redirect(request, "/")
    return render(request, "register.html", None, values={}, field_errors={})


@router.post("/register", name="web_register_submit")
async def register(
    request: Request,
    uow: Uow,
    email: Field = "",
    password: Field = "",
    display_name: Field = "",
) -> Response:
    values = {"email": email[:254], "display_name": display_name[:100]}
    try:
        # The API's own input rules (password length, e-mail form), so both agree.
        body = RegisterIn(email=email, password=password, display_name=display_name)
    except ValidationError as invalid:
        field_errors = {
            str(e["loc"][0]): f"{FIELD_NAMES.get(str(e['loc'][0]), 'This field')}: {e['msg']}."
            for e in invalid.errors()
            if e["loc"]
        }
        return render(
            request,
            "register.html",
            None,
            422,
            values=values,
            field_errors=field_errors,
            error="Please correct the fields marked below.",
        )
    expect_form_failure(request, "register.html", values=values, field_errors={})
    await UserService(uow).register(body.email, body.password, body.display_name)
    return redirect(request, "/login?registered=1")


@router.post("/logout", name="web_logout")
async def logout(request: Request, uow: Uow) -> Response:
    token = request.cookies.get(security.SESSION_COOKIE)
    response = redirect(request, "/")
    if token:
        # A session already over: the cookie goes all the same.
        with contextlib.suppress(NotAuthenticated):
            await auth_service(request, uow).logout(token)
    security.clear_cookie(request, response, security.SESSION_COOKIE)
    return response
