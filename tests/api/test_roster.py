"""`GET /courses/{id}/enrollments` (issue 15, item 2): a course's learners for its instructor
and admins, in keyset pages or as one CSV download guarded against formula injection, on
both databases."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api.test_courses import API, course_url, create_course
from tests.api.test_learning import cancel, enrol, heartbeat, video_course, watch_fully
from tests.api.test_query_counts import listing, statements_for

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def roster_url(course_id: str) -> str:
    return course_url(course_id, "/enrollments")


async def rename(client, account, name: str) -> None:
    response = await client.patch(
        f"{API}/users/me", headers=account.headers, json={"display_name": name}
    )
    assert response.status_code == 200, response.text


async def test_the_instructor_sees_learners_newest_first_with_progress(client, login_as, session):
    instructor = await login_as("instructor")
    course, (video, _) = await video_course(client, instructor, durations=(20, 30))
    ada, bob, cy = [await login_as("student") for _ in range(3)]
    await rename(client, ada, "Ada")
    first = await enrol(client, ada, course["id"])
    await enrol(client, bob, course["id"])
    third = await enrol(client, cy, course["id"])
    await cancel(client, cy, third["id"])
    await watch_fully(client, session, ada, video["id"], 20)

    response = await client.get(roster_url(course["id"]), headers=instructor.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["user"]["id"] for i in items] == [cy.id, bob.id, ada.id]
    last = items[-1]
    assert last["enrollment_id"] == first["id"] and last["status"] == "active"
    assert last["user"] == {"id": ada.id, "display_name": "Ada", "email": None}
    assert last["percent"] == 50.0 and last["last_activity_at"] > last["enrolled_at"]
    assert items[0]["status"] == "cancelled" and items[0]["percent"] == 0.0
    assert items[1]["last_activity_at"] == items[1]["enrolled_at"]

    # Admins see the addresses; pages of one never overlap.
    admin = await login_as("admin")
    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get(roster_url(course["id"]), headers=admin.headers, params=params)
        ).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["user"]["id"] for i in seen] == [cy.id, bob.id, ada.id]
    assert seen[-1]["user"]["email"] == ada.email


async def test_who_may_read_a_roster(client, login_as):
    instructor, other_instructor = await login_as("instructor"), await login_as("instructor")
    student = await login_as("student")
    course, _ = await video_course(client, instructor)
    draft = await create_course(client, instructor)
    url = roster_url(course["id"])
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=student.headers)).status_code == 403
    await enrol(client, student, course["id"])
    assert (await client.get(url, headers=student.headers)).status_code == 403
    assert (await client.get(url, headers=other_instructor.headers)).status_code == 403
    # A draft does not exist for others; an unknown course for anyone.
    hidden = roster_url(draft["id"])
    assert (await client.get(hidden, headers=other_instructor.headers)).status_code == 404
    assert (await client.get(hidden, headers=instructor.headers)).status_code == 200
    unknown = roster_url("0193a5b2-0000-7000-8000-000000000000")
    assert (await client.get(unknown, headers=instructor.headers)).status_code == 404
    bad = await client.get(url, headers=instructor.headers, params={"format": "xml"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )
    unknown_param = await client.get(url, headers=instructor.headers, params={"sort": "x"})
    assert unknown_param.status_code == 422


async def test_csv_export_has_every_row_and_defuses_formulas(client, login_as):
    instructor = await login_as("instructor")
    course, (video,) = await video_course(client, instructor, durations=(20,))
    names = ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "Plain, with comma"]
    learners = []
    for name in names:
        learner = await login_as("student")
        await rename(client, learner, name)
        await enrol(client, learner, course["id"])
        learners.append(learner)
    await heartbeat(client, learners[0], video["id"], position_seconds=3, played_segments=[[0, 3]])

    response = await client.get(
        roster_url(course["id"]), headers=instructor.headers, params={"format": "csv"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="course-{course["id"]}-learners.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(names)
    by_user = {row["user_id"]: row for row in rows}
    assert by_user[learners[0].id]["display_name"] == '\'=HYPERLINK("http://evil")'
    assert by_user[learners[1].id]["display_name"] == "'+1"
    assert by_user[learners[2].id]["display_name"] == "'-2"
    assert by_user[learners[3].id]["display_name"] == "'@SUM(A1)"
    assert by_user[learners[4].id]["display_name"] == "Plain, with comma"
    assert all(row["email"] == "" and row["status"] == "active" for row in rows)
    assert by_user[learners[0].id]["percent"] == "0.0"

    admin = await login_as("admin")
    as_admin = await client.get(
        roster_url(course["id"]), headers=admin.headers, params={"format": "csv"}
    )
    emails = {row["email"] for row in csv.DictReader(io.StringIO(as_admin.text))}
    assert emails == {learner.email for learner in learners}
    student = await login_as("student")
    refused = await client.get(
        roster_url(course["id"]), headers=student.headers, params={"format": "csv"}
    )
    assert refused.status_code == 403


async def test_a_roster_page_costs_the_same_for_few_or_many_learners(client, connection, login_as):
    instructor = await login_as("instructor")
    course, _ = await video_course(client, instructor)
    await enrol(client, await login_as("student"), course["id"])
    url = roster_url(course["id"])
    _, few = await statements_for(client, connection, url, headers=instructor.headers)
    for _ in range(6):
        await enrol(client, await login_as("student"), course["id"])
    response, many = await statements_for(client, connection, url, headers=instructor.headers)
    assert len(response.json()["items"]) == 7
    assert len(few) == len(many), listing(many)
