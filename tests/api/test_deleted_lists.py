"""Administrators' lists of soft-deleted rows (issue 15, item 2): `?deleted=only` on the user
list, the catalog and a course's reviews, so an admin finds what to restore; keyset pages,
401/403 for others, 422 for an unknown value, on both databases."""

from __future__ import annotations

import pytest

from tests.api.test_courses import API, course_url, create_course
from tests.api.test_learning import enrol, video_course

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

ONLY = {"deleted": "only"}


async def pages(client, url: str, headers: dict, params: dict) -> list[dict]:
    seen, cursor = [], None
    while True:
        query = params | {"limit": 1} | ({"cursor": cursor} if cursor else {})
        response = await client.get(url, headers=headers, params=query)
        assert response.status_code == 200, response.text
        seen += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen


async def test_deleted_users_only_for_admins(client, login_as):
    admin = await login_as("admin")
    gone = [await login_as("student") for _ in range(2)]
    kept = await login_as("student")
    for account in gone:
        response = await client.delete(f"{API}/users/{account.id}", headers=admin.headers)
        assert response.status_code == 204, response.text

    listed = await pages(client, f"{API}/users", admin.headers, ONLY)
    assert {u["id"] for u in listed} == {a.id for a in gone}
    live = await pages(client, f"{API}/users", admin.headers, {"deleted": "exclude"})
    assert kept.id in {u["id"] for u in live} and not {a.id for a in gone} & {u["id"] for u in live}
    # The other filters still apply.
    one = await client.get(
        f"{API}/users", headers=admin.headers, params=ONLY | {"q": gone[0].email}
    )
    assert [u["id"] for u in one.json()["items"]] == [gone[0].id]
    # Restored: off the deleted list.
    restored = await client.post(f"{API}/users/{gone[0].id}/restore", headers=admin.headers)
    assert restored.status_code == 200, restored.text
    listed = await pages(client, f"{API}/users", admin.headers, ONLY)
    assert [u["id"] for u in listed] == [gone[1].id]

    bad = await client.get(f"{API}/users", headers=admin.headers, params={"deleted": "all"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"{API}/users", headers=kept.headers, params=ONLY)).status_code == 403


async def test_deleted_courses_only_for_admins(client, login_as):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    published, _ = await video_course(client, instructor)
    draft = await create_course(client, instructor)
    live = await create_course(client, instructor)
    for course in (published, draft):
        response = await client.delete(course_url(course["id"]), headers=instructor.headers)
        assert response.status_code == 204, response.text

    listed = await pages(client, f"{API}/courses", admin.headers, ONLY)
    assert {c["id"] for c in listed} == {published["id"], draft["id"]}
    assert live["id"] not in {c["id"] for c in listed}

    assert (await client.get(f"{API}/courses", params=ONLY)).status_code == 401
    for caller in (instructor, await login_as("student")):
        refused = await client.get(f"{API}/courses", headers=caller.headers, params=ONLY)
        assert refused.status_code == 403, refused.text
    bad = await client.get(f"{API}/courses", headers=admin.headers, params={"deleted": "yes"})
    assert bad.status_code == 422


async def test_deleted_reviews_only_for_admins(client, login_as):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    course, _ = await video_course(client, instructor)
    reviews = []
    for stars in (4, 5, 3):
        learner = await login_as("student")
        await enrol(client, learner, course["id"])
        response = await client.post(
            course_url(course["id"], "/reviews"),
            headers=learner.headers,
            json={"rating": stars, "body": "Clear and useful."},
        )
        assert response.status_code == 201, response.text
        reviews.append((learner, response.json()))
    for learner, review in reviews[:2]:
        deleted = await client.delete(f"{API}/reviews/{review['id']}", headers=learner.headers)
        assert deleted.status_code == 204, deleted.text

    url = course_url(course["id"], "/reviews")
    listed = await pages(client, url, admin.headers, ONLY)
    assert {r["id"] for r in listed} == {reviews[0][1]["id"], reviews[1][1]["id"]}
    public = (await client.get(url)).json()["items"]
    assert [r["id"] for r in public] == [reviews[2][1]["id"]]

    assert (await client.get(url, params=ONLY)).status_code == 401
    for caller in (instructor, reviews[0][0]):
        assert (await client.get(url, headers=caller.headers, params=ONLY)).status_code == 403
    assert (
        await client.get(url, headers=admin.headers, params={"deleted": "x"})
    ).status_code == 422
    unknown = course_url("0193a5b2-0000-7000-8000-000000000000", "/reviews")
    assert (await client.get(unknown, headers=admin.headers, params=ONLY)).status_code == 404
