"""The instructor's studio (issue 17, items 1 and 2) in headless Chromium against a real
`learnhub serve --demo`: an instructor builds a course from nothing (a section, a video by
URL, a quiz with a question), publishes it, and a learner in another browser finds it in the
catalog and enrols; the course's owner and an admin edit its title at once and the second
to save sees the conflict with both values; every studio page passes axe-core and fits a
phone; a student is refused the studio with a 403 page."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, Route, expect

from tests.browser.conftest import LOOPBACK, LiveServer
from tests.browser.test_web_app import PHONE, log_in, serious_violations

DEMO_PASSWORD = "learnhub-demo"
INSTRUCTOR = "demo-instructor@example.com"
ADMIN = "demo-admin@example.com"
STUDENT = "demo-student@example.com"


@pytest.fixture
async def contexts(
    browser: Browser, live_server: LiveServer
) -> AsyncIterator[list[BrowserContext]]:
    """Fresh browser contexts (separate cookie jars: separate people), closed at the end."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        await context.close()


async def person(
    browser: Browser, live_server: LiveServer, opened: list[BrowserContext], email: str
) -> Page:
    """A new browser context logged in as `email`, its requests kept on loopback."""
    context = await browser.new_context(base_url=live_server.base_url)
    opened.append(context)

    async def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOOPBACK:
            await route.continue_()
        else:
            await route.abort("internetdisconnected")

    await context.route("**/*", only_loopback)
    page = await context.new_page()
    await page.goto("/login")
    await log_in(page, email, DEMO_PASSWORD)
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def nav_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


async def new_course(page: Page, title: str) -> None:
    await page.goto("/")
    await nav_link(page, "Studio").click()
    await expect(page.get_by_role("heading", name="Studio", exact=True)).to_be_visible()
    await page.get_by_role("link", name="New course").click()
    await page.get_by_label("Title", exact=True).fill(title)
    await page.get_by_label("Description").fill("Made in the studio by a browser test.")
    await page.get_by_label("Price", exact=True).fill("0")
    await page.get_by_label("Tags").fill("studio, testing")
    await page.get_by_label("What learners will learn").fill("Build a course\nPublish it")
    await page.get_by_role("button", name="Create course").click()
    await expect(page.get_by_role("status")).to_contain_text("Course created")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)


async def test_an_instructor_builds_and_publishes_a_course_a_learner_enrols(
    browser: Browser, live_server: LiveServer, contexts: list[BrowserContext]
) -> None:
    title = f"Studio course {uuid.uuid4().hex[:8]}"
    page = await person(browser, live_server, contexts, INSTRUCTOR)
    await new_course(page, title)
    course_url = page.url.split("?")[0]

    await page.get_by_label("New section title").fill("Getting started")
    await page.get_by_role("button", name="Add section").click()
    await expect(page.get_by_label("Section 1 title")).to_have_value("Getting started")

    await page.get_by_text("Add a video to “Getting started”").click()
    await page.get_by_label("Video title").fill("Welcome")
    await page.get_by_label("Video URL").fill(f"{live_server.base_url}/static/welcome.mp4")
    await page.get_by_label("Duration (seconds)").fill("75")
    await page.get_by_label("Free preview (anyone may watch it)").check()
    await page.get_by_role("button", name="Add video").click()
    await expect(page.locator(".studio-items").first).to_contain_text("Welcome")
    await expect(page.locator(".checklist")).to_contain_text("At least one video")

    await page.get_by_role("link", name="Add a quiz to “Getting started”").click()
    await page.get_by_label("Quiz title").fill("First check")
    await page.get_by_label("Question text").fill("What does publishing do?")
    await page.get_by_label("Question type").select_option("single_choice")
    await page.get_by_label("Option 1", exact=True).fill("Lists the course in the catalog")
    await page.get_by_label("Option 1 is correct").check()
    await page.get_by_label("Option 2", exact=True).fill("Deletes it")
    await page.get_by_label("Explanation").fill("A published course is in the catalog.")
    await page.get_by_role("button", name="Save quiz").click()
    await expect(page).to_have_url(re.compile(re.escape(course_url) + r"\?notice=saved.*"))
    await expect(page.get_by_text("First check")).to_be_visible()
    await expect(page.get_by_text("1 question, pass mark 70%")).to_be_visible()

    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_role("status")).to_contain_text("Published")
    await expect(page.get_by_role("button", name="Archive")).to_be_visible()

    learner = await person(browser, live_server, contexts, STUDENT)
    await learner.get_by_role("searchbox", name="Search").fill(title)
    await learner.get_by_role("searchbox", name="Search").press("Enter")
    await learner.get_by_role("link", name=title, exact=True).click()
    await expect(learner.get_by_role("heading", level=1)).to_have_text(title)
    await expect(learner.get_by_text("Quiz: First check")).to_be_visible()
    await learner.get_by_role("button", name="Enrol").click()
    await expect(learner.get_by_role("status")).to_contain_text("You are enrolled")


async def test_owner_and_admin_edit_at_once_and_the_second_sees_the_conflict(
    browser: Browser, live_server: LiveServer, contexts: list[BrowserContext]
) -> None:
    title = f"Shared course {uuid.uuid4().hex[:8]}"
    owner = await person(browser, live_server, contexts, INSTRUCTOR)
    await new_course(owner, title)
    course_url = owner.url.split("?")[0]
    admin = await person(browser, live_server, contexts, ADMIN)
    await admin.goto(course_url)
    await owner.reload()

    # Both have the form open with the same version; the owner saves first.
    await owner.get_by_label("Title", exact=True).fill(f"{title} (owner)")
    await admin.get_by_label("Title", exact=True).fill(f"{title} (admin)")
    await owner.get_by_role("button", name="Save course").click()
    await expect(owner.get_by_role("status")).to_have_text("Saved.")
    await admin.get_by_role("button", name="Save course").click()

    await expect(admin.get_by_role("heading", name="Someone else saved first")).to_be_visible()
    title_row = admin.get_by_role("row", name=re.compile(r"^Title"))
    await expect(title_row.locator("td.theirs")).to_have_text(f"{title} (owner)")
    await expect(title_row.locator("td.mine")).to_have_text(f"{title} (admin)")
    assert await serious_violations(admin) == []
    reload = admin.get_by_role("link", name="Reload their version")
    await expect(reload).to_have_attribute("href", course_url.removeprefix(live_server.base_url))

    # Nothing was overwritten: the owner still sees their title.
    await owner.reload()
    await expect(owner.get_by_label("Title", exact=True)).to_have_value(f"{title} (owner)")
    await admin.get_by_role("button", name="Apply mine over theirs").click()
    await expect(admin.get_by_role("status")).to_have_text("Saved.")
    await owner.reload()
    await expect(owner.get_by_role("heading", level=1)).to_have_text(f"{title} (admin)")


async def test_every_studio_page_passes_axe_and_fits_a_phone(
    browser: Browser, live_server: LiveServer, contexts: list[BrowserContext]
) -> None:
    page = await person(browser, live_server, contexts, INSTRUCTOR)
    await page.set_viewport_size(PHONE)
    found: list[str] = []

    async def check() -> None:
        found.extend(await serious_violations(page))
        fits = await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert fits, page.url

    await page.goto("/studio")
    await check()
    await page.goto("/studio/new")
    await check()
    await page.get_by_role("button", name="Create course").click()  # browser validation
    await page.get_by_label("Title", exact=True).fill("Axe course")
    await page.get_by_label("Price", exact=True).fill("free")
    await page.get_by_role("button", name="Create course").click()
    await expect(page.locator(".field-error")).to_contain_text("Price")
    await check()  # the form with its errors
    await new_course(page, f"Axe course {uuid.uuid4().hex[:6]}")
    await page.get_by_label("New section title").fill("Part one")
    await page.get_by_role("button", name="Add section").click()
    await page.get_by_text("Add a video to “Part one”").click()
    await page.get_by_label("Video title").fill("Clip")
    await page.get_by_label("Video URL").fill(f"{live_server.base_url}/static/clip.mp4")
    await page.get_by_label("Duration (seconds)").fill("30")
    await page.get_by_role("button", name="Add video").click()
    await check()  # the course page with a section and a video
    await page.get_by_role("link", name="Edit video Clip").click()
    await check()
    await page.go_back()
    await page.get_by_role("link", name="Add a quiz to “Part one”").click()
    await check()
    await page.get_by_role("button", name="Save quiz").click()  # browser validation
    await page.get_by_label("Quiz title").fill("Check")
    await page.get_by_label("Question text").fill("Pick one")
    await page.get_by_label("Option 1", exact=True).fill("A")
    await page.get_by_label("Option 2", exact=True).fill("B")
    await page.get_by_role("button", name="Save quiz").click()  # no correct option
    await expect(page.get_by_role("alert")).to_contain_text("exactly one correct")
    await check()
    assert found == []

    student = await person(browser, live_server, contexts, STUDENT)
    await expect(nav_link(student, "Studio")).to_have_count(0)
    response = await student.goto("/studio")
    assert response is not None and response.status == 403
    await expect(student.get_by_role("heading", level=1)).to_have_text(
        "The studio is for instructors"
    )
    assert await serious_violations(student) == []


async def test_reordering_works_without_script(
    browser: Browser, live_server: LiveServer, contexts: list[BrowserContext]
) -> None:
    page = await person(browser, live_server, contexts, INSTRUCTOR)
    await new_course(page, f"Order course {uuid.uuid4().hex[:6]}")
    for name in ("Alpha", "Beta"):
        await page.get_by_label("New section title").fill(name)
        await page.get_by_role("button", name="Add section").click()
    await page.get_by_role("button", name="Move section Beta up").click()
    await expect(page.get_by_label("Section 1 title")).to_have_value("Beta")
    await expect(page.get_by_label("Section 2 title")).to_have_value("Alpha")
    await expect(page.get_by_role("button", name="Move section Beta up")).to_be_disabled()
