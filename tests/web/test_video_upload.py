"""Uploading a video file (issue 17, item 1) through httpx, on both databases: in the studio's
add-video form and through `POST /api/v1/sections/{id}/videos/upload`, one service behind
both. A real WebM made by PyAV becomes a video whose length is the file's and whose URL is
the stored file, served with Range requests; a text file named .webm, an empty file and a
file past the limit are refused with a message on the form (a problem for the API) and leave
no file and no video behind."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from learnhub.media.demo_clips import demo_clip
from tests.api.conftest import Account, LoginAs
from tests.api.test_courses import add_section, create_course
from tests.web.test_web_base import assert_page, csrf_of, logged_in

pytestmark = pytest.mark.usefixtures("fast_password_hashing")
API = "/api/v1"
LIMIT_MB = 1
CLIP_SECONDS = 7
MEDIA_URL = re.compile(r"^/media/courses/[0-9a-f-]{36}/[0-9a-f]{32}\.webm$")


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, Any]:
    return {"media_dir": str(tmp_path / "media"), "max_upload_mb": LIMIT_MB}


@pytest.fixture(scope="module")
def clip() -> bytes:
    return demo_clip(CLIP_SECONDS, hue=3)


class Studio:
    def __init__(self, client: httpx.AsyncClient, owner: Account, course: dict, section: dict):
        self.client, self.owner, self.course, self.section = client, owner, course, section

    @property
    def page(self) -> str:
        return f"/studio/courses/{self.course['id']}"

    async def add(
        self, filename: str, content: bytes, mime: str = "video/webm", **fields: str
    ) -> httpx.Response:
        csrf = csrf_of(assert_page(await self.client.get(self.page)))
        form = {"csrf_token": csrf, "title": "Uploaded lesson", **fields}
        files = {"file": (filename, content, mime)}
        url = f"/studio/sections/{self.section['id']}/videos"
        return await self.client.post(url, data=form, files=files)

    async def videos(self) -> list[dict]:
        response = await self.client.get(
            f"{API}/courses/{self.course['id']}", headers=self.owner.headers
        )
        assert response.status_code == 200, response.text
        return [v for s in response.json()["sections"] for v in s["videos"]]


def stored_files(app: FastAPI, course_id: str) -> list[Path]:
    folder = Path(app.state.settings.media_dir) / "courses" / course_id
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
async def studio(client: httpx.AsyncClient, login_as: LoginAs) -> Studio:
    owner = await login_as("instructor")
    course = await create_course(client, owner)
    section = await add_section(client, owner, course["id"])
    client.cookies.clear()
    await logged_in(client, owner)
    return Studio(client, owner, course, section)


def alert(page: str) -> str:
    match = re.search(r'role="alert"[^>]*>([^<]+)<', page)
    assert match, page[:3000]
    return match.group(1)


async def test_an_uploaded_webm_becomes_a_video_of_its_length_served_with_ranges(
    studio: Studio, app: FastAPI, clip: bytes
) -> None:
    # The name and the declared type say nothing: the bytes are what is checked.
    response = await studio.add("lesson.bin", clip, "application/octet-stream")
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(studio.page)
    [video] = await studio.videos()
    assert video["title"] == "Uploaded lesson"
    assert video["duration_seconds"] == CLIP_SECONDS
    assert MEDIA_URL.match(video["url"]), video["url"]
    [stored] = stored_files(app, studio.course["id"])
    assert stored.read_bytes() == clip
    assert not [p for p in stored.parent.iterdir() if p.name.startswith(".upload-")]

    page = assert_page(await studio.client.get(studio.page))
    assert "Uploaded lesson" in page and "0:07" in page

    whole = await studio.client.get(video["url"])
    assert whole.status_code == 200 and whole.content == clip
    part = await studio.client.get(video["url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.content == clip[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(clip)}"
    assert part.headers["content-type"] == "video/webm"


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"This is a text file, not a video.\n" * 40, 415, "not a video this site can play"),
        (b"", 422, "The file is empty"),
        # Past the limit, within the form's slack: the service measures the file.
        (b"\x1a\x45\xdf\xa3" + bytes(LIMIT_MB * 1024 * 1024), 413, "larger than the upload limit"),
    ],
    ids=["text-named-webm", "empty", "too-big"],
)
async def test_a_bad_file_is_a_message_on_the_form_and_leaves_nothing(
    studio: Studio, app: FastAPI, content: bytes, status: int, message: str
) -> None:
    response = await studio.add("lesson.webm", content, transcript="Kept as typed")
    page = assert_page(response, status)
    assert message in alert(page)
    assert 'value="Uploaded lesson"' in page and "Kept as typed" in page  # the form again
    assert await studio.videos() == []
    assert stored_files(app, studio.course["id"]) == []


async def test_a_body_far_past_the_limit_is_refused_before_it_is_read(
    studio: Studio, app: FastAPI
) -> None:
    response = await studio.add("huge.webm", bytes(3 * LIMIT_MB * 1024 * 1024))
    page = assert_page(response, 413)
    assert f"larger than the upload limit of {LIMIT_MB} MB" in page
    assert await studio.videos() == []
    assert stored_files(app, studio.course["id"]) == []


async def test_the_url_form_still_works_and_asks_for_a_length_without_a_file(
    studio: Studio,
) -> None:
    csrf = csrf_of(assert_page(await studio.client.get(studio.page)))
    url = f"/studio/sections/{studio.section['id']}/videos"
    form = {"csrf_token": csrf, "title": "By address", "url": "https://cdn.example.com/a.mp4"}
    missing = await studio.client.post(url, data=form)
    assert "Duration" in alert(assert_page(missing, 422))
    added = await studio.client.post(url, data={**form, "duration_seconds": "65"})
    assert added.status_code == 303, added.text
    [video] = await studio.videos()
    assert video["duration_seconds"] == 65 and video["url"] == "https://cdn.example.com/a.mp4"


async def test_the_api_upload_route(
    client: httpx.AsyncClient, login_as: LoginAs, app: FastAPI, clip: bytes
) -> None:
    owner = await login_as("instructor")
    course = await create_course(client, owner)
    section = await add_section(client, owner, course["id"])
    url = f"{API}/sections/{section['id']}/videos/upload"
    form = {"title": "By the API", "is_preview": "true"}

    created = await client.post(
        url, headers=owner.headers, data=form, files={"file": ("a.webm", clip, "video/webm")}
    )
    assert created.status_code == 201, created.text
    video = created.json()
    assert video["duration_seconds"] == CLIP_SECONDS and video["is_preview"] is True
    assert MEDIA_URL.match(video["url"]) and created.headers["etag"]

    text = await client.post(
        url, headers=owner.headers, data=form, files={"file": ("b.webm", b"hello", "video/webm")}
    )
    assert text.status_code == 415, text.text
    assert text.headers["content-type"] == "application/problem+json"
    assert text.json()["code"] == "unsupported_media_type"

    student = await login_as("student")
    refused = await client.post(
        url, headers=student.headers, data=form, files={"file": ("a.webm", clip, "video/webm")}
    )
    # A draft is hidden from whoever may not edit it, as for the JSON add-video route.
    assert refused.status_code == 404, refused.text
    huge = await client.post(
        url,
        headers=owner.headers,
        data=form,
        files={"file": ("c.webm", bytes(3 * LIMIT_MB * 1024 * 1024), "video/webm")},
    )
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"
    assert len(stored_files(app, course["id"])) == 1
