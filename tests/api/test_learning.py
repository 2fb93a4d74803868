"""Enrolment and video progress through the HTTP API, on both databases: enrolling (once,
only in published courses, counted exactly), cancelling and coming back to the same row,
"my enrollments", and progress decided on the server (merged segments, a real-time budget,
no seeking to the end, no going backwards, completion at 90 % exactly once, course
completion exactly once)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from learnhub.models.learning import Enrollment, VideoProgress, WatchedSegment
from tests.api.conftest import Account, assert_problem
from tests.api.test_courses import (
    API,
    add_quiz,
    add_section,
    add_video,
    all_pages,
    course_url,
    create_course,
    make_course,
    outbox,
    publish,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MY_ENROLLMENTS = f"{API}/users/me/enrollments"
ENROLLMENT_FIELDS = {"id", "user_id", "course_id", "status", "enrolled_at", "completed_at"}
PROGRESS_FIELDS = {"video_id", "position_seconds", "watched_seconds", "completed", "updated_at"}


# ---- helpers ----------------------------------------------------------------------------------


async def enrol(client: httpx.AsyncClient, account: Account, course_id: str) -> dict:
    response = await client.post(course_url(course_id, "/enrollments"), headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def cancel(client: httpx.AsyncClient, account: Account, enrollment_id: str) -> httpx.Response:
    return await client.post(f"{API}/enrollments/{enrollment_id}/cancel", headers=account.headers)


async def enrollment_count(client: httpx.AsyncClient, course_id: str) -> int:
    response = await client.get(course_url(course_id))
    assert response.status_code == 200, response.text
    return int(response.json()["enrollment_count"])


async def video_course(
    client: httpx.AsyncClient,
    instructor: Account,
    durations: tuple[int, ...] = (100,),
    quizzes: int = 0,
) -> tuple[dict, list[dict]]:
    """A published course with one section holding videos of these durations (and quizzes)."""
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    videos = [
        await add_video(client, instructor, section["id"], duration_seconds=d) for d in durations
    ]
    for _ in range(quizzes):
        await add_quiz(client, instructor, section["id"])
    return await publish(client, instructor, course["id"]), videos


async def beat(
    client: httpx.AsyncClient, account: Account, video_id: str, **body: Any
) -> httpx.Response:
    return await client.put(f"{API}/videos/{video_id}/progress", headers=account.headers, json=body)


async def heartbeat(
    client: httpx.AsyncClient, account: Account, video_id: str, **body: Any
) -> dict:
    body.setdefault("position_seconds", 0)
    response = await beat(client, account, video_id, **body)
    assert response.status_code == 200, response.text
    return response.json()


async def rewind(session: Any, account: Account, video_id: str, seconds: float) -> None:
    """Pretend `seconds` of wall-clock time passed since the last heartbeat: move the
    system-maintained `last_heartbeat_at` and `first_heartbeat_at` back, directly."""
    where = (
        VideoProgress.user_id == uuid.UUID(account.id),
        VideoProgress.video_id == uuid.UUID(video_id),
    )
    last, first = (
        await session.execute(
            select(VideoProgress.last_heartbeat_at, VideoProgress.first_heartbeat_at).where(*where)
        )
    ).one()
    await session.execute(
        update(VideoProgress)
        .where(*where)
        .values(
            last_heartbeat_at=last - timedelta(seconds=seconds),
            first_heartbeat_at=first - timedelta(seconds=seconds),
        )
        .execution_options(audited_bulk=True, synchronize_session=False)
    )


async def stored_segments(session: Any, account: Account, video_id: str) -> list[tuple]:
    rows = await session.execute(
        select(WatchedSegment.start_seconds, WatchedSegment.end_seconds)
        .join(VideoProgress, VideoProgress.id == WatchedSegment.progress_id)
        .where(
            VideoProgress.user_id == uuid.UUID(account.id),
            VideoProgress.video_id == uuid.UUID(video_id),
        )
        .order_by(WatchedSegment.start_seconds)
    )
    return [tuple(r) for r in rows.all()]


async def course_progress(client: httpx.AsyncClient, account: Account, course_id: str) -> dict:
    response = await client.get(course_url(course_id, "/progress"), headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def event_types(session: Any, course_id: str) -> list[str]:
    return [event for event, _ in await outbox(session, course_id)]


async def watch_fully(
    client: httpx.AsyncClient, session: Any, account: Account, video_id: str, duration: float
) -> dict:
    """Play a video from start to end in 10-second heartbeats spaced 10 s of wall clock apart."""
    body: dict = {}
    start = 0.0
    while start < duration:
        end = min(start + 10.0, duration)
        if start > 0:
            await rewind(session, account, video_id, 10)
        body = await heartbeat(
            client, account, video_id, position_seconds=end, played_segments=[[start, end]]
        )
        start = end
    return body


# ---- enrolling --------------------------------------------------------------------------------


async def test_enrol_returns_the_documented_payload_counts_and_emits_user_enrolled(
    client, login_as, session
):
    instructor, student = await login_as("instructor"), await login_as("student")
    course = await make_course(client, instructor)
    assert course["enrollment_count"] == 0

    response = await client.post(course_url(course["id"], "/enrollments"), headers=student.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= ENROLLMENT_FIELDS
    uuid.UUID(body["id"])
    assert body["user_id"] == student.id and body["course_id"] == course["id"]
    assert body["status"] == "active"
    assert body["enrolled_at"] and body["completed_at"] is None
    assert await enrollment_count(client, course["id"]) == 1

    again = await client.post(course_url(course["id"], "/enrollments"), headers=student.headers)
    assert_problem(again, 409, "conflict")
    assert await enrollment_count(client, course["id"]) == 1

    other = await login_as("student")
    await enrol(client, other, course["id"])
    assert await enrollment_count(client, course["id"]) == 2

    events = await outbox(session, course["id"])
    assert [e for e, _ in events] == ["CoursePublished", "UserEnrolled", "UserEnrolled"]
    payload = events[1][1]
    assert payload["enrollment_id"] == body["id"] and payload["user_id"] == student.id
    assert payload["course_id"] == course["id"] and payload["event_id"]


async def test_only_published_courses_take_enrolments(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    draft = await create_course(client, instructor)
    assert_problem(
        await client.post(course_url(draft["id"], "/enrollments"), headers=student.headers),
        404,
        "not_found",
    )
    assert_problem(
        await client.post(course_url(str(uuid.uuid4()), "/enrollments"), headers=student.headers),
        404,
        "not_found",
    )
    archived = await make_course(client, instructor)
    response = await client.post(course_url(archived["id"], "/archive"), headers=instructor.headers)
    assert response.status_code == 200, response.text
    assert_problem(
        await client.post(course_url(archived["id"], "/enrollments"), headers=student.headers),
        409,
        "conflict",
    )
    assert await event_types(session, draft["id"]) == []
    assert await event_types(session, archived["id"]) == ["CoursePublished", "CourseArchived"]
    rows = await session.execute(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.user_id == uuid.UUID(student.id))
        .execution_options(include_deleted=True)
    )
    assert rows.scalar_one() == 0


async def test_enrolling_needs_a_login(client, login_as):
    course = await make_course(client, await login_as("instructor"))
    assert_problem(await client.post(course_url(course["id"], "/enrollments")), 401, "unauthorized")


async def test_cancel_then_re_enrol_restores_the_same_enrolment(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course = await make_course(client, instructor)
    enrolment = await enrol(client, student, course["id"])

    stranger = await login_as("student")
    assert_problem(await cancel(client, stranger, enrolment["id"]), 404, "not_found")
    assert_problem(await cancel(client, student, str(uuid.uuid4())), 404, "not_found")
    assert await enrollment_count(client, course["id"]) == 1

    response = await cancel(client, student, enrolment["id"])
    assert response.status_code == 200, response.text
    assert response.json()["id"] == enrolment["id"]
    assert response.json()["status"] == "cancelled"
    assert await enrollment_count(client, course["id"]) == 0
    assert_problem(await cancel(client, student, enrolment["id"]), 409, "conflict")
    assert await enrollment_count(client, course["id"]) == 0

    back = await enrol(client, student, course["id"])
    assert back["id"] == enrolment["id"]
    assert back["status"] == "active" and back["completed_at"] is None
    assert await enrollment_count(client, course["id"]) == 1
    assert_problem(
        await client.post(course_url(course["id"], "/enrollments"), headers=student.headers),
        409,
        "conflict",
    )

    rows = await session.execute(
        select(Enrollment.id, Enrollment.status, Enrollment.deleted_at)
        .where(
            Enrollment.user_id == uuid.UUID(student.id),
            Enrollment.course_id == uuid.UUID(course["id"]),
        )
        .execution_options(include_deleted=True)
    )
    assert [(str(i), str(s), d) for i, s, d in rows.all()] == [(enrolment["id"], "active", None)]

    events = await outbox(session, course["id"])
    assert [e for e, _ in events] == [
        "CoursePublished",
        "UserEnrolled",
        "EnrollmentCancelled",
        "UserEnrolled",
    ]
    cancelled = events[2][1]
    assert cancelled["enrollment_id"] == enrolment["id"] and cancelled["user_id"] == student.id
    assert events[3][1]["enrollment_id"] == enrolment["id"]


async def test_my_enrollments_lists_my_own_with_course_and_progress_by_pages(client, login_as):
    instructor, student, other = (
        await login_as("instructor"),
        await login_as("student"),
        await login_as("student"),
    )
    courses = [await make_course(client, instructor) for _ in range(3)]
    mine = {(await enrol(client, student, c["id"]))["id"]: c for c in courses}
    theirs = await enrol(client, other, courses[0]["id"])

    first = await client.get(MY_ENROLLMENTS, params={"limit": 2}, headers=student.headers)
    assert first.status_code == 200, first.text
    assert len(first.json()["items"]) == 2 and first.json()["next_cursor"]

    items = await all_pages(client, MY_ENROLLMENTS, student, limit=2)
    assert len(items) == 3
    assert {i["id"] for i in items} == set(mine)
    for item in items:
        assert set(item) >= ENROLLMENT_FIELDS
        assert item["user_id"] == student.id and item["status"] == "active"
        course = mine[item["id"]]
        assert item["course_id"] == course["id"]
        assert item["course"]["id"] == course["id"]
        assert item["course"]["title"] == course["title"]
        assert item["course"]["slug"] == course["slug"]
        assert item["progress_percent"] == 0.0

    others = await all_pages(client, MY_ENROLLMENTS, other, limit=2)
    assert [i["id"] for i in others] == [theirs["id"]]
    assert (await client.get(MY_ENROLLMENTS)).status_code == 401


# ---- progress: who may write it ---------------------------------------------------------------


async def test_progress_needs_an_active_enrolment(client, login_as):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor)
    body = {"position_seconds": 5, "played_segments": [[0, 5]]}

    assert_problem(await beat(client, student, video["id"], **body), 403, "not_enrolled")
    assert_problem(
        await client.get(course_url(course["id"], "/progress"), headers=student.headers),
        403,
        "not_enrolled",
    )
    enrolment = await enrol(client, student, course["id"])
    assert (await beat(client, student, video["id"], **body)).status_code == 200
    assert (await cancel(client, student, enrolment["id"])).status_code == 200
    assert_problem(await beat(client, student, video["id"], **body), 403, "not_enrolled")
    assert_problem(
        await client.get(course_url(course["id"], "/progress"), headers=student.headers),
        403,
        "not_enrolled",
    )
    assert_problem(await beat(client, student, str(uuid.uuid4()), **body), 404, "not_found")
    assert (await client.put(f"{API}/videos/{video['id']}/progress", json=body)).status_code == 401

    # A draft course's videos do not exist for learners.
    draft = await create_course(client, instructor)
    section = await add_section(client, instructor, draft["id"])
    hidden = await add_video(client, instructor, section["id"])
    assert_problem(await beat(client, student, hidden["id"], **body), 404, "not_found")


async def test_learners_never_touch_another_learners_progress(client, login_as, session):
    instructor, alice, bob = (
        await login_as("instructor"),
        await login_as("student"),
        await login_as("student"),
    )
    course, (video,) = await video_course(client, instructor)
    await enrol(client, alice, course["id"])
    await heartbeat(client, alice, video["id"], position_seconds=8, played_segments=[[0, 8]])

    # Bob is not enrolled: he can neither read Alice's course progress nor write any.
    assert_problem(
        await client.get(course_url(course["id"], "/progress"), headers=bob.headers),
        403,
        "not_enrolled",
    )
    body = {"position_seconds": 50, "played_segments": [[8, 16]]}
    assert_problem(await beat(client, bob, video["id"], **body), 403, "not_enrolled")
    # There is no user parameter, and completion cannot be set directly.
    for extra in ({"user_id": alice.id}, {"completed": True}, {"completed_at": "2030-01-01"}):
        assert_problem(
            await beat(client, alice, video["id"], **body, **extra), 422, "validation_error"
        )

    # Once enrolled, Bob's heartbeats write Bob's row only.
    await enrol(client, bob, course["id"])
    await heartbeat(client, bob, video["id"], **body)
    assert await stored_segments(session, alice, video["id"]) == [(0.0, 8.0)]
    assert await stored_segments(session, bob, video["id"]) == [(8.0, 16.0)]
    progress = await course_progress(client, alice, course["id"])
    assert progress["resume"] == {"video_id": video["id"], "position_seconds": 8.0}


# ---- progress: what counts --------------------------------------------------------------------


async def test_played_segments_merge_and_never_count_twice(client, login_as, session, clock):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor)
    await enrol(client, student, course["id"])
    vid = video["id"]

    first = await heartbeat(client, student, vid, position_seconds=6, played_segments=[[0, 6]])
    assert set(first) >= PROGRESS_FIELDS
    assert first["video_id"] == vid and first["position_seconds"] == 6
    assert first["watched_seconds"] == 6 and first["completed"] is False
    assert first["updated_at"]

    steps: list[tuple[list[list[float]], float]] = [
        ([[4, 10]], 10),  # overlaps the first: only 4 s are new
        ([[0, 6]], 10),  # a replay
        ([[2, 8], [8, 9], [0, 10]], 10),  # overlapping, touching, all seen
        ([[12, 15], [10, 13]], 15),  # out of order, overlapping each other
        ([[20, 22], [14, 16]], 18),  # a new island plus a bit
        ([[16, 20]], 22),  # fills the hole between them
    ]
    for played, expected in steps:
        clock.advance(10)  # a player's rhythm: the budget always covers what it played
        body = await heartbeat(
            client, student, vid, position_seconds=played[-1][1], played_segments=played
        )
        segments = await stored_segments(session, student, vid)
        union = sum(e - s for s, e in segments)
        assert body["watched_seconds"] == pytest.approx(union, abs=1e-3), (played, segments)
        assert body["watched_seconds"] == pytest.approx(expected), (played, segments)

    assert await stored_segments(session, student, vid) == [(0.0, 22.0)]
    assert (await course_progress(client, student, course["id"]))["completed_items"] == 0


async def test_seeking_to_the_end_credits_only_the_tolerance(client, login_as, session, clock):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(100,))
    await enrol(client, student, course["id"])

    body = await heartbeat(
        client, student, video["id"], position_seconds=100, played_segments=[[0, 100]]
    )
    assert body["watched_seconds"] == 10.0 and body["completed"] is False
    assert body["position_seconds"] == 100
    # The claim is kept whole, credited only as time passes.
    assert await stored_segments(session, student, video["id"]) == [(0.0, 100.0)]

    # Straight away again: nothing more, the budget is per video, not per heartbeat.
    body = await heartbeat(
        client, student, video["id"], position_seconds=100, played_segments=[[90, 100]]
    )
    assert body["watched_seconds"] == 10.0 and body["completed"] is False
    assert "VideoCompleted" not in await event_types(session, course["id"])
    assert (await course_progress(client, student, course["id"]))["completed_items"] == 0


async def test_a_first_heartbeat_beyond_the_tolerance_is_kept_whole(
    client, login_as, session, clock
):
    """10 s of budget on a first heartbeat claiming 30 s in two pieces: 10 s credited, both
    pieces stored as sent (no piece cut at the budget's edge)."""
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(100,))
    await enrol(client, student, course["id"])

    response = await beat(
        client, student, video["id"], position_seconds=60, played_segments=[[12.4, 22.4], [40, 60]]
    )
    assert response.status_code == 200, response.text
    assert response.json()["watched_seconds"] == pytest.approx(10.0)
    assert await stored_segments(session, student, video["id"]) == [(12.4, 22.4), (40.0, 60.0)]


async def test_replaying_an_old_heartbeat_never_lowers_progress(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(100,))
    await enrol(client, student, course["id"])
    vid = video["id"]

    await heartbeat(client, student, vid, position_seconds=10, played_segments=[[0, 10]])
    await rewind(session, student, vid, 60)
    body = await heartbeat(client, student, vid, position_seconds=40, played_segments=[[10, 40]])
    assert body["watched_seconds"] == 40

    stale = [
        {"position_seconds": 10, "played_segments": [[0, 10]]},  # the first heartbeat again
        {"position_seconds": 5, "watched_seconds": 5},  # a simple client claiming less
        {"position_seconds": 3, "played_segments": []},
        {"position_seconds": 2},
    ]
    for payload in stale:
        body = await heartbeat(client, student, vid, **payload)
        assert body["watched_seconds"] == 40, payload
        assert body["position_seconds"] == payload["position_seconds"]  # resume may move back
        assert body["completed"] is False
    assert await stored_segments(session, student, vid) == [(0.0, 40.0)]


async def test_a_simple_clients_watched_seconds_are_capped_by_the_wall_clock(
    client, login_as, session, clock
):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(600,))
    await enrol(client, student, course["id"])
    vid = video["id"]

    body = await heartbeat(client, student, vid, position_seconds=600, watched_seconds=600)
    assert body["watched_seconds"] == 10.0 and body["completed"] is False
    # Straight away again: nothing more (one budget per video, not one per heartbeat).
    body = await heartbeat(client, student, vid, position_seconds=600, watched_seconds=600)
    assert body["watched_seconds"] == 10.0

    clock.advance(60)  # a minute since the first heartbeat: 2 x 60 + 10 s at most
    body = await heartbeat(client, student, vid, position_seconds=600, watched_seconds=600)
    assert body["watched_seconds"] == 130.0, body
    watched = body["watched_seconds"]

    clock.advance(60)  # a claim under the cap is taken as it is
    body = await heartbeat(client, student, vid, position_seconds=200, watched_seconds=watched + 50)
    assert body["watched_seconds"] == pytest.approx(watched + 50, abs=1e-3)
    assert body["completed"] is False
    assert "VideoCompleted" not in await event_types(session, course["id"])

    clock.advance(300)  # never more than the duration
    body = await heartbeat(client, student, vid, position_seconds=600, watched_seconds=600)
    assert body["watched_seconds"] == 600 and body["completed"] is True
    assert await event_types(session, course["id"]) == [
        "CoursePublished",
        "UserEnrolled",
        "VideoCompleted",
        "CourseCompleted",
    ]


async def test_a_video_completes_at_90_percent_exactly_once(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video, other_video) = await video_course(client, instructor, durations=(100, 100))
    await enrol(client, student, course["id"])
    vid = video["id"]

    await heartbeat(client, student, vid, position_seconds=10, played_segments=[[0, 10]])
    await rewind(session, student, vid, 60)
    body = await heartbeat(
        client, student, vid, position_seconds=89.9, played_segments=[[10, 89.9]]
    )
    assert body["watched_seconds"] == pytest.approx(89.9) and body["completed"] is False
    assert body["completed_at"] is None
    await rewind(session, student, vid, 60)
    body = await heartbeat(client, student, vid, position_seconds=90, played_segments=[[89.9, 90]])
    assert body["watched_seconds"] == pytest.approx(90.0)
    assert body["completed"] is True and body["completed_at"]
    completed_at = body["completed_at"]

    for played in ([[90, 100]], [[0, 100]], [[50, 60]]):
        await rewind(session, student, vid, 60)
        body = await heartbeat(client, student, vid, position_seconds=100, played_segments=played)
        assert body["completed"] is True and body["completed_at"] == completed_at
    assert body["watched_seconds"] == 100

    events = await outbox(session, course["id"])
    completed = [p for e, p in events if e == "VideoCompleted"]
    assert len(completed) == 1, events
    assert completed[0]["video_id"] == vid and completed[0]["user_id"] == student.id
    assert "CourseCompleted" not in [e for e, _ in events]

    progress = await course_progress(client, student, course["id"])
    assert progress["completed_items"] == 1 and progress["total_items"] == 2
    assert progress["percent"] == 50.0 and progress["completed"] is False
    (item,) = (await client.get(MY_ENROLLMENTS, headers=student.headers)).json()["items"]
    assert item["progress_percent"] == 50.0 and item["status"] == "active"
    assert other_video["id"] != vid


async def test_course_progress_resume_and_course_completion_exactly_once(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (first, second) = await video_course(client, instructor, durations=(30, 40))
    enrolment = await enrol(client, student, course["id"])

    progress = await course_progress(client, student, course["id"])
    assert progress == {
        "course_id": course["id"],
        "completed_items": 0,
        "total_items": 2,
        "percent": 0.0,
        "resume": None,
        "completed": False,
        "videos": [
            {
                "video_id": v["id"],
                "section_id": v["section_id"],
                "title": v["title"],
                "duration_seconds": v["duration_seconds"],
                "position_seconds": 0.0,
                "watched_seconds": 0.0,
                "percent": 0.0,
                "completed": False,
            }
            for v in (first, second)
        ],
        "quizzes": [],
    }

    await heartbeat(client, student, second["id"], position_seconds=7, played_segments=[[0, 7]])
    progress = await course_progress(client, student, course["id"])
    assert progress["resume"] == {"video_id": second["id"], "position_seconds": 7.0}
    assert progress["completed_items"] == 0

    body = await watch_fully(client, session, student, first["id"], 30)
    assert body["completed"] is True
    progress = await course_progress(client, student, course["id"])
    assert progress["completed_items"] == 1 and progress["percent"] == 50.0
    # The video touched last is completed: resume at the next unfinished one in the outline.
    assert progress["resume"] == {"video_id": second["id"], "position_seconds": 7.0}
    assert progress["completed"] is False

    await rewind(session, student, second["id"], 60)
    body = await heartbeat(
        client, student, second["id"], position_seconds=40, played_segments=[[7, 40]]
    )
    assert body["completed"] is True
    progress = await course_progress(client, student, course["id"])
    assert progress["completed_items"] == 2 and progress["total_items"] == 2
    assert progress["percent"] == 100.0 and progress["completed"] is True
    assert progress["resume"] == {"video_id": second["id"], "position_seconds": 40.0}

    (item,) = (await client.get(MY_ENROLLMENTS, headers=student.headers)).json()["items"]
    assert item["id"] == enrolment["id"] and item["status"] == "completed"
    assert item["completed_at"] is not None and item["progress_percent"] == 100.0

    # More heartbeats after the end change nothing and emit nothing.
    for vid in (first["id"], second["id"]):
        await rewind(session, student, vid, 60)
        await heartbeat(client, student, vid, position_seconds=5, played_segments=[[0, 30]])
    events = await outbox(session, course["id"])
    types = [e for e, _ in events]
    assert types.count("VideoCompleted") == 2 and types.count("CourseCompleted") == 1, types
    assert types[-1] == "CourseCompleted"
    payload = events[-1][1]
    assert payload["enrollment_id"] == enrolment["id"] and payload["user_id"] == student.id
    again = await course_progress(client, student, course["id"])
    assert again["completed"] is True and again["completed_items"] == 2


async def test_a_course_with_a_quiz_is_not_completed_by_its_videos_alone(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(20,), quizzes=1)
    await enrol(client, student, course["id"])
    body = await watch_fully(client, session, student, video["id"], 20)
    assert body["completed"] is True
    progress = await course_progress(client, student, course["id"])
    assert progress["completed_items"] == 1 and progress["total_items"] == 2
    assert progress["percent"] == 50.0 and progress["completed"] is False
    assert "CourseCompleted" not in await event_types(session, course["id"])


# ---- progress: invalid input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"position_seconds": -1},
        {"position_seconds": 1e308},
        {"position_seconds": 7 * 24 * 3600 + 1},
        {"position_seconds": "soon"},
        {"position_seconds": 0, "watched_seconds": -5},
        {"position_seconds": 0, "watched_seconds": 1e300},
        {"position_seconds": 0, "played_segments": [[-1, 5]]},
        {"position_seconds": 0, "played_segments": [[0, 1e308]]},
        {"position_seconds": 0, "played_segments": [[1e308, 1.5e308]]},
        {"position_seconds": 0, "played_segments": [[0, 1, 2]]},
        {"position_seconds": 0, "played_segments": [[0]]},
        {"position_seconds": 0, "played_segments": [[0, 1]] * 501},
    ],
)
async def test_malformed_heartbeats_are_refused(client, login_as, session, body):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor)
    await enrol(client, student, course["id"])
    assert_problem(await beat(client, student, video["id"], **body), 422, "validation_error")
    assert (await course_progress(client, student, course["id"]))["resume"] is None


@pytest.mark.parametrize(
    "content",
    [
        '{"position_seconds": NaN}',
        '{"position_seconds": Infinity}',
        '{"position_seconds": 0, "watched_seconds": NaN}',
        '{"position_seconds": 0, "played_segments": [[0, NaN]]}',
        '{"position_seconds": 0, "played_segments": [[NaN, 5]]}',
        '{"position_seconds": 0, "played_segments": [[0, Infinity]]}',
    ],
)
async def test_non_finite_numbers_are_refused(client, login_as, content):
    """JSON has no NaN, but Python's parser accepts the literal: it must not get through."""
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor)
    await enrol(client, student, course["id"])
    response = await client.put(
        f"{API}/videos/{video['id']}/progress",
        headers={**student.headers, "Content-Type": "application/json"},
        content=content,
    )
    assert response.status_code == 422, response.text
    assert (await course_progress(client, student, course["id"]))["resume"] is None


@pytest.mark.parametrize(
    "played",
    [
        [[5, 5]],  # empty
        [[6, 5]],  # backwards
        [[0, 5], [9, 3]],
        [[100, 110]],  # starts where the video ends
        [[150, 160]],  # starts beyond it
    ],
)
async def test_impossible_segments_are_refused(client, login_as, session, played):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(100,))
    await enrol(client, student, course["id"])
    response = await beat(client, student, video["id"], position_seconds=0, played_segments=played)
    assert_problem(response, 422, "invalid_value")
    assert (await course_progress(client, student, course["id"]))["resume"] is None
    assert await stored_segments(session, student, video["id"]) == []


async def test_positions_and_segments_past_the_end_are_clamped(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(100,))
    await enrol(client, student, course["id"])
    body = await heartbeat(
        client, student, video["id"], position_seconds=5000, played_segments=[[95, 5000]]
    )
    assert body["position_seconds"] == 100 and body["watched_seconds"] == 5
    assert await stored_segments(session, student, video["id"]) == [(95.0, 100.0)]


async def test_re_enrolling_after_finishing_keeps_the_course_finished(client, login_as, session):
    instructor, learner = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(20,))
    enrollment = await enrol(client, learner, course["id"])
    await watch_fully(client, session, learner, video["id"], 20)
    assert (await course_progress(client, learner, course["id"]))["completed"] is True
    assert (await cancel(client, learner, enrollment["id"])).status_code == 200
    again = await enrol(client, learner, course["id"])
    assert again["id"] == enrollment["id"]
    assert again["status"] == "completed" and again["completed_at"] is not None
    assert (await course_progress(client, learner, course["id"]))["percent"] == 100.0
    assert (await event_types(session, course["id"])).count("CourseCompleted") == 1
