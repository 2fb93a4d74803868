"""Course reviews through the HTTP API, on both databases: one live review per learner and
course, by enrolled learners only, rating 1..5 (refused by the API and by the database's
CHECK), moderation by the course's instructor or an admin, hidden reviews kept from others,
optimistic locking, the ReviewPosted event, the audit trail, and the course's `rating`,
`rating_count` and `rating_histogram` compared after every step with values recomputed here
from the published, non-deleted reviews in the database."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Uuid, bindparam, select, text
from sqlalchemy.exc import IntegrityError

from learnhub.models import AuditLog, Course
from learnhub.models.learning import Review
from tests.api.conftest import Account, assert_problem
from tests.api.test_courses import API, COURSES, course_url, create_course, make_course, outbox
from tests.api.test_learning import enrol, video_course, watch_fully

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

REVIEW_FIELDS = {
    "id",
    "user_id",
    "author",
    "course_id",
    "rating",
    "body",
    "status",
    "version",
    "created_at",
    "updated_at",
}


# ---- helpers ----------------------------------------------------------------------------------


def reviews_url(course_id: str) -> str:
    return course_url(course_id, "/reviews")


def review_url(review_id: str, suffix: str = "") -> str:
    return f"{API}/reviews/{review_id}{suffix}"


def headers(account: Account | None, **extra: str) -> dict[str, str]:
    return {**(account.headers if account else {}), **extra}


async def post_review(
    client: httpx.AsyncClient, account: Account, course_id: str, rating: Any, body: Any = ""
) -> httpx.Response:
    return await client.post(
        reviews_url(course_id), headers=account.headers, json={"rating": rating, "body": body}
    )


async def review(
    client: httpx.AsyncClient, account: Account, course_id: str, rating: int, body: str = ""
) -> dict:
    response = await post_review(client, account, course_id, rating, body)
    assert response.status_code == 201, response.text
    return response.json()


async def patch(
    client: httpx.AsyncClient, account: Account, review_id: str, **body: Any
) -> httpx.Response:
    return await client.patch(review_url(review_id), headers=account.headers, json=body)


async def ok(response: Any, status: int = 200) -> dict:
    """Await a request and insist on `status`; the JSON body (or {} for 204)."""
    result = await response
    assert result.status_code == status, result.text
    return result.json() if status != 204 else {}


async def learners(
    client: httpx.AsyncClient, login_as: Any, course_id: str, n: int
) -> list[Account]:
    """`n` students enrolled in the course."""
    accounts = [await login_as("student") for _ in range(n)]
    for account in accounts:
        await enrol(client, account, course_id)
    return accounts


def average(ratings: list[int]) -> float:
    """The mean to 2 decimals, half away from zero (as numeric rounding does)."""
    if not ratings:
        return 0.0
    exact = Decimal(sum(ratings)) / Decimal(len(ratings))
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


async def recomputed(session: Any, course_id: str) -> dict[str, Any]:
    """rating, rating_count and histogram from the published, non-deleted reviews."""
    rows = await session.execute(
        select(Review.rating)
        .where(
            Review.course_id == uuid.UUID(course_id),
            Review.status == "published",
            Review.deleted_at.is_(None),
        )
        .execution_options(include_deleted=True)
    )
    ratings = [int(r) for r in rows.scalars().all()]
    return {
        "rating": average(ratings),
        "rating_count": len(ratings),
        "rating_histogram": {str(s): ratings.count(s) for s in range(1, 6)},
    }


async def assert_rating_exact(
    client: httpx.AsyncClient, session: Any, course_id: str, step: str
) -> dict[str, Any]:
    """The course output and the stored columns both equal the recomputed figures."""
    expected = await recomputed(session, course_id)
    response = await client.get(course_url(course_id))
    assert response.status_code == 200, response.text
    detail = response.json()
    shown = {k: detail[k] for k in ("rating", "rating_count", "rating_histogram")}
    assert shown == expected, f"after {step}: course shows {shown}, reviews say {expected}"
    catalog = await client.get(
        COURSES, params={"instructor_id": detail["instructor_id"], "limit": 100}
    )
    assert catalog.status_code == 200, catalog.text
    (entry,) = [c for c in catalog.json()["items"] if c["id"] == course_id]
    listed_figures = {k: entry[k] for k in expected}
    assert listed_figures == expected, f"after {step}: the catalog shows {listed_figures}"
    stored = (
        await session.execute(
            select(
                Course.rating,
                Course.rating_count,
                *(getattr(Course, f"rating_{s}_count") for s in range(1, 6)),
            ).where(Course.id == uuid.UUID(course_id))
        )
    ).one()
    assert Decimal(stored[0]) == Decimal(str(expected["rating"])).quantize(Decimal("0.01")), step
    assert stored[1] == expected["rating_count"], step
    assert list(stored[2:]) == [expected["rating_histogram"][str(s)] for s in range(1, 6)], step
    return expected


async def listed(client: httpx.AsyncClient, course_id: str, limit: int = 20) -> list[dict]:
    """Every review the public listing shows, page by page, without logging in."""
    items: list[dict] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(reviews_url(course_id), params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


async def audit_actions(session: Any, review_id: str) -> list[tuple[str, str | None, dict]]:
    rows = await session.execute(
        select(AuditLog.action, AuditLog.actor_id, AuditLog.changes)
        .where(AuditLog.entity_type == "review", AuditLog.entity_id == uuid.UUID(review_id))
        .order_by(AuditLog.occurred_at, AuditLog.id)
    )
    return [
        (str(getattr(a, "value", a)), str(actor) if actor else None, changes)
        for a, actor, changes in rows.all()
    ]


# ---- posting ------------------------------------------------------------------------------------


async def test_post_returns_the_documented_payload_an_etag_and_emits_review_posted(
    client, login_as, session
):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    (student,) = await learners(client, login_as, course["id"], 1)

    response = await post_review(client, student, course["id"], 4, "  Clear and well paced.  ")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= REVIEW_FIELDS
    assert body["user_id"] == student.id and body["course_id"] == course["id"]
    assert body["rating"] == 4 and body["status"] == "published" and body["version"] == 1
    assert body["body"] == "Clear and well paced."
    assert response.headers["ETag"] == 'W/"1"'

    fetched = await client.get(review_url(body["id"]))  # public while published
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == body and fetched.headers["ETag"] == 'W/"1"'

    events = await outbox(session, course["id"])
    posted = [payload for event, payload in events if event == "ReviewPosted"]
    assert len(posted) == 1, events
    assert posted[0]["review_id"] == body["id"]
    assert posted[0]["user_id"] == student.id
    assert posted[0]["course_id"] == course["id"]
    assert posted[0]["rating"] == 4
    assert posted[0]["event_id"] and posted[0]["occurred_at"]

    figures = await assert_rating_exact(client, session, course["id"], "first review")
    assert figures == {
        "rating": 4.0,
        "rating_count": 1,
        "rating_histogram": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }


async def test_one_live_review_per_learner_and_course(client, login_as, session):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    other_course = await make_course(client, instructor)
    (student,) = await learners(client, login_as, course["id"], 1)
    await enrol(client, student, other_course["id"])

    first = await review(client, student, course["id"], 5)
    assert_problem(await post_review(client, student, course["id"], 3), 409, "conflict")
    await assert_rating_exact(client, session, course["id"], "refused second review")
    await review(client, student, other_course["id"], 2)  # another course is another review

    # Among non-deleted: after a soft delete the learner may review again.
    await ok(client.delete(review_url(first["id"]), headers=student.headers), 204)
    again = await review(client, student, course["id"], 1)
    assert again["id"] != first["id"]
    figures = await assert_rating_exact(client, session, course["id"], "review after delete")
    assert figures["rating_count"] == 1 and figures["rating"] == 1.0

    rows = await session.execute(
        select(Review.id, Review.deleted_at)
        .where(Review.user_id == uuid.UUID(student.id), Review.course_id == uuid.UUID(course["id"]))
        .execution_options(include_deleted=True)
    )
    live = [i for i, deleted_at in rows.all() if deleted_at is None]
    assert [str(i) for i in live] == [again["id"]]


async def test_only_enrolled_learners_may_review(client, login_as, session):
    instructor = await login_as("instructor")
    course, videos = await video_course(client, instructor, (20,))
    stranger, cancelled, finished = (
        await login_as("student"),
        await login_as("student"),
        await login_as("student"),
    )

    assert_problem(await post_review(client, stranger, course["id"], 5), 403, "not_enrolled")
    # The course's own instructor is no enrolled learner either.
    assert_problem(await post_review(client, instructor, course["id"], 5), 403, "not_enrolled")

    enrolment = await enrol(client, cancelled, course["id"])
    await ok(client.post(f"{API}/enrollments/{enrolment['id']}/cancel", headers=cancelled.headers))
    assert_problem(await post_review(client, cancelled, course["id"], 1), 403, "not_enrolled")

    await enrol(client, finished, course["id"])
    await watch_fully(client, session, finished, videos[0]["id"], 20)
    mine = await ok(client.get(f"{API}/users/me/enrollments", headers=finished.headers))
    assert [e["status"] for e in mine["items"]] == ["completed"]
    await review(client, finished, course["id"], 3)  # completed learners may review

    anonymous = await client.post(reviews_url(course["id"]), json={"rating": 5})
    assert_problem(anonymous, 401, "unauthorized")
    assert_problem(await post_review(client, finished, str(uuid.uuid4()), 5), 404, "not_found")
    draft = await create_course(client, instructor)
    assert_problem(await post_review(client, finished, draft["id"], 5), 404, "not_found")

    figures = await assert_rating_exact(client, session, course["id"], "enrolment rules")
    assert figures["rating_count"] == 1


# 4.0 is not here: JSON Schema's `integer` includes it, so it is the rating 4 (decisions,
# "Request bodies take JSON's types as JSON Schema defines them").
BAD_RATINGS: list[Any] = [0, 6, -1, 4.5, "4", True, None, [4], {"value": 4}]


async def test_ratings_outside_one_to_five_whole_numbers_are_refused(client, login_as, session):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    (student,) = await learners(client, login_as, course["id"], 1)

    for rating in BAD_RATINGS:
        refused = await post_review(client, student, course["id"], rating)
        assert_problem(refused, 422, "validation_error")
    missing = await client.post(reviews_url(course["id"]), headers=student.headers, json={})
    assert_problem(missing, 422, "validation_error")
    await assert_rating_exact(client, session, course["id"], "refused ratings")

    posted = await review(client, student, course["id"], 2)
    for rating in BAD_RATINGS:
        if rating is None:  # a null rating in a PATCH means "leave it as it is"
            continue
        refused = await patch(client, student, posted["id"], rating=rating)
        assert_problem(refused, 422, "validation_error")
    stored = await ok(client.get(review_url(posted["id"])))
    assert stored["rating"] == 2 and stored["version"] == 1
    figures = await assert_rating_exact(client, session, course["id"], "refused edits")
    assert figures["rating_histogram"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0}
    for stars in (1, 5, 4.0):  # the bounds themselves are fine, and 4.0 is the integer 4
        edited = await ok(patch(client, student, posted["id"], rating=stars))
        assert edited["rating"] == stars
        await assert_rating_exact(client, session, course["id"], f"edit to {stars}")


async def test_the_body_holds_at_most_5000_characters(client, login_as, session):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    student, other = await learners(client, login_as, course["id"], 2)

    too_long = await post_review(client, student, course["id"], 4, "x" * 5001)
    assert_problem(too_long, 422, "validation_error")
    assert_problem(await post_review(client, student, course["id"], 4, 42), 422, "validation_error")
    longest = await review(client, student, course["id"], 4, "é" * 5000)
    assert len(longest["body"]) == 5000
    await review(client, other, course["id"], 5)  # the body is optional

    assert_problem(
        await patch(client, student, longest["id"], body="y" * 5001), 422, "validation_error"
    )
    edited = await ok(patch(client, student, longest["id"], body="Shorter now."))
    assert edited["body"] == "Shorter now." and edited["rating"] == 4
    await assert_rating_exact(client, session, course["id"], "body edits")


@pytest.mark.parametrize("rating", [0, 6])
async def test_the_database_check_refuses_out_of_range_ratings(client, login_as, session, rating):
    """A raw INSERT past the API and the ORM still meets `CHECK (rating BETWEEN 1 AND 5)`."""
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    (student,) = await learners(client, login_as, course["id"], 1)
    insert = text(
        "INSERT INTO reviews (id, user_id, course_id, rating, body, status, version) "
        "VALUES (:id, :user_id, :course_id, :rating, '', 'published', 1)"
    ).bindparams(
        bindparam("id", type_=Uuid()),
        bindparam("user_id", type_=Uuid()),
        bindparam("course_id", type_=Uuid()),
    )
    values = {"user_id": uuid.UUID(student.id), "course_id": uuid.UUID(course["id"])}

    with pytest.raises(IntegrityError) as raised:
        async with session.begin_nested():
            await session.execute(insert, {"id": uuid.uuid4(), "rating": rating, **values})
    assert "rating_range" in str(raised.value.orig), raised.value

    # The same statement with a valid rating goes in: only the rating was wrong.
    async with session.begin_nested():
        await session.execute(insert, {"id": uuid.uuid4(), "rating": 5, **values})
    count = await session.execute(
        select(Review.rating).where(Review.course_id == uuid.UUID(course["id"]))
    )
    assert count.scalars().all() == [5]


# ---- moderation and visibility -------------------------------------------------------------------


async def test_moderation_is_for_the_courses_instructor_or_an_admin(client, login_as, session):
    instructor, other_instructor, admin = (
        await login_as("instructor"),
        await login_as("instructor"),
        await login_as("admin"),
    )
    course = await make_course(client, instructor)
    author, classmate = await learners(client, login_as, course["id"], 2)
    posted = await review(client, author, course["id"], 5)
    await review(client, classmate, course["id"], 3)

    for outsider in (author, classmate, other_instructor):
        assert_problem(
            await patch(client, outsider, posted["id"], status="hidden"), 403, "forbidden"
        )
    assert_problem(
        await client.patch(review_url(posted["id"]), json={"status": "hidden"}), 401, "unauthorized"
    )
    await assert_rating_exact(client, session, course["id"], "refused moderation")

    hidden = await ok(patch(client, instructor, posted["id"], status="hidden"))
    assert hidden["status"] == "hidden" and hidden["version"] == 2
    figures = await assert_rating_exact(client, session, course["id"], "hide")
    assert figures["rating_count"] == 1 and figures["rating"] == 3.0

    # Hiding what is hidden changes nothing.
    again = await ok(patch(client, admin, posted["id"], status="hidden"))
    assert again["version"] == 2
    await assert_rating_exact(client, session, course["id"], "hide twice")

    assert_problem(
        await patch(client, other_instructor, posted["id"], status="published"), 403, "forbidden"
    )
    shown = await ok(patch(client, admin, posted["id"], status="published"))
    assert shown["status"] == "published" and shown["version"] == 3
    figures = await assert_rating_exact(client, session, course["id"], "unhide")
    assert figures["rating_count"] == 2 and figures["rating"] == 4.0

    bogus = await patch(client, instructor, posted["id"], status="deleted")
    assert_problem(bogus, 422, "validation_error")


async def test_hidden_reviews_are_seen_only_by_their_author_and_moderators(
    client, login_as, session
):
    instructor, other_instructor, admin = (
        await login_as("instructor"),
        await login_as("instructor"),
        await login_as("admin"),
    )
    course = await make_course(client, instructor)
    author, classmate = await learners(client, login_as, course["id"], 2)
    posted = await review(client, author, course["id"], 1, "Not for me.")
    visible = await review(client, classmate, course["id"], 5)
    await ok(patch(client, instructor, posted["id"], status="hidden"))

    assert [r["id"] for r in await listed(client, course["id"])] == [visible["id"]]
    for outsider in (None, classmate, other_instructor):
        got = await client.get(review_url(posted["id"]), headers=headers(outsider))
        assert_problem(got, 404, "not_found")
    for insider in (author, instructor, admin):
        got = await ok(client.get(review_url(posted["id"]), headers=headers(insider)))
        assert got["status"] == "hidden" and got["body"] == "Not for me."

    # Others cannot even learn it exists by editing it.
    assert_problem(await patch(client, classmate, posted["id"], rating=5), 404, "not_found")
    # The author may still edit a hidden review; it keeps counting for nothing.
    edited = await ok(patch(client, author, posted["id"], rating=2))
    assert edited["status"] == "hidden" and edited["rating"] == 2
    figures = await assert_rating_exact(client, session, course["id"], "edit while hidden")
    assert figures["rating_count"] == 1 and figures["rating_histogram"]["2"] == 0

    await ok(patch(client, instructor, posted["id"], status="published"))
    listing = await listed(client, course["id"])
    assert [r["id"] for r in listing] == [visible["id"], posted["id"]]
    figures = await assert_rating_exact(client, session, course["id"], "unhide edited")
    assert figures["rating_histogram"]["2"] == 1 and figures["rating"] == 3.5


async def test_the_listing_is_public_newest_first_by_cursor_without_hidden_or_deleted(
    client, login_as, session
):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    students = await learners(client, login_as, course["id"], 6)
    posted = [await review(client, s, course["id"], 1 + i % 5) for i, s in enumerate(students)]
    await ok(patch(client, instructor, posted[1]["id"], status="hidden"))
    await ok(client.delete(review_url(posted[3]["id"]), headers=students[3].headers), 204)

    expected = [
        r["id"] for r in reversed(posted) if r["id"] not in (posted[1]["id"], posted[3]["id"])
    ]
    for limit in (1, 2, 3, 100):
        items = await listed(client, course["id"], limit)
        assert [r["id"] for r in items] == expected, limit
        assert all(set(r) >= REVIEW_FIELDS and r["status"] == "published" for r in items)
    first = await ok(client.get(reviews_url(course["id"])))
    assert len(first["items"]) == 4 and first["next_cursor"] is None

    bad = await client.get(reviews_url(course["id"]), params={"cursor": "not-a-cursor"})
    assert_problem(bad, 400, "invalid_cursor")
    for limit in (0, 101):
        wrong = await client.get(reviews_url(course["id"]), params={"limit": limit})
        assert_problem(wrong, 422, "validation_error")
    assert_problem(await client.get(reviews_url(str(uuid.uuid4()))), 404, "not_found")
    draft = await create_course(client, instructor)
    assert_problem(await client.get(reviews_url(draft["id"])), 404, "not_found")
    await assert_rating_exact(client, session, course["id"], "listing")


# ---- the course rating, step by step ---------------------------------------------------------


async def test_rating_count_and_histogram_stay_exact_through_every_change(
    client, login_as, session
):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    course = await make_course(client, instructor)
    cid = course["id"]
    a, b, c, d, e, f, g, h = await learners(client, login_as, cid, 8)
    step = "start"
    figures = await assert_rating_exact(client, session, cid, step)
    assert figures == {
        "rating": 0.0,
        "rating_count": 0,
        "rating_histogram": {str(s): 0 for s in range(1, 6)},
    }

    reviews: dict[str, dict] = {}
    for name, account, stars in (
        ("a", a, 5),
        ("b", b, 5),
        ("c", c, 5),
        ("d", d, 5),
        ("e", e, 5),
        ("f", f, 4),
        ("g", g, 3),
        ("h", h, 1),
    ):
        reviews[name] = await review(client, account, cid, stars)
        figures = await assert_rating_exact(client, session, cid, f"{name} posts {stars}")
    # 33 / 8 = 4.125: the half rounds up.
    assert figures["rating"] == 4.13 and figures["rating_count"] == 8

    async def then(step: str, response: Any, status: int = 200) -> dict:
        body = await ok(response, status)
        await assert_rating_exact(client, session, cid, step)
        return body

    await then("h edits 1 -> 2", patch(client, h, reviews["h"]["id"], rating=2))
    await then("h edits the body only", patch(client, h, reviews["h"]["id"], body="Better."))
    await then("h sets the same rating", patch(client, h, reviews["h"]["id"], rating=2))
    await then("instructor hides g", patch(client, instructor, reviews["g"]["id"], status="hidden"))
    await then("g edits while hidden", patch(client, g, reviews["g"]["id"], rating=1))
    await then("admin unhides g", patch(client, admin, reviews["g"]["id"], status="published"))
    await then("f deletes", client.delete(review_url(reviews["f"]["id"]), headers=f.headers), 204)
    await then("admin hides a", patch(client, admin, reviews["a"]["id"], status="hidden"))
    await then(
        "a deletes hidden", client.delete(review_url(reviews["a"]["id"]), headers=a.headers), 204
    )
    restored = await then(
        "a restores hidden",
        client.post(review_url(reviews["a"]["id"], "/restore"), headers=a.headers),
    )
    assert restored["status"] == "hidden"
    await then(
        "f restores", client.post(review_url(reviews["f"]["id"], "/restore"), headers=f.headers)
    )
    await then(
        "instructor unhides a", patch(client, instructor, reviews["a"]["id"], status="published")
    )
    await then("c edits 5 -> 1", patch(client, c, reviews["c"]["id"], rating=1))
    await then(
        "admin deletes b", client.delete(review_url(reviews["b"]["id"]), headers=admin.headers), 204
    )
    await then(
        "admin restores b",
        client.post(review_url(reviews["b"]["id"], "/restore"), headers=admin.headers),
    )
    await then(
        "restoring a live review is a no-op",
        client.post(review_url(reviews["b"]["id"], "/restore"), headers=b.headers),
    )

    for name, account in (
        ("a", a),
        ("b", b),
        ("c", c),
        ("d", d),
        ("e", e),
        ("f", f),
        ("g", g),
        ("h", h),
    ):
        await then(
            f"{name} deletes",
            client.delete(review_url(reviews[name]["id"]), headers=account.headers),
            204,
        )
    figures = await assert_rating_exact(client, session, cid, "all deleted")
    assert figures["rating"] == 0.0 and figures["rating_count"] == 0


async def test_restore_conflicts_when_the_author_has_posted_a_new_review(client, login_as, session):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    course = await make_course(client, instructor)
    author, stranger = await learners(client, login_as, course["id"], 2)
    old = await review(client, author, course["id"], 2)

    assert_problem(
        await client.delete(review_url(old["id"]), headers=stranger.headers), 403, "forbidden"
    )
    assert_problem(
        await client.delete(review_url(old["id"]), headers=instructor.headers), 403, "forbidden"
    )
    await ok(client.delete(review_url(old["id"]), headers=author.headers), 204)
    assert_problem(
        await client.get(review_url(old["id"]), headers=author.headers), 404, "not_found"
    )
    assert_problem(
        await client.delete(review_url(old["id"]), headers=author.headers), 404, "not_found"
    )
    assert_problem(
        await client.post(review_url(old["id"], "/restore"), headers=stranger.headers),
        404,
        "not_found",
    )
    new = await review(client, author, course["id"], 5)
    await assert_rating_exact(client, session, course["id"], "new review")

    for who in (author, admin):
        refused = await client.post(review_url(old["id"], "/restore"), headers=who.headers)
        assert_problem(refused, 409, "conflict")
        figures = await assert_rating_exact(client, session, course["id"], "refused restore")
        assert figures["rating_count"] == 1 and figures["rating"] == 5.0

    await ok(client.delete(review_url(new["id"]), headers=author.headers), 204)
    back = await ok(client.post(review_url(old["id"], "/restore"), headers=author.headers))
    assert back["id"] == old["id"] and back["rating"] == 2
    figures = await assert_rating_exact(client, session, course["id"], "restore old")
    assert figures["rating_count"] == 1 and figures["rating"] == 2.0


# ---- optimistic locking and the shape of a PATCH ----------------------------------------------


async def test_patch_honours_if_match_and_body_version(client, login_as, session):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    (author,) = await learners(client, login_as, course["id"], 1)
    posted = await review(client, author, course["id"], 3)
    url = review_url(posted["id"])

    edited = await client.patch(
        url, headers=headers(author, **{"If-Match": 'W/"1"'}), json={"rating": 4}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.headers["ETag"] == 'W/"2"'

    stale_header = await client.patch(
        url, headers=headers(author, **{"If-Match": 'W/"1"'}), json={"rating": 1}
    )
    assert_problem(stale_header, 412, "precondition_failed")
    garbage = await client.patch(
        url, headers=headers(author, **{"If-Match": "whatever"}), json={"rating": 1}
    )
    assert_problem(garbage, 412, "precondition_failed")
    assert_problem(
        await patch(client, author, posted["id"], rating=1, version=1), 409, "version_conflict"
    )
    stale_moderation = await client.patch(
        url, headers=headers(instructor, **{"If-Match": 'W/"1"'}), json={"status": "hidden"}
    )
    assert_problem(stale_moderation, 412, "precondition_failed")
    assert_problem(
        await patch(client, instructor, posted["id"], status="hidden", version=1),
        409,
        "version_conflict",
    )
    stale_delete = await client.delete(url, headers=headers(author, **{"If-Match": 'W/"1"'}))
    assert_problem(stale_delete, 412, "precondition_failed")

    current = await ok(client.get(url))
    assert current["rating"] == 4 and current["version"] == 2 and current["status"] == "published"
    figures = await assert_rating_exact(client, session, course["id"], "stale writes")
    assert figures["rating_histogram"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}

    await ok(patch(client, author, posted["id"], rating=5, version=2))
    await ok(client.delete(url, headers=headers(author, **{"If-Match": 'W/"3"'})), 204)
    figures = await assert_rating_exact(client, session, course["id"], "fresh writes")
    assert figures["rating_count"] == 0


async def test_status_and_content_cannot_change_in_one_patch(client, login_as, session):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    (author,) = await learners(client, login_as, course["id"], 1)
    posted = await review(client, author, course["id"], 4)
    for body in (
        {"status": "hidden", "rating": 2},
        {"status": "published", "rating": 5},
        {"status": "hidden", "body": "and some words"},
        {"status": "hidden", "rating": 4, "body": ""},
    ):
        for who in (instructor, author):
            assert_problem(await patch(client, who, posted["id"], **body), 422, "invalid_value")
        current = await ok(client.get(review_url(posted["id"])))
        assert (current["rating"], current["status"], current["version"]) == (4, "published", 1)
        await assert_rating_exact(client, session, course["id"], f"refused {body}")


async def test_only_the_author_edits_a_review(client, login_as, session):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    course = await make_course(client, instructor)
    author, classmate = await learners(client, login_as, course["id"], 2)
    posted = await review(client, author, course["id"], 4)
    for who in (classmate, instructor, admin):
        assert_problem(await patch(client, who, posted["id"], rating=1), 403, "forbidden")
    assert_problem(await patch(client, author, str(uuid.uuid4()), rating=1), 404, "not_found")
    await assert_rating_exact(client, session, course["id"], "refused edits")


# ---- the audit trail --------------------------------------------------------------------------


async def test_every_review_change_is_audited(client, login_as, session):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    (author,) = await learners(client, login_as, course["id"], 1)
    posted = await review(client, author, course["id"], 3, "Fine.")
    await ok(patch(client, author, posted["id"], rating=5))
    await ok(patch(client, instructor, posted["id"], status="hidden"))
    await ok(client.delete(review_url(posted["id"]), headers=author.headers), 204)
    await ok(client.post(review_url(posted["id"], "/restore"), headers=author.headers))

    entries = await audit_actions(session, posted["id"])
    assert [action for action, _, _ in entries] == [
        "create",
        "update",
        "update",
        "soft_delete",
        "restore",
    ], entries
    actors = [actor for _, actor, _ in entries]
    assert actors == [author.id, author.id, instructor.id, author.id, author.id], entries
    created, rated, hidden = entries[0][2], entries[1][2], entries[2][2]
    assert created["rating"] == [None, 3] and created["course_id"][1] == course["id"], created
    assert rated["rating"] == [3, 5], rated
    assert hidden["status"] == ["published", "hidden"], hidden
    assert entries[3][2]["deleted_at"][0] is None and entries[3][2]["deleted_at"][1]
    assert entries[4][2]["deleted_at"][1] is None
