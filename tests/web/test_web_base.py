"""The web app's foundation (issue 16) through httpx, on both databases: pages carry the CSP
and no inline script, the session cookie's flags, CSRF refusals, logging in and out against
the same session rows as the API's tokens, the catalog and the course page, enrolling."""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from learnhub.models.user import UserSession
from learnhub.services.catalog import CatalogService
from learnhub.services.user import UserService
from learnhub.web import errors as web_errors
from learnhub.web import security
from tests.api.conftest import PASSWORD, Account, LoginAs
from tests.api.test_courses import make_course
from tests.api.test_session_end import sessions_of

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    match = TOKEN.search(html)
    assert match, html[:500]
    return match.group(1)


async def token_for(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


async def web_login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, next: str = "/"
) -> httpx.Response:
    token = await token_for(client)
    form = {"csrf_token": token, "email": email, "password": password, "next": next}
    return await client.post("/login", data=form)


async def logged_in(client: httpx.AsyncClient, account: Account) -> str:
    """Log `account` in through the login form; its session cookie."""
    response = await web_login(client, account.email)
    assert response.status_code == 303, response.text
    return client.cookies[security.SESSION_COOKIE]


def cookie_header(response: httpx.Response, name: str) -> str:
    found = [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{name}=")]
    assert len(found) == 1, response.headers
    return found[0]


def assert_page(response: httpx.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_pages_carry_a_strict_csp_and_no_inline_script(client, login_as: LoginAs):
    course = await make_course(client, await login_as("instructor"))
    for path in ("/", "/login", "/register", f"/courses/{course['slug']}", "/courses/nope"):
        response = await client.get(path)
        assert response.status_code in (200, 404), path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text and '<script src="/static/app.js"' in response.text
    static = await client.get("/static/app.css")
    assert static.status_code == 200 and static.headers["content-type"].startswith("text/css")
    # The API and the docs keep what they had: the web's policy would break Swagger UI.
    for path in ("/docs", "/api/v1/courses", "/health"):
        assert "content-security-policy" not in (await client.get(path)).headers, path


async def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(
    app: FastAPI, client, login_as: LoginAs
):
    account = await login_as()
    response = await web_login(client, account.email)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = cookie_header(response, security.SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie
    # The cookie names the session row; the secret is the refresh token's, not a JWT.
    session_id, _, secret = client.cookies[security.SESSION_COOKIE].partition(".")
    assert uuid.UUID(session_id) and len(secret) >= 32

    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as https:
        first = await https.get("/login")
        assert "secure" in cookie_header(first, security.CSRF_COOKIE).lower()
        response = await web_login(https, account.email)
        assert response.status_code == 303, response.text
        cookie = cookie_header(response, security.SESSION_COOKIE).lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


async def test_the_csrf_cookie_is_httponly_and_lax(client):
    response = await client.get("/")
    cookie = cookie_header(response, security.CSRF_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    # Minted once: the next page keeps it and sets none.
    again = await client.get("/login")
    assert security.CSRF_COOKIE not in again.headers.get("set-cookie", "")


async def test_a_wrong_password_shows_an_error_not_a_500(client, login_as: LoginAs):
    account = await login_as()
    response = await web_login(client, account.email, "wrong password!")
    text = assert_page(response, 401)
    assert "Wrong e-mail or password." in text and 'role="alert"' in text
    assert account.email in text  # what was typed stays in the form
    assert security.SESSION_COOKIE not in client.cookies
    response = await web_login(client, "", "")
    assert "Enter your e-mail and password." in assert_page(response, 401)
    response = await web_login(client, "not an address", "x" * 500)
    assert "Wrong e-mail or password." in assert_page(response, 401)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/login", {"email": "a@example.com", "password": "whatever pass"}),
        ("/register", {"email": "a@example.com", "password": "x" * 12, "display_name": "A"}),
        ("/logout", {}),
        ("/courses/any/enrol", {}),
    ],
)
async def test_a_post_without_the_csrf_token_is_refused(client, path: str, form: dict[str, Any]):
    token = await token_for(client)  # the browser has a CSRF cookie, the form lacks the token
    for data in (form, {**form, "csrf_token": "0" * 64}, {**form, "csrf_token": token[::-1]}):
        text = assert_page(await client.post(path, data=data), 403)
        assert "did not come from this site" in text
    # JSON bodies and a missing CSRF cookie are refused alike.
    assert (await client.post(path, json={**form, "csrf_token": token})).status_code == 403
    client.cookies.delete(security.CSRF_COOKIE)
    assert (await client.post(path, data={**form, "csrf_token": token})).status_code == 403


async def test_a_csrf_token_is_bound_to_the_session(client, login_as: LoginAs):
    anonymous_token = await token_for(client)
    await logged_in(client, await login_as())
    # The token of the logged-out page is no good once logged in (a login fixes none).
    refused = await client.post("/logout", data={"csrf_token": anonymous_token})
    assert refused.status_code == 403
    accepted = await client.post("/logout", data={"csrf_token": await token_for(client, "/")})
    assert accepted.status_code == 303


async def test_logout_ends_the_session_row_and_the_cookie(client, login_as: LoginAs, session):
    account = await login_as()
    cookie = await logged_in(client, account)
    page = assert_page(await client.get("/"))
    assert "Log out" in page and 'href="/login"' not in page
    response = await client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "max-age=0" in cookie_header(response, security.SESSION_COOKIE).lower()
    row = next(r for r in await sessions_of(session, account.id) if str(r.id) in cookie)
    assert row.revoked_at is not None and row.revoked_reason == "logout"
    # The old cookie, replayed, is sent to log in again, and loses its cookie.
    client.cookies.set(security.SESSION_COOKIE, cookie)
    replay = await client.get("/courses/some-course?x=1")
    assert replay.status_code == 303
    assert replay.headers["location"] == "/login?next=%2Fcourses%2Fsome-course%3Fx%3D1&ended=1"
    assert "max-age=0" in cookie_header(replay, security.SESSION_COOKIE).lower()
    notice = assert_page(await client.get(replay.headers["location"]))
    assert "Your session has ended" in notice


@pytest.mark.parametrize("take_down", ["suspend", "delete"])
async def test_a_suspension_or_deletion_ends_the_browser_session(
    client, login_as: LoginAs, take_down: str
):
    admin, student = await login_as("admin"), await login_as()
    await logged_in(client, student)
    assert (await client.get("/")).status_code == 200
    url = f"/api/v1/users/{student.id}"
    if take_down == "suspend":
        done = await client.patch(url, headers=admin.headers, json={"status": "suspended"})
    else:
        done = await client.delete(url, headers=admin.headers)
    assert done.status_code in (200, 204), done.text
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?")
    # Logging in again is refused with a message, never a 500.
    again = await web_login(client, student.email)
    assert again.status_code in (401, 403)
    assert 'role="alert"' in assert_page(again, again.status_code)


async def test_an_expired_session_goes_to_the_login_page(client, login_as: LoginAs, session):
    cookie = await logged_in(client, await login_as())
    await session.execute(
        update(UserSession)
        .where(UserSession.id == uuid.UUID(cookie.partition(".")[0]))
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        .execution_options(audited_bulk=True, synchronize_session=False)
    )
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F&ended=1"
    # The login page itself never loops: it is shown, and the ended cookie goes.
    client.cookies.set(security.SESSION_COOKIE, cookie)
    response = await client.get("/login")
    assert response.status_code == 200
    assert "max-age=0" in cookie_header(response, security.SESSION_COOKIE).lower()


async def test_a_tampered_session_cookie_goes_to_the_login_page(client, login_as: LoginAs):
    cookie = await logged_in(client, await login_as())
    for forged in (cookie[:-4] + "AAAA", "nonsense", f"{uuid.uuid4()}.{'a' * 40}"):
        client.cookies.set(security.SESSION_COOKIE, forged)
        response = await client.get("/")
        assert response.status_code == 303, forged
        assert response.headers["location"].startswith("/login?")


async def test_register_then_log_in(client):
    token = await token_for(client, "/register")
    email = f"web-{uuid.uuid4().hex[:8]}@example.com"
    short = {"csrf_token": token, "email": email, "password": "short", "display_name": "Web"}
    text = assert_page(await client.post("/register", data=short), 422)
    assert 'aria-invalid="true"' in text and "Password:" in text and email in text
    form = {**short, "password": PASSWORD}
    response = await client.post("/register", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/login?registered=1"
    again = await client.post("/register", data={**form, "csrf_token": await token_for(client)})
    assert "An account with this e-mail already exists." in assert_page(again, 409)
    assert (await web_login(client, email)).status_code == 303


async def test_login_goes_back_to_a_local_page_only(client, login_as: LoginAs):
    account = await login_as()
    for target, expected in [
        ("/courses/x?y=1", "/courses/x?y=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ]:
        response = await web_login(client, account.email, next=target)
        assert response.headers["location"] == expected, target
        client.cookies.delete(security.SESSION_COOKIE)
    page = assert_page(await client.get("/login", params={"next": "//evil.example"}))
    assert 'name="next" value="/"' in page


async def test_catalog_search_filters_and_load_more(client, login_as: LoginAs):
    instructor = await login_as("instructor")
    word = f"zebra{uuid.uuid4().hex[:6]}"
    for n in range(3):
        await make_course(
            client,
            instructor,
            title=f"{word} course {n}",
            difficulty="advanced" if n else "beginner",
            tags=[word],
            price={"amount": "12.50", "currency": "EUR"},
        )
    first = assert_page(await client.get("/", params={"q": word, "limit": "2"}))
    assert first.count('class="card"') == 2 and "12.50 EUR" in first
    more = re.search(r'id="load-more" href="([^"]+)"', first)
    assert more, first
    second = assert_page(await client.get(more.group(1).replace("&amp;", "&")))
    assert second.count('class="card"') == 1 and 'id="load-more"' not in second
    filtered = assert_page(await client.get("/", params={"tag": word, "difficulty": "beginner"}))
    assert filtered.count('class="card"') == 1 and f"{word} course 0" in filtered
    sorted_page = await client.get("/", params={"tag": word, "sort": "price", "currency": "EUR"})
    assert assert_page(sorted_page).count('class="card"') == 3
    for params in (
        {"difficulty": "nonsense", "sort": "nonsense"},
        {"q": "a\x00b"},
        {"cursor": "garbage"},
        {"currency": "12"},
        {"q": "x" * 500, "tag": "y" * 500, "limit": "100000"},
    ):
        response = await client.get("/", params=params)
        assert response.status_code in (200, 400, 422), params
        assert response.headers["content-type"].startswith("text/html")


async def test_course_page_and_enrolling_come_back_after_login(client, login_as: LoginAs):
    course = await make_course(client, await login_as("instructor"))
    here = f"/courses/{course['slug']}"
    page = assert_page(await client.get(here))
    assert course["title"] in page and "19.99 USD" in page and "Outline" in page
    instructor = course["instructor"]["display_name"]
    assert f"Instructor: {instructor}" in page and "Enrol for 19.99 USD" in page
    anonymous = await client.post(f"{here}/enrol", data={"csrf_token": csrf_of(page)})
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=%2Fcourses%2F{course['slug']}"
    student = await login_as()
    back = await web_login(client, student.email, next=here)
    assert back.headers["location"] == here
    token = await token_for(client, here)
    enrolled = await client.post(f"{here}/enrol", data={"csrf_token": token})
    assert enrolled.status_code == 303 and enrolled.headers["location"] == f"{here}?enrolled=1"
    assert "You are enrolled" in assert_page(await client.get(enrolled.headers["location"]))
    mine = await client.get("/api/v1/users/me/enrollments", headers=student.headers)
    assert [e["course_id"] for e in mine.json()["items"]] == [course["id"]]
    twice = await client.post(f"{here}/enrol", data={"csrf_token": await token_for(client, here)})
    assert "Already enrolled in this course." in assert_page(twice, 409)
    assert (await client.get("/courses/no-such-course")).status_code == 404


async def test_an_address_no_route_serves_is_a_page_for_a_browser(client):
    """A mistyped link or an old bookmark shows a page; the API's paths and clients that do
    not ask for HTML keep the problem response."""
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = await client.get("/no-such-page", headers=browser)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "There is no page at this address." in page.text
    assert 'href="/"' in page.text
    for path, headers in (("/no-such-page", {}), ("/api/v1/no-such-thing", browser)):
        problem = await client.get(path, headers=headers)
        assert problem.status_code == 404, path
        assert problem.headers["content-type"] == "application/problem+json", path


async def test_a_logged_in_browser_keeps_its_navigation_on_the_missing_page(
    client, login_as: LoginAs, monkeypatch: pytest.MonkeyPatch
):
    browser = {"Accept": "text/html"}
    logged_out = assert_page(await client.get("/no-such-page", headers=browser), 404)
    assert 'href="/login"' in logged_out and "Log out" not in logged_out
    admin, student = await login_as("admin"), await login_as()
    await logged_in(client, student)
    page = assert_page(await client.get("/no-such-page", headers=browser), 404)
    assert "There is no page at this address." in page
    assert "Log out" in page and 'href="/login"' not in page
    # A session that ended since: the page shows the logged-out navigation, never an error.
    suspended = await client.patch(
        f"/api/v1/users/{student.id}", headers=admin.headers, json={"status": "suspended"}
    )
    assert suspended.status_code == 200, suspended.text
    ended = await client.get("/no-such-page", headers=browser)
    assert 'href="/login"' in assert_page(ended, 404) and "Log out" not in ended.text
    assert "max-age=0" in cookie_header(ended, security.SESSION_COOKIE).lower()


async def test_the_missing_page_is_answered_when_its_caller_cannot_be_read(
    client, login_as: LoginAs, monkeypatch: pytest.MonkeyPatch
):
    await logged_in(client, await login_as())

    def unavailable(_request: Any) -> Any:
        raise ConnectionRefusedError("the database is down")

    monkeypatch.setattr(web_errors, "read_unit_of_work", unavailable)
    page = await client.get("/no-such-page", headers={"Accept": "text/html"})
    assert "There is no page at this address." in assert_page(page, 404)
    assert 'href="/login"' in page.text and "Log out" not in page.text


async def test_behind_a_root_path_the_apis_paths_keep_the_problem(app: FastAPI):
    browser = {"Accept": "text/html"}
    transport = httpx.ASGITransport(app=app, root_path="/lh")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        problem = await client.get("/lh/api/v1/no-such-thing", headers=browser)
        page = await client.get("/lh/no-such-page", headers=browser)
    assert problem.headers["content-type"] == "application/problem+json"
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("error", "status", "heading", "said"),
    [
        (RuntimeError("a bug under the catalog"), 500, "Something went wrong", "An unexpected"),
        (ConnectionRefusedError(111, "refused"), 503, "Temporarily unavailable", "The database"),
        (PoolTimeout("no connection within 30 s"), 503, "Temporarily unavailable", "overloaded"),
    ],
)
async def test_what_the_service_could_not_do_is_a_page_for_a_browser(
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
    heading: str,
    said: str,
) -> None:
    """An unexpected error, or the database out of reach, under a page: a page with the
    status, what happened, and the request id to quote; the API keeps its problem."""

    async def broken(*_: Any, **__: Any) -> Any:
        raise error

    monkeypatch.setattr(CatalogService, "catalog", broken)
    # Raised out of the app, the error would fail the request here (httpx re-raises it).
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        page = await client.get("/", headers={"Accept": "text/html"})
        problem = await client.get("/api/v1/courses", headers={"Accept": "text/html"})
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in page.text
    assert said in page.text
    assert page.headers["x-request-id"] in page.text, "the reference to quote"
    assert ("retry-after" in page.headers) == (status == 503)
    assert problem.status_code == status
    assert problem.headers["content-type"] == "application/problem+json"
    assert ("retry-after" in problem.headers) == (status == 503)


async def test_a_rule_only_the_database_noticed_shows_the_form_again(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A duplicate no service caught (two sign-ups racing) is the form again with what went
    wrong and what was typed, not an error page."""

    async def racing(*_: Any, **__: Any) -> Any:
        orig = sqlite3.IntegrityError("UNIQUE constraint failed: users.email")
        raise IntegrityError("INSERT INTO users ...", {}, orig)

    monkeypatch.setattr(UserService, "register", racing)
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    form = {
        "csrf_token": await token_for(client, "/register"),
        "email": email,
        "password": PASSWORD,
        "display_name": "Racer",
    }
    text = assert_page(await client.post("/register", data=form), 409)
    assert 'role="alert"' in text and email in text
    assert 'name="display_name"' in text, "the form, shown again"

    # The form itself failing to show: the API's answer, the same 409, not a second error.
    def no_page(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the form's template is broken")

    monkeypatch.setattr(web_errors, "render", no_page)
    form["csrf_token"] = await token_for(client, "/register")
    answer = await client.post("/register", data=form)
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_an_error_page_that_fails_itself_leaves_the_apis_answer(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug under the catalog")

    def no_page(*_: Any) -> Any:
        raise RuntimeError("the error page's template is broken")

    monkeypatch.setattr(CatalogService, "catalog", broken)
    monkeypatch.setattr(web_errors, "_failure_page", no_page)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        answer = await client.get("/", headers={"Accept": "text/html"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"]
