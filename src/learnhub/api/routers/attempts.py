"""Quiz attempts: start, save answers, submit for server-side grading, read back (with the
answer review once closed), list one's attempts at a quiz; extra attempts granted."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Body, status

from learnhub.api.deps import Caller, Limit, Uow, WriteCaller, WriteUow
from learnhub.api.query_parameters import KnownQueryOnly
from learnhub.api.schemas.attempts import (
    AnswerReviewOut,
    AnswersIn,
    AttemptDetailOut,
    AttemptOut,
    AttemptPageOut,
    AttemptSummary,
    GrantIn,
    GrantOut,
    QuestionResult,
    SavedAnswer,
    SavedAnswersOut,
    SubmitIn,
    SubmitOut,
)
from learnhub.api.schemas.common import PROBLEM_RESPONSES, Cursor
from learnhub.api.schemas.quizzes import OptionKeyOut, QuestionOut
from learnhub.models.learning import QuizAttempt
from learnhub.repositories.attempts import StoredAnswer
from learnhub.repositories.filters import CursorPagination
from learnhub.services.attempt_grants import AttemptGrantService
from learnhub.services.attempt_reads import AttemptReadService, AttemptView
from learnhub.services.quiz_attempts import AttemptAnswer, QuizAttemptService

router = APIRouter(tags=["quiz attempts"], responses=PROBLEM_RESPONSES)


def summary_of(attempt: QuizAttempt) -> AttemptSummary:
    return AttemptSummary(
        id=attempt.id,
        quiz_id=attempt.quiz_id,
        attempt_no=attempt.attempt_no,
        state=attempt.state,
        started_at=attempt.started_at,
        deadline=attempt.deadline_at,
        submitted_at=attempt.submitted_at,
        score=None if attempt.score is None else float(attempt.score),
        passed=attempt.passed,
    )


def saved(answers: list[StoredAnswer]) -> list[SavedAnswer]:
    return [
        SavedAnswer(question_id=a.question_id, option_ids=a.option_ids, text=a.text)
        for a in answers
    ]


def detail_of(view: AttemptView) -> AttemptDetailOut:
    review = None
    if view.review is not None:
        review = [
            AnswerReviewOut(
                question_id=item.question.id,
                text=item.question.text,
                type=item.question.type,
                options=[OptionKeyOut.model_validate(o) for o in item.options],
                answer_text=item.question.answer_text,
                explanation=item.question.explanation,
                chosen_option_ids=item.answer.option_ids if item.answer else [],
                given_text=item.answer.text if item.answer else None,
                correct=bool(item.answer and item.answer.correct),
            )
            for item in view.review
        ]
    questions = None
    if view.questions is not None:
        questions = [QuestionOut.model_validate(q) for q in view.questions]
    return AttemptDetailOut(
        **summary_of(view.attempt).model_dump(),
        answers=saved(view.answers),
        questions=questions,
        review=review,
    )


@router.post(
    "/quizzes/{quiz_id}/attempts",
    summary="Start a quiz attempt",
    status_code=status.HTTP_201_CREATED,
)
async def start_attempt(quiz_id: uuid.UUID, caller: Caller, uow: Uow) -> AttemptOut:
    """Start an attempt (enrolled learners, within max_attempts plus any extra attempts
    granted). The questions come without answer keys; the deadline follows from the quiz's
    time limit."""
    attempt, quiz = await QuizAttemptService(uow).start(caller, quiz_id)
    return AttemptOut(
        id=attempt.id,
        quiz_id=quiz.id,
        attempt_no=attempt.attempt_no,
        started_at=attempt.started_at,
        deadline=attempt.deadline_at,
        questions=[QuestionOut.model_validate(q) for q in quiz.questions],
    )


@router.get(
    "/quizzes/{quiz_id}/attempts",
    summary="List my attempts at a quiz",
    dependencies=[KnownQueryOnly],
)
async def my_attempts(
    quiz_id: uuid.UUID,
    caller: WriteCaller,
    uow: WriteUow,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> AttemptPageOut:
    """The caller's attempts, newest first, and the attempts left. An open attempt past its
    deadline is closed as overdue first (graded on its saved answers)."""
    found = await AttemptReadService(uow).mine(caller, quiz_id, CursorPagination(limit, cursor))
    return AttemptPageOut(
        items=[summary_of(a) for a in found.page.items],
        next_cursor=found.page.next_cursor,
        attempts_remaining=found.remaining,
    )


@router.post(
    "/quizzes/{quiz_id}/extra-attempts",
    summary="Grant a learner extra attempts at a quiz",
)
async def grant_extra_attempts(
    quiz_id: uuid.UUID, body: GrantIn, caller: Caller, uow: Uow
) -> GrantOut:
    """Set the learner's extra attempts (the course's instructor or an admin; the learner is
    enrolled in the course). Sets, not adds: repeating a grant changes nothing, 0 withdraws."""
    view = await AttemptGrantService(uow).grant(caller, quiz_id, body.user_id, body.extra_attempts)
    return GrantOut(
        quiz_id=view.quiz.id,
        user_id=view.grant.user_id,
        extra_attempts=view.grant.extra_attempts,
        max_attempts=view.quiz.max_attempts,
        attempts_allowed=view.allowed,
        attempts_used=view.used,
    )


@router.get("/attempts/{attempt_id}", summary="Read a quiz attempt")
async def get_attempt(
    attempt_id: uuid.UUID, caller: WriteCaller, uow: WriteUow
) -> AttemptDetailOut:
    """The caller's own attempt (the course's instructor and admins may read any attempt in
    it; for anyone else it does not exist: 404). While open: the questions and the answers
    saved; once closed: score, passed and the review with the right answers and the
    explanations. Read past its deadline, an open attempt is closed as overdue and graded on
    what was saved."""
    return detail_of(await AttemptReadService(uow).read(caller, attempt_id))


@router.put("/attempts/{attempt_id}/answers", summary="Save answers of an open attempt")
async def save_answers(
    attempt_id: uuid.UUID, body: AnswersIn, caller: Caller, uow: Uow
) -> SavedAnswersOut:
    """Each answer replaces that question's saved answer (no options and no text clears it);
    other questions keep theirs. After submission 409 `conflict`, after the deadline 409
    `deadline_passed` (the attempt is then closed as overdue, graded on what was saved)."""
    answers = [AttemptAnswer(a.question_id, a.option_ids, a.text) for a in body.answers]
    attempt, stored = await QuizAttemptService(uow).save_answers(caller, attempt_id, answers)
    return SavedAnswersOut(attempt_id=attempt.id, state=attempt.state, answers=saved(stored))


@router.post("/attempts/{attempt_id}/submit", summary="Submit a quiz attempt for grading")
async def submit_attempt(
    attempt_id: uuid.UUID,
    caller: Caller,
    uow: Uow,
    body: SubmitIn | None = Body(default=None),
) -> SubmitOut:
    """Grade the answers sent (they replace the saved ones), or without a body the answers
    saved; a second submission is 409, a late one 409 `deadline_passed`."""
    answers = None
    if body is not None:
        answers = [AttemptAnswer(a.question_id, a.option_ids, a.text) for a in body.answers]
    grading = await QuizAttemptService(uow).submit(caller, attempt_id, answers)
    attempt = grading.attempt
    return SubmitOut(
        attempt_id=attempt.id,
        score=float(attempt.score or 0),
        passed=bool(attempt.passed),
        results=[QuestionResult(question_id=q, correct=c) for q, c in grading.results],
    )
