"""Quiz attempts: start, then submit answers for server-side grading."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from learnhub.api.deps import Caller, Uow
from learnhub.api.schemas.attempts import AttemptOut, QuestionResult, SubmitIn, SubmitOut
from learnhub.api.schemas.common import PROBLEM_RESPONSES
from learnhub.api.schemas.quizzes import QuestionOut
from learnhub.services.quiz_attempts import AttemptAnswer, QuizAttemptService

router = APIRouter(tags=["quiz attempts"], responses=PROBLEM_RESPONSES)


@router.post(
    "/quizzes/{quiz_id}/attempts",
    summary="Start a quiz attempt",
    status_code=status.HTTP_201_CREATED,
)
async def start_attempt(quiz_id: uuid.UUID, caller: Caller, uow: Uow) -> AttemptOut:
    """Start an attempt (enrolled learners, within max_attempts). The questions come without
    answer keys; the deadline follows from the quiz's time limit."""
    attempt, quiz = await QuizAttemptService(uow).start(caller, quiz_id)
    return AttemptOut(
        id=attempt.id,
        quiz_id=quiz.id,
        attempt_no=attempt.attempt_no,
        started_at=attempt.started_at,
        deadline=attempt.deadline_at,
        questions=[QuestionOut.model_validate(q) for q in quiz.questions],
    )


@router.post("/attempts/{attempt_id}/submit", summary="Submit a quiz attempt for grading")
async def submit_attempt(
    attempt_id: uuid.UUID, body: SubmitIn, caller: Caller, uow: Uow
) -> SubmitOut:
    """Grade the answers; a second submission is 409, a late one 409 `deadline_passed`."""
    answers = [AttemptAnswer(a.question_id, a.option_ids, a.text) for a in body.answers]
    grading = await QuizAttemptService(uow).submit(caller, attempt_id, answers)
    attempt = grading.attempt
    return SubmitOut(
        attempt_id=attempt.id,
        score=float(attempt.score or 0),
        passed=bool(attempt.passed),
        results=[QuestionResult(question_id=q, correct=c) for q, c in grading.results],
    )
