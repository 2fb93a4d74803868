"""Quizzes and reviews (issue 16) in headless Chromium against a real `learnhub serve --demo`:
a new learner enrols in a demo course, opens its quiz from the outline, starts an attempt
(the timed quiz counts down), answers (saved as they go: a reload keeps them), submits,
passes and reads the review; then reviews the course and sees the review listed. Each page
passes axe-core and fits a phone."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import LoopbackPage
from tests.browser.test_web_app import (
    DEMO_SLUG,
    PHONE,
    log_in,
    new_email,
    register,
    serious_violations,
    web,
)

__all__ = ["web"]  # the fixture, with its CSP and loopback checks

QUIZ = "Python Fundamentals Quiz"
# The demo quiz's questions and their right answers (ops/demo_catalog.json).
SQUARES = "What does [n * n for n in range(4)] evaluate to?"
FALSY = "Which of these values are falsy in Python?"
MUTABLE = "Strings are mutable, so s.upper() changes s in place."
KEYWORD = "Which keyword starts a function definition in Python?"
RETURNS = "What does a function return if it ends without a return statement?"


async def fits_a_phone(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= innerWidth"))


def choice(page: Page, question: str, option: str) -> Locator:
    return page.get_by_role("group", name=question).get_by_label(option, exact=True)


async def enrolled_learner(page: Page) -> str:
    email = new_email()
    await register(page, email)
    await log_in(page, email)
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    await page.goto(f"/courses/{DEMO_SLUG}")
    await page.get_by_role("button", name="Enrol").click()
    await expect(page.get_by_role("status")).to_contain_text("You are enrolled")
    return email


async def test_take_the_demo_quiz_pass_it_and_review_the_course(web: LoopbackPage) -> None:
    page = web.page
    await page.set_viewport_size(PHONE)
    await enrolled_learner(page)
    found: list[str] = []

    await page.get_by_role("link", name=f"Quiz: {QUIZ}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(QUIZ)
    await expect(page.locator("#attempts-used")).to_have_text("0 used of 3, 3 left")
    found += await serious_violations(page)
    assert await fits_a_phone(page)

    await page.get_by_role("button", name="Start attempt").click()
    await expect(page).to_have_url(re.compile(r".*/attempts/[0-9a-f-]{36}$"))
    attempt_url = page.url
    # The server's deadline counts down on the page.
    countdown = page.locator("#countdown .countdown-time")
    await expect(countdown).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))
    before = await countdown.text_content()
    await expect(countdown).not_to_have_text(before or "", timeout=3000)
    found += await serious_violations(page)
    assert await fits_a_phone(page)

    # Answers are saved as the learner goes: a reload shows them kept.
    await page.get_by_label(KEYWORD).fill("def")
    async with page.expect_response(lambda r: r.url.endswith("/answers")) as saved:
        await choice(page, SQUARES, "[0, 1, 4, 9]").check()
    assert (await saved.value).status == 200
    await expect(page.get_by_role("status")).to_have_text("All answers saved.")
    await page.reload()
    await expect(choice(page, SQUARES, "[0, 1, 4, 9]")).to_be_checked()
    await expect(page.get_by_label(KEYWORD)).to_have_value("def")

    for option in ("0", '"" (the empty string)', "None"):
        await choice(page, FALSY, option).check()
    await choice(page, MUTABLE, "False").check()
    await choice(page, RETURNS, "None").check()
    await page.get_by_role("button", name="Submit for grading").click()

    # The same address now shows the result and the answer review.
    await expect(page).to_have_url(attempt_url)
    await expect(page.locator("#result")).to_contain_text("Score: 100%")
    await expect(page.locator("#result")).to_contain_text("Passed")
    await expect(page.get_by_role("heading", name="Answer review")).to_be_visible()
    await expect(page.get_by_text("Correct answer").first).to_be_visible()
    found += await serious_violations(page)
    assert await fits_a_phone(page)

    await page.get_by_role("link", name="Back to the quiz").click()
    await expect(page.locator("#attempts-used")).to_have_text("1 used of 3, 2 left")

    # Review the course from its page.
    await page.goto(f"/courses/{DEMO_SLUG}")
    form = page.locator("#review-form")
    await form.get_by_label("4 stars").check()
    await form.get_by_label("Your review").fill("Short videos, and a fair quiz.")
    found += await serious_violations(page)
    await form.get_by_role("button", name="Post review").click()
    await expect(page.get_by_role("status")).to_contain_text("your review is saved")
    review = page.locator(".review", has_text="Short videos, and a fair quiz.")
    await expect(review.locator(".review-author")).to_have_text("Web Learner")
    await expect(page.locator("#review-form").get_by_label("4 stars")).to_be_checked()
    await expect(page.get_by_role("button", name="Update review")).to_be_visible()
    assert await fits_a_phone(page)
    assert found == []


async def test_a_review_without_a_rating_is_a_message(web: LoopbackPage) -> None:
    page = web.page
    await enrolled_learner(page)
    form = page.locator("#review-form")
    # The browser asks for a rating first; a request without one is a message all the same.
    await form.get_by_role("button", name="Post review").click()
    await expect(page).to_have_url(re.compile(rf".*/courses/{DEMO_SLUG}\?enrolled=1$"))
    assert await form.get_by_label("1 star", exact=True).evaluate("e => !e.validity.valid")
    token = await form.locator('input[name="csrf_token"]').input_value()
    response = await page.request.post(
        f"/courses/{DEMO_SLUG}/review", form={"csrf_token": token, "body": "No stars"}
    )
    assert response.status == 422
    assert "Choose a rating from 1 to 5 stars." in await response.text()


async def test_autosave_says_so_when_the_session_has_ended(web: LoopbackPage) -> None:
    page = web.page
    await enrolled_learner(page)
    await page.goto(f"/courses/{DEMO_SLUG}")
    await page.get_by_role("link", name=f"Quiz: {QUIZ}").click()
    await page.get_by_role("button", name="Start attempt").click()
    await expect(page.locator("#countdown")).to_be_visible()
    # The countdown is server-rendered; once it ticks, the page's script runs and listens
    # for changes (quiz.js attaches its listeners first). A change before that saves nothing:
    # the status stayed empty in a loaded full-suite run.
    countdown = page.locator("#countdown .countdown-time")
    await expect(countdown).not_to_have_text(await countdown.text_content() or "")
    # The session ends on the server (a revoked or forged secret: the same session id, so
    # the page's CSRF token still matches and the server's answer is the login redirect).
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "learnhub_session")
    forged = session["value"].partition(".")[0] + "." + "x" * 43
    await page.context.add_cookies([{**session, "value": forged}])  # type: ignore[typeddict-item]
    await choice(page, SQUARES, "[0, 1, 4, 9]").check()
    await expect(page.get_by_role("status")).to_contain_text("Your session has ended")
    # Without the cookie at all the token no longer matches: refused, and said alike.
    await page.context.clear_cookies(name="learnhub_session")
    await page.get_by_label(KEYWORD).fill("def")
    await page.get_by_label(KEYWORD).press("Tab")
    await expect(page.get_by_role("status")).to_contain_text("Your session has ended")
