"""My learning, resuming, the player page, its heartbeats and the media it plays (issue 16),
through httpx on both databases: who may see what (as the API decides), the resume point,
`?t=` from a tutor citation, heartbeats credited by the API's own rules (and refused
without the `X-CSRF-Token` header), media served with HTTP Range requests (206, 416, the
content type) to whoever may watch."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from learnhub.media.demo_clips import demo_clip
from learnhub.media.storage import media_url
from learnhub.web import security
from tests.api.conftest import Account, FakeClock, LoginAs, clock
from tests.api.test_courses import API, add_section, add_video, create_course, publish
from tests.web.test_web_base import assert_page, csrf_of, logged_in

__all__ = ["clock"]
pytestmark = pytest.mark.usefixtures("fast_password_hashing")

DURATION = 30
HEARTBEAT_TOKEN = re.compile(r'data-csrf-token="([0-9a-f]{64})"')


@pytest.fixture
def settings_overrides(tmp_path: Any) -> dict[str, Any]:
    return {"media_dir": str(tmp_path / "media")}


class MediaCourse:
    """A published course with two videos whose files are in the app's media storage: the
    first for enrolled learners, the second a free preview."""

    def __init__(self, course: dict, videos: list[dict], keys: list[str]) -> None:
        self.course, self.videos, self.keys = course, videos, keys
        self.slug, self.id = course["slug"], course["id"]

    def player(self, index: int, query: str = "") -> str:
        return f"/learn/{self.slug}/videos/{self.videos[index]['id']}{query}"

    def heartbeat_url(self, index: int) -> str:
        return f"/learn/videos/{self.videos[index]['id']}/heartbeats"


async def media_course(client: httpx.AsyncClient, app: FastAPI, instructor: Account) -> MediaCourse:
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    videos, keys = [], []
    for n, preview in ((1, False), (2, True)):
        key = f"courses/{course['id']}/{n}.webm"
        app.state.media_storage.save(key, demo_clip(DURATION, hue=n))
        video = await add_video(
            client,
            instructor,
            section["id"],
            url=media_url(key),
            duration_seconds=DURATION,
            is_preview=preview,
        )
        videos.append(video)
        keys.append(key)
    return MediaCourse(await publish(client, instructor, course["id"]), videos, keys)


async def as_browser_of(client: httpx.AsyncClient, account: Account) -> None:
    """A fresh browser logged in as `account` (the previous one's cookies gone)."""
    client.cookies.clear()
    await logged_in(client, account)


async def enrol(client: httpx.AsyncClient, learner: Account, course_id: str) -> None:
    response = await client.post(f"{API}/courses/{course_id}/enrollments", headers=learner.headers)
    assert response.status_code == 201, response.text


@pytest.fixture
async def world(client: httpx.AsyncClient, app: FastAPI, login_as: LoginAs) -> dict[str, Any]:
    instructor, learner = await login_as("instructor"), await login_as("student")
    course = await media_course(client, app, instructor)
    await enrol(client, learner, course.id)
    return {"instructor": instructor, "learner": learner, "course": course}


async def test_my_learning_needs_a_login_and_lists_enrolments_with_progress(client, world):
    response = await client.get("/learning")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Flearning"
    course: MediaCourse = world["course"]
    await as_browser_of(client, world["learner"])
    html = assert_page(await client.get("/learning"))
    assert course.course["title"] in html
    assert f'href="/learn/{course.slug}"' in html
    assert '<progress max="100" value="0"' in html
    assert "No completed course yet." in html
    nav = assert_page(await client.get("/"))
    assert '<a href="/learning">My learning</a>' in nav


async def test_a_course_resumes_at_the_video_and_position_left(client, world):
    course: MediaCourse = world["course"]
    assert (await client.get(f"/learn/{course.slug}")).headers["location"].startswith("/login?")
    await as_browser_of(client, world["learner"])
    first = await client.get(f"/learn/{course.slug}")
    assert first.status_code == 303 and first.headers["location"] == course.player(0)
    # A heartbeat on the second video (through the API: the same rows) moves the resume point.
    beat = {"position_seconds": 12.0, "played_segments": [[0, 12]]}
    response = await client.put(
        f"{API}/videos/{course.videos[1]['id']}/progress",
        headers=world["learner"].headers,
        json=beat,
    )
    assert response.status_code == 200, response.text
    resumed = await client.get(f"/learn/{course.slug}")
    assert resumed.headers["location"] == course.player(1, "?t=12")
    html = assert_page(await client.get(course.player(1)))
    assert 'data-start="12.0"' in html  # the stored position, without ?t=


async def test_the_player_plays_the_course_media_from_the_stored_or_cited_point(client, world):
    course: MediaCourse = world["course"]
    await as_browser_of(client, world["learner"])
    html = assert_page(await client.get(course.player(0)))
    assert f'src="{media_url(course.keys[0])}"' in html
    assert 'data-start="0.0"' in html
    assert f'data-heartbeat-url="{course.heartbeat_url(0)}"' in html
    assert '<script src="/static/player.js" defer></script>' in html
    # Both videos in the outline, linked, with their progress.
    assert html.count("data-outline-video=") == 2
    assert 'aria-current="page"' in html
    # A citation's ?t=S starts there; nonsense in t is ignored.
    assert 'data-start="17.0"' in assert_page(await client.get(course.player(0, "?t=17")))
    assert 'data-start="0.0"' in assert_page(await client.get(course.player(0, "?t=abc")))
    assert 'data-start="30.0"' in assert_page(await client.get(course.player(0, "?t=99999")))
    # Other pages do not load the player's script.
    assert "player.js" not in assert_page(await client.get("/learning"))


async def test_only_who_may_watch_gets_the_player(client, world, login_as: LoginAs):
    course: MediaCourse = world["course"]
    # Logged out: the locked video is refused, the free preview plays (no heartbeats).
    locked = assert_page(await client.get(course.player(0)), 403)
    assert "enrol in the course" in locked.lower()
    preview = assert_page(await client.get(course.player(1)))
    assert "data-heartbeat-url" not in preview and "free preview" in preview
    # A learner of another course: the same.
    await as_browser_of(client, await login_as("student"))
    assert_page(await client.get(course.player(0)), 403)
    assert_page(await client.get(f"/learn/{course.slug}"), 403)
    # The instructor watches without recording progress.
    await as_browser_of(client, world["instructor"])
    editor = assert_page(await client.get(course.player(0)))
    assert "data-heartbeat-url" not in editor and "<video" in editor
    # Unknown or mismatched: not found.
    assert_page(await client.get(f"/learn/{course.slug}/videos/{uuid.uuid4()}"), 404)
    assert_page(await client.get(f"/learn/no-such-course/videos/{course.videos[0]['id']}"), 404)
    assert_page(await client.get(f"/learn/{course.slug}/videos/not-an-id"), 404)


async def test_a_draft_course_has_no_player_for_learners(client, world, login_as: LoginAs):
    instructor = world["instructor"]
    draft = await create_course(client, instructor)
    section = await add_section(client, instructor, draft["id"])
    video = await add_video(client, instructor, section["id"])
    await as_browser_of(client, world["learner"])
    assert_page(await client.get(f"/learn/{draft['slug']}/videos/{video['id']}"), 404)


async def heartbeat(
    client: httpx.AsyncClient, url: str, body: dict, token: str | None
) -> httpx.Response:
    headers = {security.CSRF_HEADER: token} if token is not None else {}
    return await client.post(url, json=body, headers=headers)


async def player_token(client: httpx.AsyncClient, path: str) -> str:
    match = HEARTBEAT_TOKEN.search(assert_page(await client.get(path)))
    assert match
    return match.group(1)


async def test_heartbeats_are_credited_by_the_apis_rules_and_need_the_csrf_header(
    client, world, clock: FakeClock
):
    course: MediaCourse = world["course"]
    await as_browser_of(client, world["learner"])
    token = await player_token(client, course.player(0))
    url = course.heartbeat_url(0)
    body = {"position_seconds": 30.0, "played_segments": [[0, 30]]}
    # No header, a wrong one, or a form field instead: refused, and nothing stored.
    for refused in (None, "0" * 64):
        response = await heartbeat(client, url, body, refused)
        assert response.status_code == 403 and "text/html" in response.headers["content-type"]
    form = await client.post(url, data={"csrf_token": token, "position_seconds": "1"})
    assert form.status_code in (403, 422)
    assert 'value="0.0"' in assert_page(await client.get(course.player(0)))

    # Claiming the whole video at once: credited no more than the real-time budget (the
    # tolerance, 10 s), not completed; the page's numbers are the server's.
    first = await heartbeat(client, url, body, token)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["video"]["watched_seconds"] == 10.0 and not answer["video"]["completed"]
    assert answer["course"]["percent"] == 0.0
    assert answer["course"]["total_items"] == 2
    # Real time passes: the same ranges are credited in full, the video completes.
    clock.advance(DURATION)
    done = (await heartbeat(client, url, body, token)).json()
    assert done["video"]["completed"] and done["video"]["watched_seconds"] == 30.0
    assert done["course"]["percent"] == 50.0
    mine = {v["video_id"]: v for v in done["course"]["videos"]}
    assert mine[course.videos[0]["id"]] == {
        "video_id": course.videos[0]["id"],
        "percent": 100.0,
        "completed": True,
    }
    # Bad input is a problem answer, not a 500.
    bad = await heartbeat(client, url, {"position_seconds": -1}, token)
    assert bad.status_code == 422
    beyond = await heartbeat(
        client, url, {"position_seconds": 1, "played_segments": [[40, 50]]}, token
    )
    assert beyond.status_code == 422 and "text/html" in beyond.headers["content-type"]


async def test_heartbeats_of_someone_not_enrolled_are_refused(client, world, login_as: LoginAs):
    course: MediaCourse = world["course"]
    await as_browser_of(client, await login_as("student"))
    # The preview plays without heartbeats; its page's token (the logout form's) is valid.
    token = csrf_of(assert_page(await client.get(course.player(1))))
    response = await heartbeat(client, course.heartbeat_url(1), {"position_seconds": 1.0}, token)
    assert response.status_code == 403


async def test_media_is_served_with_ranges_to_who_may_watch(client, world, app: FastAPI):
    course: MediaCourse = world["course"]
    locked, preview = media_url(course.keys[0]), media_url(course.keys[1])
    whole = app.state.media_storage.local_path(course.keys[0]).read_bytes()
    assert whole[:4] == b"\x1a\x45\xdf\xa3"  # an EBML (WebM) file

    # Logged out: the preview's file plays, the locked one is refused.
    assert (await client.get(preview)).status_code == 200
    assert_page(await client.get(locked), 403)

    await as_browser_of(client, world["learner"])
    full = await client.get(locked)
    assert full.status_code == 200 and full.content == whole
    assert full.headers["content-type"] == "video/webm"
    assert full.headers["accept-ranges"] == "bytes"
    part = await client.get(locked, headers={"Range": "bytes=4-103"})
    assert part.status_code == 206
    assert part.content == whole[4:104]
    assert part.headers["content-range"] == f"bytes 4-103/{len(whole)}"
    assert part.headers["content-type"] == "video/webm"
    tail = await client.get(locked, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole[-10:]
    outside = await client.get(locked, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(whole)}"

    # Not there, or not a media key at all: not found (and never a path outside the store).
    missing = f"/media/courses/{course.id}/9.webm"
    assert_page(await client.get(missing), 404)
    assert_page(await client.get(f"/media/courses/{uuid.uuid4()}/1.webm"), 404)
    for odd in ("/media/../pyproject.toml", "/media/courses/%2e%2e/x", "/media/x"):
        assert (await client.get(odd)).status_code == 404, odd


async def test_a_video_url_may_name_a_media_file_but_nothing_else_local(client, world):
    instructor = world["instructor"]
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    for bad in ("/media/../x.webm", "/media/courses/x/1.webm", "/static/app.css", "/media/"):
        response = await client.post(
            f"{API}/sections/{section['id']}/videos",
            headers=instructor.headers,
            json={"title": "V", "url": bad, "duration_seconds": 5},
        )
        assert response.status_code == 422, bad
