"""Names, not only ids (issue 15, item 1), on both databases: catalog cards, the course page
and the instructor's own listing carry `instructor: {id, display_name}`, reviews carry
`author: {id, display_name}` next to `user_id`; a soft-deleted account keeps its id there
with `display_name: null` (docs/decisions.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Account
from tests.api.test_courses import API, COURSES, course_url, make_course
from tests.api.test_learning import enrol

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


async def rename(client: httpx.AsyncClient, account: Account, name: str) -> None:
    response = await client.patch(
        f"{API}/users/me", headers=account.headers, json={"display_name": name}
    )
    assert response.status_code == 200, response.text


async def delete_user(client: httpx.AsyncClient, admin: Account, account: Account) -> None:
    response = await client.delete(f"{API}/users/{account.id}", headers=admin.headers)
    assert response.status_code == 204, response.text


async def card_of(client: httpx.AsyncClient, course_id: str, **params: Any) -> dict[str, Any]:
    response = await client.get(COURSES, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    (card,) = [c for c in response.json()["items"] if c["id"] == course_id]
    return dict(card)


async def test_cards_detail_and_own_listing_name_the_instructor(client, login_as):
    instructor = await login_as("instructor")
    await rename(client, instructor, "Grace Hopper")
    course = await make_course(client, instructor)
    expected = {"id": instructor.id, "display_name": "Grace Hopper"}

    assert course["instructor"] == expected  # the course page as publishing answered it
    card = await card_of(client, course["id"], instructor_id=instructor.id)
    assert card["instructor"] == expected and card["instructor_id"] == instructor.id
    searched = await card_of(client, course["id"], q=course["title"])
    assert searched["instructor"] == expected
    detail = await client.get(course_url(course["id"]))
    assert detail.json()["instructor"] == expected
    own = await client.get(COURSES, params={"mine": "true"}, headers=instructor.headers)
    assert [c["instructor"] for c in own.json()["items"]] == [expected]

    # A new name shows at once, and changes the course page's ETag (a new representation).
    await rename(client, instructor, "Rear Admiral Hopper")
    again = await client.get(course_url(course["id"]))
    assert again.json()["instructor"]["display_name"] == "Rear Admiral Hopper"
    assert again.headers["etag"] != detail.headers["etag"]
    card = await card_of(client, course["id"])
    assert card["instructor"]["display_name"] == "Rear Admiral Hopper"


async def test_a_deleted_instructors_courses_keep_the_id_without_a_name(client, login_as):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    course = await make_course(client, instructor)
    await delete_user(client, admin, instructor)

    nameless = {"id": instructor.id, "display_name": None}
    assert (await card_of(client, course["id"]))["instructor"] == nameless
    assert (await client.get(course_url(course["id"]))).json()["instructor"] == nameless

    restored = await client.post(f"{API}/users/{instructor.id}/restore", headers=admin.headers)
    assert restored.status_code == 200, restored.text
    card = await card_of(client, course["id"])
    assert card["instructor"]["display_name"] == "Instructor User"


async def test_reviews_name_their_author_in_lists_and_single_reads(client, login_as):
    instructor, learner = await login_as("instructor"), await login_as("student")
    await rename(client, learner, "Ada Lovelace")
    course = await make_course(client, instructor)
    await enrol(client, learner, course["id"])
    ada = {"id": learner.id, "display_name": "Ada Lovelace"}

    posted = await client.post(
        course_url(course["id"], "/reviews"),
        headers=learner.headers,
        json={"rating": 5, "body": "Clear."},
    )
    assert posted.status_code == 201, posted.text
    review = posted.json()
    assert review["author"] == ada and review["user_id"] == learner.id

    url = f"{API}/reviews/{review['id']}"
    assert (await client.get(url)).json()["author"] == ada
    edited = await client.patch(url, headers=learner.headers, json={"rating": 4})
    assert edited.status_code == 200 and edited.json()["author"] == ada
    hidden = await client.patch(url, headers=instructor.headers, json={"status": "hidden"})
    assert hidden.status_code == 200 and hidden.json()["author"] == ada
    shown = await client.patch(url, headers=instructor.headers, json={"status": "published"})
    assert shown.status_code == 200 and shown.json()["author"] == ada
    listed = await client.get(course_url(course["id"], "/reviews"))
    assert [r["author"] for r in listed.json()["items"]] == [ada]
    exported = await client.get(f"{API}/users/me/export", headers=learner.headers)
    assert [r["author"] for r in exported.json()["reviews"]] == [ada]

    deleted = await client.delete(url, headers=learner.headers)
    assert deleted.status_code == 204, deleted.text
    restored = await client.post(f"{url}/restore", headers=learner.headers)
    assert restored.status_code == 200 and restored.json()["author"] == ada


async def test_a_deleted_authors_reviews_keep_the_id_without_a_name(client, login_as):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    learner = await login_as("student")
    course = await make_course(client, instructor)
    await enrol(client, learner, course["id"])
    posted = await client.post(
        course_url(course["id"], "/reviews"), headers=learner.headers, json={"rating": 3}
    )
    assert posted.status_code == 201, posted.text
    await delete_user(client, admin, learner)

    nameless = {"id": learner.id, "display_name": None}
    listed = await client.get(course_url(course["id"], "/reviews"))
    assert [r["author"] for r in listed.json()["items"]] == [nameless]
    single = await client.get(f"{API}/reviews/{posted.json()['id']}")
    assert single.json()["author"] == nameless
