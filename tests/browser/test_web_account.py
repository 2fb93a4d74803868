"""The account pages and the tutor chat (issue 16) in headless Chromium against a real
`learnhub serve --demo`: a learner changes their password and logs in with the new one,
resets a forgotten one through the link of the mail (the log transport's `mail_logged`
line, as the API's tests read mails), downloads their data as JSON, and asks the tutor, whose
answer arrives in place with citation links to the player at the cited second (and without
JavaScript, by the plain form). Each page passes axe-core and fits a phone.

This module runs its own server: its log level is `info`, so the reset mail is in its log,
and the reset link points at it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import LOOPBACK, SHUTDOWN_TIMEOUT, LiveServer, LoopbackPage
from tests.browser.conftest import wait_until_healthy as wait_for_server
from tests.browser.test_web_app import (
    DEMO_SLUG,
    PASSWORD,
    PHONE,
    log_in,
    new_email,
    register,
    serious_violations,
)
from tests.support.live_server import free_port

NEW_PASSWORD = "a brand new passphrase"
CITATION = re.compile(rf"^/learn/{DEMO_SLUG}/videos/[0-9a-f-]{{36}}\?t=\d+$")
QUESTION = "What does the type function return?"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`learnhub serve --demo` as the shared one is, but logging at info (the mails). The
    reset link is not configured: it must point at the port `serve --port` was given."""
    workdir = tmp_path_factory.mktemp("account-server")
    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    log = workdir / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNHUB_")}
    env.update(
        LEARNHUB_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'browser.db'}",
        LEARNHUB_JWT_SECRET="browser-test-signing-secret-" + "c" * 32,
        LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS="0",
        LEARNHUB_LOG_LEVEL="info",
        LEARNHUB_PASSWORD_RESET_MIN_RESPONSE_MS="0",
    )
    command = [sys.executable, "-m", "learnhub.cli", "serve", "--demo"]
    command += ["--host", LOOPBACK, "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    # SQLite only: the mails are read from this server's own log (the shared servers log at
    # warning); the account and tutor services are tested on both databases in tests/web.
    server = LiveServer(base_url, process, log, "sqlite", env["LEARNHUB_DATABASE_URL"])
    try:
        wait_for_server(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SHUTDOWN_TIMEOUT)


@pytest.fixture
async def web(page: LoopbackPage) -> AsyncIterator[LoopbackPage]:
    page.page.on(
        "console",
        lambda m: page.errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield page
    assert page.outside == [], page.outside
    assert page.errors == [], page.errors


def mails_to(log: Path, email: str) -> list[dict]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if '"mail_logged"' not in line:
            continue
        entry = json.loads(line)
        if entry.get("event") == "mail_logged" and entry.get("mail_to") == email:
            found.append(entry)
    return found


def reset_link(server: LiveServer, email: str) -> str:
    """The link of the latest reset mail to `email` (the handler may finish just after the
    page has answered)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mails = mails_to(server.log, email)
        if mails:
            match = re.search(r"(http://\S+/password-reset/confirm\?token=\S+)", mails[-1]["body"])
            assert match, mails[-1]["body"]
            return match.group(1)
        time.sleep(0.1)
    pytest.fail(f"no reset mail to {email} in the log:\n{server.log_tail()}")


async def new_learner(page: Page) -> str:
    email = new_email()
    await register(page, email)
    await log_in(page, email)
    await expect(page.get_by_role("link", name="Account")).to_be_visible()
    return email


async def check_page(page: Page, found: list[str]) -> None:
    found += await serious_violations(page)
    fits = await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert fits, page.url


async def test_change_the_password_and_log_in_with_the_new_one(web: LoopbackPage) -> None:
    page = web.page
    email = await new_learner(page)
    await page.get_by_role("link", name="Account").click()
    await expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    await page.get_by_label("Current password").fill("not my password")
    await page.get_by_label("New password (at least").fill(NEW_PASSWORD)
    await page.get_by_label("New password, again").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("alert")).to_have_text("The current password is wrong.")

    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password (at least").fill(NEW_PASSWORD)
    await page.get_by_label("New password, again").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("status")).to_contain_text("Your password is changed.")

    await page.get_by_role("button", name="Log out").click()
    await page.goto("/login")
    await log_in(page, email, PASSWORD)
    await expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    await log_in(page, email, NEW_PASSWORD)
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def test_reset_a_forgotten_password_by_the_mailed_link(
    web: LoopbackPage, live_server: LiveServer
) -> None:
    page = web.page
    email = new_email()
    await register(page, email)
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_role("status")).to_contain_text("If an account has that e-mail")

    link = reset_link(live_server, email)
    assert link.startswith(f"{live_server.base_url}/password-reset/confirm?token=")
    await page.goto(link)
    await page.get_by_label("New password (at least").fill(NEW_PASSWORD)
    await page.get_by_label("New password, again").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Set new password").click()
    await expect(page).to_have_url(re.compile(r".*/login\?reset=1$"))
    await expect(page.get_by_role("status")).to_contain_text("Log in with the new one")
    await log_in(page, email, NEW_PASSWORD)
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # The link works once.
    await page.goto(link)
    await page.get_by_label("New password (at least").fill("yet another passphrase")
    await page.get_by_label("New password, again").fill("yet another passphrase")
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "The reset token is invalid or has expired."
    )
    await expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()


async def test_the_export_downloads_json(web: LoopbackPage) -> None:
    page = web.page
    email = await new_learner(page)
    await page.goto("/account")
    async with page.expect_download() as started:
        await page.get_by_role("link", name="Download my data").click()
    download = await started.value
    assert re.fullmatch(r"learnhub-export-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    saved = await download.path()
    document = json.loads(await asyncio.to_thread(Path(saved).read_text))
    assert document["user"]["email"] == email
    assert {"sessions", "enrollments", "tutor_conversations"} <= set(document)


async def enrol_and_open_the_tutor(page: Page) -> None:
    await page.goto(f"/courses/{DEMO_SLUG}")
    await page.get_by_role("button", name="Enrol").click()
    await expect(page.get_by_role("status")).to_contain_text("You are enrolled")
    await page.get_by_role("link", name="Ask the AI tutor about this course").click()
    await expect(page.get_by_role("heading", name="Ask the tutor")).to_be_visible()


async def citation_hrefs(page: Page) -> list[str]:
    links = page.locator(".message-tutor .citations a")
    await expect(links.first).to_be_visible()
    return [str(await link.get_attribute("href")) for link in await links.all()]


async def test_ask_the_tutor_and_see_cited_answers(web: LoopbackPage) -> None:
    page = web.page
    await new_learner(page)
    await enrol_and_open_the_tutor(page)
    await expect(page.get_by_text("No questions yet")).to_be_visible()
    address = page.url
    await page.evaluate("window.sameDocument = true")
    await page.get_by_label("Your question").fill(QUESTION)
    await page.get_by_role("button", name="Ask the tutor").click()
    answer = page.locator(".message-tutor").last
    await expect(answer).to_contain_text("type(")
    hrefs = await citation_hrefs(page)
    assert hrefs and all(CITATION.fullmatch(h) for h in hrefs), hrefs
    # Appended in place: the address names the new conversation, no page load happened.
    await expect(page).to_have_url(re.compile(r".*/tutor\?conversation=[0-9a-f-]{36}$"))
    assert await page.evaluate("window.sameDocument === true")
    assert address != page.url
    await expect(page.get_by_label("Your question")).to_be_focused()
    await expect(page.get_by_label("Your question")).to_have_value("")

    await page.get_by_label("Your question").fill("What is an f-string?")
    await page.get_by_label("Your question").press("Tab")
    await page.keyboard.press("Enter")  # the button, by keyboard
    await expect(page.locator(".message-mine")).to_have_count(2)
    await expect(page.locator(".message-tutor")).to_have_count(2)
    # The conversation is stored: a reload shows it, with the same links.
    await page.reload()
    await expect(page.locator(".message")).to_have_count(4)
    assert all(CITATION.fullmatch(h) for h in await citation_hrefs(page))


async def test_the_tutor_works_without_javascript(
    browser: Browser, live_server: LiveServer
) -> None:
    context = await browser.new_context(base_url=live_server.base_url, java_script_enabled=False)
    try:
        page = await context.new_page()
        await new_learner(page)
        await enrol_and_open_the_tutor(page)
        await page.get_by_label("Your question").fill(QUESTION)
        await page.get_by_role("button", name="Ask the tutor").click()
        await expect(page).to_have_url(re.compile(r".*/tutor\?conversation=[0-9a-f-]{36}#latest$"))
        await expect(page.locator(".message-tutor")).to_contain_text("type(")
        hrefs = await citation_hrefs(page)
        assert hrefs and all(CITATION.fullmatch(h) for h in hrefs), hrefs
    finally:
        await context.close()


async def test_the_account_and_tutor_pages_pass_axe_and_fit_a_phone(
    web: LoopbackPage, live_server: LiveServer
) -> None:
    page = web.page
    await page.set_viewport_size(PHONE)
    found: list[str] = []
    email = new_email()
    await register(page, email)
    for path in ("/password-reset", "/password-reset/confirm"):
        await page.goto(path)
        await check_page(page, found)
    await page.get_by_role("link", name="Ask for a new link").click()
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_role("button", name="Send me a link").click()
    await check_page(page, found)  # the answer
    await page.goto(reset_link(live_server, email))
    await check_page(page, found)  # the new password form
    await page.get_by_label("New password (at least").fill("mismatch one")
    await page.get_by_label("New password, again").fill("mismatch two")
    await page.get_by_role("button", name="Set new password").click()
    await check_page(page, found)  # with its error

    await page.goto("/login")
    await log_in(page, email)
    await page.goto("/account")
    await check_page(page, found)
    await page.get_by_label("Display name").fill(" ")
    await page.get_by_role("button", name="Save name").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await check_page(page, found)  # with its error

    await enrol_and_open_the_tutor(page)
    await check_page(page, found)
    await page.get_by_label("Your question").fill(QUESTION)
    await page.get_by_role("button", name="Ask the tutor").click()
    await expect(page.locator(".message-tutor")).to_have_count(1)
    await check_page(page, found)  # with a conversation
    await page.set_viewport_size({"width": 1280, "height": 800})
    await check_page(page, found)
    assert found == []
