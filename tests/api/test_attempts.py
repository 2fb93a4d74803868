"""Quiz attempts through the HTTP API, on both databases: starting (enrolled learners only,
published courses only, one open attempt, `max_attempts` counting every attempt, the
server's deadline), questions without answer keys, server-side grading of every question
type, answers stored as rows, submitting once, late submissions closed as overdue (and
committed), the overdue sweep with its audit trail, the outbox event, and course
completion by a passed quiz exactly once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import AuditAction
from learnhub.models import AuditLog
from learnhub.models.learning import QuizAnswer, QuizAttempt
from learnhub.models.learning.attempt import answer_options
from learnhub.repositories.attempts import AttemptRepository
from learnhub.services.quiz_attempts import QuizAttemptService
from tests.api.conftest import Account, assert_problem
from tests.api.test_courses import (
    API,
    QUESTIONS,
    add_quiz,
    add_section,
    add_video,
    create_course,
    find_keys,
    outbox,
    publish,
)
from tests.api.test_learning import course_progress, enrol, video_course, watch_fully

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

ATTEMPT_FIELDS = {"id", "quiz_id", "started_at", "deadline", "questions"}


# ---- helpers ----------------------------------------------------------------------------------


async def quiz_course(
    client: httpx.AsyncClient,
    instructor: Account,
    *,
    published: bool = True,
    **quiz_fields: Any,
) -> tuple[dict, dict]:
    """A course with one section holding one video and one quiz (QUESTIONS by default)."""
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    await add_video(client, instructor, section["id"])
    quiz = await add_quiz(client, instructor, section["id"], **quiz_fields)
    if published:
        course = await publish(client, instructor, course["id"])
    return course, quiz


async def enrolled_learner(
    client: httpx.AsyncClient, login_as: Any, **quiz_fields: Any
) -> tuple[Account, dict, dict]:
    instructor, student = await login_as("instructor"), await login_as("student")
    course, quiz = await quiz_course(client, instructor, **quiz_fields)
    await enrol(client, student, course["id"])
    return student, course, quiz


async def begin(client: httpx.AsyncClient, account: Account, quiz_id: str) -> httpx.Response:
    return await client.post(f"{API}/quizzes/{quiz_id}/attempts", headers=account.headers)


async def start(client: httpx.AsyncClient, account: Account, quiz_id: str) -> dict:
    response = await begin(client, account, quiz_id)
    assert response.status_code == 201, response.text
    return response.json()


async def send(
    client: httpx.AsyncClient, account: Account, attempt_id: str, answers: list[dict]
) -> httpx.Response:
    return await client.post(
        f"{API}/attempts/{attempt_id}/submit", headers=account.headers, json={"answers": answers}
    )


async def submit(
    client: httpx.AsyncClient, account: Account, attempt_id: str, answers: list[dict]
) -> dict:
    response = await send(client, account, attempt_id, answers)
    assert response.status_code == 200, response.text
    return response.json()


def right_answers(attempt: dict) -> list[dict]:
    """Correct answers to (a prefix of) QUESTIONS, by the options' positions: the keys are
    not sent to learners."""
    answers = []
    for question, key in zip(attempt["questions"], QUESTIONS, strict=False):
        if key["type"] == "short_answer":
            answers.append({"question_id": question["id"], "text": key["answer_text"]})
            continue
        chosen = [
            option["id"]
            for option, spec in zip(question["options"], key["options"], strict=True)
            if spec.get("is_correct")
        ]
        answers.append({"question_id": question["id"], "option_ids": chosen})
    return answers


async def pass_quiz(client: httpx.AsyncClient, account: Account, quiz_id: str) -> dict:
    attempt = await start(client, account, quiz_id)
    result = await submit(client, account, attempt["id"], right_answers(attempt))
    assert result["passed"] is True and result["score"] == 100.0
    return result


async def attempt_state(session: Any, attempt_id: str) -> str:
    state = (
        await session.execute(
            select(QuizAttempt.state).where(QuizAttempt.id == uuid.UUID(attempt_id))
        )
    ).scalar_one()
    return str(state.value)


async def move_deadline(session: Any, attempt_id: str, deadline: datetime) -> None:
    """Pretend time passed: set the server-maintained `deadline_at` directly."""
    await session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == uuid.UUID(attempt_id))
        .values(deadline_at=deadline)
        .execution_options(audited_bulk=True, synchronize_session=False)
    )


async def states_of(session: Any, quiz_id: str) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(QuizAttempt.attempt_no, QuizAttempt.state)
        .where(QuizAttempt.quiz_id == uuid.UUID(quiz_id))
        .order_by(QuizAttempt.attempt_no)
    )
    return [(n, s.value) for n, s in rows.all()]


async def count_attempts(session: Any, quiz_id: str) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(QuizAttempt)
                .where(QuizAttempt.quiz_id == uuid.UUID(quiz_id))
            )
        ).scalar_one()
    )


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


# ---- starting ---------------------------------------------------------------------------------


async def test_starting_needs_an_enrolment(client, login_as):
    instructor, student = await login_as("instructor"), await login_as("student")
    _, quiz = await quiz_course(client, instructor)
    assert_problem(await begin(client, student, quiz["id"]), 403, "not_enrolled")
    response = await client.post(f"{API}/quizzes/{quiz['id']}/attempts")
    assert response.status_code == 401, response.text


async def test_a_draft_courses_quiz_and_an_unknown_quiz_are_not_found(client, login_as):
    instructor, student = await login_as("instructor"), await login_as("student")
    _, quiz = await quiz_course(client, instructor, published=False)
    assert_problem(await begin(client, student, quiz["id"]), 404, "not_found")
    assert_problem(await begin(client, student, str(uuid.uuid4())), 404, "not_found")


async def test_start_returns_questions_without_answer_keys(client, login_as, session):
    student, _, quiz = await enrolled_learner(client, login_as)
    response = await begin(client, student, quiz["id"])
    assert response.status_code == 201, response.text
    attempt = response.json()
    assert set(attempt) >= ATTEMPT_FIELDS
    assert attempt["quiz_id"] == quiz["id"] and attempt["deadline"] is None
    assert find_keys(attempt, {"is_correct", "answer_text", "correct"}) == set()
    assert "Paris" not in response.text
    assert [q["text"] for q in attempt["questions"]] == [q["text"] for q in QUESTIONS]
    assert [q["type"] for q in attempt["questions"]] == [q["type"] for q in QUESTIONS]
    assert [o["text"] for o in attempt["questions"][1]["options"]] == ["2", "3", "4"]
    assert attempt["questions"][3]["options"] == []
    assert await attempt_state(session, attempt["id"]) == "in_progress"


async def test_the_deadline_is_the_start_plus_the_time_limit(client, login_as, session):
    student, _, quiz = await enrolled_learner(client, login_as, time_limit_seconds=600)
    before = utc_now()
    attempt = await start(client, student, quiz["id"])
    started, deadline = parse(attempt["started_at"]), parse(attempt["deadline"])
    assert deadline - started == timedelta(seconds=600)
    assert before - timedelta(seconds=1) <= started <= utc_now() + timedelta(seconds=1)
    stored = (
        await session.execute(
            select(QuizAttempt.started_at, QuizAttempt.deadline_at).where(
                QuizAttempt.id == uuid.UUID(attempt["id"])
            )
        )
    ).one()
    assert stored.deadline_at - stored.started_at == timedelta(seconds=600)


async def test_a_second_start_while_one_is_open_names_the_open_attempt(client, login_as, session):
    student, _, quiz = await enrolled_learner(client, login_as, time_limit_seconds=600)
    first = await start(client, student, quiz["id"])
    body = assert_problem(await begin(client, student, quiz["id"]), 409, "conflict")
    assert body["attempt_id"] == first["id"]
    assert await count_attempts(session, quiz["id"]) == 1


async def test_max_attempts_counts_submitted_and_overdue_attempts(client, login_as, session):
    student, _, quiz = await enrolled_learner(client, login_as, max_attempts=3)
    past = utc_now() - timedelta(minutes=5)

    first = await start(client, student, quiz["id"])
    await submit(client, student, first["id"], [])  # submitted (and failed)

    second = await start(client, student, quiz["id"])
    await move_deadline(session, second["id"], past)
    assert_problem(
        await send(client, student, second["id"], right_answers(second)), 409, "deadline_passed"
    )
    assert await attempt_state(session, second["id"]) == "overdue"

    third = await start(client, student, quiz["id"])
    assert third["attempt_no"] == 3
    await submit(client, student, third["id"], right_answers(third))

    body = assert_problem(await begin(client, student, quiz["id"]), 409, "conflict")
    assert "attempt_id" not in body
    assert await states_of(session, quiz["id"]) == [
        (1, "submitted"),
        (2, "overdue"),
        (3, "submitted"),
    ]
    assert_problem(await begin(client, student, quiz["id"]), 409, "conflict")
    assert await count_attempts(session, quiz["id"]) == 3


async def test_an_overdue_attempt_closed_on_read_stays_closed_when_the_limit_refuses_the_start(
    client, login_as, session
):
    """decisions.md: an open attempt past its deadline is closed as overdue *on that read*;
    the 409 for the attempt limit must not roll that closure back."""
    student, _, quiz = await enrolled_learner(client, login_as, max_attempts=1)
    attempt = await start(client, student, quiz["id"])
    await move_deadline(session, attempt["id"], utc_now() - timedelta(minutes=5))
    assert_problem(await begin(client, student, quiz["id"]), 409, "conflict")
    assert await attempt_state(session, attempt["id"]) == "overdue"


async def test_an_open_attempt_past_its_deadline_is_closed_when_a_new_one_starts(
    client, login_as, session
):
    student, _, quiz = await enrolled_learner(client, login_as, time_limit_seconds=60)
    first = await start(client, student, quiz["id"])
    await move_deadline(session, first["id"], utc_now() - timedelta(seconds=30))
    second = await start(client, student, quiz["id"])
    assert second["id"] != first["id"] and second["attempt_no"] == 2
    assert await attempt_state(session, first["id"]) == "overdue"
    assert await attempt_state(session, second["id"]) == "in_progress"
    # The overdue one can no longer be submitted.
    assert_problem(await send(client, student, first["id"], right_answers(first)), 409, "conflict")


async def test_a_start_that_loses_the_race_for_its_attempt_number_is_a_409_not_a_500(
    client, login_as, session, monkeypatch
):
    """Two starts racing both count the same attempts and insert the same number; the
    database refuses the second. Forced here by a count that misses the first attempt (what a
    racing transaction sees): the loser gets 409 `conflict`, and what its request did before
    (closing an overdue attempt) is still committed."""
    student, _, quiz = await enrolled_learner(client, login_as, time_limit_seconds=60)
    first = await start(client, student, quiz["id"])
    await move_deadline(session, first["id"], utc_now() - timedelta(seconds=30))

    async def stale_count(self, user_id, quiz_id):
        return 0

    monkeypatch.setattr(AttemptRepository, "count_for", stale_count)
    assert_problem(await begin(client, student, quiz["id"]), 409, "conflict")
    assert await count_attempts(session, quiz["id"]) == 1
    assert await attempt_state(session, first["id"]) == "overdue"


async def test_an_attempt_within_the_grace_period_is_still_open(client, login_as, session):
    student, _, quiz = await enrolled_learner(client, login_as, time_limit_seconds=60)
    attempt = await start(client, student, quiz["id"])
    await move_deadline(session, attempt["id"], utc_now() - timedelta(seconds=1))
    body = assert_problem(await begin(client, student, quiz["id"]), 409, "conflict")
    assert body["attempt_id"] == attempt["id"]
    result = await submit(client, student, attempt["id"], right_answers(attempt))
    assert result["passed"] is True


# ---- grading ----------------------------------------------------------------------------------


async def test_every_question_type_is_graded_on_the_server(client, login_as, session):
    student, _, quiz = await enrolled_learner(client, login_as, pass_mark=75)

    attempt = await start(client, student, quiz["id"])
    result = await submit(client, student, attempt["id"], right_answers(attempt))
    assert set(result) >= {"attempt_id", "score", "passed", "results"}
    assert result["attempt_id"] == attempt["id"]
    assert result["score"] == 100.0 and result["passed"] is True
    assert result["results"] == [
        {"question_id": q["id"], "correct": True} for q in attempt["questions"]
    ]
    assert find_keys(result, {"is_correct", "answer_text"}) == set()

    # Multiple choice needs the exact set; short answers are trimmed and case-folded;
    # single choice and true/false need the one right option.
    cases: list[tuple[Any, list[bool], float, bool]] = [
        (
            lambda a, q: [
                {"question_id": q[0]["id"], "option_ids": [q[0]["options"][0]["id"]]},
                {"question_id": q[1]["id"], "option_ids": [q[1]["options"][0]["id"]]},
                {"question_id": q[2]["id"], "option_ids": [q[2]["options"][1]["id"]]},
                {"question_id": q[3]["id"], "text": "  pARIS \t"},
            ],
            [False, False, False, True],
            25.0,
            False,
        ),
        (
            lambda a, q: [
                {"question_id": q[0]["id"], "option_ids": [q[0]["options"][1]["id"]]},
                {
                    "question_id": q[1]["id"],
                    "option_ids": [o["id"] for o in q[1]["options"]],  # a superset
                },
                {"question_id": q[2]["id"], "option_ids": [q[2]["options"][0]["id"]]},
                {"question_id": q[3]["id"], "text": "Lyon"},
            ],
            [True, False, True, False],
            50.0,
            False,
        ),
        (
            # Unanswered questions (omitted, no option, empty text) are wrong.
            lambda a, q: [
                {"question_id": q[0]["id"], "option_ids": [q[0]["options"][1]["id"]]},
                {
                    "question_id": q[1]["id"],
                    "option_ids": [q[1]["options"][1]["id"], q[1]["options"][0]["id"]],
                },
                {"question_id": q[2]["id"], "option_ids": []},
                {"question_id": q[3]["id"], "text": ""},
            ],
            [True, True, False, False],
            50.0,
            False,
        ),
        (
            lambda a, q: right_answers(a)[:3],
            [True, True, True, False],
            75.0,
            True,  # score >= pass_mark
        ),
        (lambda a, q: [], [False, False, False, False], 0.0, False),
    ]
    for answers_for, expected, score, passed in cases:
        attempt = await start(client, student, quiz["id"])
        questions = attempt["questions"]
        result = await submit(client, student, attempt["id"], answers_for(attempt, questions))
        assert [r["correct"] for r in result["results"]] == expected, result
        assert [r["question_id"] for r in result["results"]] == [q["id"] for q in questions]
        assert result["score"] == score and result["passed"] is passed, result


async def test_the_score_is_a_percentage_with_two_decimals(client, login_as, session):
    student, _, quiz = await enrolled_learner(
        client, login_as, pass_mark=66, questions=QUESTIONS[:3]
    )
    for right, score, passed in ((1, 33.33, False), (2, 66.67, True)):
        attempt = await start(client, student, quiz["id"])
        answers = right_answers(attempt)[:right]
        result = await submit(client, student, attempt["id"], answers)
        assert result["score"] == score and result["passed"] is passed, result
        stored = (
            await session.execute(
                select(QuizAttempt.score, QuizAttempt.passed, QuizAttempt.state).where(
                    QuizAttempt.id == uuid.UUID(attempt["id"])
                )
            )
        ).one()
        assert str(stored.score) == f"{score:.2f}" and stored.passed is passed
        assert stored.state.value == "submitted"


async def test_answers_are_stored_one_row_per_question_with_their_options(
    client, login_as, session
):
    student, _, quiz = await enrolled_learner(client, login_as)
    attempt = await start(client, student, quiz["id"])
    single, multiple, true_false, short = attempt["questions"]
    answers = [
        {"question_id": multiple["id"], "option_ids": [o["id"] for o in multiple["options"][:2]]},
        {"question_id": single["id"], "option_ids": [single["options"][0]["id"]]},
        {"question_id": short["id"], "text": " paris "},
    ]  # true/false unanswered
    await submit(client, student, attempt["id"], answers)

    rows = (
        await session.execute(
            select(
                QuizAnswer.id, QuizAnswer.question_id, QuizAnswer.text, QuizAnswer.correct
            ).where(QuizAnswer.attempt_id == uuid.UUID(attempt["id"]))
        )
    ).all()
    by_question = {str(r.question_id): r for r in rows}
    assert len(rows) == 4 and set(by_question) == {q["id"] for q in attempt["questions"]}
    assert by_question[multiple["id"]].correct is True
    assert by_question[single["id"]].correct is False
    assert by_question[true_false["id"]].correct is False
    assert by_question[short["id"]].correct is True
    assert by_question[short["id"]].text is not None
    assert by_question[short["id"]].text.strip().casefold() == "paris"

    chosen = (
        await session.execute(
            select(answer_options.c.answer_id, answer_options.c.option_id).where(
                answer_options.c.answer_id.in_([r.id for r in rows])
            )
        )
    ).all()
    options_of: dict[str, set[str]] = {q["id"]: set() for q in attempt["questions"]}
    answer_question = {r.id: str(r.question_id) for r in rows}
    for answer_id, option_id in chosen:
        options_of[answer_question[answer_id]].add(str(option_id))
    assert options_of == {
        single["id"]: {single["options"][0]["id"]},
        multiple["id"]: {o["id"] for o in multiple["options"][:2]},
        true_false["id"]: set(),
        short["id"]: set(),
    }


async def test_submitting_twice_is_a_conflict(client, login_as, session):
    student, _, quiz = await enrolled_learner(client, login_as)
    attempt = await start(client, student, quiz["id"])
    first = await submit(client, student, attempt["id"], right_answers(attempt))
    assert first["score"] == 100.0
    assert_problem(await send(client, student, attempt["id"], []), 409, "conflict")
    stored = (
        await session.execute(
            select(QuizAttempt.score).where(QuizAttempt.id == uuid.UUID(attempt["id"]))
        )
    ).scalar_one()
    assert float(stored) == 100.0
    answers = (
        await session.execute(
            select(func.count())
            .select_from(QuizAnswer)
            .where(QuizAnswer.attempt_id == uuid.UUID(attempt["id"]))
        )
    ).scalar_one()
    assert answers == 4


async def test_someone_elses_attempt_is_not_found(client, login_as, session):
    student, course, quiz = await enrolled_learner(client, login_as)
    other = await login_as("student")
    await enrol(client, other, course["id"])
    attempt = await start(client, student, quiz["id"])
    assert_problem(
        await send(client, other, attempt["id"], right_answers(attempt)), 404, "not_found"
    )
    assert_problem(await send(client, other, str(uuid.uuid4()), []), 404, "not_found")
    assert await attempt_state(session, attempt["id"]) == "in_progress"
    await submit(client, student, attempt["id"], right_answers(attempt))


async def test_invalid_answers_are_refused_and_the_attempt_stays_open(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, quiz = await quiz_course(client, instructor)
    await enrol(client, student, course["id"])
    attempt = await start(client, student, quiz["id"])
    single, multiple, _, short = attempt["questions"]
    invalid: list[list[dict]] = [
        [{"question_id": str(uuid.uuid4()), "option_ids": []}],
        [{"question_id": single["id"], "option_ids": [multiple["options"][0]["id"]]}],
        [{"question_id": single["id"], "option_ids": [str(uuid.uuid4())]}],
        [
            {"question_id": single["id"], "option_ids": [single["options"][1]["id"]]},
            {"question_id": single["id"], "option_ids": [single["options"][0]["id"]]},
        ],
        [{"question_id": short["id"], "text": "Paris"}, {"question_id": short["id"], "text": "x"}],
    ]
    for answers in invalid:
        assert_problem(await send(client, student, attempt["id"], answers), 422, "invalid_value")
        assert await attempt_state(session, attempt["id"]) == "in_progress"
    count = (
        await session.execute(
            select(func.count())
            .select_from(QuizAnswer)
            .where(QuizAnswer.attempt_id == uuid.UUID(attempt["id"]))
        )
    ).scalar_one()
    assert count == 0
    result = await submit(client, student, attempt["id"], right_answers(attempt))
    assert result["score"] == 100.0


async def test_a_late_submission_closes_the_attempt_as_overdue(client, login_as, session):
    student, course, quiz = await enrolled_learner(client, login_as, time_limit_seconds=60)
    attempt = await start(client, student, quiz["id"])
    await move_deadline(session, attempt["id"], utc_now() - timedelta(seconds=30))
    assert_problem(
        await send(client, student, attempt["id"], right_answers(attempt)), 409, "deadline_passed"
    )
    # Committed even though the request failed, and graded on what was saved before the
    # deadline (nothing here: the late answers do not count).
    assert await attempt_state(session, attempt["id"]) == "overdue"
    stored = (
        await session.execute(
            select(QuizAttempt.score, QuizAttempt.passed, QuizAttempt.submitted_at).where(
                QuizAttempt.id == uuid.UUID(attempt["id"])
            )
        )
    ).one()
    assert tuple(stored) == (0, False, None)
    graded = (
        await session.execute(
            select(QuizAnswer.correct).where(QuizAnswer.attempt_id == uuid.UUID(attempt["id"]))
        )
    ).scalars()
    assert list(graded) == [False] * len(QUESTIONS)
    events = [p for e, p in await outbox(session, course["id"]) if e == "QuizAttemptSubmitted"]
    assert [(p["attempt_id"], p["passed"]) for p in events] == [(attempt["id"], False)]
    # A second try is now a plain conflict, and the learner may start again.
    assert_problem(await send(client, student, attempt["id"], []), 409, "conflict")
    again = await start(client, student, quiz["id"])
    assert again["attempt_no"] == 2


# ---- the overdue sweep ------------------------------------------------------------------------


async def test_the_sweep_closes_overdue_attempts_and_audits_them(client, login_as, session, uow):
    instructor = await login_as("instructor")
    course, quiz = await quiz_course(client, instructor, time_limit_seconds=600)
    learners = [await login_as("student") for _ in range(3)]
    attempts = []
    for learner in learners:
        await enrol(client, learner, course["id"])
        attempts.append(await start(client, learner, quiz["id"]))
    late, in_grace, on_time = attempts
    now = utc_now()
    await move_deadline(session, late["id"], now - timedelta(minutes=10))
    await move_deadline(session, in_grace["id"], now - timedelta(seconds=1))

    async with uow:
        closed = await QuizAttemptService(uow).sweep_overdue()
        await uow.commit()
    assert closed == 1
    assert await attempt_state(session, late["id"]) == "overdue"
    assert await attempt_state(session, in_grace["id"]) == "in_progress"
    assert await attempt_state(session, on_time["id"]) == "in_progress"

    audit = (
        await session.execute(
            select(AuditLog.action, AuditLog.changes)
            .where(
                AuditLog.entity_type == "quiz_attempt",
                AuditLog.entity_id == uuid.UUID(late["id"]),
            )
            .order_by(AuditLog.occurred_at, AuditLog.id)
        )
    ).all()
    updates = [changes for action, changes in audit if action == AuditAction.UPDATE]
    assert updates and updates[-1]["state"] == ["in_progress", "overdue"], audit
    for other in (in_grace, on_time):
        changed = (
            await session.execute(
                select(AuditLog.changes).where(
                    AuditLog.entity_type == "quiz_attempt",
                    AuditLog.entity_id == uuid.UUID(other["id"]),
                    AuditLog.action == AuditAction.UPDATE,
                )
            )
        ).scalars()
        assert all("state" not in c for c in changed)

    # Running it again closes nothing; with a later clock the grace one goes too.
    async with uow:
        assert await QuizAttemptService(uow).sweep_overdue() == 0
        assert await QuizAttemptService(uow).sweep_overdue(now + timedelta(seconds=10)) == 1
        await uow.commit()
    assert await attempt_state(session, in_grace["id"]) == "overdue"
    assert await attempt_state(session, on_time["id"]) == "in_progress"


# ---- events and course progress ---------------------------------------------------------------


async def test_a_submission_emits_quiz_attempt_submitted(client, login_as, session):
    student, course, quiz = await enrolled_learner(client, login_as)
    attempt = await start(client, student, quiz["id"])
    await submit(client, student, attempt["id"], right_answers(attempt)[:2])
    events = [(e, p) for e, p in await outbox(session, course["id"]) if e == "QuizAttemptSubmitted"]
    assert len(events) == 1, events
    payload = events[0][1]
    assert payload["attempt_id"] == attempt["id"] and payload["quiz_id"] == quiz["id"]
    assert payload["user_id"] == student.id and payload["course_id"] == course["id"]
    assert float(payload["score"]) == 50.0 and payload["passed"] is False


async def test_passing_the_only_quiz_after_the_videos_completes_the_course_once(
    client, login_as, session
):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(20,), quizzes=1)
    quiz_id = (await client.get(f"{API}/courses/{course['id']}")).json()["sections"][0]["quizzes"][
        0
    ]["id"]
    enrolment = await enrol(client, student, course["id"])
    assert (await watch_fully(client, session, student, video["id"], 20))["completed"] is True

    # A failed attempt does not count.
    failed = await start(client, student, quiz_id)
    assert (await submit(client, student, failed["id"], []))["passed"] is False
    progress = await course_progress(client, student, course["id"])
    assert progress["completed_items"] == 1 and progress["completed"] is False

    await pass_quiz(client, student, quiz_id)
    progress = await course_progress(client, student, course["id"])
    assert progress["completed_items"] == 2 and progress["total_items"] == 2
    assert progress["percent"] == 100.0 and progress["completed"] is True

    await pass_quiz(client, student, quiz_id)
    again = await course_progress(client, student, course["id"])
    assert again["completed_items"] == 2 and again["percent"] == 100.0 and again["completed"]

    types = [e for e, _ in await outbox(session, course["id"])]
    assert types.count("CourseCompleted") == 1, types
    assert types.count("QuizAttemptSubmitted") == 3, types
    enrolments = (await client.get(f"{API}/users/me/enrollments", headers=student.headers)).json()
    (item,) = [i for i in enrolments["items"] if i["id"] == enrolment["id"]]
    assert item["status"] == "completed" and item["completed_at"] is not None


async def test_passing_a_quiz_twice_counts_it_once(client, login_as, session):
    instructor, student = await login_as("instructor"), await login_as("student")
    course, (video,) = await video_course(client, instructor, durations=(20,), quizzes=1)
    quiz_id = (await client.get(f"{API}/courses/{course['id']}")).json()["sections"][0]["quizzes"][
        0
    ]["id"]
    await enrol(client, student, course["id"])

    await pass_quiz(client, student, quiz_id)
    await pass_quiz(client, student, quiz_id)
    progress = await course_progress(client, student, course["id"])
    assert progress["completed_items"] == 1 and progress["total_items"] == 2
    assert progress["percent"] == 50.0 and progress["completed"] is False

    await watch_fully(client, session, student, video["id"], 20)
    progress = await course_progress(client, student, course["id"])
    assert progress["completed_items"] == 2 and progress["completed"] is True
    types = [e for e, _ in await outbox(session, course["id"])]
    assert types.count("CourseCompleted") == 1, types
