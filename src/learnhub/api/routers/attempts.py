"""Quiz attempts: start, then submit answers for server-side grading."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import Field

from learnhub.api.deps import Uow, get_principal
from learnhub.api.schemas.common import PROBLEM_RESPONSES, Input, Output, Text
from learnhub.api.schemas.courses import QuestionOut
from learnhub.domain.errors import Conflict, DeadlinePassed
from learnhub.domain.principal import Principal
from learnhub.services.quiz_attempts import AttemptAnswer, QuizAttemptService

router = APIRouter(tags=["quiz attempts"], responses=PROBLEM_RESPONSES)
Caller = Annotated[Principal, Depends(get_principal)]


class AttemptOut(Output):
    id: uuid.UUID
    quiz_id: uuid.UUID
    attempt_no: int
    started_at: datetime
    deadline: datetime | None
    questions: list[QuestionOut]


class AnswerBody(Input):
    question_id: uuid.UUID
    option_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10)
    text: Text | None = Field(default=None, max_length=500)


class SubmitIn(Input):
    answers: list[AnswerBody] = Field(max_length=100)


class QuestionResult(Output):
    question_id: uuid.UUID
    correct: bool


class SubmitOut(Output):
    attempt_id: uuid.UUID
    score: float
    passed: bool
    results: list[QuestionResult]


@router.post("/quizzes/{quiz_id}/attempts", status_code=status.HTTP_201_CREATED)
async def start_attempt(quiz_id: uuid.UUID, caller: Caller, uow: Uow) -> AttemptOut:
    """Start an attempt (enrolled learners, within max_attempts). The questions come without
    answer keys; the deadline follows from the quiz's time limit."""
    try:
        attempt, quiz = await QuizAttemptService(uow).start(caller, quiz_id)
    except Conflict:
        # Refused (an open attempt, no attempts left); an expired attempt found on the way
        # was closed as overdue, and that closure stands.
        await uow.commit()
        raise
    await uow.commit()
    return AttemptOut(
        id=attempt.id,
        quiz_id=quiz.id,
        attempt_no=attempt.attempt_no,
        started_at=attempt.started_at,
        deadline=attempt.deadline_at,
        questions=[QuestionOut.model_validate(q) for q in quiz.questions],
    )


@router.post("/attempts/{attempt_id}/submit")
async def submit_attempt(
    attempt_id: uuid.UUID, body: SubmitIn, caller: Caller, uow: Uow
) -> SubmitOut:
    """Grade the answers; a second submission is 409, a late one 409 `deadline_passed`."""
    answers = [AttemptAnswer(a.question_id, a.option_ids, a.text) for a in body.answers]
    try:
        grading = await QuizAttemptService(uow).submit(caller, attempt_id, answers)
    except DeadlinePassed:
        await uow.commit()  # the attempt is closed as overdue either way
        raise
    await uow.commit()
    attempt = grading.attempt
    return SubmitOut(
        attempt_id=attempt.id,
        score=float(attempt.score or 0),
        passed=bool(attempt.passed),
        results=[QuestionResult(question_id=q, correct=c) for q, c in grading.results],
    )
