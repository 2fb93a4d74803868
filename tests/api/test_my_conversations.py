"""`GET /users/me/conversations` (issue 15, item 2): the caller's own tutor conversations,
latest activity first, in keyset pages, with their course and message count, on both
databases."""

from __future__ import annotations

import pytest

from tests.api.test_courses import API, course_url
from tests.api.test_learning import enrol, video_course
from tests.api.test_query_counts import listing, statements_for
from tests.api.test_tutor import answered, conversation, tutored_learner

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MINE = f"{API}/users/me/conversations"


async def test_my_conversations_latest_activity_first_with_course_and_count(client, login_as):
    instructor, learner, course, videos = await tutored_learner(client, login_as)
    first = await conversation(client, learner, course["id"])
    second = await conversation(client, learner, course["id"])
    about_video = await client.post(
        course_url(course["id"], "/conversations"),
        headers=learner.headers,
        json={"video_id": videos[0]["id"]},
    )
    third = about_video.json()["id"]
    # Asking in the first moves it to the top.
    await answered(client, learner, first, "What is a base case?")

    response = await client.get(MINE, headers=learner.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["id"] for i in items] == [first, third, second]
    top = items[0]
    assert top["course"] == {"id": course["id"], "title": course["title"]}
    assert top["message_count"] == 2 and top["last_message_at"] is not None
    assert top["last_activity_at"] == top["last_message_at"]
    assert items[1]["video_id"] == videos[0]["id"] and items[1]["message_count"] == 0
    assert items[1]["last_message_at"] is None
    assert items[1]["last_activity_at"] == items[1]["created_at"]

    # Keyset pages: no overlap, nothing lost.
    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(MINE, headers=learner.headers, params=params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [first, third, second]

    # Someone else sees none of them; the instructor has none.
    other = await login_as("student")
    assert (await client.get(MINE, headers=other.headers)).json()["items"] == []
    assert (await client.get(MINE, headers=instructor.headers)).json()["items"] == []


async def test_the_course_filter_and_bad_query_parameters(client, login_as):
    instructor, learner, course, _ = await tutored_learner(client, login_as)
    other_course, _ = await video_course(client, instructor, durations=(60,))
    await enrol(client, learner, other_course["id"])
    here = await conversation(client, learner, course["id"])
    there = await conversation(client, learner, other_course["id"])

    both = (await client.get(MINE, headers=learner.headers)).json()["items"]
    assert {i["id"] for i in both} == {here, there}
    only = await client.get(MINE, headers=learner.headers, params={"course_id": course["id"]})
    assert [i["id"] for i in only.json()["items"]] == [here]

    for params in ({"course_id": "nope"}, {"cursor": "garbage"}, {"sort": "oldest"}):
        response = await client.get(MINE, headers=learner.headers, params=params)
        assert response.status_code in (400, 422), (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(MINE)).status_code == 401


async def test_a_deleted_course_takes_its_conversations_off_the_list(client, login_as):
    _, learner, course, _ = await tutored_learner(client, login_as)
    await conversation(client, learner, course["id"])
    admin = await login_as("admin")
    deleted = await client.delete(course_url(course["id"]), headers=admin.headers)
    assert deleted.status_code in (200, 204), deleted.text
    assert (await client.get(MINE, headers=learner.headers)).json()["items"] == []


async def test_the_list_costs_the_same_for_few_or_many_conversations(client, connection, login_as):
    _, learner, course, _ = await tutored_learner(client, login_as)
    await conversation(client, learner, course["id"])
    _, few = await statements_for(client, connection, MINE, headers=learner.headers)
    for _ in range(8):
        c = await conversation(client, learner, course["id"])
        await answered(client, learner, c, "What is recursion?")
    response, many = await statements_for(client, connection, MINE, headers=learner.headers)
    assert len(response.json()["items"]) == 9
    # The principal, then the page.
    assert len(few) == len(many) == 2, listing(many)
