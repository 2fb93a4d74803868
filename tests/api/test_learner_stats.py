"""GET /users/me/stats, kept fresh by the in-process handler after each learning change, on
both databases: zeros before any activity; enrolling, completing videos and courses, passing
quizzes (each quiz once) and cancelling all show at once; a failing handler leaves the
enrolment committed and its event unhandled, and the retrier puts the stats right."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from learnhub.db.engine import create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.events.bus import EventBus
from learnhub.events.events import DomainEvent
from learnhub.metrics import EVENT_HANDLER_FAILURES
from learnhub.models import OutboxMessage
from learnhub.repositories.stats import LearnerStatsRepository
from learnhub.workers.handlers import STATS_EVENTS, HandlerRetrier, RefreshLearnerStats
from tests.api.conftest import Account, create_account, login
from tests.api.test_attempts import pass_quiz
from tests.api.test_courses import API, course_url
from tests.api.test_learning import cancel, enrol, video_course, watch_fully

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

STATS = f"{API}/users/me/stats"
ZEROS = {"enrolled_courses": 0, "completed_courses": 0, "completed_videos": 0, "passed_quizzes": 0}


async def stats(client: httpx.AsyncClient, account: Account) -> dict:
    response = await client.get(STATS, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def counts(body: dict) -> dict:
    return {key: body[key] for key in ZEROS}


async def unhandled(session, event_type: str, user_id: str) -> int:
    rows = await session.execute(
        select(OutboxMessage.payload).where(
            OutboxMessage.event_type == event_type, OutboxMessage.handled_at.is_(None)
        )
    )
    return sum(1 for payload in rows.scalars() if payload.get("user_id") == user_id)


async def quiz_id_of(client: httpx.AsyncClient, course_id: str) -> str:
    detail = (await client.get(course_url(course_id))).json()
    return str(detail["sections"][0]["quizzes"][0]["id"])


async def test_stats_are_zeros_before_any_activity(client, login_as):
    student = await login_as("student")
    body = await stats(client, student)
    assert counts(body) == ZEROS
    assert body["last_activity_at"] is None and body["refreshed_at"] is None
    assert (await client.get(STATS)).status_code == 401


async def test_stats_follow_enrolling_completing_passing_and_cancelling(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (first, second) = await video_course(client, instructor, durations=(20, 20), quizzes=1)
    other, _ = await video_course(client, instructor)

    await enrol(client, student, course["id"])
    after_enrol = await stats(client, student)
    assert counts(after_enrol) == {**ZEROS, "enrolled_courses": 1}
    assert after_enrol["last_activity_at"] and after_enrol["refreshed_at"]

    await watch_fully(client, session, student, first["id"], 20)
    assert counts(await stats(client, student))["completed_videos"] == 1

    quiz_id = await quiz_id_of(client, course["id"])
    await pass_quiz(client, student, quiz_id)
    await pass_quiz(client, student, quiz_id)  # the same quiz counts once
    assert counts(await stats(client, student))["passed_quizzes"] == 1

    await watch_fully(client, session, student, second["id"], 20)  # completes the course
    assert counts(await stats(client, student)) == {
        "enrolled_courses": 1,
        "completed_courses": 1,
        "completed_videos": 2,
        "passed_quizzes": 1,
    }

    enrolment = await enrol(client, student, other["id"])
    assert counts(await stats(client, student))["enrolled_courses"] == 2
    assert (await cancel(client, student, enrolment["id"])).status_code == 200
    final = await stats(client, student)
    assert counts(final)["enrolled_courses"] == 1
    assert final["last_activity_at"] >= after_enrol["last_activity_at"]

    # Every one of those events was handled in process, so none waits for the retrier.
    for event_type in ("UserEnrolled", "VideoCompleted", "QuizAttemptSubmitted"):
        assert await unhandled(session, event_type, student.id) == 0
    # Another learner's stats are untouched.
    bystander = await login_as("student")
    assert counts(await stats(client, bystander)) == ZEROS


async def test_export_includes_the_stats(client, login_as):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, _ = await video_course(client, instructor)
    await enrol(client, student, course["id"])
    export = (await client.get(f"{API}/users/me/export", headers=student.headers)).json()
    assert counts(export["stats"]) == {**ZEROS, "enrolled_courses": 1}


class Breakable:
    """The real stats handler behind a switch."""

    def __init__(self, real: RefreshLearnerStats) -> None:
        self.real = real
        self.broken = True

    async def __call__(self, event: DomainEvent) -> None:
        if self.broken:
            raise RuntimeError("stats store unavailable")
        await self.real(event)


async def test_a_failing_handler_keeps_the_enrolment_and_the_retrier_fixes_the_stats(
    app, client, login_as, session, session_factory
):
    handler = Breakable(RefreshLearnerStats(lambda: UnitOfWork(session_factory)))
    bus = EventBus()
    for event_type in STATS_EVENTS:
        bus.subscribe(event_type, handler)
    app.state.bus = bus  # every request's unit of work dispatches to it
    instructor, student = await login_as("instructor"), await login_as("student")
    course, _ = await video_course(client, instructor)
    failures = EVENT_HANDLER_FAILURES.labels(event_type="UserEnrolled")
    before = failures._value.get()

    enrolment = await enrol(client, student, course["id"])  # 201: the handler's failure is not ours

    mine = (await client.get(f"{API}/users/me/enrollments", headers=student.headers)).json()
    assert [item["id"] for item in mine["items"]] == [enrolment["id"]]
    assert counts(await stats(client, student)) == ZEROS  # derived data stale for now
    assert await unhandled(session, "UserEnrolled", student.id) == 1
    assert failures._value.get() == before + 1

    handler.broken = False
    retrier = HandlerRetrier(lambda: UnitOfWork(session_factory), bus, grace=timedelta(0))
    result = await retrier.run_once()
    assert result.handled >= 1 and result.failed == 0
    assert counts(await stats(client, student)) == {**ZEROS, "enrolled_courses": 1}
    assert await unhandled(session, "UserEnrolled", student.id) == 0


@pytest.mark.postgres_only
async def test_concurrent_refreshes_take_turns_and_the_later_one_reads_fresh_data(
    committed_app, committed_client, committed_engine
):
    """The later of two concurrent refreshes waits for the earlier one's row lock and only
    then reads the totals, so it sees a change that committed while it waited: a stale
    computation can never be the last word."""
    committed_app.state.bus = EventBus()  # requests change data; the test refreshes by hand
    factory = create_session_factory(committed_engine)
    instructor = await login(committed_client, await create_account(factory, "instructor"))
    student = await login(committed_client, await create_account(factory, "student"))
    first, _ = await video_course(committed_client, instructor)
    second, _ = await video_course(committed_client, instructor)
    user_id = uuid.UUID(student.id)
    await enrol(committed_client, student, first["id"])

    async def refresh_and_commit() -> None:
        async with factory() as session:
            await LearnerStatsRepository(session).refresh(user_id)
            await session.commit()

    async with factory() as earlier:
        await LearnerStatsRepository(earlier).refresh(user_id)  # holds the row, counted 1
        later = asyncio.create_task(refresh_and_commit())
        await asyncio.sleep(0.3)
        assert not later.done()  # waiting for the row lock
        await enrol(committed_client, student, second["id"])  # commits meanwhile
        await earlier.commit()
    await asyncio.wait_for(later, timeout=10)
    async with factory() as session:
        stored = await LearnerStatsRepository(session).get(user_id)
    assert stored.enrolled_courses == 2
