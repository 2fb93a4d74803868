"""A browser whose session ended elsewhere is sent to the login page (issue 16, item 7), in
Chromium against the real server on both databases: the session row revoked through the
API, expired, or ended by a password change from another device. The next page it asks for
lands on `/login?next=...&ended=1` saying so, its cookie is gone, and logging in again
brings it back to the page it asked for. (tests/web checks the same rules over HTTP.)"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import BrowserContext, expect

from learnhub.db.engine import create_engine, create_session_factory
from learnhub.domain.clock import utc_now
from learnhub.models.user.session import UserSession
from learnhub.web.security import SESSION_COOKIE
from tests.browser.conftest import LiveServer, LoopbackPage
from tests.browser.test_web_app import DEMO_SLUG, PASSWORD, log_in, new_email, register

API = "/api/v1"
NEW_PASSWORD = "a brand new passphrase"


async def session_cookie(context: BrowserContext) -> str | None:
    cookies = await context.cookies()
    return next((c["value"] for c in cookies if c["name"] == SESSION_COOKIE), None)


async def revoke(server: LiveServer, cookie: str) -> None:
    """The API's logout of exactly this session: the cookie is the session's refresh token."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        response = await api.post(f"{API}/auth/logout", json={"refresh_token": cookie})
    assert response.status_code == 204, response.text


async def expire(server: LiveServer, cookie: str) -> None:
    """No test clock reaches into the server's process, so the session row's expiry is moved
    into the past in its database, as the passing of its lifetime would leave it."""
    engine = create_engine(server.database_url)
    try:
        async with create_session_factory(engine)() as session:
            row = await session.get(UserSession, uuid.UUID(cookie.partition(".")[0]))
            assert row is not None and row.expires_at > utc_now()
            row.expires_at = utc_now() - timedelta(minutes=1)
            await session.commit()
    finally:
        await engine.dispose()


async def change_password_elsewhere(server: LiveServer, email: str) -> None:
    """Another device logs in through the API and changes the password: every other session
    of the account ends, the browser's too."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        login = await api.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        changed = await api.post(
            f"{API}/users/me/password",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
    assert changed.status_code == 204, changed.text


@pytest.mark.parametrize("ending", ["revoked", "expired", "password-changed"])
async def test_an_ended_session_is_sent_to_the_login_page(
    page: LoopbackPage, live_server: LiveServer, ending: str
) -> None:
    browser_page = page.page
    context = browser_page.context
    email = new_email()
    await register(browser_page, email)
    await log_in(browser_page, email)
    await expect(browser_page.get_by_role("button", name="Log out")).to_be_visible()
    cookie = await session_cookie(context)
    assert cookie is not None

    if ending == "revoked":
        await revoke(live_server, cookie)
    elif ending == "expired":
        await expire(live_server, cookie)
    else:
        await change_password_elsewhere(live_server, email)

    course = f"/courses/{DEMO_SLUG}"
    await browser_page.goto(course)
    ended = re.escape(f"/login?next={quote(course, safe='')}&ended=1")
    await expect(browser_page).to_have_url(re.compile(f".*{ended}$"))
    await expect(browser_page.get_by_role("status")).to_have_text(
        "Your session has ended. Please log in again."
    )
    assert await session_cookie(context) is None  # the ended cookie went with the redirect

    await log_in(browser_page, email, NEW_PASSWORD if ending == "password-changed" else PASSWORD)
    await expect(browser_page).to_have_url(re.compile(f".*{re.escape(course)}$"))
    await expect(browser_page.get_by_role("button", name="Log out")).to_be_visible()
    assert await session_cookie(context) not in (None, cookie)  # a new session
    assert page.outside == [], page.outside
    assert page.errors == [], page.errors
