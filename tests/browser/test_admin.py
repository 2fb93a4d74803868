"""The admin console (issue 17, item 4) in headless Chromium against a real `learnhub serve
--demo`: an admin deletes a course with content, finds it under deleted rows, restores it
after a preview of its delete batch, and the audit trail shows the delete and the restore
with the same batch; an admin erases a learner and the audit view no longer shows their
personal data; a student and an instructor get the 403 page; every admin page passes axe-core
with no serious or critical violation and fits a phone."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.api.conftest import login
from tests.api.test_courses import add_quiz, add_section, add_video, create_course, publish
from tests.browser.conftest import LiveServer, LoopbackPage
from tests.browser.test_web_app import PHONE, log_in, serious_violations

DEMO_PASSWORD = "learnhub-demo"
ADMIN = "demo-admin@example.com"


@pytest.fixture
async def web(page: LoopbackPage) -> AsyncIterator[LoopbackPage]:
    yield page
    assert page.outside == [], page.outside
    assert page.errors == [], page.errors


@pytest.fixture
async def api(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as client:
        yield client


async def log_in_as(page: Page, email: str) -> None:
    await page.goto("/login")
    await log_in(page, email, DEMO_PASSWORD)
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def course_with_content(api: httpx.AsyncClient) -> tuple[dict, dict, dict, dict]:
    """A published course of the demo instructor: a section with a video and a quiz."""
    owner = await login(api, "demo-instructor@example.com", DEMO_PASSWORD)
    course = await create_course(api, owner, title=f"Admin journey {uuid.uuid4().hex[:8]}")
    section = await add_section(api, owner, course["id"])
    video = await add_video(api, owner, section["id"])
    quiz = await add_quiz(api, owner, section["id"])
    return await publish(api, owner, course["id"]), section, video, quiz


async def test_delete_a_course_find_it_restore_it_and_audit_both(
    web: LoopbackPage, api: httpx.AsyncClient
) -> None:
    page = web.page
    course, section, video, quiz = await course_with_content(api)
    await log_in_as(page, ADMIN)
    await page.goto(f"/courses/{course['slug']}")
    await page.get_by_role("link", name="Delete it (admin)").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(course["title"])
    await expect(page.locator("#delete-content")).to_contain_text("1 video, 1 quiz")
    await page.get_by_role("button", name="Delete course").click()

    await expect(page.get_by_role("status")).to_contain_text("Course deleted")
    row = page.locator("#deleted-courses tr", has_text=course["title"])
    await expect(row).to_be_visible()
    batch = (await row.locator("td.mono").inner_text()).strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", batch), batch
    await page.get_by_role("link", name=f"Preview restore of {course['title']}").click()
    await expect(page.locator("#batch-id")).to_have_text(batch)
    rows = page.locator("#batch-rows tbody tr")
    for title in (section["title"], video["title"], quiz["title"]):
        await expect(rows.filter(has_text=title)).to_have_count(1)
    await page.get_by_role("button", name="Restore course").click()

    await expect(page.get_by_role("status")).to_contain_text("Restored")
    entries = page.locator("#audit-entries > li")
    restore = entries.filter(has=page.locator(".audit-action", has_text=re.compile("^restore$")))
    delete = entries.filter(has=page.locator(".audit-action", has_text="soft delete"))
    await expect(restore).to_have_count(1)
    await expect(delete).to_have_count(1)
    # The same batch: the delete set it, the restore cleared it.
    for entry, before, after in ((delete, "", batch), (restore, batch, "")):
        cells = entry.locator("tr", has=page.locator("th", has_text="delete_batch_id"))
        await expect(cells.locator("td.before")).to_have_text(before)
        await expect(cells.locator("td.after")).to_have_text(after)
    # The course is back in the catalog with its content.
    await page.goto(f"/courses/{course['slug']}")
    await expect(page.get_by_text(video["title"])).to_be_visible()


async def test_erase_a_learner_and_the_audit_view_shows_none_of_their_data(
    web: LoopbackPage, api: httpx.AsyncClient
) -> None:
    page = web.page
    email = f"erase-me-{uuid.uuid4().hex[:8]}@example.com"
    name = f"Erin Erasable {uuid.uuid4().hex[:6]}"
    response = await api.post(
        "/api/v1/auth/register",
        json={"email": email, "password": "correct horse battery", "display_name": name},
    )
    assert response.status_code == 201, response.text
    await log_in_as(page, ADMIN)
    await page.goto("/admin/users")
    await page.get_by_label("Name or e-mail").fill(email)
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name=name).click()
    await page.get_by_role("link", name="This account's history").click()
    history = page.url
    await expect(page.locator("#audit-entries")).to_contain_text(email)

    await page.go_back()
    await page.get_by_role("link", name="Erase this account").click()
    await expect(page.locator("#erase-steps")).to_contain_text("cannot be restored")
    await page.get_by_label("Type the account's e-mail address to confirm").fill("wrong@x.org")
    await page.get_by_role("button", name="Erase for good").click()
    await expect(page.get_by_role("alert")).to_contain_text("Type the account's e-mail")
    await page.get_by_label("Type the account's e-mail address to confirm").fill(email)
    await page.get_by_role("button", name="Erase for good").click()
    await expect(page.get_by_role("status")).to_contain_text("erased")

    await page.goto(history)
    entries = page.locator("#audit-entries")
    await expect(entries).to_contain_text("[erased]")
    text = await page.locator("main").inner_text()
    assert email not in text and name not in text
    await page.goto("/admin/audit")
    text = await page.locator("main").inner_text()
    assert email not in text and name not in text


async def test_students_and_instructors_get_the_403_page(web: LoopbackPage) -> None:
    page = web.page
    for email in ("demo-student@example.com", "demo-instructor@example.com"):
        await log_in_as(page, email)
        await expect(page.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
        for path in ("/admin", "/admin/users", "/admin/audit", "/admin/deleted"):
            response = await page.goto(path)
            assert response is not None and response.status == 403, path
            await expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
            await expect(page.get_by_role("alert")).to_contain_text("Your account may not")
        await page.get_by_role("button", name="Log out").click()


async def test_every_admin_page_passes_axe_and_fits_a_phone(
    web: LoopbackPage, api: httpx.AsyncClient
) -> None:
    page = web.page
    course, *_ = await course_with_content(api)
    await page.set_viewport_size(PHONE)
    await log_in_as(page, ADMIN)
    await page.get_by_role("link", name="Admin", exact=True).click()
    await expect(page.get_by_role("heading", name="Admin console")).to_be_visible()
    found = await serious_violations(page)
    await page.goto("/admin/users?q=demo-student")
    student = page.get_by_role("link", name=re.compile("Demo Student", re.I))
    href = await student.first.get_attribute("href")
    assert href is not None
    paths = [
        "/admin/users",
        "/admin/users?status=bogus&q=nobody-here",
        href,
        f"{href}/erase",
        "/admin/audit",
        "/admin/audit?entity_id=not-an-id",
        f"/admin/courses/{course['id']}/delete",
    ]
    for path in paths:
        await page.goto(path)
        found += await serious_violations(page)
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth"), path
    await page.goto(f"/admin/courses/{course['id']}/delete")
    await page.get_by_role("button", name="Delete course").click()
    await expect(page.get_by_role("heading", name="Deleted rows")).to_be_visible()
    for path in ("/admin/deleted", f"/admin/courses/{course['id']}/restore"):
        await page.goto(path)
        found += await serious_violations(page)
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth"), path
    await page.get_by_role("button", name="Restore course").click()
    await expect(page.get_by_role("status")).to_contain_text("Restored")
    found += await serious_violations(page)
    assert found == []
