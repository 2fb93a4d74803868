"""`GET /users/{id}/profile` (issue 15, item 1.3), on both databases: public, nothing private
(display name, role badges, published courses capped with a link to the catalog's next page);
a deleted, suspended or unknown account is 404."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from learnhub.services.profiles import PROFILE_COURSES
from tests.api.conftest import Account, assert_problem
from tests.api.test_catalog import insert_published
from tests.api.test_courses import API, course_url, create_course, make_course
from tests.api.test_names import delete_user, rename

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

PROFILE_FIELDS = {"id", "display_name", "badges", "courses", "courses_next"}


def profile_url(account: Account | str) -> str:
    user_id = account if isinstance(account, str) else account.id
    return f"{API}/users/{user_id}/profile"


async def profile(client: httpx.AsyncClient, account: Account, **headers: str) -> dict[str, Any]:
    response = await client.get(profile_url(account), headers=headers)
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert set(body) == PROFILE_FIELDS  # no e-mail, status, login or dates
    return body


async def test_an_instructors_profile_shows_name_badge_and_published_courses(client, login_as):
    instructor = await login_as("instructor")
    await rename(client, instructor, "Grace Hopper")
    published = await make_course(client, instructor)
    await create_course(client, instructor)  # a draft
    archived = await make_course(client, instructor)
    response = await client.post(course_url(archived["id"], "/archive"), headers=instructor.headers)
    assert response.status_code == 200, response.text

    body = await profile(client, instructor)
    assert body["id"] == instructor.id and body["display_name"] == "Grace Hopper"
    assert body["badges"] == ["instructor"]
    assert [c["id"] for c in body["courses"]] == [published["id"]]
    card = (await client.get(f"{API}/courses", params={"instructor_id": instructor.id})).json()
    assert body["courses"] == card["items"]  # the catalog's cards
    assert body["courses_next"] is None


async def test_learners_and_admins_show_no_private_role_or_data(client, login_as):
    student, admin = await login_as("student"), await login_as("admin")
    body = await profile(client, student)
    assert body["badges"] == ["student"] and body["courses"] == []
    assert (await profile(client, admin))["badges"] == []  # admin is never advertised
    # Logged-in callers see the same; a dead token is refused, as on the catalog.
    assert await profile(client, student, **student.headers) == body
    refused = await client.get(profile_url(student), headers={"Authorization": "Bearer x"})
    assert_problem(refused, 401, "unauthorized")


async def test_many_courses_are_capped_with_a_link_to_the_rest(client, login_as, session):
    instructor = await login_as("instructor")
    await insert_published(session, instructor, PROFILE_COURSES + 3)
    body = await profile(client, instructor)
    assert len(body["courses"]) == PROFILE_COURSES
    link = body["courses_next"]
    assert link.startswith(f"{API}/courses?instructor_id={instructor.id}&cursor=")
    rest = await client.get(link)
    assert rest.status_code == 200, rest.text
    seen = [c["id"] for c in body["courses"]] + [c["id"] for c in rest.json()["items"]]
    everything = await client.get(
        f"{API}/courses", params={"instructor_id": instructor.id, "limit": 100}
    )
    assert seen == [c["id"] for c in everything.json()["items"]]
    assert len(set(seen)) == PROFILE_COURSES + 3


async def test_deleted_suspended_and_unknown_accounts_are_404(client, login_as):
    admin, student = await login_as("admin"), await login_as("student")
    other = await login_as("student")
    assert_problem(await client.get(profile_url(str(uuid.uuid4()))), 404, "not_found")
    assert (await client.get(profile_url("not-an-id"))).status_code == 422

    suspended = await client.patch(
        f"{API}/users/{student.id}", headers=admin.headers, json={"status": "suspended"}
    )
    assert suspended.status_code == 200, suspended.text
    assert_problem(await client.get(profile_url(student)), 404, "not_found")
    active = await client.patch(
        f"{API}/users/{student.id}", headers=admin.headers, json={"status": "active"}
    )
    assert active.status_code == 200, active.text
    await profile(client, student)

    await delete_user(client, admin, other)
    assert_problem(await client.get(profile_url(other)), 404, "not_found")
