"""Quiz attempt races through the HTTP API, with real commits on separate PostgreSQL
connections (`committed_client`): concurrent starts by one learner produce one attempt
(the others 409, never a 500), concurrent submits of one attempt grade it once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from learnhub.models import OutboxMessage
from learnhub.models.learning import QuizAnswer, QuizAttempt
from tests.api.test_attempts import quiz_course, right_answers
from tests.api.test_courses import API
from tests.api.test_enrollment_concurrency import accounts
from tests.api.test_learning import enrol

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("fast_password_hashing")]

STARTS = 8
SUBMITS = 5


def histogram(responses: list[httpx.Response]) -> dict[int, int]:
    return dict(sorted(Counter(r.status_code for r in responses).items()))


async def test_concurrent_starts_make_one_attempt_and_concurrent_submits_grade_it_once(
    committed_client, committed_engine
):
    client = committed_client
    (instructor,) = await accounts(client, committed_engine, "instructor", 1)
    (student,) = await accounts(client, committed_engine, "student", 1)
    course, quiz = await quiz_course(client, instructor, time_limit_seconds=600)
    await enrol(client, student, course["id"])

    started = time.perf_counter()
    starts = list(
        await asyncio.gather(
            *(
                client.post(f"{API}/quizzes/{quiz['id']}/attempts", headers=student.headers)
                for _ in range(STARTS)
            )
        )
    )
    start_seconds = time.perf_counter() - started
    start_statuses = histogram(starts)
    qid = uuid.UUID(quiz["id"])
    async with committed_engine.connect() as conn:
        rows = (
            await conn.execute(
                select(QuizAttempt.id, QuizAttempt.attempt_no).where(QuizAttempt.quiz_id == qid)
            )
        ).all()
    print(
        f"{STARTS} concurrent starts in {start_seconds:.2f}s: statuses {start_statuses}; "
        f"{len(rows)} attempt rows"
    )
    assert start_statuses == {201: 1, 409: STARTS - 1}, [r.text for r in starts]
    (winner,) = [r.json() for r in starts if r.status_code == 201]
    for response in starts:
        if response.status_code == 409:
            body = response.json()
            assert body["code"] == "conflict", body
    assert [(str(i), n) for i, n in rows] == [(winner["id"], 1)]

    answers = right_answers(winner)
    url = f"{API}/attempts/{winner['id']}/submit"
    started = time.perf_counter()
    submits = list(
        await asyncio.gather(
            *(
                client.post(url, headers=student.headers, json={"answers": answers})
                for _ in range(SUBMITS)
            )
        )
    )
    submit_seconds = time.perf_counter() - started
    submit_statuses = histogram(submits)
    aid = uuid.UUID(winner["id"])
    async with committed_engine.connect() as conn:
        answer_rows = (
            await conn.execute(
                select(func.count()).select_from(QuizAnswer).where(QuizAnswer.attempt_id == aid)
            )
        ).scalar_one()
        state, score = (
            await conn.execute(
                select(QuizAttempt.state, QuizAttempt.score).where(QuizAttempt.id == aid)
            )
        ).one()
        events = (
            await conn.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.aggregate_id == uuid.UUID(course["id"]),
                    OutboxMessage.event_type == "QuizAttemptSubmitted",
                )
            )
        ).scalar_one()
    print(
        f"{SUBMITS} concurrent submits in {submit_seconds:.2f}s: statuses {submit_statuses}; "
        f"{answer_rows} answer rows; state {state.value}; score {score}; "
        f"{events} QuizAttemptSubmitted events"
    )
    assert submit_statuses == {200: 1, 409: SUBMITS - 1}, [r.text for r in submits]
    for response in submits:
        if response.status_code == 409:
            assert response.json()["code"] == "conflict", response.text
        else:
            assert response.json()["score"] == 100.0
    assert answer_rows == len(winner["questions"]) == 4
    assert state.value == "submitted" and float(score) == 100.0
    assert events == 1


async def test_saves_racing_a_submit_are_graded_exactly_when_they_came_first(
    committed_client, committed_engine
):
    """One save per question and a submit without a body, all at once: the saves and the
    submit queue on the attempt's locks, so every save that succeeded came before the submit
    and is graded; every one after it is a 409; nothing is lost or half-written."""
    client = committed_client
    (instructor,) = await accounts(client, committed_engine, "instructor", 1)
    (student,) = await accounts(client, committed_engine, "student", 1)
    course, quiz = await quiz_course(client, instructor, time_limit_seconds=600)
    await enrol(client, student, course["id"])
    started = await client.post(f"{API}/quizzes/{quiz['id']}/attempts", headers=student.headers)
    assert started.status_code == 201, started.text
    attempt = started.json()
    answers = right_answers(attempt)
    save_url = f"{API}/attempts/{attempt['id']}/answers"

    # Identical saves at once: all succeed, one row per question (idempotent upserts).
    same = list(
        await asyncio.gather(
            *(
                client.put(save_url, headers=student.headers, json={"answers": answers[:2]})
                for _ in range(SUBMITS)
            )
        )
    )
    assert histogram(same) == {200: SUBMITS}, [r.text for r in same]
    aid = uuid.UUID(attempt["id"])
    async with committed_engine.connect() as conn:
        rows = (
            await conn.execute(
                select(func.count()).select_from(QuizAnswer).where(QuizAnswer.attempt_id == aid)
            )
        ).scalar_one()
    assert rows == 2

    clear = [{"question_id": a["question_id"]} for a in answers[:2]]
    cleared = await client.put(save_url, headers=student.headers, json={"answers": clear})
    assert cleared.status_code == 200 and cleared.json()["answers"] == [], cleared.text
    calls = [
        client.put(save_url, headers=student.headers, json={"answers": [answer]})
        for answer in answers
    ]
    calls.insert(1, client.post(f"{API}/attempts/{attempt['id']}/submit", headers=student.headers))
    responses = list(await asyncio.gather(*calls))
    submit_response = responses.pop(1)
    statuses = histogram(responses)
    print(f"{len(answers)} saves racing a submit: saves {statuses}, submit {submit_response}")
    assert submit_response.status_code == 200, submit_response.text
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "conflict", response.text
    saved_first = sum(r.status_code == 200 for r in responses)
    assert submit_response.json()["score"] == 100.0 * saved_first / len(answers)
    async with committed_engine.connect() as conn:
        graded = (
            await conn.execute(select(QuizAnswer.correct).where(QuizAnswer.attempt_id == aid))
        ).scalars()
        correct = list(graded)
        state = (
            await conn.execute(select(QuizAttempt.state).where(QuizAttempt.id == aid))
        ).scalar_one()
    assert len(correct) == len(answers) and None not in correct
    assert sum(correct) == saved_first
    assert state.value == "submitted"
