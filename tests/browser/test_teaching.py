"""The studio's teaching pages (issue 17, item 3) in headless Chromium against a real
`learnhub serve --demo`: the demo instructor opens the learners of their demo course, grants
a learner an extra quiz attempt, hides a review and sees the course rating change at once
(then shows it again), and opens the statistics with their charts and tables; every one of
the three pages passes axe-core and fits a phone; a student gets a 403 page."""

from __future__ import annotations

import re

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_studio import INSTRUCTOR, STUDENT, contexts, nav_link, person
from tests.browser.test_web_app import PHONE, serious_violations

__all__ = ["contexts"]

COURSE = "Writing Clear Technical Documentation"  # the demo instructor's course with a quiz


async def fits_the_phone(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{page.url} scrolls sideways on a phone ({overflow}px)"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def open_course(page: Page) -> None:
    await page.goto("/")
    await nav_link(page, "Studio").click()
    await page.get_by_role("link", name=COURSE).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)


async def test_an_instructor_teaches_from_the_studio(
    browser: Browser, live_server: LiveServer, contexts: list[BrowserContext]
) -> None:
    page = await person(browser, live_server, contexts, INSTRUCTOR)
    await open_course(page)
    course_path = page.url.split(live_server.base_url)[1]

    # Learners: the roster with progress and quiz columns; a grant for the first learner.
    await (
        page.get_by_role("navigation", name="Teaching").get_by_role("link", name="Learners").click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Learners")
    table = page.get_by_role("table", name=f"Learners of {COURSE}")
    await expect(table).to_be_visible()
    first_row = table.locator("tbody tr").first
    learner = (await first_row.locator("th").first.inner_text()).splitlines()[0].strip()
    await expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", f"{course_path}/learners.csv"
    )
    assert await serious_violations(page) == []
    await fits_the_phone(page)
    await page.get_by_label(f"Extra attempts for {learner}", exact=True).fill("2")
    await page.get_by_role("button", name=f"Grant to {learner}", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("Extra attempts saved.")

    # Reviews: hiding one takes it out of the rating at once; showing it puts it back.
    await (
        page.get_by_role("navigation", name="Teaching").get_by_role("link", name="Reviews").click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reviews")
    assert await serious_violations(page) == []
    await fits_the_phone(page)
    rating = page.locator("#rating-value")
    count = page.locator("#rating-count")
    before_rating, before_count = await rating.inner_text(), int(await count.inner_text())
    assert before_count >= 1
    hide = page.get_by_role("button", name=re.compile(r"^Hide the review by ")).first
    reviewer = (await hide.get_attribute("aria-label") or "").removeprefix("Hide the review by ")
    await hide.click()
    await expect(page.get_by_role("status")).to_contain_text("Review hidden")
    await expect(count).to_have_text(str(before_count - 1))
    if before_count == 1:
        await expect(rating).to_have_text("Not rated yet")
    show = page.get_by_role("button", name=f"Show the review by {reviewer}", exact=True)
    await expect(show).to_be_visible()
    await show.click()
    await expect(page.get_by_role("status")).to_contain_text("Review shown again")
    await expect(count).to_have_text(str(before_count))
    await expect(rating).to_have_text(before_rating)

    # Statistics: the facts, two charts drawn by the server, and their tables.
    await (
        page.get_by_role("navigation", name="Teaching")
        .get_by_role("link", name="Statistics")
        .click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Statistics")
    await expect(page.locator("#stat-learners")).to_have_text(re.compile(r"^[1-9]\d*$"))
    await expect(page.get_by_role("img", name="Drop-off per video")).to_be_visible()
    await expect(page.get_by_role("img", name="Enrolments per week")).to_be_visible()
    await page.get_by_text("Drop-off per video as a table").click()
    await expect(page.get_by_role("table", name="Drop-off per video")).to_be_visible()
    assert await serious_violations(page) == []
    await fits_the_phone(page)

    student = await person(browser, live_server, contexts, STUDENT)
    for name in ("learners", "reviews", "stats"):
        response = await student.goto(f"{course_path}/{name}")
        assert response is not None and response.status == 403
