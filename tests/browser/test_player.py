"""The player (issue 16) in headless Chromium against a real `learnhub serve --demo`: a new
learner enrols, plays the demo's short video (a real WebM clip, served with Range requests)
until the SERVER marks it complete, leaves another video part-way and comes back to it at
its stored position; "My learning" and the player pass axe-core and fit a phone.

The test only starts and pauses playback (muted, as autoplay rules allow): the `played`
ranges are the element's own and the progress shown is the server's answer."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, expect

from tests.browser.conftest import LoopbackPage
from tests.browser.test_web_app import (
    DEMO_COURSE,
    DEMO_SLUG,
    PHONE,
    log_in,
    new_email,
    register,
    serious_violations,
    web,
)

__all__ = ["web"]
SHORT_VIDEO = "Recap: Python in Half a Minute"  # 24 s in the demo catalog
OTHER_VIDEO = "Conditionals and Loops"
PLAYER_URL = re.compile(rf".*/learn/{DEMO_SLUG}/videos/[0-9a-f-]{{36}}(\?t=\d+)?$")


async def enrolled_learner(page: Page) -> None:
    email = new_email()
    await register(page, email)
    await log_in(page, email)
    await page.goto(f"/courses/{DEMO_SLUG}")
    await page.get_by_role("button", name="Enrol").click()
    await expect(page.get_by_role("status")).to_contain_text("You are enrolled")


async def until(page: Page, condition: str, within: float = 15.0) -> None:
    """Wait until `condition` (an expression on the page) holds. Polled from here with
    `evaluate`: Playwright's `wait_for_function` evaluates its predicate by string inside the
    page, which the CSP (no 'unsafe-eval') rightly refuses."""
    deadline = asyncio.get_running_loop().time() + within
    while not await page.evaluate(f"() => Boolean({condition})"):
        assert asyncio.get_running_loop().time() < deadline, f"still not: {condition}"
        await asyncio.sleep(0.2)


async def play(page: Page) -> None:
    """Start the element playing, muted (headless Chromium plays muted media unprompted)."""
    await until(page, "document.getElementById('player').readyState >= 1")
    await page.evaluate(
        "() => { const v = document.getElementById('player'); v.muted = true; return v.play(); }"
    )


async def current_time(page: Page) -> float:
    return float(await page.evaluate("document.getElementById('player').currentTime"))


async def test_a_learner_plays_a_video_to_completion_and_resumes_another(
    web: LoopbackPage,
) -> None:
    page = web.page
    await enrolled_learner(page)

    await page.get_by_role("link", name="My learning").click()
    await expect(page.get_by_role("heading", name="My learning")).to_be_visible()
    await page.get_by_role("link", name=f"Resume {DEMO_COURSE}").click()
    await expect(page).to_have_url(PLAYER_URL)  # nothing watched yet: the first video

    # The short video, played in real time to its end: the server says "Completed".
    await page.get_by_role("link", name=SHORT_VIDEO).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(SHORT_VIDEO)
    state = page.locator("#video-state")
    await expect(state).to_have_text("0% watched")
    await play(page)
    await until(page, "document.getElementById('player').ended", within=60)
    await expect(state).to_have_text("Completed", timeout=15_000)
    await expect(page.locator("#course-state")).not_to_have_text("Course 0% complete")
    # Stored on the server: a fresh page says so too.
    await page.reload()
    await expect(page.locator("#video-state")).to_have_text("Completed")
    short_row = page.locator("[data-outline-video]").filter(has_text=SHORT_VIDEO)
    await expect(short_row.locator(".item-state")).to_have_text("Completed")

    # Another video, from a cited point, played a little and paused: its position is stored.
    other = page.get_by_role("link", name=OTHER_VIDEO)
    other_url = await other.get_attribute("href")
    assert other_url
    await page.goto(other_url + "?t=40")
    await until(page, "document.getElementById('player').currentTime >= 39")
    await play(page)
    await until(page, "document.getElementById('player').currentTime >= 43")
    await page.evaluate("document.getElementById('player').pause()")
    paused_at = await current_time(page)
    await expect(page.locator("#sync-state")).to_have_text("Progress saved.")

    # Back later, without a position in the URL: the player starts where it was left.
    await page.goto("/learning")
    await page.get_by_role("link", name=f"Resume {DEMO_COURSE}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(OTHER_VIDEO)
    await page.goto(other_url)
    await until(page, "document.getElementById('player').currentTime > 0")
    assert abs(await current_time(page) - paused_at) < 1.5


async def test_my_learning_and_the_player_pass_axe_and_fit_a_phone(web: LoopbackPage) -> None:
    page = web.page
    await page.set_viewport_size(PHONE)
    await page.goto("/login")
    await log_in(page, "demo-student@example.com", "learnhub-demo")
    await expect(page.get_by_role("link", name="My learning")).to_be_visible()
    found: list[str] = []
    await page.goto("/learning")
    found += await serious_violations(page)
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await page.get_by_role("link", name=f"Resume {DEMO_COURSE}").click()
    await expect(page).to_have_url(PLAYER_URL)
    await until(page, "document.getElementById('player').readyState >= 1")
    found += await serious_violations(page)
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await page.set_viewport_size({"width": 1280, "height": 800})
    found += await serious_violations(page)
    assert found == []
