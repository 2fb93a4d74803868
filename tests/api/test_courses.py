"""Course authoring through the HTTP API: drafts, content (sections, videos, quizzes),
ordering, optimistic locking, publishing and archiving (with their outbox events), soft
delete cascading to the content and restore bringing back exactly what went with it, the
course history, answer keys, and who may do what."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from learnhub.models import (
    AuditLog,
    Course,
    OutboxMessage,
    Quiz,
    QuizOption,
    QuizQuestion,
    Section,
    Video,
)
from tests.api.conftest import Account, assert_problem

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

API = "/api/v1"
COURSES = f"{API}/courses"
PRICE = {"amount": "19.99", "currency": "USD"}

QUESTIONS: list[dict[str, Any]] = [
    {
        "text": "What is 2 + 2?",
        "type": "single_choice",
        "options": [{"text": "3"}, {"text": "4", "is_correct": True}, {"text": "5"}],
    },
    {
        "text": "Which numbers are prime?",
        "type": "multiple_choice",
        "options": [
            {"text": "2", "is_correct": True},
            {"text": "3", "is_correct": True},
            {"text": "4"},
        ],
    },
    {
        "text": "Python is dynamically typed.",
        "type": "true_false",
        "options": [{"text": "True", "is_correct": True}, {"text": "False"}],
    },
    {"text": "Name the capital of France.", "type": "short_answer", "answer_text": "Paris"},
]


# ---- helpers ----------------------------------------------------------------------------------


def unique_title(prefix: str = "Course") -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def course_url(course_id: str, suffix: str = "") -> str:
    return f"{COURSES}/{course_id}{suffix}"


def etag_version(tag: str) -> str:
    """The version part of a course's ETag: `W/"<version>.<stamp>"` -> `W/"<version>"` (the
    stamp fingerprints counters and content; If-Match compares the version only)."""
    match = re.fullmatch(r'W/"(\d+)\.[0-9a-f]+"', tag)
    assert match is not None, tag
    return f'W/"{match.group(1)}"'


def auth(account: Account | None, **extra: str) -> dict[str, str]:
    return {**(account.headers if account else {}), **extra}


async def create_course(client: httpx.AsyncClient, account: Account, **fields: Any) -> dict:
    body = {"title": unique_title(), "price": PRICE, **fields}
    response = await client.post(COURSES, headers=account.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def add_section(
    client: httpx.AsyncClient, account: Account, course_id: str, **fields: Any
) -> dict:
    body = {"title": unique_title("Section"), **fields}
    response = await client.post(
        course_url(course_id, "/sections"), headers=account.headers, json=body
    )
    assert response.status_code == 201, response.text
    return response.json()


async def add_video(
    client: httpx.AsyncClient, account: Account, section_id: str, **fields: Any
) -> dict:
    body = {
        "title": unique_title("Video"),
        "url": "https://videos.example.com/lesson.mp4",
        "duration_seconds": 600,
        "transcript": "hello world",
        **fields,
    }
    response = await client.post(
        f"{API}/sections/{section_id}/videos", headers=account.headers, json=body
    )
    assert response.status_code == 201, response.text
    return response.json()


async def add_quiz(
    client: httpx.AsyncClient, account: Account, section_id: str, **fields: Any
) -> dict:
    body = {"title": unique_title("Quiz"), "pass_mark": 60, "questions": QUESTIONS, **fields}
    response = await client.post(
        f"{API}/sections/{section_id}/quizzes", headers=account.headers, json=body
    )
    assert response.status_code == 201, response.text
    return response.json()


async def publish(client: httpx.AsyncClient, account: Account, course_id: str) -> dict:
    response = await client.post(course_url(course_id, "/publish"), headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def set_counters(session: Any, course_id: str, **values: Any) -> None:
    """rating, rating_count, enrollment_count (system-maintained) or published_at, directly."""
    await session.execute(
        update(Course)
        .where(Course.id == uuid.UUID(course_id))
        .values(**values)
        .execution_options(audited_bulk=True, synchronize_session=False)
    )


async def make_course(
    client: httpx.AsyncClient,
    instructor: Account,
    *,
    published: bool = True,
    session: Any = None,
    rating: Any = None,
    enrollments: int | None = None,
    **fields: Any,
) -> dict:
    """A course (published by default: one section with one video); `rating` and
    `enrollments` are written straight into the system-maintained columns via `session`."""
    course = await create_course(client, instructor, **fields)
    if published:
        section = await add_section(client, instructor, course["id"])
        await add_video(client, instructor, section["id"])
        course = await publish(client, instructor, course["id"])
    counters: dict[str, Any] = {}
    if rating is not None:
        counters["rating"] = rating
        counters["rating_count"] = 1
    if enrollments is not None:
        counters["enrollment_count"] = enrollments
    if counters:
        assert session is not None, "pass session= to set counters"
        await set_counters(session, course["id"], **counters)
        course.update({k: v for k, v in counters.items() if k != "rating"})
        if rating is not None:
            course["rating"] = float(rating)
    return course


async def outbox(session: Any, course_id: str) -> list[tuple[str, dict]]:
    rows = await session.execute(
        select(OutboxMessage.event_type, OutboxMessage.payload, OutboxMessage.aggregate_type)
        .where(OutboxMessage.aggregate_id == uuid.UUID(course_id))
        .order_by(OutboxMessage.position)
    )
    result = []
    for event_type, payload, aggregate_type in rows.all():
        assert aggregate_type == "course"
        result.append((event_type, payload))
    return result


async def deletion_state(session: Any, model: Any, entity_id: str) -> tuple[Any, Any]:
    """(deleted_at, delete_batch_id) of a row, soft-deleted or not."""
    row = await session.execute(
        select(model.deleted_at, model.delete_batch_id)
        .where(model.id == uuid.UUID(entity_id))
        .execution_options(include_deleted=True)
    )
    return tuple(row.one())


async def all_pages(
    client: httpx.AsyncClient, url: str, account: Account, limit: int
) -> list[dict]:
    """Every item of a cursor-paginated listing, page by page."""
    items: list[dict] = []
    cursor = None
    for _ in range(200):
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def find_keys(value: Any, keys: set[str]) -> set[str]:
    """Every key among `keys` present anywhere in a JSON document."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys:
                found.add(key)
            found |= find_keys(item, keys)
    elif isinstance(value, list):
        for item in value:
            found |= find_keys(item, keys)
    return found


# ---- creating and reading drafts -------------------------------------------------------------


async def test_create_returns_the_documented_course_payload(client, login_as, session):
    instructor = await login_as("instructor")
    title = unique_title("Intro to Data")
    response = await client.post(
        COURSES,
        headers=instructor.headers,
        json={
            "title": title,
            "description": "Learn the basics.",
            "price": PRICE,
            "difficulty": "intermediate",
            "tags": ["Python", "data", "python"],
            "objectives": ["Read CSV files", "Plot a chart"],
        },
    )
    assert response.status_code == 201, response.text
    assert etag_version(response.headers["etag"]) == 'W/"1"'
    course = response.json()
    expected_fields = {
        "id", "slug", "title", "description", "price", "difficulty", "status", "instructor_id",
        "rating", "rating_count", "enrollment_count", "tags", "objectives", "version",
        "created_at", "updated_at", "published_at", "sections",
    }  # fmt: skip
    assert expected_fields <= set(course)
    assert course["title"] == title
    assert course["slug"] == title.lower().replace(" ", "-")
    assert course["description"] == "Learn the basics."
    assert course["price"] == {"amount": "19.99", "currency": "USD"}
    assert course["difficulty"] == "intermediate"
    assert course["status"] == "draft" and course["published_at"] is None
    assert course["instructor_id"] == instructor.id
    assert (course["rating"], course["rating_count"], course["enrollment_count"]) == (0, 0, 0)
    assert course["tags"] == ["data", "python"]
    assert course["objectives"] == ["Read CSV files", "Plot a chart"]
    assert course["version"] == 1 and course["sections"] == []

    again = await client.get(course_url(course["id"]), headers=instructor.headers)
    assert again.status_code == 200 and etag_version(again.headers["etag"]) == 'W/"1"'
    assert again.json()["objectives"] == course["objectives"]

    entries = await session.execute(
        select(AuditLog.action, AuditLog.actor_id).where(
            AuditLog.entity_id == uuid.UUID(course["id"])
        )
    )
    assert entries.all() == [("create", uuid.UUID(instructor.id))]


async def test_slug_follows_the_title_with_suffixes_and_explicit_duplicates_conflict(
    client, login_as
):
    instructor = await login_as("instructor")
    title = unique_title("Élan & Python:")
    base = "elan-python-" + title.rsplit(" ", 1)[1]
    slugs = [(await create_course(client, instructor, title=title))["slug"] for _ in range(3)]
    assert slugs == [base, f"{base}-2", f"{base}-3"]

    taken = await client.post(
        COURSES, headers=instructor.headers, json={"title": "Other", "slug": base}
    )
    assert_problem(taken, 409, "conflict")
    chosen = await create_course(client, instructor, title="Other", slug=f"{base}-custom")
    assert chosen["slug"] == f"{base}-custom"
    assert_problem(
        await client.post(
            COURSES, headers=instructor.headers, json={"title": "Bad", "slug": "Not A Slug"}
        ),
        422,
        "validation_error",
    )


@pytest.mark.parametrize(
    "price",
    [
        {"amount": 19.99, "currency": "USD"},
        {"amount": "19.999", "currency": "USD"},
        {"amount": "-1.00", "currency": "USD"},
        {"amount": "abc", "currency": "USD"},
        {"amount": "10.00", "currency": "US"},
        {"amount": "10.00"},
    ],
    ids=["float", "three-places", "negative", "nan", "short-currency", "none"],
)
async def test_money_must_travel_as_a_decimal_string(client, login_as, session, price):
    instructor = await login_as("instructor")
    title = unique_title()
    response = await client.post(
        COURSES, headers=instructor.headers, json={"title": title, "price": price}
    )
    assert response.status_code == 422, response.text
    assert_problem(response, 422, response.json()["code"])
    assert response.json()["code"] in {"validation_error", "invalid_value"}
    created = await session.execute(select(Course.id).where(Course.title == title))
    assert created.first() is None


async def test_money_round_trips_exactly_and_unknown_currencies_are_refused(client, login_as):
    instructor = await login_as("instructor")
    exact = await create_course(
        client, instructor, price={"amount": "999999.99", "currency": "eur"}
    )
    assert exact["price"] == {"amount": "999999.99", "currency": "EUR"}
    whole = await create_course(client, instructor, price={"amount": "20", "currency": "USD"})
    assert whole["price"] == {"amount": "20.00", "currency": "USD"}
    free = await create_course(client, instructor, price={"amount": 0, "currency": "USD"})
    assert free["price"]["amount"] == "0.00"
    # JSON has one number type: 20.0 is the whole number 20, taken exactly.
    integral = await create_course(client, instructor, price={"amount": 20.0, "currency": "USD"})
    assert integral["price"] == {"amount": "20.00", "currency": "USD"}
    assert_problem(
        await client.post(
            COURSES,
            headers=instructor.headers,
            json={"title": unique_title(), "price": {"amount": "5.00", "currency": "ZZZ"}},
        ),
        422,
        "invalid_value",
    )
    patched = await client.patch(
        course_url(whole["id"]),
        headers=instructor.headers,
        json={"price": {"amount": "0.10", "currency": "USD"}},
    )
    assert patched.status_code == 200 and patched.json()["price"]["amount"] == "0.10"
    assert_problem(
        await client.patch(
            course_url(whole["id"]),
            headers=instructor.headers,
            json={"price": {"amount": 0.3, "currency": "USD"}},
        ),
        422,
        "validation_error",
    )


# ---- editing with optimistic locking ---------------------------------------------------------


async def test_patch_honours_if_match_and_body_version(client, login_as, session):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor, tags=["a"])
    url = course_url(course["id"])

    ok = await client.patch(
        url, headers=auth(instructor, **{"If-Match": 'W/"1"'}), json={"title": "Renamed"}
    )
    assert ok.status_code == 200, ok.text
    assert etag_version(ok.headers["etag"]) == 'W/"2"' and ok.json()["version"] == 2
    assert ok.json()["title"] == "Renamed"

    stale = await client.patch(
        url, headers=auth(instructor, **{"If-Match": 'W/"1"'}), json={"title": "Lost"}
    )
    assert_problem(stale, 412, "precondition_failed")
    assert_problem(
        await client.patch(url, headers=instructor.headers, json={"title": "Lost", "version": 1}),
        409,
        "version_conflict",
    )
    assert_problem(
        await client.patch(
            url, headers=auth(instructor, **{"If-Match": "garbage"}), json={"title": "Lost"}
        ),
        412,
        "precondition_failed",
    )

    # Tag and objective membership changes move the version too.
    tagged = await client.patch(
        url, headers=instructor.headers, json={"tags": ["b", "a"], "version": 2}
    )
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["tags"] == ["a", "b"] and tagged.json()["version"] == 3
    goals = await client.patch(
        url, headers=auth(instructor, **{"If-Match": 'W/"3"'}), json={"objectives": ["One"]}
    )
    assert goals.status_code == 200 and etag_version(goals.headers["etag"]) == 'W/"4"'
    assert goals.json()["objectives"] == ["One"]

    # A system counter update does not cause a false conflict for the next human edit.
    await set_counters(session, course["id"], enrollment_count=7)
    later = await client.patch(
        url, headers=auth(instructor, **{"If-Match": 'W/"4"'}), json={"description": "New"}
    )
    assert later.status_code == 200, later.text
    body = later.json()
    assert (body["title"], body["description"], body["enrollment_count"]) == ("Renamed", "New", 7)

    latest = await client.get(url, headers=instructor.headers)
    assert etag_version(latest.headers["etag"]) == 'W/"5"' and latest.json()["title"] == "Renamed"
    assert_problem(
        await client.patch(url, headers=instructor.headers, json={"status": "published"}),
        422,
        "validation_error",
    )


async def test_admin_may_edit_any_course_and_others_may_not(client, login_as):
    owner, other, admin = (
        await login_as("instructor"),
        await login_as("instructor"),
        await login_as("admin"),
    )
    draft = await create_course(client, owner)
    edited = await client.patch(
        course_url(draft["id"]), headers=admin.headers, json={"title": "Fixed by admin"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Fixed by admin"
    assert edited.json()["instructor_id"] == owner.id  # ownership does not move

    # Someone else's draft does not exist for another instructor.
    assert_problem(
        await client.patch(course_url(draft["id"]), headers=other.headers, json={"title": "x"}),
        404,
        "not_found",
    )
    assert_problem(
        await client.get(course_url(draft["id"]), headers=other.headers), 404, "not_found"
    )
    assert_problem(await client.get(course_url(draft["id"])), 404, "not_found")

    published = await make_course(client, owner)
    assert_problem(
        await client.patch(course_url(published["id"]), headers=other.headers, json={"title": "x"}),
        403,
        "forbidden",
    )
    assert_problem(
        await client.patch(course_url(published["id"]), json={"title": "x"}), 401, "unauthorized"
    )
    assert (await client.get(course_url(published["id"]), headers=other.headers)).status_code == 200


async def test_unknown_and_malformed_course_ids(client, login_as):
    instructor = await login_as("instructor")
    missing = str(uuid.uuid4())
    assert_problem(await client.get(course_url(missing)), 404, "not_found")
    assert_problem(
        await client.patch(course_url(missing), headers=instructor.headers, json={"title": "x"}),
        404,
        "not_found",
    )
    assert_problem(
        await client.post(course_url(missing, "/publish"), headers=instructor.headers),
        404,
        "not_found",
    )
    # The course page takes a slug too (tests/api/test_course_keys.py): no such slug is 404;
    # the other routes under a course take ids only.
    assert_problem(await client.get(course_url("not-a-uuid")), 404, "not_found")
    assert_problem(
        await client.patch(course_url("not-a-uuid"), headers=instructor.headers, json={}),
        422,
        "validation_error",
    )


# ---- content: sections, videos, quizzes, ordering --------------------------------------------


async def test_course_detail_embeds_ordered_sections_with_videos_and_quizzes_without_keys(
    client, login_as
):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    first = await add_section(client, instructor, course["id"], title="First")
    second = await add_section(client, instructor, course["id"], title="Second")
    assert (first["position"], second["position"]) == (0, 1)
    assert first["course_id"] == course["id"]
    v1 = await add_video(client, instructor, first["id"], title="V1")
    v2 = await add_video(client, instructor, first["id"], title="V2")
    assert (v1["position"], v2["position"]) == (0, 1)
    assert v1["course_id"] == course["id"] and v1["section_id"] == first["id"]
    assert v1["url"] == "https://videos.example.com/lesson.mp4" and v1["duration_seconds"] == 600
    quiz = await add_quiz(client, instructor, second["id"], title="Q1", max_attempts=3)
    assert quiz["course_id"] == course["id"] and quiz["max_attempts"] == 3
    await publish(client, instructor, course["id"])

    response = await client.get(course_url(course["id"]))
    assert response.status_code == 200, response.text
    detail = response.json()
    assert [s["title"] for s in detail["sections"]] == ["First", "Second"]
    assert [v["title"] for v in detail["sections"][0]["videos"]] == ["V1", "V2"]
    assert detail["sections"][0]["quizzes"] == []
    assert [q["title"] for q in detail["sections"][1]["quizzes"]] == ["Q1"]
    assert detail["sections"][1]["quizzes"][0]["id"] == quiz["id"]
    assert find_keys(detail, {"is_correct", "answer_text", "questions", "options"}) == set()
    assert "Paris" not in response.text

    section = await client.get(f"{API}/sections/{first['id']}")
    assert section.status_code == 200 and section.json()["title"] == "First"
    # The transcript is for the course's learners, instructor and admins (SPEC 5): the
    # anonymous caller sees the video locked.
    video = await client.get(f"{API}/videos/{v1['id']}")
    assert video.status_code == 200 and video.json()["transcript"] is None
    assert video.json()["locked"] is True and video.json()["url"] is None
    video = await client.get(f"{API}/videos/{v1['id']}", headers=instructor.headers)
    assert video.status_code == 200 and video.json()["transcript"] == "hello world"


async def test_reorder_sections_videos_and_quizzes(client, login_as):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    sections = [await add_section(client, instructor, course["id"], title=t) for t in "ABC"]
    wanted = [sections[2]["id"], sections[0]["id"], sections[1]["id"]]
    response = await client.put(
        course_url(course["id"], "/sections/order"),
        headers=instructor.headers,
        json={"ids": wanted},
    )
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()] == wanted
    assert [s["position"] for s in response.json()] == [0, 1, 2]

    section_id = sections[0]["id"]
    videos = [await add_video(client, instructor, section_id, title=t) for t in "XYZ"]
    order = [videos[1]["id"], videos[2]["id"], videos[0]["id"]]
    response = await client.put(
        f"{API}/sections/{section_id}/videos/order", headers=instructor.headers, json={"ids": order}
    )
    assert response.status_code == 200, response.text
    assert [(v["id"], v["position"]) for v in response.json()] == list(
        zip(order, [0, 1, 2], strict=True)
    )

    quizzes = [await add_quiz(client, instructor, section_id, questions=[]) for _ in range(2)]
    order_q = [quizzes[1]["id"], quizzes[0]["id"]]
    response = await client.put(
        f"{API}/sections/{section_id}/quizzes/order",
        headers=instructor.headers,
        json={"ids": order_q},
    )
    assert response.status_code == 200, response.text
    assert [q["id"] for q in response.json()] == order_q

    detail = (await client.get(course_url(course["id"]), headers=instructor.headers)).json()
    assert [s["title"] for s in detail["sections"]] == ["C", "A", "B"]
    section_a = detail["sections"][1]
    assert [v["title"] for v in section_a["videos"]] == ["Y", "Z", "X"]
    assert [q["id"] for q in section_a["quizzes"]] == order_q

    # The new order must name every item exactly once.
    for bad in (wanted[:2], [*wanted, wanted[0]], [*wanted[:2], str(uuid.uuid4())]):
        assert_problem(
            await client.put(
                course_url(course["id"], "/sections/order"),
                headers=instructor.headers,
                json={"ids": bad},
            ),
            422,
            "invalid_value",
        )
    after = (await client.get(course_url(course["id"]), headers=instructor.headers)).json()
    assert [s["title"] for s in after["sections"]] == ["C", "A", "B"]


async def test_section_and_video_edits_and_validation(client, login_as):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    video = await add_video(client, instructor, section["id"])

    renamed = await client.patch(
        f"{API}/sections/{section['id']}", headers=instructor.headers, json={"title": "Renamed"}
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    patched = await client.patch(
        f"{API}/videos/{video['id']}",
        headers=instructor.headers,
        json={"title": "Better", "duration_seconds": 90, "url": "https://cdn.example.org/x.mp4"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["title"], patched.json()["duration_seconds"]) == ("Better", 90)
    assert patched.json()["url"] == "https://cdn.example.org/x.mp4"

    # Positions are unique among live siblings: taking a used one is a conflict, not a 500.
    second = await add_section(client, instructor, course["id"])
    assert_problem(
        await client.patch(
            f"{API}/sections/{second['id']}", headers=instructor.headers, json={"position": 0}
        ),
        409,
        "conflict",
    )
    # A deleted video whose position was reused meanwhile cannot come back on top of it.
    assert (
        await client.delete(f"{API}/videos/{video['id']}", headers=instructor.headers)
    ).status_code == 204
    successor = await add_video(client, instructor, section["id"])
    assert successor["position"] == video["position"]
    assert_problem(
        await client.post(f"{API}/videos/{video['id']}/restore", headers=instructor.headers),
        409,
        "conflict",
    )
    moved = await client.patch(
        f"{API}/videos/{successor['id']}", headers=instructor.headers, json={"position": 5}
    )
    assert moved.status_code == 200, moved.text
    back = await client.post(f"{API}/videos/{video['id']}/restore", headers=instructor.headers)
    assert back.status_code == 200, back.text
    detail = (await client.get(course_url(course["id"]), headers=instructor.headers)).json()
    assert [v["id"] for v in detail["sections"][0]["videos"]] == [video["id"], successor["id"]]

    videos = f"{API}/sections/{section['id']}/videos"
    good = {"title": "V", "url": "https://example.com/v.mp4", "duration_seconds": 10}
    for bad, code in [
        # The document declares the http(s) pattern: a schema violation.
        ({**good, "url": "ftp://example.com/v.mp4"}, "validation_error"),
        ({**good, "url": "not a url"}, "validation_error"),
        ({**good, "duration_seconds": 0}, "validation_error"),
        ({**good, "title": ""}, "validation_error"),
        ({**good, "title": "   "}, "validation_error"),  # the not-blank pattern
        ({**good, "position": -1}, "validation_error"),
        ({**good, "surprise": 1}, "validation_error"),
    ]:
        assert_problem(await client.post(videos, headers=instructor.headers, json=bad), 422, code)
    assert_problem(
        await client.patch(
            f"{API}/videos/{video['id']}", headers=instructor.headers, json={"url": "javascript:x"}
        ),
        422,
        "validation_error",  # the document's http(s) pattern, as for POST
    )
    assert_problem(
        await client.post(
            course_url(course["id"], "/sections"), headers=instructor.headers, json={"title": ""}
        ),
        422,
        "validation_error",
    )
    assert_problem(
        await client.post(
            f"{API}/sections/{uuid.uuid4()}/videos", headers=instructor.headers, json=good
        ),
        404,
        "not_found",
    )


async def test_authoring_content_is_for_the_courses_instructor_only(client, login_as):
    owner, other, student = (
        await login_as("instructor"),
        await login_as("instructor"),
        await login_as("student"),
    )
    published = await make_course(client, owner)
    draft = await create_course(client, owner)
    draft_section = await add_section(client, owner, draft["id"])
    detail = (await client.get(course_url(published["id"]))).json()
    section_id = detail["sections"][0]["id"]
    video_id = detail["sections"][0]["videos"][0]["id"]
    quiz = await add_quiz(client, owner, section_id)
    video_body = {"title": "V", "url": "https://example.com/v.mp4", "duration_seconds": 10}
    quiz_body = {"title": "Q", "questions": QUESTIONS[:1]}

    def writes(course_id: str, section: str) -> list[tuple[str, str, dict | None]]:
        return [
            ("POST", course_url(course_id, "/sections"), {"title": "S"}),
            ("PUT", course_url(course_id, "/sections/order"), {"ids": [section]}),
            ("PATCH", f"{API}/sections/{section}", {"title": "S"}),
            ("POST", f"{API}/sections/{section}/videos", video_body),
            ("POST", f"{API}/sections/{section}/quizzes", quiz_body),
            ("DELETE", f"{API}/sections/{section}", None),
            ("POST", course_url(course_id, "/publish"), None),
            ("POST", course_url(course_id, "/archive"), None),
            ("DELETE", course_url(course_id), None),
            ("POST", course_url(course_id, "/restore"), None),
            ("PATCH", course_url(course_id), {"title": "T"}),
        ]

    item_writes = [
        ("PATCH", f"{API}/videos/{video_id}", {"title": "x"}),
        ("DELETE", f"{API}/videos/{video_id}", None),
        ("POST", f"{API}/videos/{video_id}/restore", None),
        ("PATCH", f"{API}/quizzes/{quiz['id']}", {"title": "x"}),
        ("DELETE", f"{API}/quizzes/{quiz['id']}", None),
        ("POST", f"{API}/quizzes/{quiz['id']}/restore", None),
        ("PUT", f"{API}/sections/{section_id}/videos/order", {"ids": [video_id]}),
        ("PUT", f"{API}/sections/{section_id}/quizzes/order", {"ids": [quiz["id"]]}),
    ]
    on_published = writes(published["id"], section_id) + item_writes
    for method, url, body in on_published:
        for account, status, code in [
            (other, 403, "forbidden"),
            (student, 403, "forbidden"),
            (None, 401, "unauthorized"),
        ]:
            response = await client.request(method, url, headers=auth(account), json=body)
            assert response.status_code == status, (method, url, account, response.text)
            assert_problem(response, status, code)
    for method, url, body in writes(draft["id"], draft_section["id"]):
        response = await client.request(method, url, headers=other.headers, json=body)
        assert_problem(response, 404, "not_found")
        response = await client.request(method, url, json=body)
        assert_problem(response, 401, "unauthorized")
    # Students author nothing, not even a course of their own.
    assert_problem(
        await client.post(COURSES, headers=student.headers, json={"title": "Mine"}),
        403,
        "forbidden",
    )
    assert_problem(await client.post(COURSES, json={"title": "Mine"}), 401, "unauthorized")
    # Nothing changed.
    after = (await client.get(course_url(published["id"]))).json()
    assert after["version"] == published["version"] and after["status"] == "published"
    assert [s["id"] for s in after["sections"]] == [section_id]
    assert [v["id"] for v in after["sections"][0]["videos"]] == [video_id]


# ---- publishing, archiving, the outbox -------------------------------------------------------


async def test_publish_needs_a_video_sets_published_at_and_emits_one_event(
    client, login_as, session
):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    url = course_url(course["id"], "/publish")
    assert_problem(await client.post(url, headers=instructor.headers), 409, "conflict")
    section = await add_section(client, instructor, course["id"])
    await add_quiz(client, instructor, section["id"])
    assert_problem(await client.post(url, headers=instructor.headers), 409, "conflict")
    video = await add_video(client, instructor, section["id"])
    await client.delete(f"{API}/videos/{video['id']}", headers=instructor.headers)
    assert_problem(await client.post(url, headers=instructor.headers), 409, "conflict")
    assert await outbox(session, course["id"]) == []
    await add_video(client, instructor, section["id"])

    current = (await client.get(course_url(course["id"]), headers=instructor.headers)).json()
    stale = current["version"] - 1 if current["version"] > 1 else 99
    assert_problem(
        await client.post(url, headers=auth(instructor, **{"If-Match": f'W/"{stale}"'})),
        412,
        "precondition_failed",
    )
    assert_problem(
        await client.post(url, headers=instructor.headers, json={"version": stale}),
        409,
        "version_conflict",
    )
    response = await client.post(
        url, headers=auth(instructor, **{"If-Match": f'W/"{current["version"]}"'})
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "published" and body["published_at"] is not None
    assert body["version"] == current["version"] + 1
    assert etag_version(response.headers["etag"]) == f'W/"{body["version"]}"'

    events = await outbox(session, course["id"])
    assert [e for e, _ in events] == ["CoursePublished"]
    payload = events[0][1]
    assert payload["course_id"] == course["id"] and payload["instructor_id"] == instructor.id
    assert payload["event_id"] and payload["occurred_at"]

    # Publishing again changes nothing and emits nothing.
    again = await client.post(url, headers=instructor.headers)
    assert again.status_code == 200, again.text
    assert again.json()["published_at"] == body["published_at"]
    assert again.json()["version"] == body["version"]
    assert [e for e, _ in await outbox(session, course["id"])] == ["CoursePublished"]


async def test_publish_refuses_a_course_whose_price_is_no_longer_valid(client, login_as, session):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    await add_video(client, instructor, section["id"])
    await set_counters(session, course["id"], price_currency="ZZZ")
    assert_problem(
        await client.post(course_url(course["id"], "/publish"), headers=instructor.headers),
        422,
        "invalid_value",
    )
    state = await session.execute(select(Course.status).where(Course.id == uuid.UUID(course["id"])))
    assert state.scalar_one() == "draft"
    assert await outbox(session, course["id"]) == []


async def test_archive_takes_a_published_course_out_and_emits_course_archived(
    client, login_as, session
):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    draft = await create_course(client, instructor)
    assert_problem(
        await client.post(course_url(draft["id"], "/archive"), headers=instructor.headers),
        409,
        "conflict",
    )
    course = await make_course(client, instructor)
    url = course_url(course["id"], "/archive")
    assert_problem(
        await client.post(url, headers=auth(instructor, **{"If-Match": 'W/"1"'})),
        412,
        "precondition_failed",
    )
    response = await client.post(url, headers=admin.headers, json={"version": course["version"]})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "archived"
    assert response.json()["version"] == course["version"] + 1
    assert response.json()["published_at"] == course["published_at"]
    events = await outbox(session, course["id"])
    assert [e for e, _ in events] == ["CoursePublished", "CourseArchived"]
    assert events[1][1]["course_id"] == course["id"]
    assert_problem(await client.post(url, headers=instructor.headers), 409, "conflict")
    listed = await client.get(COURSES, params={"instructor_id": instructor.id})
    assert listed.json()["items"] == []
    status = await session.execute(
        select(Course.status).where(Course.id == uuid.UUID(course["id"]))
    )
    assert status.scalar_one() == "archived"


# ---- soft delete and restore -----------------------------------------------------------------


async def test_soft_delete_cascades_and_restore_brings_back_exactly_its_children(
    client, login_as, session
):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    sec_a = await add_section(client, instructor, course["id"], title="A")
    sec_b = await add_section(client, instructor, course["id"], title="B")
    a1 = await add_video(client, instructor, sec_a["id"], title="A1")
    a2 = await add_video(client, instructor, sec_a["id"], title="A2")
    b1 = await add_video(client, instructor, sec_b["id"], title="B1")
    quiz = await add_quiz(client, instructor, sec_b["id"])
    # A2 goes first, on its own: restoring the course must not bring it back.
    assert (
        await client.delete(f"{API}/videos/{a2['id']}", headers=instructor.headers)
    ).status_code == 204
    own_batch = (await deletion_state(session, Video, a2["id"]))[1]
    assert own_batch is not None

    current = await client.get(course_url(course["id"]), headers=instructor.headers)
    version = current.json()["version"]
    assert_problem(
        await client.delete(
            course_url(course["id"]), headers=auth(instructor, **{"If-Match": 'W/"99"'})
        ),
        412,
        "precondition_failed",
    )
    deleted = await client.delete(
        course_url(course["id"]), headers=auth(instructor, **{"If-Match": f'W/"{version}"'})
    )
    assert deleted.status_code == 204, deleted.text

    # Gone from the API...
    assert_problem(
        await client.get(course_url(course["id"]), headers=instructor.headers), 404, "not_found"
    )
    for url in (
        f"{API}/sections/{sec_a['id']}",
        f"{API}/videos/{a1['id']}",
        f"{API}/videos/{b1['id']}",
        f"{API}/quizzes/{quiz['id']}",
    ):
        assert_problem(await client.get(url, headers=instructor.headers), 404, "not_found")
    mine = await client.get(COURSES, params={"mine": "true"}, headers=instructor.headers)
    assert mine.json()["items"] == []

    # ...and in the database, every row of the cascade carries the course's batch id.
    course_deleted_at, batch = await deletion_state(session, Course, course["id"])
    assert course_deleted_at is not None and batch is not None
    cascade = [
        (Section, sec_a["id"]),
        (Section, sec_b["id"]),
        (Video, a1["id"]),
        (Video, b1["id"]),
        (Quiz, quiz["id"]),
    ]
    for model, entity_id in cascade:
        deleted_at, row_batch = await deletion_state(session, model, entity_id)
        assert deleted_at is not None and row_batch == batch, (model, entity_id)
    questions = await session.execute(
        select(QuizQuestion.id, QuizQuestion.delete_batch_id)
        .where(QuizQuestion.quiz_id == uuid.UUID(quiz["id"]))
        .execution_options(include_deleted=True)
    )
    question_rows = questions.all()
    assert len(question_rows) == 4 and {b for _, b in question_rows} == {batch}
    options = await session.execute(
        select(QuizOption.delete_batch_id)
        .where(QuizOption.question_id.in_([q for q, _ in question_rows]))
        .execution_options(include_deleted=True)
    )
    assert set(options.scalars().all()) == {batch}
    assert (await deletion_state(session, Video, a2["id"]))[1] == own_batch
    soft_deleted = await session.execute(
        select(AuditLog.entity_id).where(
            AuditLog.action == "soft_delete",
            AuditLog.entity_id.in_([uuid.UUID(course["id"])] + [uuid.UUID(i) for _, i in cascade]),
        )
    )
    assert len(soft_deleted.all()) == 1 + len(cascade)

    restored = await client.post(course_url(course["id"], "/restore"), headers=instructor.headers)
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert body["id"] == course["id"] and body["status"] == "draft"
    assert [s["title"] for s in body["sections"]] == ["A", "B"]
    assert [v["title"] for v in body["sections"][0]["videos"]] == ["A1"]
    assert [v["title"] for v in body["sections"][1]["videos"]] == ["B1"]
    assert [q["id"] for q in body["sections"][1]["quizzes"]] == [quiz["id"]]
    for model, entity_id in [(Course, course["id"]), *cascade]:
        assert await deletion_state(session, model, entity_id) == (None, None), model
    restores = await session.execute(
        select(AuditLog.entity_id).where(
            AuditLog.action == "restore",
            AuditLog.entity_id.in_(
                [uuid.UUID(course["id"]), uuid.UUID(a2["id"])] + [uuid.UUID(i) for _, i in cascade]
            ),
        )
    )
    assert len(restores.all()) == 1 + len(cascade)
    assert (await deletion_state(session, Video, a2["id"]))[1] == own_batch
    live_questions = await session.execute(
        select(QuizQuestion.id).where(QuizQuestion.quiz_id == uuid.UUID(quiz["id"]))
    )
    assert len(live_questions.all()) == 4
    author_view = await client.get(f"{API}/quizzes/{quiz['id']}", headers=instructor.headers)
    assert author_view.status_code == 200
    assert [q["text"] for q in author_view.json()["questions"]] == [q["text"] for q in QUESTIONS]
    assert all(
        len(q["options"]) == len(s.get("options", []))
        for q, s in zip(author_view.json()["questions"], QUESTIONS, strict=True)
    )

    # Restoring a live course is harmless.
    again = await client.post(course_url(course["id"], "/restore"), headers=instructor.headers)
    assert again.status_code == 200


async def test_a_published_course_restores_into_the_catalog(client, login_as):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    assert (
        await client.delete(course_url(course["id"]), headers=instructor.headers)
    ).status_code == 204
    params = {"instructor_id": instructor.id}
    assert (await client.get(COURSES, params=params)).json()["items"] == []
    assert_problem(await client.get(course_url(course["id"])), 404, "not_found")
    restored = await client.post(course_url(course["id"], "/restore"), headers=instructor.headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "published"
    listed = (await client.get(COURSES, params=params)).json()["items"]
    assert [c["id"] for c in listed] == [course["id"]]
    assert len((await client.get(course_url(course["id"]))).json()["sections"][0]["videos"]) == 1


async def test_restore_conflicts_when_the_slug_was_taken_meanwhile(client, login_as, session):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    await client.delete(course_url(course["id"]), headers=instructor.headers)
    # The slug is free among live courses: explicitly, and as the title's derivation.
    same = await create_course(client, instructor, title=course["title"])
    assert same["slug"] == course["slug"]
    assert_problem(
        await client.post(course_url(course["id"], "/restore"), headers=instructor.headers),
        409,
        "conflict",
    )
    deleted_at, _ = await deletion_state(session, Course, course["id"])
    assert deleted_at is not None


async def test_section_delete_and_restore_cascade_to_its_content(client, login_as, session):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    video = await add_video(client, instructor, section["id"])
    quiz = await add_quiz(client, instructor, section["id"])
    response = await client.delete(f"{API}/sections/{section['id']}", headers=instructor.headers)
    assert response.status_code == 204, response.text
    batch = (await deletion_state(session, Section, section["id"]))[1]
    assert (await deletion_state(session, Video, video["id"]))[1] == batch
    assert (await deletion_state(session, Quiz, quiz["id"]))[1] == batch
    detail = (await client.get(course_url(course["id"]), headers=instructor.headers)).json()
    assert detail["sections"] == []

    restored = await client.post(
        f"{API}/sections/{section['id']}/restore", headers=instructor.headers
    )
    assert restored.status_code == 200, restored.text
    detail = (await client.get(course_url(course["id"]), headers=instructor.headers)).json()
    assert [v["id"] for v in detail["sections"][0]["videos"]] == [video["id"]]
    assert [q["id"] for q in detail["sections"][0]["quizzes"]] == [quiz["id"]]

    # Videos and quizzes have their own delete and restore.
    assert (
        await client.delete(f"{API}/quizzes/{quiz['id']}", headers=instructor.headers)
    ).status_code == 204
    assert_problem(
        await client.get(f"{API}/quizzes/{quiz['id']}", headers=instructor.headers),
        404,
        "not_found",
    )
    back = await client.post(f"{API}/quizzes/{quiz['id']}/restore", headers=instructor.headers)
    assert back.status_code == 200 and len(back.json()["questions"]) == 4


async def test_the_last_video_of_a_published_course_cannot_be_deleted(client, login_as):
    instructor = await login_as("instructor")
    course = await make_course(client, instructor)
    section = (await client.get(course_url(course["id"]))).json()["sections"][0]
    only = section["videos"][0]["id"]
    assert_problem(
        await client.delete(f"{API}/videos/{only}", headers=instructor.headers), 409, "conflict"
    )
    assert_problem(
        await client.delete(f"{API}/sections/{section['id']}", headers=instructor.headers),
        409,
        "conflict",
    )
    assert (await client.get(f"{API}/videos/{only}")).status_code == 200

    other_section = await add_section(client, instructor, course["id"])
    spare = await add_video(client, instructor, other_section["id"])
    assert (
        await client.delete(f"{API}/videos/{only}", headers=instructor.headers)
    ).status_code == 204
    assert_problem(
        await client.delete(f"{API}/videos/{spare['id']}", headers=instructor.headers),
        409,
        "conflict",
    )
    assert_problem(
        await client.delete(f"{API}/sections/{other_section['id']}", headers=instructor.headers),
        409,
        "conflict",
    )
    # The emptied section may go: the course keeps its one video elsewhere.
    assert (
        await client.delete(f"{API}/sections/{section['id']}", headers=instructor.headers)
    ).status_code == 204


async def test_hard_delete_is_for_admins_and_audited(client, login_as, session):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    course = await make_course(client, instructor)
    url = course_url(course["id"]) + "?hard=true"
    assert_problem(await client.delete(url, headers=instructor.headers), 403, "forbidden")
    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    gone = await session.execute(
        select(Course.id)
        .where(Course.id == uuid.UUID(course["id"]))
        .execution_options(include_deleted=True)
    )
    assert gone.first() is None
    videos = await session.execute(
        select(Video.id)
        .where(Video.course_id == uuid.UUID(course["id"]))
        .execution_options(include_deleted=True)
    )
    assert videos.first() is None
    actions = await session.execute(
        select(AuditLog.action).where(
            AuditLog.entity_id == uuid.UUID(course["id"]), AuditLog.action == "hard_delete"
        )
    )
    assert actions.scalars().all() == ["hard_delete"]


# ---- quizzes: answer keys and validation ------------------------------------------------------


async def test_answer_keys_go_to_the_instructor_and_admins_only(client, login_as):
    instructor, student, admin = (
        await login_as("instructor"),
        await login_as("student"),
        await login_as("admin"),
    )
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    await add_video(client, instructor, section["id"])
    created = await add_quiz(client, instructor, section["id"], time_limit_seconds=600)
    assert created["pass_mark"] == 60 and created["time_limit_seconds"] == 600
    assert [q["type"] for q in created["questions"]] == [q["type"] for q in QUESTIONS]
    assert [o["is_correct"] for o in created["questions"][0]["options"]] == [False, True, False]
    assert created["questions"][3]["answer_text"] == "Paris"
    assert created["questions"][3]["options"] == []
    url = f"{API}/quizzes/{created['id']}"

    # A draft's quiz does not exist for the public.
    assert_problem(await client.get(url), 404, "not_found")
    assert_problem(await client.get(url, headers=student.headers), 404, "not_found")
    await publish(client, instructor, course["id"])

    # The questions are for enrolled learners (SPEC 5): the others see the quiz locked.
    for account in (None, student):
        response = await client.get(url, headers=auth(account))
        assert response.status_code == 200, response.text
        quiz = response.json()
        assert quiz["locked"] is True and quiz["questions"] is None
        assert quiz["question_count"] == len(QUESTIONS)
        assert "Paris" not in response.text and QUESTIONS[0]["text"] not in response.text
    enrolled = await client.post(course_url(course["id"], "/enrollments"), headers=student.headers)
    assert enrolled.status_code == 201, enrolled.text

    for account in (student,):
        response = await client.get(url, headers=auth(account))
        assert response.status_code == 200, response.text
        quiz = response.json()
        assert find_keys(quiz, {"is_correct", "answer_text"}) == set()
        assert "Paris" not in response.text
        assert [q["text"] for q in quiz["questions"]] == [q["text"] for q in QUESTIONS]
        assert [o["text"] for o in quiz["questions"][1]["options"]] == ["2", "3", "4"]
        assert all(o["id"] for q in quiz["questions"] for o in q["options"])
    for account in (instructor, admin):
        response = await client.get(url, headers=account.headers)
        assert response.status_code == 200, response.text
        quiz = response.json()
        assert [o["is_correct"] for o in quiz["questions"][1]["options"]] == [True, True, False]
        assert quiz["questions"][3]["answer_text"] == "Paris"


async def test_quiz_patch_replaces_questions_and_keeps_settings(client, login_as, session):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    quiz = await add_quiz(client, instructor, section["id"], max_attempts=2)
    url = f"{API}/quizzes/{quiz['id']}"
    renamed = await client.patch(url, headers=instructor.headers, json={"pass_mark": 80})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["pass_mark"] == 80 and renamed.json()["max_attempts"] == 2
    assert len(renamed.json()["questions"]) == 4

    replaced = await client.patch(
        url, headers=instructor.headers, json={"questions": QUESTIONS[3:], "max_attempts": None}
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["pass_mark"] == 80 and body["max_attempts"] is None
    fetched = (await client.get(url, headers=instructor.headers)).json()
    assert [q["text"] for q in fetched["questions"]] == [QUESTIONS[3]["text"]]
    old = await session.execute(
        select(QuizQuestion.deleted_at)
        .where(QuizQuestion.quiz_id == uuid.UUID(quiz["id"]))
        .execution_options(include_deleted=True)
    )
    stamps = old.scalars().all()
    assert len(stamps) == 5 and sum(s is not None for s in stamps) == 4

    bad = {"text": "Pick one", "type": "single_choice", "options": [{"text": "a"}, {"text": "b"}]}
    assert_problem(
        await client.patch(url, headers=instructor.headers, json={"questions": [bad]}),
        422,
        "invalid_value",
    )
    unchanged = (await client.get(url, headers=instructor.headers)).json()
    assert [q["text"] for q in unchanged["questions"]] == [QUESTIONS[3]["text"]]
    # The PATCH response describes the quiz as it now is, not the questions it replaced.
    assert [q["text"] for q in body["questions"]] == [QUESTIONS[3]["text"]]


def _options(*flags: bool) -> list[dict[str, Any]]:
    return [{"text": f"option {i}", "is_correct": flag} for i, flag in enumerate(flags)]


INVALID_QUESTIONS: list[dict[str, Any]] = [
    {"type": "single_choice", "options": _options(True, True)},
    {"type": "single_choice", "options": _options(False, False)},
    {"type": "single_choice", "options": _options(True)},
    {"type": "multiple_choice", "options": _options(False, False, False)},
    {"type": "multiple_choice", "options": []},
    {"type": "true_false", "options": _options(True, False, False)},
    {"type": "true_false", "options": _options(True, True)},
    {"type": "true_false", "options": _options(False, False)},
    {"type": "true_false", "options": _options(True)},
    {"type": "short_answer"},
    {"type": "short_answer", "answer_text": "   "},
    {"type": "short_answer", "answer_text": "Paris", "options": _options(True)},
]


async def test_question_rules_are_enforced(client, login_as, session):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    url = f"{API}/sections/{section['id']}/quizzes"
    for question in INVALID_QUESTIONS:
        body = {"title": "Q", "questions": [QUESTIONS[0], {"text": "Broken", **question}]}
        response = await client.post(url, headers=instructor.headers, json=body)
        assert response.status_code == 422, (question, response.text)
        assert_problem(response, 422, "invalid_value")
    for body, code in [
        ({"title": "Q", "pass_mark": 101}, "validation_error"),
        ({"title": "Q", "max_attempts": 0}, "validation_error"),
        ({"title": "Q", "questions": [{"text": "x", "type": "essay"}]}, "validation_error"),
        ({"title": "   "}, "validation_error"),  # the document's not-blank pattern
    ]:
        assert_problem(await client.post(url, headers=instructor.headers, json=body), 422, code)
    nothing = await session.execute(
        select(Quiz.id)
        .where(Quiz.section_id == uuid.UUID(section["id"]))
        .execution_options(include_deleted=True)
    )
    assert nothing.all() == []
    # The valid forms of each type are accepted.
    quiz = await add_quiz(client, instructor, section["id"])
    assert len(quiz["questions"]) == 4


# ---- history ---------------------------------------------------------------------------------


async def test_history_lists_the_course_and_its_content_newest_first_with_a_cursor(
    client, login_as
):
    instructor, other, student, admin = (
        await login_as("instructor"),
        await login_as("instructor"),
        await login_as("student"),
        await login_as("admin"),
    )
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    video = await add_video(client, instructor, section["id"])
    spare = await add_video(client, instructor, section["id"])
    quiz = await add_quiz(client, instructor, section["id"])
    await client.patch(course_url(course["id"]), headers=instructor.headers, json={"title": "New"})
    await client.delete(f"{API}/videos/{spare['id']}", headers=instructor.headers)
    await publish(client, instructor, course["id"])
    unrelated = await create_course(client, instructor)

    url = course_url(course["id"], "/history")
    full = await client.get(url, params={"limit": 100}, headers=instructor.headers)
    assert full.status_code == 200, full.text
    entries = full.json()["items"]
    assert full.json()["next_cursor"] is None
    stamps = [e["occurred_at"] for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    ids = {e["entity_id"] for e in entries}
    assert {course["id"], section["id"], video["id"], spare["id"], quiz["id"]} <= ids
    assert unrelated["id"] not in ids
    course_actions = [e["action"] for e in entries if e["entity_id"] == course["id"]]
    assert course_actions == ["update", "update", "create"]
    assert entries[0]["entity_id"] == course["id"]
    assert entries[0]["changes"]["status"] == ["draft", "published"]
    rename = [e for e in entries if e["entity_id"] == course["id"]][1]
    assert rename["changes"]["title"] == [course["title"], "New"]
    assert rename["actor_id"] == instructor.id and rename["entity_type"] == "course"
    assert [e["action"] for e in entries if e["entity_id"] == spare["id"]] == [
        "soft_delete",
        "create",
    ]
    assert set(entries[0]) >= {
        "id", "occurred_at", "actor_id", "request_id", "entity_type", "entity_id", "action",
        "changes",
    }  # fmt: skip

    paged = await all_pages(client, url, instructor, 2)
    assert [e["id"] for e in paged] == [e["id"] for e in entries]

    assert (await client.get(url, headers=admin.headers)).status_code == 200
    assert_problem(await client.get(url, headers=other.headers), 403, "forbidden")
    assert_problem(await client.get(url, headers=student.headers), 403, "forbidden")
    assert_problem(await client.get(url), 401, "unauthorized")
    assert_problem(
        await client.get(url, params={"cursor": "%%%"}, headers=instructor.headers),
        400,
        "invalid_cursor",
    )
    draft_history = course_url(unrelated["id"], "/history")
    assert_problem(await client.get(draft_history, headers=other.headers), 404, "not_found")

    # A deleted course keeps its history readable for its instructor; the entries written by
    # one request (the cascade) page like the rest.
    await client.delete(course_url(course["id"]), headers=instructor.headers)
    after = (await client.get(url, params={"limit": 100}, headers=instructor.headers)).json()
    cascade = after["items"][:4]
    assert [e["action"] for e in cascade] == ["soft_delete"] * 4
    assert {e["entity_id"] for e in cascade} == {
        course["id"],
        section["id"],
        video["id"],
        quiz["id"],
    }
    assert [e["id"] for e in await all_pages(client, url, instructor, 1)] == [
        e["id"] for e in after["items"]
    ]
