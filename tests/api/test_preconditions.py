"""Preconditions and conditional requests through the HTTP API (SPEC 7), on both databases.

Every versioned resource (courses, sections, videos, quizzes, reviews, users) answers alike:
`ETag: W/"<version>"` (a course's adds a stamp of its counters and content), a stale or
foreign `If-Match` on PATCH or DELETE is 412 and a stale body `version` 409, with the row left
as it was; `If-Match: *` means any version. GET honours `If-None-Match` (304), and HEAD works
wherever GET does. Also: a 405 lists every method of its path, and appending content after
a sibling at the highest position a client may choose still works."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from learnhub.models import Course, Quiz, Section, Video
from tests.api.conftest import Account, assert_problem
from tests.api.test_courses import (
    API,
    COURSES,
    add_quiz,
    add_section,
    add_video,
    auth,
    course_url,
    create_course,
    etag_version,
    make_course,
)
from tests.api.test_learning import enrol
from tests.api.test_reviews import review, review_url

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MODELS = {"sections": Section, "videos": Video, "quizzes": Quiz}


async def content(client: httpx.AsyncClient, instructor: Account) -> dict[str, dict[str, Any]]:
    """A draft course with one section holding one video and one quiz."""
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    video = await add_video(client, instructor, section["id"])
    quiz = await add_quiz(client, instructor, section["id"])
    return {"course": course, "sections": section, "videos": video, "quizzes": quiz}


async def row(session: Any, kind: str, entity_id: str) -> tuple[str, int, Any]:
    model = MODELS[kind]
    result = await session.execute(
        select(model.title, model.version, model.deleted_at)
        .where(model.id == uuid.UUID(entity_id))
        .execution_options(include_deleted=True)
    )
    title, version, deleted_at = result.one()
    return title, version, deleted_at


@pytest.mark.parametrize("kind", ["sections", "videos", "quizzes"])
async def test_content_patch_and_delete_honour_if_match_and_body_version(
    client, login_as, session, kind
):
    instructor = await login_as("instructor")
    entity = (await content(client, instructor))[kind]
    url = f"{API}/{kind}/{entity['id']}"
    original = entity["title"]

    fetched = await client.get(url, headers=instructor.headers)
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["etag"] == 'W/"1"' and fetched.json()["version"] == 1

    # Stale, foreign and malformed tags: 412, nothing written.
    for tag in ('W/"99"', '"2"', "garbage", 'W/"1", W/"2"'):
        assert_problem(
            await client.patch(
                url, headers=auth(instructor, **{"If-Match": tag}), json={"title": "X"}
            ),
            412,
            "precondition_failed",
        )
        assert await row(session, kind, entity["id"]) == (original, 1, None)

    # The current version, as the ETag or built from the body's version: applied.
    ok = await client.patch(
        url, headers=auth(instructor, **{"If-Match": 'W/"1"'}), json={"title": "Second"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == 'W/"2"' and ok.json()["version"] == 2
    assert await row(session, kind, entity["id"]) == ("Second", 2, None)

    # A stale body version: 409, the row unchanged.
    stale_body = await client.patch(
        url, headers=instructor.headers, json={"title": "Lost", "version": 1}
    )
    body = assert_problem(stale_body, 409, "version_conflict")
    assert body["current_version"] == 2
    assert await row(session, kind, entity["id"]) == ("Second", 2, None)
    fresh_body = await client.patch(
        url, headers=instructor.headers, json={"title": "Third", "version": 2}
    )
    assert fresh_body.status_code == 200 and fresh_body.json()["version"] == 3

    # `*`: any version.
    starred = await client.patch(
        url, headers=auth(instructor, **{"If-Match": "*"}), json={"title": "Fourth"}
    )
    assert starred.status_code == 200 and starred.headers["etag"] == 'W/"4"'

    # DELETE: stale and garbage refused (412), the row still live; the current version deletes.
    for tag in ('W/"3"', "garbage"):
        assert_problem(
            await client.delete(url, headers=auth(instructor, **{"If-Match": tag})),
            412,
            "precondition_failed",
        )
        assert await row(session, kind, entity["id"]) == ("Fourth", 4, None)
    deleted = await client.delete(url, headers=auth(instructor, **{"If-Match": 'W/"4"'}))
    assert deleted.status_code == 204, deleted.text
    assert (await row(session, kind, entity["id"]))[2] is not None


@pytest.mark.parametrize("kind", ["sections", "videos", "quizzes"])
async def test_content_delete_with_if_match_star(client, login_as, session, kind):
    instructor = await login_as("instructor")
    entity = (await content(client, instructor))[kind]
    url = f"{API}/{kind}/{entity['id']}"
    deleted = await client.delete(url, headers=auth(instructor, **{"If-Match": "*"}))
    assert deleted.status_code == 204, deleted.text
    assert (await row(session, kind, entity["id"]))[2] is not None


async def test_replacing_a_quizs_questions_moves_its_version(client, login_as):
    instructor = await login_as("instructor")
    quiz = (await content(client, instructor))["quizzes"]
    url = f"{API}/quizzes/{quiz['id']}"
    before = await client.get(url, headers=instructor.headers)
    questions = [{"text": "Only one?", "type": "short_answer", "answer_text": "yes"}]
    # Same settings, new questions: a different quiz, so a new version and ETag.
    changed = await client.patch(url, headers=instructor.headers, json={"questions": questions})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2 and changed.headers["etag"] == 'W/"2"'
    again = await client.get(
        url, headers=auth(instructor, **{"If-None-Match": before.headers["etag"]})
    )
    assert again.status_code == 200 and len(again.json()["questions"]) == 1


async def assert_not_modified(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> str:
    """GET `url`, then again with its ETag in If-None-Match (alone, in a list, weak or
    strong, and `*`): 304 with the same ETag and no body; another tag: 200."""
    first = await client.get(url, headers=headers)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    strong = tag.removeprefix("W/")
    for condition in (tag, f'W/"nope", {tag}', strong, "*"):
        again = await client.get(url, headers={**headers, "If-None-Match": condition})
        assert again.status_code == 304, (url, condition, again.status_code)
        assert again.content == b"" and again.headers["etag"] == tag
        assert "content-type" not in again.headers
    other = await client.get(url, headers={**headers, "If-None-Match": 'W/"12345"'})
    assert other.status_code == 200 and other.headers["etag"] == tag
    assert other.json() == first.json()
    return tag


async def test_get_honours_if_none_match_on_every_versioned_resource(client, login_as):
    instructor = await login_as("instructor")
    admin = await login_as("admin")
    learner = await login_as("student")
    course = await make_course(client, instructor)
    section = course["sections"][0]
    video = section["videos"][0]
    quiz = await add_quiz(client, instructor, section["id"])
    await enrol(client, learner, course["id"])
    posted = await review(client, learner, course["id"], 4, "Good")
    for url, who in (
        (course_url(course["id"]), learner),
        (f"{API}/sections/{section['id']}", learner),
        (f"{API}/videos/{video['id']}", instructor),
        (f"{API}/quizzes/{quiz['id']}", learner),
        (review_url(posted["id"]), learner),
        (f"{API}/users/me", learner),
        (f"{API}/users/{learner.id}", admin),
    ):
        await assert_not_modified(client, url, who.headers)


async def test_course_etag_moves_with_counters_and_content_but_not_its_version(
    client, login_as, session
):
    instructor = await login_as("instructor")
    learner = await login_as("student")
    course = await make_course(client, instructor)
    url = course_url(course["id"])
    first = await assert_not_modified(client, url, learner.headers)
    version = course["version"]
    assert etag_version(first) == f'W/"{version}"'

    # An enrolment moves enrollment_count: the old ETag no longer matches.
    await enrol(client, learner, course["id"])
    after_enrol = await client.get(url, headers={**learner.headers, "If-None-Match": first})
    assert after_enrol.status_code == 200 and after_enrol.json()["enrollment_count"] == 1
    second = after_enrol.headers["etag"]
    assert second != first and etag_version(second) == f'W/"{version}"'

    # A video added, edited, then deleted: each changes the course's ETag, never its version.
    section_id = course["sections"][0]["id"]
    video = await add_video(client, instructor, section_id)
    changes = (
        lambda: client.patch(
            f"{API}/videos/{video['id']}", headers=instructor.headers, json={"title": "Renamed"}
        ),
        lambda: client.put(
            f"{API}/sections/{section_id}/videos/order",
            headers=instructor.headers,
            json={"ids": [video["id"], course["sections"][0]["videos"][0]["id"]]},
        ),
        lambda: client.delete(f"{API}/videos/{video['id']}", headers=instructor.headers),
        lambda: client.post(f"{API}/videos/{video['id']}/restore", headers=instructor.headers),
    )
    seen = {first, second}
    for change in changes:
        tag = (await client.get(url, headers=learner.headers)).headers["etag"]
        seen.add(tag)
        response = await change()
        assert response.status_code < 300, response.text
        now = await client.get(url, headers={**learner.headers, "If-None-Match": tag})
        assert now.status_code == 200, "a content change must change the course's ETag"
        assert now.headers["etag"] != tag
        assert etag_version(now.headers["etag"]) == f'W/"{version}"'
        assert now.json()["version"] == version
    tag = (await client.get(url, headers=learner.headers)).headers["etag"]
    await add_section(client, instructor, course["id"])
    now = await client.get(url, headers={**learner.headers, "If-None-Match": tag})
    assert now.status_code == 200 and len(now.json()["sections"]) == 2

    stored = await session.scalar(
        select(Course.version).where(Course.id == uuid.UUID(course["id"]))
    )
    assert stored == version
    # If-Match compares the version only: a stamped ETag and one built from the body pass.
    current = await client.get(url, headers=instructor.headers)
    stamped = current.headers["etag"]
    edited = await client.patch(
        url, headers=auth(instructor, **{"If-Match": stamped}), json={"description": "One"}
    )
    assert edited.status_code == 200, edited.text
    from_body = f'W/"{edited.json()["version"]}"'
    edited = await client.patch(
        url, headers=auth(instructor, **{"If-Match": from_body}), json={"description": "Two"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == version + 2


async def test_head_answers_like_get_without_a_body(client, login_as):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    for url in (COURSES, course_url(course["id"]), "/health", f"{API}/users/me"):
        got = await client.get(url, headers=instructor.headers)
        head = await client.head(url, headers=instructor.headers)
        assert head.status_code == 200 == got.status_code, (url, head.status_code)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == str(len(got.content))
        assert head.headers.get("etag") == got.headers.get("etag")
    tag = (await client.get(course_url(course["id"]))).headers["etag"]
    cached = await client.head(course_url(course["id"]), headers={"If-None-Match": tag})
    assert cached.status_code == 304 and cached.content == b""
    # HEAD where GET does not exist is a 405 like any other method.
    refused = await client.head(f"{API}/auth/login")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert refused.content == b""


async def test_the_document_lists_each_operation_once_and_no_head(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p, item in paths.items() if "head" in item]
    assert set(paths[f"{API}/courses"]) == {"get", "post"}


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("DELETE", COURSES, "GET, HEAD, POST"),
        ("PUT", f"{COURSES}/00000000-0000-4000-8000-000000000001", "DELETE, GET, HEAD, PATCH"),
        ("POST", "/health", "GET, HEAD"),
        ("GET", f"{API}/auth/login", "POST"),
    ],
)
async def test_405_lists_every_allowed_method(client, login_as, method, url, allowed):
    admin = await login_as("admin")
    response = await client.request(method, url, headers=admin.headers)
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allowed


async def test_appending_after_the_highest_chosen_position_always_works(client, login_as, session):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    top = await add_section(client, instructor, course["id"], position=10_000)
    appended = await add_section(client, instructor, course["id"])
    assert appended["position"] == 10_001
    await add_video(client, instructor, top["id"], position=10_000)
    video = await add_video(client, instructor, top["id"])
    await add_quiz(client, instructor, top["id"], position=10_000)
    quiz = await add_quiz(client, instructor, top["id"])
    assert (video["position"], quiz["position"]) == (10_001, 10_001)
    stored = await session.scalar(select(Video.position).where(Video.id == uuid.UUID(video["id"])))
    assert stored == 10_001
    # Chosen positions keep their documented limit (0..10000), with a 422 naming the field.
    refused = assert_problem(
        await client.post(
            course_url(course["id"], "/sections"),
            headers=instructor.headers,
            json={"title": "Far", "position": 10_001},
        ),
        422,
        "validation_error",
    )
    assert refused["errors"][0]["loc"][-1] == "position"
