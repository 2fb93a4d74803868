"""`GET /courses/{id_or_slug}` (issue 15, item 1.4), on both databases: the course page by
its slug answers as by its id (ETag, 304, HEAD included); a draft, archived or deleted course
found by slug is as invisible as by id; a value written as an id is an id, so no slug may
look like one."""

from __future__ import annotations

import uuid

import pytest

from tests.api.conftest import assert_problem
from tests.api.test_courses import COURSES, course_url, create_course, make_course

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


async def test_a_course_page_by_slug_is_the_page_by_id(client, login_as):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    by_id = await client.get(course_url(course["id"]))
    by_slug = await client.get(course_url(course["slug"]))
    assert by_id.status_code == by_slug.status_code == 200, by_slug.text
    assert by_slug.json() == by_id.json()
    assert by_slug.headers["etag"] == by_id.headers["etag"]
    assert by_slug.headers["vary"] == "Authorization"

    # Conditional and HEAD requests behave the same.
    tag = by_id.headers["etag"]
    cached = await client.get(course_url(course["slug"]), headers={"If-None-Match": tag})
    assert cached.status_code == 304 and cached.content == b""
    head = await client.head(course_url(course["slug"]))
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == tag
    cached = await client.head(course_url(course["slug"]), headers={"If-None-Match": tag})
    assert cached.status_code == 304

    # Ids keep every form they had (upper case, without hyphens).
    upper = await client.get(course_url(course["id"].upper()))
    simple = await client.get(course_url(uuid.UUID(course["id"]).hex))
    assert upper.json() == simple.json() == by_id.json()


async def test_a_draft_by_slug_is_seen_only_by_who_may_see_it(client, login_as):
    instructor, other = await login_as("instructor"), await login_as("instructor")
    admin, student = await login_as("admin"), await login_as("student")
    draft = await create_course(client, instructor)
    url = course_url(draft["slug"])
    for caller in (instructor, admin):
        seen = await client.get(url, headers=caller.headers)
        assert seen.status_code == 200 and seen.json()["id"] == draft["id"], seen.text
    for headers in ({}, other.headers, student.headers):
        assert_problem(await client.get(url, headers=headers), 404, "not_found")

    published = await make_course(client, instructor)
    archived = await client.post(
        course_url(published["id"], "/archive"), headers=instructor.headers
    )
    assert archived.status_code == 200, archived.text
    assert_problem(await client.get(course_url(published["slug"])), 404, "not_found")
    seen = await client.get(course_url(published["slug"]), headers=instructor.headers)
    assert seen.status_code == 200, seen.text

    deleted = await client.delete(course_url(published["id"]), headers=instructor.headers)
    assert deleted.status_code == 204, deleted.text
    gone = await client.get(course_url(published["slug"]), headers=admin.headers)
    assert_problem(gone, 404, "not_found")


async def test_unknown_or_impossible_slugs_are_404_and_overlong_keys_422(client):
    for key in ("no-such-course", "Not-A-Slug", "a--b", "%00", "caf%C3%A9"):
        assert_problem(await client.get(f"{COURSES}/{key}"), 404, "not_found")
    assert_problem(await client.get(course_url(str(uuid.uuid4()))), 404, "not_found")
    assert (await client.get(course_url("a" * 221))).status_code == 422


async def test_no_slug_looks_like_an_id(client, login_as):
    instructor = await login_as("instructor")
    hexadecimal = uuid.uuid4().hex
    refused = await client.post(
        COURSES, headers=instructor.headers, json={"title": "Hex", "slug": hexadecimal}
    )
    assert_problem(refused, 422, "invalid_value")
    hyphenated = str(uuid.uuid4())
    made = await create_course(client, instructor, title=hyphenated)
    assert made["slug"] == f"{hyphenated}-course"
    found = await client.get(course_url(made["slug"]), headers=instructor.headers)
    assert found.status_code == 200 and found.json()["id"] == made["id"]
    # Other routes under a course keep ids only.
    sections = await client.get(course_url(made["slug"], "/history"), headers=instructor.headers)
    assert sections.status_code == 422, sections.text
