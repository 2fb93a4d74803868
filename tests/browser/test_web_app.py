"""The web app for learners (issue 16) in headless Chromium against a real `learnhub serve
--demo`: a learner registers, logs in, finds a demo course, enrols and logs out; a wrong
password is a message; a form without its CSRF token is refused; every page passes axe-core
with no serious or critical violation; the pages fit a phone and the CSP blocks nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import ConsoleMessage, Page, expect

from tests.browser.conftest import LoopbackPage

PASSWORD = "correct horse battery"
DEMO_COURSE = "Python Fundamentals"
DEMO_SLUG = "python-fundamentals"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
async def web(page: LoopbackPage) -> AsyncIterator[LoopbackPage]:
    """The page, with every console message about the Content-Security-Policy recorded in
    `errors`: the app's own pages must need no exception to it."""

    def on_console(message: ConsoleMessage) -> None:
        # Not "error" in general: a page answered 401 or 404 on purpose logs one too.
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            page.errors.append(message.text)

    page.page.on("console", on_console)
    yield page
    assert page.outside == [], page.outside
    assert page.errors == [], page.errors


async def register(page: Page, email: str) -> None:
    await page.goto("/register")
    await page.get_by_label("Name").fill("Web Learner")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page).to_have_url(re.compile(r".*/login\?registered=1$"))


async def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


def new_email() -> str:
    return f"learner-{uuid.uuid4().hex[:10]}@example.com"


async def test_register_log_in_search_enrol_and_log_out(web: LoopbackPage) -> None:
    page = web.page
    email = new_email()
    await register(page, email)
    await expect(page.get_by_role("status")).to_contain_text("Your account is ready")
    await log_in(page, email)
    await expect(page.get_by_role("heading", name="Course catalog")).to_be_visible()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()

    await page.get_by_role("searchbox", name="Search").fill("python fundamentals")
    await page.get_by_role("searchbox", name="Search").press("Enter")
    card = page.get_by_role("link", name=DEMO_COURSE, exact=True)
    await expect(card).to_be_visible()
    await card.click()
    await expect(page).to_have_url(re.compile(f".*/courses/{DEMO_SLUG}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_COURSE)
    await expect(page.get_by_role("heading", name="Outline")).to_be_visible()

    await page.get_by_role("button", name="Enrol").click()
    await expect(page.get_by_role("status")).to_contain_text("You are enrolled")

    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("link", name="Log in")).to_be_visible()
    # The ended session's cookie is gone: the course page offers to enrol again.
    await page.goto(f"/courses/{DEMO_SLUG}")
    await expect(page.get_by_role("button", name="Enrol")).to_be_visible()


async def test_logged_out_enrol_goes_to_log_in_and_comes_back(web: LoopbackPage) -> None:
    page = web.page
    email = new_email()
    await register(page, email)
    await page.goto(f"/courses/{DEMO_SLUG}")
    await page.get_by_role("button", name="Enrol").click()
    await expect(page).to_have_url(re.compile(r".*/login\?next=.*"))
    await log_in(page, email)
    await expect(page).to_have_url(re.compile(f".*/courses/{DEMO_SLUG}$"))
    await page.get_by_role("button", name="Enrol").click()
    await expect(page.get_by_role("status")).to_contain_text("You are enrolled")


async def test_a_wrong_password_shows_an_error(web: LoopbackPage) -> None:
    page = web.page
    await page.goto("/login")
    await log_in(page, "demo-student@example.com", "not the password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    await expect(page.get_by_label("E-mail")).to_have_value("demo-student@example.com")


async def test_a_post_without_the_csrf_token_is_refused(web: LoopbackPage) -> None:
    page = web.page
    await page.goto("/login")  # the browser now holds its CSRF cookie
    status = await page.evaluate(
        """async () => {
            const body = new URLSearchParams({email: "demo-student@example.com",
                                              password: "learnhub-demo"});
            const response = await fetch("/login", {method: "POST", body, redirect: "manual"});
            return response.status;
        }"""
    )
    assert status == 403
    refused = await page.request.post("/logout", form={"csrf_token": "0" * 64})
    assert refused.status == 403
    assert "did not come from this site" in await refused.text()


async def test_load_more_appends_the_next_catalog_page(web: LoopbackPage) -> None:
    page = web.page
    await page.goto("/?limit=2")
    cards = page.locator("#course-cards > li")
    await expect(cards).to_have_count(2)
    await page.get_by_role("link", name="Load more courses").click()
    await expect(cards).to_have_count(4)
    await expect(page).to_have_url(re.compile(r".*/\?limit=2$"))  # appended in place


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"  # it ran, on this page
    assert results.response["url"] == page.url
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


async def test_every_page_passes_axe_and_fits_a_phone(web: LoopbackPage) -> None:
    page = web.page
    await page.set_viewport_size(PHONE)
    found: list[str] = []
    anonymous = ["/", "/?q=python", f"/courses/{DEMO_SLUG}", "/login", "/register", "/courses/x"]
    for path in anonymous:
        await page.goto(path)
        found += await serious_violations(page)
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth"), path
    await page.goto("/login")
    await log_in(page, "demo-student@example.com", "wrong password")
    found += await serious_violations(page)  # the form with its error
    await page.goto("/register")
    await page.get_by_role("button", name="Create account").click()  # browser validation
    await page.goto("/login")
    await log_in(page, "demo-student@example.com", "learnhub-demo")
    for path in ("/", f"/courses/{DEMO_SLUG}"):
        await page.goto(path)
        found += await serious_violations(page)
    assert found == []


async def test_the_keyboard_reaches_the_skip_link_and_the_search(web: LoopbackPage) -> None:
    page = web.page
    await page.goto("/")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    await page.keyboard.press("Enter")
    await page.get_by_role("searchbox", name="Search").focus()
    await page.keyboard.type("python")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name=DEMO_COURSE, exact=True)).to_be_visible()
