"""The studio's teaching pages (issue 17, item 3) through httpx, on both databases: who may
open them (a student gets a 403 page, another instructor a 403 or 404 page, an admin any
course's), the learners page with best quiz scores and its CSV download, granting an extra
attempt, hiding and showing a review with the course rating read back at once, and the
statistics of a small known dataset."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from learnhub.domain.clock import utc_now
from learnhub.models.learning import Enrollment, QuizAttemptGrant
from learnhub.services.teaching import week_start
from tests.api.conftest import Account, LoginAs
from tests.api.test_attempts import right_answers, start, submit
from tests.api.test_courses import API, add_quiz, add_section, add_video, create_course, publish
from tests.api.test_learning import cancel, enrol, watch_fully
from tests.api.test_roster import rename
from tests.web.test_studio import alerts, as_user
from tests.web.test_web_base import assert_page, csrf_of

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

PAGES = ("learners", "reviews", "stats")


async def course_with_quiz(client: httpx.AsyncClient, instructor: Account) -> dict[str, Any]:
    """A published course: one section with two 20-second videos, then one quiz."""
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    first = await add_video(client, instructor, section["id"], title="Opening", duration_seconds=20)
    second = await add_video(client, instructor, section["id"], title="Deeper", duration_seconds=20)
    quiz = await add_quiz(client, instructor, section["id"], title="Check one")
    course = await publish(client, instructor, course["id"])
    return {"course": course, "videos": [first, second], "quiz": quiz}


def cell_text(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page)
    assert found, element_id
    return found.group(1).strip()


async def test_who_may_open_the_teaching_pages(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner, other, student, admin = (
        await login_as("instructor"),
        await login_as("instructor"),
        await login_as("student"),
        await login_as("admin"),
    )
    public = (await course_with_quiz(client, owner))["course"]
    draft = await create_course(client, owner)

    response = await client.get(f"/studio/courses/{public['id']}/learners")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?")

    await as_user(client, owner)
    studio = assert_page(await client.get(f"/studio/courses/{public['id']}"))
    for name in PAGES:
        path = f"/studio/courses/{public['id']}/{name}"
        assert f'href="{path}"' in studio  # linked from the course's studio page
        assert_page(await client.get(path))
        assert_page(await client.get(f"/studio/courses/{draft['id']}/{name}"))

    for who, draft_status in ((student, 404), (other, 404)):
        await as_user(client, who)
        for name in PAGES:
            assert_page(await client.get(f"/studio/courses/{public['id']}/{name}"), 403)
            assert_page(await client.get(f"/studio/courses/{draft['id']}/{name}"), draft_status)
        csv_response = await client.get(f"/studio/courses/{public['id']}/learners.csv")
        assert csv_response.status_code == 403
        assert not csv_response.headers["content-type"].startswith("text/csv")
        # The API refuses the same caller the same way.
        roster = await client.get(f"{API}/courses/{public['id']}/enrollments", headers=who.headers)
        assert roster.status_code == 403

    await as_user(client, admin)
    for name in PAGES:
        assert_page(await client.get(f"/studio/courses/{draft['id']}/{name}"))
    assert_page(await client.get("/studio/courses/not-an-id/stats"), 404)
    assert_page(await client.get(f"/studio/courses/{uuid.uuid4()}/reviews"), 404)


async def test_learners_show_progress_best_scores_csv_and_take_a_grant(
    client: httpx.AsyncClient, login_as: LoginAs, session: Any
) -> None:
    owner, ada, bob = (
        await login_as("instructor"),
        await login_as("student"),
        await login_as("student"),
    )
    made = await course_with_quiz(client, owner)
    course, quiz = made["course"], made["quiz"]
    await rename(client, ada, "Ada Learner")
    await rename(client, bob, "Bob Learner")
    await enrol(client, ada, course["id"])
    await enrol(client, bob, course["id"])
    attempt = await start(client, ada, quiz["id"])
    low = await submit(client, ada, attempt["id"], right_answers(attempt)[:2])
    attempt = await start(client, ada, quiz["id"])
    high = await submit(client, ada, attempt["id"], right_answers(attempt))
    assert (low["score"], high["score"]) == (50.0, 100.0)

    await as_user(client, owner)
    path = f"/studio/courses/{course['id']}/learners"
    page = assert_page(await client.get(path))
    ada_row = page.split(f'id="learner-{ada.id}"')[1].split("</tr>")[0]
    bob_row = page.split(f'id="learner-{bob.id}"')[1].split("</tr>")[0]
    assert "Ada Learner" in ada_row and "100.0%" in ada_row and "passed" in ada_row
    assert "2 attempts" in ada_row and "33.3%" in ada_row  # the quiz: 1 of 3 items
    assert "Bob Learner" in bob_row and "0.0%" in bob_row and "100.0%" not in bob_row
    assert 'href="/studio/courses/' + course["id"] + '/learners.csv"' in page
    assert ada.email not in page  # an instructor sees names, not addresses

    download = await client.get(f"{path}.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {row["display_name"] for row in rows} == {"Ada Learner", "Bob Learner"}
    assert {row["percent"] for row in rows if row["display_name"] == "Ada Learner"} == {"33.3"}

    csrf = csrf_of(page)
    form = {"csrf_token": csrf, "quiz_id": quiz["id"], "user_id": bob.id, "extra_attempts": "2"}
    granted = await client.post(f"{path}/grant", data=form)
    assert granted.status_code == 303, granted.text
    assert granted.headers["location"] == f"{path}?notice=granted"
    assert "Extra attempts saved." in assert_page(await client.get(granted.headers["location"]))
    stored = await session.execute(
        select(QuizAttemptGrant.extra_attempts).where(
            QuizAttemptGrant.quiz_id == uuid.UUID(quiz["id"]),
            QuizAttemptGrant.user_id == uuid.UUID(bob.id),
        )
    )
    assert stored.scalar_one() == 2

    # Bad input: a message on the learners page, never a 500, and nothing granted.
    for bad, message in (
        ({"extra_attempts": "many"}, "Extra attempts: a whole number from 0 to 1000."),
        ({"extra_attempts": "5000"}, "Extra_attempts must be 0 to 1000."),
        ({"quiz_id": str(uuid.uuid4())}, "Choose one of this course's quizzes."),
        ({"user_id": str(uuid.uuid4())}, None),
    ):
        response = await client.post(f"{path}/grant", data={**form, **bad})
        assert response.status_code in (400, 404, 422), response.text
        refused = assert_page(response, response.status_code)
        assert "Learners" in refused
        if message is not None:
            assert message in alerts(refused)


async def test_hiding_and_showing_a_review_updates_the_rating_at_once(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner, ada, bob = (
        await login_as("instructor"),
        await login_as("student"),
        await login_as("student"),
    )
    course = (await course_with_quiz(client, owner))["course"]
    for learner, stars, body in ((ada, 5, "Loved it"), (bob, 2, "Spam spam spam")):
        await enrol(client, learner, course["id"])
        posted = await client.post(
            f"{API}/courses/{course['id']}/reviews",
            headers=learner.headers,
            json={"rating": stars, "body": body},
        )
        assert posted.status_code == 201, posted.text
    bob_review = posted.json()

    await as_user(client, owner)
    path = f"/studio/courses/{course['id']}/reviews"
    page = assert_page(await client.get(path))
    assert cell_text(page, "rating-value") == "3.50 / 5"
    assert cell_text(page, "rating-count") == "2"
    csrf = csrf_of(page)
    version = re.search(
        rf'/studio/reviews/{bob_review["id"]}/hide".*?name="version" value="(\d+)"', page, re.S
    )
    assert version

    hidden = await client.post(
        f"/studio/reviews/{bob_review['id']}/hide",
        data={"csrf_token": csrf, "version": version.group(1)},
    )
    assert hidden.status_code == 303, hidden.text
    page = assert_page(await client.get(hidden.headers["location"]))
    assert "Review hidden" in page
    assert cell_text(page, "rating-value") == "5.00 / 5"
    assert cell_text(page, "rating-count") == "1"
    assert "Spam spam spam" in page  # still listed for the instructor, to show again
    assert f'/studio/reviews/{bob_review["id"]}/show"' in page
    public = await client.get(f"{API}/courses/{course['id']}/reviews")
    assert [r["body"] for r in public.json()["items"]] == ["Loved it"]

    # A stale version is refused with a page, not applied.
    stale = await client.post(
        f"/studio/reviews/{bob_review['id']}/show",
        data={"csrf_token": csrf, "version": version.group(1)},
    )
    assert_page(stale, 409)

    version = re.search(
        rf'/studio/reviews/{bob_review["id"]}/show".*?name="version" value="(\d+)"', page, re.S
    )
    assert version
    shown = await client.post(
        f"/studio/reviews/{bob_review['id']}/show",
        data={"csrf_token": csrf, "version": version.group(1)},
    )
    assert shown.status_code == 303, shown.text
    page = assert_page(await client.get(shown.headers["location"]))
    assert cell_text(page, "rating-value") == "3.50 / 5"

    # Without the form's token nothing changes; an unknown review is a 404 page.
    refused = await client.post(
        f"/studio/reviews/{bob_review['id']}/hide", data={"version": version.group(1)}
    )
    assert_page(refused, 403)
    missing = await client.post(
        f"/studio/reviews/{uuid.uuid4()}/hide", data={"csrf_token": csrf, "version": "1"}
    )
    assert_page(missing, 404)
    bad_version = await client.post(
        f"/studio/reviews/{bob_review['id']}/hide", data={"csrf_token": csrf, "version": "x"}
    )
    assert_page(bad_version, 422)

    student = await client.get(f"{API}/courses/{course['id']}", headers=ada.headers)
    assert student.json()["rating"] == 3.5


async def test_statistics_of_a_known_dataset(
    client: httpx.AsyncClient, login_as: LoginAs, session: Any
) -> None:
    """Four learners: Ada watches both videos and passes the quiz (completes the course),
    Bob watches the first and scores 50, Cy does nothing, Di enrols and cancels. Ada and Bob
    joined two weeks ago, Cy and Di this week."""
    owner = await login_as("instructor")
    made = await course_with_quiz(client, owner)
    course, quiz, (opening, deeper) = made["course"], made["quiz"], made["videos"]
    ada, bob, cy, di = [await login_as("student") for _ in range(4)]
    enrolments = [await enrol(client, learner, course["id"]) for learner in (ada, bob, cy, di)]
    assert (await cancel(client, di, enrolments[-1]["id"])).status_code == 200
    for video in (opening, deeper):
        await watch_fully(client, session, ada, video["id"], 20)
    await watch_fully(client, session, bob, opening["id"], 20)
    attempt = await start(client, ada, quiz["id"])
    await submit(client, ada, attempt["id"], right_answers(attempt))
    attempt = await start(client, bob, quiz["id"])
    assert (await submit(client, bob, attempt["id"], right_answers(attempt)[:2]))["score"] == 50
    two_weeks_ago = utc_now() - timedelta(days=14)
    await session.execute(
        update(Enrollment)
        .where(Enrollment.user_id.in_([uuid.UUID(ada.id), uuid.UUID(bob.id)]))
        .where(Enrollment.course_id == uuid.UUID(course["id"]))
        .values(enrolled_at=two_weeks_ago)
        .execution_options(audited_bulk=True, synchronize_session=False)
    )

    await as_user(client, owner)
    page = assert_page(await client.get(f"/studio/courses/{course['id']}/stats"))
    assert cell_text(page, "stat-learners") == "3"  # Di cancelled
    assert cell_text(page, "stat-completed") == "1"
    assert cell_text(page, "stat-completion") == "33.3%"
    assert cell_text(page, "stat-average") == "75.0%"

    weeks = re.findall(
        r'<tr><th scope="row">(\d{4}-\d\d-\d\d)</th><td>(\d+)</td></tr>',
        page.split('id="weekly-table"')[1].split("</table>")[0],
    )
    this_week = week_start(utc_now().date())
    assert weeks == [
        ((this_week - timedelta(weeks=2)).isoformat(), "2"),
        ((this_week - timedelta(weeks=1)).isoformat(), "0"),
        (this_week.isoformat(), "2"),
    ]
    drop_off = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td><td>([\d.]+)%</td></tr>',
        page.split('id="dropoff-table"')[1].split("</table>")[0],
    )
    assert drop_off == [("Opening", "2", "66.7"), ("Deeper", "1", "33.3")]
    # The charts draw the same numbers, without a script.
    chart = page.split('aria-labelledby="dropoff-chart')[1].split("</svg>")[0]
    assert ">66.7%<" in chart and ">33.3%<" in chart
    assert "<script" not in page.split("<main")[1]
