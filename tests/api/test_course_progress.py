"""`GET /courses/{id}/progress` in detail (issue 15, item 2): every video's and quiz's state
in outline order, the resume point's rule, and a cost that does not grow with the outline,
on both databases."""

from __future__ import annotations

import pytest

from learnhub.domain.progress import resume_index
from tests.api.test_attempts import pass_quiz
from tests.api.test_courses import API, add_quiz, add_section, add_video, create_course, publish
from tests.api.test_learning import (
    course_progress,
    enrol,
    heartbeat,
    rewind,
    video_course,
    watch_fully,
)
from tests.api.test_query_counts import listing, statements_for

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


async def test_every_video_and_quiz_in_outline_order_with_the_callers_state(
    client, login_as, session
):
    instructor, student = await login_as("instructor"), await login_as("student")
    course = await create_course(client, instructor)
    first_section = await add_section(client, instructor, course["id"])
    second_section = await add_section(client, instructor, course["id"])
    # Created out of outline order: the second section's video first.
    late = await add_video(client, instructor, second_section["id"], duration_seconds=50)
    early = await add_video(client, instructor, first_section["id"], duration_seconds=20)
    await add_quiz(client, instructor, second_section["id"])
    await publish(client, instructor, course["id"])
    detail = (await client.get(f"{API}/courses/{course['id']}")).json()
    quiz = detail["sections"][1]["quizzes"][0]
    await enrol(client, student, course["id"])

    await watch_fully(client, session, student, early["id"], 20)
    await heartbeat(client, student, late["id"], position_seconds=10, played_segments=[[0, 10]])
    await pass_quiz(client, student, quiz["id"])

    progress = await course_progress(client, student, course["id"])
    videos = progress["videos"]
    assert [v["video_id"] for v in videos] == [early["id"], late["id"]]
    assert [v["section_id"] for v in videos] == [first_section["id"], second_section["id"]]
    assert videos[0]["completed"] is True and videos[0]["percent"] == 100.0
    assert videos[1] == {
        "video_id": late["id"],
        "section_id": second_section["id"],
        "title": late["title"],
        "duration_seconds": 50,
        "position_seconds": 10.0,
        "watched_seconds": 10.0,
        "percent": 20.0,
        "completed": False,
    }
    assert progress["quizzes"] == [
        {
            "quiz_id": quiz["id"],
            "section_id": second_section["id"],
            "title": quiz["title"],
            "passed": True,
        }
    ]
    assert progress["completed_items"] == 2 and progress["total_items"] == 3
    assert progress["resume"] == {"video_id": late["id"], "position_seconds": 10.0}

    # Another learner's progress is theirs alone.
    other = await login_as("student")
    await enrol(client, other, course["id"])
    mine = await course_progress(client, other, course["id"])
    assert all(v["watched_seconds"] == 0 and not v["completed"] for v in mine["videos"])
    assert mine["quizzes"][0]["passed"] is False and mine["resume"] is None


async def test_resume_skips_a_completed_video_to_the_next_unfinished_one(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (one, two, three) = await video_course(client, instructor, durations=(20, 20, 20))
    await enrol(client, student, course["id"])

    # Played the third a little, then finished the second: resume at the third, where it was.
    await heartbeat(client, student, three["id"], position_seconds=4, played_segments=[[0, 4]])
    await rewind(session, student, three["id"], 5)
    await watch_fully(client, session, student, two["id"], 20)
    progress = await course_progress(client, student, course["id"])
    assert progress["resume"] == {"video_id": three["id"], "position_seconds": 4.0}

    # Finish the third: nothing after it is unfinished, so back to the first unfinished one.
    await watch_fully(client, session, student, three["id"], 20)
    progress = await course_progress(client, student, course["id"])
    assert progress["resume"] == {"video_id": one["id"], "position_seconds": 0.0}

    # All done: the last one watched, to watch again.
    await watch_fully(client, session, student, one["id"], 20)
    progress = await course_progress(client, student, course["id"])
    assert progress["resume"]["video_id"] == one["id"] and progress["completed"] is True


def test_resume_index_rule():
    t = [None, None, None]
    assert resume_index([False, False, False], t) is None
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = now + timedelta(seconds=1)
    assert resume_index([False, False, False], [now, later, None]) == 1
    assert resume_index([False, True, False], [now, later, None]) == 2
    assert resume_index([False, True, True], [now, later, None]) == 0
    assert resume_index([True, True, True], [later, now, None]) == 0


async def test_progress_costs_the_same_for_a_small_and_a_large_outline(
    client, connection, login_as
):
    instructor, student = await login_as("instructor"), await login_as("student")
    small, _ = await video_course(client, instructor, durations=(10,), quizzes=1)
    large, _ = await video_course(client, instructor, durations=(10,) * 12, quizzes=5)
    for course in (small, large):
        await enrol(client, student, course["id"])
    url = f"{API}/courses/{{}}/progress"
    _, few = await statements_for(
        client, connection, url.format(small["id"]), headers=student.headers
    )
    response, many = await statements_for(
        client, connection, url.format(large["id"]), headers=student.headers
    )
    assert len(response.json()["videos"]) == 12 and len(response.json()["quizzes"]) == 5
    # The principal, the enrolment, the course, then the videos and the quizzes: five.
    assert len(few) == len(many) == 5, listing(many)
