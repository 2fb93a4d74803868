"""Quiz answers saved while an attempt is open, reading an attempt back (with the answer
review once closed), one's attempts at a quiz, and extra attempts granted by the course's
instructor, through the HTTP API on both databases (issue 15, item 3). Attempts closed at
their deadline (on submit, on read, by the sweep) are graded on what was saved."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from learnhub.domain.clock import utc_now
from learnhub.models import AuditLog
from learnhub.models.learning import QuizAnswer, QuizAttempt
from learnhub.services.quiz_attempts import QuizAttemptService
from tests.api.conftest import Account, assert_problem
from tests.api.test_attempts import (
    attempt_state,
    begin,
    enrolled_learner,
    move_deadline,
    quiz_course,
    right_answers,
    start,
    submit,
)
from tests.api.test_courses import API, QUESTIONS, find_keys
from tests.api.test_learning import enrol
from tests.api.test_query_counts import statements_for

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

EXPLANATIONS = [
    "Two and two make four.",
    "A prime has exactly two divisors.",
    "Types belong to values, not to names.",
    "Paris has been the capital since 987.",
]
EXPLAINED = [q | {"explanation": e} for q, e in zip(QUESTIONS, EXPLANATIONS, strict=True)]


async def save(
    client: httpx.AsyncClient, account: Account, attempt_id: str, answers: list[dict]
) -> httpx.Response:
    return await client.put(
        f"{API}/attempts/{attempt_id}/answers", headers=account.headers, json={"answers": answers}
    )


async def saved_ok(
    client: httpx.AsyncClient, account: Account, attempt_id: str, answers: list[dict]
) -> dict:
    response = await save(client, account, attempt_id, answers)
    assert response.status_code == 200, response.text
    return response.json()


async def read(client: httpx.AsyncClient, account: Account, attempt_id: str) -> httpx.Response:
    return await client.get(f"{API}/attempts/{attempt_id}", headers=account.headers)


async def read_ok(client: httpx.AsyncClient, account: Account, attempt_id: str) -> dict:
    response = await read(client, account, attempt_id)
    assert response.status_code == 200, response.text
    return response.json()


def by_question(answers: list[dict]) -> dict[str, Any]:
    return {a["question_id"]: (sorted(a["option_ids"]), a["text"]) for a in answers}


def normalised(answers: list[dict]) -> dict[str, Any]:
    return {a["question_id"]: (sorted(a.get("option_ids", [])), a.get("text")) for a in answers}


# ---- saving -----------------------------------------------------------------------------------


async def test_saving_upserts_per_question_is_idempotent_and_clears(client, login_as):
    student, _, quiz = await enrolled_learner(client, login_as, time_limit_seconds=600)
    attempt = await start(client, student, quiz["id"])
    right = right_answers(attempt)
    first = await saved_ok(client, student, attempt["id"], right[:2])
    assert first["attempt_id"] == attempt["id"] and first["state"] == "in_progress"
    assert by_question(first["answers"]) == normalised(right[:2])
    # The same again: nothing changes.
    again = await saved_ok(client, student, attempt["id"], right[:2])
    assert by_question(again["answers"]) == by_question(first["answers"])
    # Another question is added, a saved one replaced, the rest kept.
    wrong_first = {"question_id": right[0]["question_id"], "option_ids": []}
    changed = [
        right[3],
        {**wrong_first, "option_ids": [attempt["questions"][0]["options"][0]["id"]]},
    ]
    body = await saved_ok(client, student, attempt["id"], changed)
    assert by_question(body["answers"]) == normalised([right[1], *changed])
    # An empty answer clears that question's saved one.
    body = await saved_ok(client, student, attempt["id"], [wrong_first])
    assert by_question(body["answers"]) == normalised([right[1], right[3]])
    # Reading the open attempt shows the saved answers and the questions, no keys.
    shown = await read_ok(client, student, attempt["id"])
    assert shown["state"] == "in_progress" and shown["review"] is None
    assert shown["score"] is None and shown["passed"] is None
    assert by_question(shown["answers"]) == normalised([right[1], right[3]])
    assert [q["id"] for q in shown["questions"]] == [q["id"] for q in attempt["questions"]]
    assert find_keys(shown, {"is_correct", "answer_text", "explanation", "correct"}) == set()


async def test_saving_refuses_bad_answers_and_other_learners(client, login_as):
    student, course, quiz = await enrolled_learner(client, login_as)
    attempt = await start(client, student, quiz["id"])
    question = attempt["questions"][0]
    unknown = [{"question_id": str(uuid.uuid4()), "option_ids": []}]
    assert_problem(await save(client, student, attempt["id"], unknown), 422, "invalid_value")
    twice = [{"question_id": question["id"]}, {"question_id": question["id"]}]
    assert_problem(await save(client, student, attempt["id"], twice), 422, "invalid_value")
    foreign = [{"question_id": question["id"], "option_ids": [str(uuid.uuid4())]}]
    assert_problem(await save(client, student, attempt["id"], foreign), 422, "invalid_value")
    other = await login_as("student")
    await enrol(client, other, course["id"])
    answer = [{"question_id": question["id"], "option_ids": [question["options"][1]["id"]]}]
    assert_problem(await save(client, other, attempt["id"], answer), 404, "not_found")
    assert_problem(await save(client, student, str(uuid.uuid4()), answer), 404, "not_found")


async def test_saving_after_submission_or_deadline_is_a_conflict(client, login_as, session):
    student, _, quiz = await enrolled_learner(
        client, login_as, time_limit_seconds=600, max_attempts=3
    )
    attempt = await start(client, student, quiz["id"])
    right = right_answers(attempt)
    await submit(client, student, attempt["id"], right)
    assert_problem(await save(client, student, attempt["id"], right[:1]), 409, "conflict")

    # Saved in time, then too late: the attempt closes as overdue, graded on what was saved.
    late = await start(client, student, quiz["id"])
    await saved_ok(client, student, late["id"], right_answers(late)[:3])
    await move_deadline(session, late["id"], utc_now() - timedelta(seconds=30))
    refused = await save(client, student, late["id"], right_answers(late)[3:])
    assert_problem(refused, 409, "deadline_passed")
    assert await attempt_state(session, late["id"]) == "overdue"
    shown = await read_ok(client, student, late["id"])
    assert shown["state"] == "overdue" and shown["score"] == 75.0 and shown["passed"] is True
    assert [r["correct"] for r in shown["review"]] == [True, True, True, False]


# ---- submitting what was saved ----------------------------------------------------------------


async def test_submit_without_a_body_grades_the_saved_answers_and_reviews_them(client, login_as):
    student, _, quiz = await enrolled_learner(client, login_as, questions=EXPLAINED)
    attempt = await start(client, student, quiz["id"])
    assert "explanation" not in str(attempt) and EXPLANATIONS[0] not in str(attempt)
    learner_view = await client.get(f"{API}/quizzes/{quiz['id']}", headers=student.headers)
    assert learner_view.status_code == 200, learner_view.text
    assert all(e not in learner_view.text for e in EXPLANATIONS)
    assert "explanation" not in learner_view.text
    right = right_answers(attempt)
    wrong_short = {"question_id": right[3]["question_id"], "text": "Lyon"}
    await saved_ok(client, student, attempt["id"], [*right[:3], wrong_short])
    in_progress = await read(client, student, attempt["id"])
    assert all(e not in in_progress.text for e in EXPLANATIONS)

    response = await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=student.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["score"] == 75.0 and result["passed"] is True

    shown = await read_ok(client, student, attempt["id"])
    assert shown["state"] == "submitted" and shown["submitted_at"] is not None
    assert shown["score"] == 75.0 and shown["passed"] is True and shown["questions"] is None
    review = shown["review"]
    assert [r["text"] for r in review] == [q["text"] for q in QUESTIONS]
    assert [r["explanation"] for r in review] == EXPLANATIONS
    assert [r["correct"] for r in review] == [True, True, True, False]
    assert review[3]["given_text"] == "Lyon" and review[3]["answer_text"] == "Paris"
    assert sorted(review[1]["chosen_option_ids"]) == sorted(right[1]["option_ids"])
    correct_options = [[o["text"] for o in r["options"] if o["is_correct"]] for r in review[:3]]
    assert correct_options == [["4"], ["2", "3"], ["True"]]


async def test_submit_with_answers_replaces_the_saved_ones(client, login_as, session):
    student, _, quiz = await enrolled_learner(client, login_as)
    attempt = await start(client, student, quiz["id"])
    right = right_answers(attempt)
    await saved_ok(client, student, attempt["id"], right)
    result = await submit(client, student, attempt["id"], right[:1])
    assert result["score"] == 25.0
    rows = (
        await session.execute(
            select(QuizAnswer.correct).where(QuizAnswer.attempt_id == uuid.UUID(attempt["id"]))
        )
    ).scalars()
    assert sorted(rows) == [False, False, False, True]


# ---- closing at the deadline ------------------------------------------------------------------


async def test_reading_past_the_deadline_closes_and_grades_what_was_saved(
    client, login_as, session
):
    student, _, quiz = await enrolled_learner(client, login_as, time_limit_seconds=60)
    attempt = await start(client, student, quiz["id"])
    await saved_ok(client, student, attempt["id"], right_answers(attempt))
    await move_deadline(session, attempt["id"], utc_now() - timedelta(seconds=30))
    shown = await read_ok(client, student, attempt["id"])
    assert shown["state"] == "overdue" and shown["score"] == 100.0 and shown["passed"] is True
    assert shown["submitted_at"] is None
    assert all(r["correct"] for r in shown["review"])
    assert await attempt_state(session, attempt["id"]) == "overdue"
    # Read again: the same, graded once.
    assert (await read_ok(client, student, attempt["id"]))["review"] == shown["review"]
    assert_problem(
        await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=student.headers),
        409,
        "conflict",
    )


async def test_the_sweep_grades_the_saved_answers(client, login_as, session, uow):
    student, _, quiz = await enrolled_learner(client, login_as, time_limit_seconds=60)
    attempt = await start(client, student, quiz["id"])
    await saved_ok(client, student, attempt["id"], right_answers(attempt)[:2])
    await move_deadline(session, attempt["id"], utc_now() - timedelta(minutes=5))
    async with uow:
        assert await QuizAttemptService(uow).sweep_overdue() == 1
        await uow.commit()
    stored = (
        await session.execute(
            select(QuizAttempt.state, QuizAttempt.score, QuizAttempt.passed).where(
                QuizAttempt.id == uuid.UUID(attempt["id"])
            )
        )
    ).one()
    assert (stored[0].value, float(stored[1]), stored[2]) == ("overdue", 50.0, False)
    async with uow:
        assert await QuizAttemptService(uow).sweep_overdue() == 0


# ---- who reads an attempt ---------------------------------------------------------------------


async def test_an_attempt_is_read_by_its_learner_the_courses_instructor_and_admins(
    client, login_as
):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, quiz = await quiz_course(client, instructor)
    await enrol(client, student, course["id"])
    attempt = await start(client, student, quiz["id"])
    other = await login_as("student")
    await enrol(client, other, course["id"])
    for outsider in (other, await login_as("instructor")):
        assert_problem(await read(client, outsider, attempt["id"]), 404, "not_found")
    for reader in (student, instructor, await login_as("admin")):
        body = await read_ok(client, reader, attempt["id"])
        assert body["id"] == attempt["id"] and body["state"] == "in_progress"
    assert_problem(await read(client, student, str(uuid.uuid4())), 404, "not_found")
    assert (await client.get(f"{API}/attempts/{attempt['id']}")).status_code == 401


# ---- my attempts at a quiz --------------------------------------------------------------------


async def test_my_attempts_are_listed_newest_first_with_the_attempts_left(
    client, login_as, session
):
    student, course, quiz = await enrolled_learner(
        client, login_as, max_attempts=3, time_limit_seconds=60
    )
    url = f"{API}/quizzes/{quiz['id']}/attempts"
    first = await start(client, student, quiz["id"])
    await submit(client, student, first["id"], right_answers(first)[:1])
    second = await start(client, student, quiz["id"])
    await move_deadline(session, second["id"], utc_now() - timedelta(seconds=30))
    other = await login_as("student")
    await enrol(client, other, course["id"])
    await start(client, other, quiz["id"])

    page = await client.get(url, headers=student.headers, params={"limit": 1})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["attempts_remaining"] == 1
    # Listed past its deadline, the open attempt was closed as overdue.
    assert [(a["id"], a["state"]) for a in body["items"]] == [(second["id"], "overdue")]
    assert body["next_cursor"]
    rest = await client.get(
        url, headers=student.headers, params={"limit": 1, "cursor": body["next_cursor"]}
    )
    assert rest.status_code == 200, rest.text
    assert [(a["id"], a["attempt_no"], a["score"]) for a in rest.json()["items"]] == [
        (first["id"], 1, 25.0)
    ]
    assert rest.json()["next_cursor"] is None
    assert_problem(
        await client.get(url, headers=student.headers, params={"sort": "x"}), 422, "invalid_value"
    )
    unlimited_student, _, unlimited = await enrolled_learner(client, login_as)
    body = (
        await client.get(
            f"{API}/quizzes/{unlimited['id']}/attempts", headers=unlimited_student.headers
        )
    ).json()
    assert body == {"items": [], "next_cursor": None, "attempts_remaining": None}


# ---- extra attempts ---------------------------------------------------------------------------


async def test_the_instructor_grants_extra_attempts(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, quiz = await quiz_course(client, instructor, max_attempts=1)
    await enrol(client, student, course["id"])
    used = await start(client, student, quiz["id"])
    await submit(client, student, used["id"], [])
    assert_problem(await begin(client, student, quiz["id"]), 409, "conflict")

    url = f"{API}/quizzes/{quiz['id']}/extra-attempts"
    grant = {"user_id": student.id, "extra_attempts": 1}
    for refused, status, code in (
        (student, 403, "forbidden"),
        (await login_as("instructor"), 403, "forbidden"),
    ):
        response = await client.post(url, headers=refused.headers, json=grant)
        assert_problem(response, status, code)
    stranger = await login_as("student")
    response = await client.post(
        url, headers=instructor.headers, json={"user_id": stranger.id, "extra_attempts": 1}
    )
    assert_problem(response, 404, "not_found")
    for _ in range(2):  # a grant sets the number: repeating it changes nothing
        response = await client.post(url, headers=instructor.headers, json=grant)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "quiz_id": quiz["id"],
            "user_id": student.id,
            "extra_attempts": 1,
            "max_attempts": 1,
            "attempts_allowed": 2,
            "attempts_used": 1,
        }
    listed = await client.get(f"{API}/quizzes/{quiz['id']}/attempts", headers=student.headers)
    assert listed.json()["attempts_remaining"] == 1
    second = await start(client, student, quiz["id"])
    assert second["attempt_no"] == 2
    await submit(client, student, second["id"], [])
    assert_problem(await begin(client, student, quiz["id"]), 409, "conflict")
    # An admin may grant too; the grant is audited.
    admin = await login_as("admin")
    response = await client.post(
        url, headers=admin.headers, json={"user_id": student.id, "extra_attempts": 2}
    )
    assert response.status_code == 200 and response.json()["attempts_allowed"] == 3
    audit = (
        await session.execute(
            select(AuditLog.action, AuditLog.actor_id, AuditLog.changes)
            .where(AuditLog.entity_type == "quiz_attempt_grant")
            # Rows come back in no promised order without one (a table reuses freed space).
            .order_by(AuditLog.occurred_at, AuditLog.id)
        )
    ).all()
    actions = [(a.value, str(actor)) for a, actor, _ in audit]
    assert actions == [("create", instructor.id), ("update", admin.id)], audit
    assert audit[-1][2]["extra_attempts"] == [1, 2]
    bad = await client.post(
        url, headers=admin.headers, json={"user_id": student.id, "extra_attempts": -1}
    )
    assert bad.status_code == 422, bad.text


# ---- cost of a read ---------------------------------------------------------------------------


async def test_reading_an_attempt_costs_the_same_for_one_or_many_questions(
    client, connection, login_as
):
    """No N+1: the review of 1 or 4 questions (their options, the chosen ones) is read in the
    same statements, as is an open attempt with its questions."""
    counts = []
    for questions in (QUESTIONS[:1], QUESTIONS):
        student, _, quiz = await enrolled_learner(client, login_as, questions=questions)
        attempt = await start(client, student, quiz["id"])
        await saved_ok(client, student, attempt["id"], right_answers(attempt))
        url = f"{API}/attempts/{attempt['id']}"
        _, open_statements = await statements_for(client, connection, url, headers=student.headers)
        await client.post(f"{API}/attempts/{attempt['id']}/submit", headers=student.headers)
        response, closed = await statements_for(client, connection, url, headers=student.headers)
        assert len(response.json()["review"]) == len(questions)
        counts.append((len(open_statements), len(closed)))
    assert counts[0] == counts[1], counts
