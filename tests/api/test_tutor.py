"""The AI tutor through the HTTP API, on both databases: enrolled learners' own
conversations; the offline tutor answering from the demo catalog's own transcripts, quoting
and citing video and time, and saying plainly what the material does not cover; the
OpenAI-compatible provider against a real local HTTP server; token counts and latency
stored; the daily limit (429, exact under concurrent requests); the per-course switch;
retention; erasure."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from learnhub.api.app import create_app
from learnhub.db.engine import create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.models import AuditLog, Course, Video
from learnhub.models.learning import TutorConversation, TutorMessage, TutorUsage
from learnhub.ops.demo import load_demo
from learnhub.services.audit import AuditService
from learnhub.services.tutor import TutorPolicy, TutorService
from learnhub.tutor_providers import OfflineTutor
from tests.api.conftest import Account, assert_problem, create_account, login
from tests.api.conftest import test_settings as settings_for
from tests.api.test_courses import API, course_url
from tests.api.test_learning import enrol, video_course
from tests.support.fake_openai import fake_openai_server

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

PYTHON_COURSE = "Python Fundamentals"
LISTS_VIDEO = "Lists, Dictionaries and Comprehensions"
NOT_COVERED = "does not cover this question"


# ---- helpers ----------------------------------------------------------------------------------


async def start(
    client: httpx.AsyncClient, account: Account | None, course_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        course_url(course_id, "/conversations"),
        headers=account.headers if account else {},
        json=body,
    )


async def conversation(client: httpx.AsyncClient, account: Account, course_id: str) -> str:
    response = await start(client, account, course_id)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def ask(
    client: httpx.AsyncClient, account: Account | None, conversation_id: str, content: Any
) -> httpx.Response:
    return await client.post(
        f"{API}/conversations/{conversation_id}/messages",
        headers=account.headers if account else {},
        json={"content": content},
    )


async def answered(
    client: httpx.AsyncClient, account: Account, conversation_id: str, content: str
) -> dict[str, Any]:
    response = await ask(client, account, conversation_id, content)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def demo_course(
    session_factory: Any, session: Any, title: str = PYTHON_COURSE
) -> tuple[Course, dict[str, Video]]:
    async with UnitOfWork(session_factory) as uow:
        await load_demo(uow)
        await uow.commit()
    course = (await session.execute(select(Course).where(Course.title == title))).scalar_one()
    videos = (await session.execute(select(Video).where(Video.course_id == course.id))).scalars()
    return course, {v.title: v for v in videos}


async def message_count(session: Any, conversation_id: str) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(TutorMessage)
        .where(TutorMessage.conversation_id == uuid.UUID(conversation_id))
    )
    return int(result.scalar_one())


async def tutored_learner(client, login_as) -> tuple[Account, Account, dict, list[dict]]:
    """An instructor's published course with two transcribed videos, and an enrolled learner."""
    instructor = await login_as("instructor")
    course, videos = await video_course(client, instructor, durations=(300, 600))
    transcripts = [
        "Recursion is a function calling itself. Every recursive function needs a base case "
        "that stops it, or it never ends.",
        "[00:00] A stack is a last-in first-out structure. [02:30] Each recursive call pushes a "
        "frame on the call stack, and deep recursion overflows the stack.",
    ]
    for video, transcript in zip(videos, transcripts, strict=True):
        response = await client.patch(
            f"{API}/videos/{video['id']}",
            headers=instructor.headers,
            json={"transcript": transcript},
        )
        assert response.status_code == 200, response.text
    learner = await login_as("student")
    await enrol(client, learner, course["id"])
    return instructor, learner, course, videos


# ---- the offline tutor on the demo catalog ---------------------------------------------------


async def test_offline_tutor_quotes_and_cites_the_demo_transcripts(
    client, session_factory, session
):
    course, videos = await demo_course(session_factory, session)
    learner = await login(client, await create_account(session_factory, "student"))
    await enrol(client, learner, str(course.id))
    started = await start(client, learner, str(course.id))
    assert started.status_code == 201, started.text
    assert started.json()["messages"] == [] and started.json()["video_id"] is None
    conversation_id = started.json()["id"]

    exchange = await answered(client, learner, conversation_id, "What is a list comprehension?")
    question, answer = exchange["question"], exchange["answer"]
    assert question["role"] == "user" and question["content"] == "What is a list comprehension?"
    assert question["citations"] == [] and question["model"] is None
    assert answer["role"] == "assistant" and answer["model"] == "offline-bm25"
    lists_video = videos[LISTS_VIDEO]
    first = answer["citations"][0]
    assert first["video_id"] == str(lists_video.id)
    assert 0 <= first["start_seconds"] <= first["end_seconds"] <= lists_video.duration_seconds
    # The answer quotes the transcript word for word, and names the video and the time.
    quote = re.search(r"“([^”]+)”", answer["content"].split("\n\n", 1)[1]).group(1)
    assert "list comprehension" in quote.lower() and quote in lists_video.transcript
    minutes, seconds = divmod(int(first["start_seconds"]), 60)
    assert f"“{LISTS_VIDEO}”, at {minutes}:{seconds:02d}" in answer["content"]
    assert answer["prompt_tokens"] > question["content"].count(" ")
    assert answer["completion_tokens"] > 0 and answer["latency_ms"] >= 0
    assert answer["created_at"] >= question["created_at"]

    # What the material does not cover is said plainly, with nothing cited.
    off_topic = await answered(client, learner, conversation_id, "How do I bake sourdough bread?")
    assert NOT_COVERED in off_topic["answer"]["content"]
    assert PYTHON_COURSE in off_topic["answer"]["content"]
    assert off_topic["answer"]["citations"] == []

    read = await client.get(f"{API}/conversations/{conversation_id}", headers=learner.headers)
    assert read.status_code == 200, read.text
    body = read.json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "assistant"]
    assert body["messages"][1] == answer and body["messages"][3] == off_topic["answer"]
    assert body["last_message_at"] is not None


async def test_a_conversation_about_a_video_prefers_that_video(client, login_as):
    _, learner, course, videos = await tutored_learner(client, login_as)
    focused = await start(client, learner, course["id"], video_id=videos[1]["id"])
    assert focused.status_code == 201, focused.text
    assert focused.json()["video_id"] == videos[1]["id"]
    answer = (await answered(client, learner, focused.json()["id"], "recursion"))["answer"]
    assert answer["citations"][0]["video_id"] == videos[1]["id"]
    # Its time comes from the transcript's own [02:30] marker.
    assert answer["citations"][0]["start_seconds"] == 150.0
    unfocused = await conversation(client, learner, course["id"])
    answer = (await answered(client, learner, unfocused, "What does a base case do?"))["answer"]
    assert answer["citations"][0]["video_id"] == videos[0]["id"]


async def test_questions_about_this_video_are_answered_from_it(client, session_factory, session):
    """The two questions of issue 15 in a conversation about the demo's WCAG video."""
    course, videos = await demo_course(session_factory, session, "Web Accessibility Essentials")
    wcag = videos["WCAG and the POUR Principles"]
    learner = await login(client, await create_account(session_factory, "student"))
    await enrol(client, learner, str(course.id))
    started = await start(client, learner, str(course.id), video_id=str(wcag.id))
    assert started.status_code == 201, started.text
    conversation_id = started.json()["id"]

    # "WCAG" is in every video of the course: the conversation's video answers.
    about = await answered(
        client, learner, conversation_id, "What does this video say about WCAG 2.2?"
    )
    answer = about["answer"]
    assert NOT_COVERED not in answer["content"]
    assert {c["video_id"] for c in answer["citations"]} == {str(wcag.id)}
    first_quote = re.search(r"“([^”]+)”", answer["content"].split("\n\n", 1)[1]).group(1)
    assert "WCAG 2.2 became a W3C Recommendation" in first_quote
    assert first_quote in wcag.transcript

    # "Explain this video": the video itself, from its start and in its order.
    explained = (await answered(client, learner, conversation_id, "explain this video"))["answer"]
    assert explained["content"].startswith("Here is what “WCAG and the POUR Principles” covers:")
    citations = explained["citations"]
    assert citations and {c["video_id"] for c in citations} == {str(wcag.id)}
    assert citations[0]["start_seconds"] == 0.0
    starts = [c["start_seconds"] for c in citations]
    assert starts == sorted(starts)
    assert "The Web Content Accessibility Guidelines" in explained["content"]

    # A conversation about the course as a whole has no "this video" to explain.
    unfocused = await conversation(client, learner, str(course.id))
    vague = (await answered(client, learner, unfocused, "explain this video"))["answer"]
    assert NOT_COVERED in vague["content"] and vague["citations"] == []


# ---- who may talk to the tutor ----------------------------------------------------------------


async def test_only_enrolled_learners_talk_and_only_in_their_own_conversations(
    client, login_as, session
):
    instructor, learner, course, _ = await tutored_learner(client, login_as)
    conversation_id = await conversation(client, learner, course["id"])
    stranger = await login_as("student")
    assert_problem(await start(client, stranger, course["id"]), 403, "not_enrolled")
    assert_problem(await start(client, None, course["id"]), 401, "unauthorized")
    # Another learner's conversation does not exist for the caller, an admin included.
    admin = await login_as("admin")
    for other in (stranger, instructor, admin):
        read = await client.get(f"{API}/conversations/{conversation_id}", headers=other.headers)
        assert_problem(read, 404, "not_found")
        assert_problem(await ask(client, other, conversation_id, "recursion?"), 404, "not_found")
    assert await message_count(session, conversation_id) == 0
    # A video of another course, an unknown course, and a draft are not found.
    other_course, other_videos = await video_course(client, instructor)
    await enrol(client, learner, other_course["id"])
    response = await start(client, learner, course["id"], video_id=other_videos[0]["id"])
    assert_problem(response, 404, "not_found")
    assert_problem(await start(client, learner, str(uuid.uuid4())), 404, "not_found")
    # A learner who cancels loses the tutor of that course.
    enrollments = await client.get(f"{API}/users/me/enrollments", headers=learner.headers)
    mine = next(e for e in enrollments.json()["items"] if e["course_id"] == course["id"])
    cancelled = await client.post(f"{API}/enrollments/{mine['id']}/cancel", headers=learner.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert_problem(await ask(client, learner, conversation_id, "recursion?"), 403, "not_enrolled")
    assert await message_count(session, conversation_id) == 0


@pytest.mark.parametrize(
    "content", ["", "   ", "x" * 2001, "null\x00byte", None, 42], ids=lambda c: repr(c)[:12]
)
async def test_bad_questions_are_refused_with_a_problem(client, login_as, session, content):
    _, learner, course, _ = await tutored_learner(client, login_as)
    conversation_id = await conversation(client, learner, course["id"])
    response = await ask(client, learner, conversation_id, content)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await message_count(session, conversation_id) == 0


async def test_the_course_switch_turns_the_tutor_off_and_on(client, login_as, session):
    instructor, learner, course, _ = await tutored_learner(client, login_as)
    conversation_id = await conversation(client, learner, course["id"])
    detail = await client.get(course_url(course["id"]), headers=instructor.headers)
    assert detail.json()["tutor_enabled"] is True
    off = await client.patch(
        course_url(course["id"]), headers=instructor.headers, json={"tutor_enabled": False}
    )
    assert off.status_code == 200 and off.json()["tutor_enabled"] is False, off.text
    assert_problem(await ask(client, learner, conversation_id, "recursion?"), 409, "tutor_disabled")
    assert_problem(await start(client, learner, course["id"]), 409, "tutor_disabled")
    assert await message_count(session, conversation_id) == 0
    on = await client.patch(
        course_url(course["id"]), headers=instructor.headers, json={"tutor_enabled": True}
    )
    assert on.status_code == 200, on.text
    assert (await ask(client, learner, conversation_id, "recursion?")).status_code == 201
    # The switch is an audited edit of the course.
    entries = await session.execute(
        select(AuditLog.changes).where(
            AuditLog.entity_id == uuid.UUID(course["id"]), AuditLog.action == "update"
        )
    )
    assert {"tutor_enabled": [True, False]} in [dict(c) for c in entries.scalars()]


# ---- the daily limit --------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"tutor_daily_message_limit": 2}])
async def test_the_daily_limit_answers_429_and_stores_nothing_more(
    client, login_as, session, settings_overrides
):
    _, learner, course, _ = await tutored_learner(client, login_as)
    conversation_id = await conversation(client, learner, course["id"])
    for _ in range(2):
        assert (await ask(client, learner, conversation_id, "recursion?")).status_code == 201
    refused = await ask(client, learner, conversation_id, "recursion?")
    body = assert_problem(refused, 429, "too_many_requests")
    assert "daily limit of 2" in body["detail"]
    assert 0 < int(refused.headers["retry-after"]) <= 86400
    assert await message_count(session, conversation_id) == 4
    used = await session.execute(
        select(TutorUsage.messages).where(TutorUsage.user_id == uuid.UUID(learner.id))
    )
    assert used.scalar_one() == 2
    # The limit is per learner: another learner still asks.
    other = await login_as("student")
    await enrol(client, other, course["id"])
    other_conversation = await conversation(client, other, course["id"])
    assert (await ask(client, other, other_conversation, "recursion?")).status_code == 201


async def test_the_daily_limit_is_exact_under_concurrent_questions(committed_engine, db_url):
    limit, attempts = 3, 8
    app = create_app(settings_for(db_url, tutor_daily_message_limit=limit))
    async with app.router.lifespan_context(app):
        app.state.engine = committed_engine
        app.state.session_factory = factory = create_session_factory(committed_engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            instructor = await login(client, await create_account(factory, "instructor"))
            course, _ = await video_course(client, instructor)
            learner = await login(client, await create_account(factory, "student"))
            await enrol(client, learner, course["id"])
            conversation_id = await conversation(client, learner, course["id"])
            responses = await asyncio.gather(
                *(ask(client, learner, conversation_id, "hello world?") for _ in range(attempts))
            )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * limit + [429] * (attempts - limit), statuses
    async with committed_engine.connect() as conn:
        stored = await conn.scalar(
            select(func.count())
            .select_from(TutorMessage)
            .where(TutorMessage.conversation_id == uuid.UUID(conversation_id))
        )
        used = await conn.scalar(
            select(TutorUsage.messages).where(TutorUsage.user_id == uuid.UUID(learner.id))
        )
    assert stored == 2 * limit and used == limit


# ---- the OpenAI-compatible provider against a local HTTP server -------------------------------


@pytest.fixture
def fake_openai():
    with fake_openai_server() as fake:
        yield fake


@pytest.fixture
def settings_overrides(request) -> dict[str, Any]:
    """The OpenAI-compatible provider for tests that ask for `fake_openai`."""
    if "fake_openai" not in request.fixturenames:
        return {}
    fake = request.getfixturevalue("fake_openai")
    return {
        "tutor_provider": "openai",
        "tutor_api_url": fake.url,
        "tutor_api_key": "sk-test-key",
        "tutor_model": "tutor-model",
        "tutor_timeout_seconds": 1.0,
    }


async def test_openai_provider_is_grounded_in_course_passages_and_stores_usage(
    client, login_as, fake_openai
):
    _, learner, course, videos = await tutored_learner(client, login_as)
    conversation_id = await conversation(client, learner, course["id"])
    fake_openai.content = "Every recursive function needs a base case [1]."
    first = await answered(client, learner, conversation_id, "Why does recursion need a base case?")
    request = fake_openai.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == "Bearer sk-test-key"
    assert request["json"]["model"] == "tutor-model"
    system, user = request["json"]["messages"][0], request["json"]["messages"][-1]
    assert system["role"] == "system" and "base case" in system["content"]
    assert "[1]" in system["content"] and course["title"] in system["content"]
    assert user == {"role": "user", "content": "Why does recursion need a base case?"}
    answer = first["answer"]
    assert answer["content"] == "Every recursive function needs a base case [1]."
    assert answer["model"] == "fake-model-1"
    assert (answer["prompt_tokens"], answer["completion_tokens"]) == (321, 12)
    assert [c["video_id"] for c in answer["citations"]] == [videos[0]["id"]]

    # The conversation so far travels with the next question.
    fake_openai.usage = None  # a server that reports no usage: completion tokens are counted
    second = await answered(client, learner, conversation_id, "And the call stack?")
    turns = fake_openai.requests[-1]["json"]["messages"][1:-1]
    assert turns == [
        {"role": "user", "content": "Why does recursion need a base case?"},
        {"role": "assistant", "content": "Every recursive function needs a base case [1]."},
    ]
    assert second["answer"]["prompt_tokens"] == 0 and second["answer"]["completion_tokens"] > 0

    # A question the material does not cover never reaches the model.
    calls = len(fake_openai.requests)
    off_topic = await answered(client, learner, conversation_id, "Best sourdough bread recipe?")
    assert NOT_COVERED in off_topic["answer"]["content"]
    assert len(fake_openai.requests) == calls


@pytest.mark.parametrize("failure", ["status", "timeout", "garbage", "no_choices"])
async def test_openai_provider_failure_is_a_503_and_stores_and_counts_nothing(
    client, login_as, session, fake_openai, failure
):
    _, learner, course, _ = await tutored_learner(client, login_as)
    conversation_id = await conversation(client, learner, course["id"])
    if failure == "status":
        fake_openai.status = 500
    elif failure == "timeout":
        fake_openai.delay = 1.5  # the client gives up after 1 s
    elif failure == "garbage":
        fake_openai.raw_body = b"<html>not json</html>"
    else:
        fake_openai.raw_body = b'{"choices": []}'
    response = await ask(client, learner, conversation_id, "What is recursion?")
    assert_problem(response, 503, "tutor_unavailable")
    assert int(response.headers["retry-after"]) > 0
    assert await message_count(session, conversation_id) == 0
    used = await session.execute(
        select(TutorUsage.messages).where(TutorUsage.user_id == uuid.UUID(learner.id))
    )
    assert used.scalar_one_or_none() is None


# ---- retention and erasure --------------------------------------------------------------------


async def test_retention_purge_deletes_old_messages_and_idle_conversations_audited(
    client, login_as, session, session_factory
):
    _, learner, course, _ = await tutored_learner(client, login_as)
    old = await conversation(client, learner, course["id"])
    recent = await conversation(client, learner, course["id"])
    await answered(client, learner, old, "recursion?")
    await answered(client, learner, recent, "recursion?")
    long_ago = utc_now() - timedelta(days=100)
    await session.execute(
        update(TutorMessage)
        .where(TutorMessage.conversation_id == uuid.UUID(old))
        .values(created_at=long_ago)
        .execution_options(audited_bulk=True)
    )
    await session.execute(
        update(TutorConversation)
        .where(TutorConversation.id == uuid.UUID(old))
        .values(last_message_at=long_ago, created_at=long_ago)
        .execution_options(audited_bulk=True)
    )
    old_messages = await session.execute(
        select(TutorMessage.id).where(TutorMessage.conversation_id == uuid.UUID(old))
    )
    old_ids = set(old_messages.scalars())
    async with UnitOfWork(session_factory) as uow:
        report = await TutorService(
            uow, OfflineTutor(), TutorPolicy(retention_days=90)
        ).purge_expired()
        await uow.commit()
    assert (report.messages, report.conversations) == (2, 1)
    assert await message_count(session, old) == 0 and await message_count(session, recent) == 2
    gone = await session.execute(
        select(AuditLog.entity_id).where(
            AuditLog.entity_type == "tutor_message", AuditLog.action == "hard_delete"
        )
    )
    assert old_ids <= set(gone.scalars())
    async with UnitOfWork(session_factory) as uow:
        verified = await AuditService(uow).verify()
    assert verified.gaps == []


async def test_erasing_a_learner_erases_their_conversations(client, login_as, session):
    _, learner, course, _ = await tutored_learner(client, login_as)
    conversation_id = await conversation(client, learner, course["id"])
    await answered(client, learner, conversation_id, "recursion?")
    admin = await login_as("admin")
    erased = await client.delete(f"{API}/users/{learner.id}?hard=true", headers=admin.headers)
    assert erased.status_code == 204, erased.text
    left = await session.execute(
        select(func.count())
        .select_from(TutorConversation)
        .where(TutorConversation.id == uuid.UUID(conversation_id))
        .execution_options(include_deleted=True)
    )
    assert left.scalar_one() == 0 and await message_count(session, conversation_id) == 0
    removals = await session.execute(
        select(AuditLog.entity_type).where(
            AuditLog.action == "hard_delete",
            AuditLog.entity_type.in_(["tutor_conversation", "tutor_message"]),
        )
    )
    assert sorted(removals.scalars()).count("tutor_message") >= 2


async def test_export_holds_the_learners_learning_data_and_conversations(client, login_as):
    _, learner, course, videos = await tutored_learner(client, login_as)
    conversation_id = await conversation(client, learner, course["id"])
    exchange = await answered(client, learner, conversation_id, "recursion?")
    beat = await client.put(
        f"{API}/videos/{videos[0]['id']}/progress",
        headers=learner.headers,
        json={"position_seconds": 5, "played_segments": [[0, 5]]},
    )
    assert beat.status_code == 200, beat.text
    posted = await client.post(
        course_url(course["id"], "/reviews"), headers=learner.headers, json={"rating": 5}
    )
    assert posted.status_code == 201, posted.text

    body = (await client.get(f"{API}/users/me/export", headers=learner.headers)).json()
    assert [e["course_id"] for e in body["enrollments"]] == [course["id"]]
    assert [(p["video_id"], p["position_seconds"]) for p in body["video_progress"]] == [
        (videos[0]["id"], 5)
    ]
    assert [(r["id"], r["rating"]) for r in body["reviews"]] == [(posted.json()["id"], 5)]
    assert body["quiz_attempts"] == []
    (exported,) = body["tutor_conversations"]
    assert exported["id"] == conversation_id and exported["course_id"] == course["id"]
    assert exported["messages"] == [exchange["question"], exchange["answer"]]
