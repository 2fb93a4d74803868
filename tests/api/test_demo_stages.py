"""The demo shows the product: loaded as `learnhub serve --demo` loads it, its learners,
instructor and administrator find, through the API, what each of them should see: a course
in progress with a resume point, a completed one, a passed and a failed quiz attempt, reviews
rated 1 to 5 from several learners, the instructor's draft, and audited admin actions. Loading
it again (a restart on the same database) changes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from learnhub.db.uow import UnitOfWork
from learnhub.ops.demo import DEMO_PASSWORD, load_demo
from learnhub.ops.demo_activity import EDITED_COURSE, SAM, SPAM, STAGES
from tests.api.conftest import Account, login

API = "/api/v1"
pytestmark = pytest.mark.usefixtures("fast_password_hashing")


async def load(session_factory: Any) -> list[tuple[str, str]]:
    async with UnitOfWork(session_factory) as uow:
        accounts = await load_demo(uow)
        await uow.commit()
    return accounts


async def get(client: httpx.AsyncClient, url: str, who: Account | None = None, **params: Any):
    response = await client.get(url, headers=who.headers if who else {}, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def every(client: httpx.AsyncClient, url: str, who: Account | None = None, **params: Any):
    items, cursor = [], None
    while True:
        page = await get(client, url, who, limit=100, **({"cursor": cursor} if cursor else params))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def catalog(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    return {c["title"]: c for c in await every(client, f"{API}/courses")}


async def ratings(client: httpx.AsyncClient) -> list[tuple[str, str, int, str]]:
    """Every published review of the catalog: (course, author id, rating, body)."""
    found = []
    for title, course in (await catalog(client)).items():
        for review in await every(client, f"{API}/courses/{course['id']}/reviews"):
            found.append((title, review["user_id"], review["rating"], review["body"]))
    return sorted(found)


async def test_demo_stages_show_through_the_api(client, session_factory):
    accounts = await load(session_factory)
    assert accounts[:3] == [
        ("demo-admin@example.com", "admin"),
        ("demo-instructor@example.com", "instructor"),
        ("demo-student@example.com", "student"),
    ]
    student = await login(client, "demo-student@example.com", DEMO_PASSWORD)
    courses = await catalog(client)

    # One course completed, one in progress.
    mine = {
        e["course"]["title"]: e for e in await every(client, f"{API}/users/me/enrollments", student)
    }
    assert set(mine) == {"The Science of Cooking", "Python Fundamentals"}
    done = mine["The Science of Cooking"]
    assert (
        done["status"] == "completed" and done["completed_at"] and done["progress_percent"] == 100
    )
    going = mine["Python Fundamentals"]
    assert going["status"] == "active" and 0 < going["progress_percent"] < 100

    # The resume point: the second video, partly watched, after the first was completed.
    python = courses["Python Fundamentals"]
    outline = await get(client, f"{API}/courses/{python['id']}", student)
    videos = [v for s in outline["sections"] for v in s["videos"]]
    progress = await get(client, f"{API}/courses/{python['id']}/progress", student)
    assert progress["completed_items"] == 1 and not progress["completed"]
    assert progress["resume"] == {"video_id": videos[1]["id"], "position_seconds": 300.0}
    cooking = await get(
        client, f"{API}/courses/{courses['The Science of Cooking']['id']}/progress", student
    )
    assert cooking["completed"] and cooking["completed_items"] == cooking["total_items"]

    # Quiz attempts: one passed (the completed course), one failed (the one in progress).
    activity = await every(client, f"{API}/users/me/activity", student)
    submitted = [a["metadata"] for a in activity if a["type"] == "quiz_submitted"]
    assert sorted(a["passed"] for a in submitted) == [False, True]
    assert {a["type"] for a in activity} >= {"enrolled", "video_completed", "course_completed"}

    # Published reviews: every rating from 1 to 5, on several courses, by several learners.
    published = await ratings(client)
    assert {rating for _, _, rating, _ in published} == {1, 2, 3, 4, 5}
    assert len({title for title, *_ in published}) >= 5
    assert len({author for _, author, _, _ in published}) >= 4
    assert SPAM not in {body for *_, body in published}  # hidden by the administrator
    assert len(published) == sum(1 for s in STAGES if s.rating) - 1
    # The catalog cards carry the ratings.
    rated = await catalog(client)
    assert all(float(rated[title]["rating"]) > 0 for title, *_ in published)

    # The demo instructor owns a published course and a draft.
    instructor = await login(client, "demo-instructor@example.com", DEMO_PASSWORD)
    own = await every(client, f"{API}/courses", instructor, mine="true")
    assert Counter(c["status"] for c in own) == {"published": 1, "draft": 1}

    # The administrator has history: a review hidden, an account suspended then reactivated,
    # a course edited; each audited under the administrator's id.
    admin = await login(client, "demo-admin@example.com", DEMO_PASSWORD)
    history = await every(client, f"{API}/audit", admin, actor_id=admin.id)
    changes = [(e["entity_type"], e["action"], e["changes"]) for e in history]
    assert any(
        t == "review" and c.get("status") == ["published", "hidden"] for t, _, c in changes
    ), changes
    sam = await every(client, f"{API}/users", admin, q=SAM)
    statuses = [c["status"] for t, _, c in changes if t == "user" and "status" in c]
    assert sorted(statuses) == [["active", "suspended"], ["suspended", "active"]], changes
    assert sam[0]["status"] == "active"
    edited = courses[EDITED_COURSE]
    assert any(t == "course" and "description" in c for t, _, c in changes), changes
    assert (await get(client, f"{API}/courses/{edited['id']}"))["description"].endswith(
        "Updated for WCAG 2.2."
    )
    verified = await get(client, f"{API}/audit", admin, entity_id=edited["id"], actor_id=admin.id)
    assert verified["items"]


async def test_loading_the_demo_twice_adds_nothing(client, session_factory):
    first = await load(session_factory)
    student = await login(client, "demo-student@example.com", DEMO_PASSWORD)
    admin = await login(client, "demo-admin@example.com", DEMO_PASSWORD)

    async def snapshot() -> tuple[Any, ...]:
        return (
            sorted(c["id"] for c in await every(client, f"{API}/courses")),
            await ratings(client),
            sorted(
                (e["id"], e["status"], e["progress_percent"])
                for e in await every(client, f"{API}/users/me/enrollments", student)
            ),
            len(await every(client, f"{API}/users/me/activity", student)),
            len(await every(client, f"{API}/audit", admin)),
            len(await every(client, f"{API}/users", admin)),
        )

    before = await snapshot()
    assert await load(session_factory) == first  # a restart of `serve --demo`
    after = await snapshot()
    assert after == before
