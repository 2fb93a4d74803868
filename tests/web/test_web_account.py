"""The learner's account pages through httpx, on both databases (issue 16): the display
name with its version (a stale form is refused, not an overwrite), a password change that
ends the other browser sessions and keeps this one, the data export, and the password reset
by the link the mail carries (read from the log transport, as the API's tests read it)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from learnhub.web import security
from tests.api.conftest import PASSWORD, LoginAs, login
from tests.api.test_account_passwords import sessions_of
from tests.web.test_web_base import assert_page, csrf_of, logged_in, token_for, web_login

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

NEW = "a brand new passphrase"
VERSION = re.compile(r'name="version" value="(\d+)"')
LINK_IN_BODY = re.compile(r"(https?://\S+/password-reset/confirm\?token=[A-Za-z0-9_-]+)")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The log transport logs mails at info; the tests' default level (warning) drops them.
    return {"log_level": "info"}


@pytest.fixture
async def second_browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser of the same person: cookies of its own."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as other:
        yield other


def version_of(html: str) -> str:
    match = VERSION.search(html)
    assert match, html[:500]
    return match.group(1)


async def test_the_account_pages_need_a_login(client):
    for path in ("/account", "/account/export"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login?next=%2Faccount"
    login_page = assert_page(await client.get("/login"))
    assert '<a href="/password-reset">Forgot your password?</a>' in login_page


async def test_a_stale_display_name_form_is_refused_not_an_overwrite(client, login_as: LoginAs):
    me = await login_as()
    await logged_in(client, me)
    page = assert_page(await client.get("/account"))
    assert me.email in page and 'href="/account"' in page  # the nav links the account
    stale_version = version_of(page)
    form = {"csrf_token": csrf_of(page), "display_name": "Ada Lovelace", "version": stale_version}
    saved = await client.post("/account/name", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/account?saved=name"
    page = assert_page(await client.get(saved.headers["location"]))
    assert "Your name is saved." in page and 'value="Ada Lovelace"' in page
    assert int(version_of(page)) == int(stale_version) + 1

    # A form read before that change (another tab) is refused and shows the name as it is.
    late = {**form, "display_name": "Someone Else", "csrf_token": csrf_of(page)}
    refused = assert_page(await client.post("/account/name", data=late), 409)
    assert "was changed elsewhere" in refused and 'role="alert"' in refused
    assert 'value="Ada Lovelace"' in refused and "Someone Else" not in refused
    assert version_of(refused) == version_of(page)  # the form now carries the current one
    me_now = await client.get("/api/v1/users/me", headers=me.headers)
    assert me_now.json()["display_name"] == "Ada Lovelace"

    # Bad input: the page with the message, never a 500.
    for name, version, status, message in [
        ("   ", version_of(page), 422, "Display name must be 1 to 100 characters."),
        ("x" * 150, version_of(page), 422, "Display name must be 1 to 100 characters."),
        ("Ada", "not a number", 422, "This form is out of date"),
    ]:
        bad = {"csrf_token": csrf_of(page), "display_name": name, "version": version}
        text = assert_page(await client.post("/account/name", data=bad), status)
        assert message in text and 'aria-invalid="true"' in text
    assert (await client.get("/api/v1/users/me", headers=me.headers)).json()["version"] == int(
        version_of(page)
    )


async def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    client, second_browser: httpx.AsyncClient, login_as: LoginAs, session
):
    me = await login_as()
    here = await logged_in(client, me)
    elsewhere = await logged_in(second_browser, me)
    assert here != elsewhere

    async def change(current: str, new: str, again: str) -> httpx.Response:
        token = await token_for(client, "/account")
        form = {
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "new_password_again": again,
        }
        return await client.post("/account/password", data=form)

    wrong = assert_page(await change("not my password", NEW, NEW), 403)
    assert "The current password is wrong." in wrong
    differ = assert_page(await change(PASSWORD, NEW, NEW + "!"), 422)
    assert "The two new passwords differ" in differ
    short = assert_page(await change(PASSWORD, "short", "short"), 422)
    assert "Password must be 8 to 256 characters long." in short
    assert (await second_browser.get("/account")).status_code == 200  # nothing changed yet

    done = await change(PASSWORD, NEW, NEW)
    assert done.status_code == 303 and done.headers["location"] == "/account?saved=password"
    assert security.SESSION_COOKIE not in done.headers.get("set-cookie", "")
    page = assert_page(await client.get(done.headers["location"]))
    assert "Your password is changed." in page  # this browser is still logged in
    ended = await second_browser.get("/account")
    assert ended.status_code == 303
    assert ended.headers["location"] == "/login?next=%2Faccount&ended=1"
    rows = {str(r.id): r for r in await sessions_of(session, me.id)}
    assert rows[here.partition(".")[0]].revoked_at is None
    assert rows[elsewhere.partition(".")[0]].revoked_reason == "password_changed"
    # The new password logs in; the old one does not.
    assert (await web_login(second_browser, me.email, PASSWORD)).status_code == 401
    assert (await web_login(second_browser, me.email, NEW)).status_code == 303


async def test_the_export_downloads_the_apis_document(client, login_as: LoginAs):
    me = await login_as()
    await logged_in(client, me)
    response = await client.get("/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    expected = r'attachment; filename="learnhub-export-\d{4}-\d{2}-\d{2}\.json"'
    assert re.fullmatch(expected, disposition)
    assert response.headers["cache-control"] == "no-store"
    document = json.loads(response.content)
    assert document["user"]["email"] == me.email
    api = (await client.get("/api/v1/users/me/export", headers=me.headers)).json()
    assert set(document) == set(api)
    assert document["user"] == api["user"]


async def ask_for_a_link(client: httpx.AsyncClient, email: str) -> tuple[httpx.Response, list]:
    token = await token_for(client, "/password-reset")
    with capture_logs() as logs:
        response = await client.post("/password-reset", data={"csrf_token": token, "email": email})
    return response, [e for e in logs if e["event"] == "mail_logged"]


async def test_a_password_reset_by_the_mailed_link(client, login_as: LoginAs):
    me = await login_as()
    answers = []
    for email in ("nobody-here@example.com", "not an address"):
        response, mails = await ask_for_a_link(client, email)
        assert mails == []
        answers.append(response)
    response, mails = await ask_for_a_link(client, me.email)
    answers.append(response)
    # One answer whoever asks: no account is revealed.
    assert {(r.status_code, r.headers["location"]) for r in answers} == {
        (303, "/password-reset?sent=1")
    }
    sent = assert_page(await client.get("/password-reset?sent=1"))
    assert "If an account has that e-mail address" in sent and "for 30 minutes" in sent
    assert [m["mail_to"] for m in mails] == [me.email]
    match = LINK_IN_BODY.search(mails[0]["body"])
    assert match, mails[0]["body"]
    # The default setting points the link at the web app's page.
    link = urlsplit(match.group(1))
    assert f"{link.scheme}://{link.netloc}{link.path}" == (
        "http://127.0.0.1:8000/password-reset/confirm"
    )
    page = assert_page(await client.get(f"{link.path}?{link.query}"))
    token = link.query.removeprefix("token=")
    assert f'name="token" value="{token}"' in page

    form = {"csrf_token": csrf_of(page), "token": token, "new_password": NEW}
    differ = await client.post(link.path, data={**form, "new_password_again": NEW + "!"})
    assert "The two new passwords differ" in assert_page(differ, 422)
    done = await client.post(link.path, data={**form, "new_password_again": NEW})
    assert done.status_code == 303 and done.headers["location"] == "/login?reset=1"
    notice = assert_page(await client.get("/login?reset=1"))
    assert "Your password is changed. Log in with the new one." in notice
    assert (await web_login(client, me.email, NEW)).status_code == 303
    await login(client, me.email, NEW)
    # The link works once.
    form = {**form, "csrf_token": await token_for(client, "/"), "new_password_again": NEW}
    used = await client.post(link.path, data=form)
    text = assert_page(used, 400)
    assert "The reset token is invalid or has expired." in text
    assert 'href="/password-reset">Ask for a new link' in text


async def test_a_reset_page_without_a_token_says_so(client):
    page = assert_page(await client.get("/password-reset/confirm"))
    assert "This link is incomplete" in page and 'name="new_password"' not in page
    token = await token_for(client, "/login")
    form = {"csrf_token": token, "token": "", "new_password": NEW, "new_password_again": NEW}
    refused = await client.post("/password-reset/confirm", data=form)
    assert "The reset token is invalid or has expired." in assert_page(refused, 400)
    garbage = {**form, "token": "x" * 10_000}
    assert assert_page(await client.post("/password-reset/confirm", data=garbage), 400)
