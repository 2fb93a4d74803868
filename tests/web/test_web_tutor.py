"""The tutor chat page through httpx, on both databases (issue 16): an enrolled learner asks
by the plain form (303 back to the conversation) and by the script's JSON route (its CSRF
token in the X-CSRF-Token header); answers cite the course's videos as links to the player
at the cited second; another learner's conversation is a 404 page; whoever is not enrolled
is told so."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from learnhub.web import security
from tests.api.conftest import Account, LoginAs
from tests.api.test_learning import enrol
from tests.api.test_tutor import message_count, tutored_learner
from tests.web.test_web_base import assert_page, csrf_of, logged_in, token_for

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

QUESTION = "What does a recursive function need so that it stops?"
CITATION = re.compile(r'href="(/learn/[^/"]+/videos/[^/"?]+\?t=\d+)"')


def citation_form(slug: str, video_ids: set[str]) -> re.Pattern[str]:
    ids = "|".join(re.escape(v) for v in sorted(video_ids))
    return re.compile(rf"/learn/{re.escape(slug)}/videos/({ids})\?t=(\d+)")


async def ask_by_form(
    client: httpx.AsyncClient, path: str, content: str, conversation: str = ""
) -> httpx.Response:
    token = await token_for(client, path)
    form = {"csrf_token": token, "content": content, "conversation": conversation}
    return await client.post(path, data=form)


async def chat(client: httpx.AsyncClient, login_as: LoginAs) -> tuple[Account, dict, list[dict]]:
    _, learner, course, videos = await tutored_learner(client, login_as)
    await logged_in(client, learner)
    return learner, course, videos


async def test_ask_by_the_form_and_follow_the_citations(client, login_as: LoginAs, session):
    _, course, videos = await chat(client, login_as)
    slug, path = course["slug"], f"/courses/{course['slug']}/tutor"
    course_page = assert_page(await client.get(f"/courses/{slug}"))
    assert f'href="{path}"' in course_page  # the course page links its tutor for learners

    empty = assert_page(await client.get(path))
    assert "No questions yet" in empty and "New conversation" in empty
    asked = await ask_by_form(client, path, QUESTION)
    assert asked.status_code == 303
    location = asked.headers["location"]
    conversation = re.fullmatch(rf"{path}\?conversation=([0-9a-f-]{{36}})#latest", location)
    assert conversation, location
    page = assert_page(await client.get(location.partition("#")[0]))
    assert QUESTION in page and "base case" in page  # the answer quotes the transcript
    links = CITATION.findall(page)
    assert links, page
    wanted = citation_form(slug, {v["id"] for v in videos})
    assert all(wanted.fullmatch(link) for link in links), links
    assert 'aria-current="page"' in page

    # A second question stays in the conversation, which the page opens by default.
    again = await ask_by_form(client, path, "And what overflows?", conversation.group(1))
    assert again.headers["location"] == location
    page = assert_page(await client.get(path))
    assert page.count('class="message message-mine"') == 2
    assert await message_count(session, conversation.group(1)) == 4

    # A question the service refuses: the chat again with the message and the typed text.
    for content, message in [("   ", "Ask a question: the message is empty."), ("x" * 2001, "")]:
        refused = await ask_by_form(client, path, content, conversation.group(1))
        text = assert_page(refused, 422)
        assert 'role="alert"' in text and message in text and "And what overflows?" in text
    assert await message_count(session, conversation.group(1)) == 4
    new = assert_page(await client.get(f"{path}?new=1"))
    assert "No questions yet" in new and 'name="conversation" value=""' in new


async def test_the_script_asks_with_the_csrf_header_and_gets_json(client, login_as: LoginAs):
    _, course, videos = await chat(client, login_as)
    path = f"/courses/{course['slug']}/tutor"
    token = csrf_of(assert_page(await client.get(path)))
    url = f"{path}/messages"
    headers = {"X-CSRF-Token": token}
    response = await client.post(url, json={"content": QUESTION}, headers=headers)
    assert response.status_code == 200, response.text
    exchange = response.json()
    assert exchange["question"] == {
        "mine": True,
        "content": QUESTION,
        "time": exchange["question"]["time"],
        "citations": [],
    }
    answer = exchange["answer"]
    assert answer["mine"] is False and "base case" in answer["content"]
    wanted = citation_form(course["slug"], {v["id"] for v in videos})
    hrefs = [c["href"] for c in answer["citations"] if c["href"]]
    assert hrefs and all(wanted.fullmatch(h) for h in hrefs), answer["citations"]
    conversation = exchange["conversation_id"]
    assert exchange["conversation_url"] == f"{path}?conversation={conversation}"

    follow = {"content": "And what overflows?", "conversation_id": conversation}
    second = await client.post(url, json=follow, headers=headers)
    assert second.json()["conversation_id"] == conversation
    # Refusals are problem documents for the script to show.
    empty = await client.post(url, json={**follow, "content": "  "}, headers=headers)
    assert empty.status_code == 422
    assert empty.headers["content-type"].startswith("application/problem+json")
    assert empty.json()["code"] == "validation_error"
    # No header, a wrong one, or the token in the body: refused.
    for bad_headers, body in [
        ({}, follow),
        ({"X-CSRF-Token": token[::-1]}, follow),
        ({}, {**follow, "csrf_token": token}),
    ]:
        refused = await client.post(url, json=body, headers=bad_headers)
        assert refused.status_code == 403, bad_headers
    # The header is for JSON only: a form must carry its field.
    form = await client.post(path, data={"content": "Hi"}, headers=headers)
    assert form.status_code == 403


async def test_the_csrf_header_passes_any_json_request_of_the_web_app(client, login_as: LoginAs):
    await logged_in(client, await login_as())
    token = await token_for(client, "/")
    accepted = await client.post("/logout", json={}, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 303
    assert "max-age=0" in accepted.headers["set-cookie"].lower()


async def test_another_learner_cannot_read_or_ask_in_my_conversation(
    client, login_as: LoginAs, session
):
    _, course, _ = await chat(client, login_as)
    path = f"/courses/{course['slug']}/tutor"
    asked = await ask_by_form(client, path, QUESTION)
    mine = asked.headers["location"].partition("#")[0]
    conversation = mine.rpartition("=")[2]

    other = await login_as()
    await enrol(client, other, course["id"])
    client.cookies.delete(security.SESSION_COOKIE)
    await logged_in(client, other)
    page = assert_page(await client.get(mine), 404)
    assert QUESTION not in page and "Conversation" in page
    refused = await ask_by_form(client, path, "Let me in", conversation)
    assert QUESTION not in assert_page(refused, 404)
    token = await token_for(client, path)
    script = await client.post(
        f"{path}/messages",
        json={"content": "Let me in", "conversation_id": conversation},
        headers={"X-CSRF-Token": token},
    )
    assert script.status_code == 404
    assert script.json()["detail"] == f"Conversation {conversation} not found"
    assert await message_count(session, conversation) == 2
    for bad in ("not-an-id", str(uuid.uuid4())):
        assert_page(await client.get(f"{path}?conversation={bad}"), 404)
    # Their own chat about the course is empty.
    assert "No questions yet" in assert_page(await client.get(path))


async def test_whoever_is_not_enrolled_is_told_so(client, login_as: LoginAs):
    _, course, _ = await chat(client, login_as)
    path = f"/courses/{course['slug']}/tutor"
    client.cookies.delete(security.SESSION_COOKIE)
    anonymous = await client.get(path)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=%2Fcourses%2F{course['slug']}%2Ftutor"
    stranger = await login_as()
    await logged_in(client, stranger)
    page = assert_page(await client.get(path), 403)
    assert "Enrol in the course first." in page and f'href="/courses/{course["slug"]}"' in page
    course_page = assert_page(await client.get(f"/courses/{course['slug']}"))
    assert f'href="{path}"' not in course_page
    assert_page(await client.get("/courses/no-such-course/tutor"), 404)
