"""Quiz attempts: the attempt started, the answers submitted, the grading returned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import JSON_INTEGER, Input, Output, PageOut, Text
from learnhub.api.schemas.examples import example
from learnhub.api.schemas.quizzes import OptionKeyOut, QuestionOut
from learnhub.domain.enums import AttemptState, QuestionType

SAVED_ANSWER: dict[str, Any] = ex.ANSWER | {"text": None}
ATTEMPT_SUMMARY: dict[str, Any] = {
    "id": ex.ATTEMPT_ID,
    "quiz_id": ex.QUIZ_ID,
    "attempt_no": 1,
    "state": "submitted",
    "started_at": ex.UPDATED,
    "deadline": "2026-03-09T17:15:12Z",
    "submitted_at": "2026-03-09T17:11:40Z",
    "score": 100.0,
    "passed": True,
}
REVIEW: dict[str, Any] = {
    "question_id": ex.QUESTION_ID,
    "text": ex.QUESTION_KEY["text"],
    "type": ex.QUESTION_KEY["type"],
    "options": ex.QUESTION_KEY["options"],
    "answer_text": None,
    "explanation": ex.QUESTION_KEY["explanation"],
    "chosen_option_ids": [ex.OPTION_IDS[0]],
    "given_text": None,
    "correct": True,
}


class AttemptOut(Output):
    model_config = example(
        {
            "id": ex.ATTEMPT_ID,
            "quiz_id": ex.QUIZ_ID,
            "attempt_no": 1,
            "started_at": ex.UPDATED,
            "deadline": "2026-03-09T17:15:12Z",
            "questions": [ex.QUESTION],
        }
    )

    id: uuid.UUID
    quiz_id: uuid.UUID
    attempt_no: int
    started_at: datetime
    deadline: datetime | None
    questions: list[QuestionOut]


class AnswerBody(Input):
    model_config = example(ex.ANSWER)

    question_id: uuid.UUID
    option_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10)
    text: Text | None = Field(default=None, max_length=500)


class SubmitIn(Input):
    """The answers to grade, replacing any saved ones. Submitting without a body grades the
    answers saved with `PUT /attempts/{id}/answers`."""

    model_config = example({"answers": [ex.ANSWER]})

    answers: list[AnswerBody] = Field(max_length=100)


class QuestionResult(Output):
    model_config = example({"question_id": ex.QUESTION_ID, "correct": True})

    question_id: uuid.UUID
    correct: bool


class SubmitOut(Output):
    model_config = example(
        {
            "attempt_id": ex.ATTEMPT_ID,
            "score": 100.0,
            "passed": True,
            "results": [{"question_id": ex.QUESTION_ID, "correct": True}],
        }
    )

    attempt_id: uuid.UUID
    score: float
    passed: bool
    results: list[QuestionResult]


class AnswersIn(Input):
    """Answers to save while the attempt is open: each replaces that question's saved answer
    (an answer with no options and no text clears it); questions left out keep theirs."""

    model_config = example({"answers": [ex.ANSWER]})

    answers: list[AnswerBody] = Field(max_length=100)


class SavedAnswer(Output):
    model_config = example(SAVED_ANSWER)

    question_id: uuid.UUID
    option_ids: list[uuid.UUID]
    text: str | None


class SavedAnswersOut(Output):
    model_config = example(
        {"attempt_id": ex.ATTEMPT_ID, "state": "in_progress", "answers": [SAVED_ANSWER]}
    )

    attempt_id: uuid.UUID
    state: AttemptState
    answers: list[SavedAnswer]


class AttemptSummary(Output):
    model_config = example(ATTEMPT_SUMMARY)

    id: uuid.UUID
    quiz_id: uuid.UUID
    attempt_no: int
    state: AttemptState
    started_at: datetime
    deadline: datetime | None
    submitted_at: datetime | None
    # null until the attempt is closed (submitted, or overdue and graded on what was saved)
    score: float | None
    passed: bool | None


class AttemptPageOut(PageOut[AttemptSummary]):
    """The caller's attempts at a quiz, newest first; `attempts_remaining` is null when the
    quiz has no attempt limit (its limit plus extra attempts granted, minus attempts made)."""

    model_config = example(
        {"items": [ATTEMPT_SUMMARY], "next_cursor": None, "attempts_remaining": 2}
    )

    attempts_remaining: int | None


class AnswerReviewOut(Output):
    """One question of a closed attempt: the learner's answer, whether it was right, the
    right answer (the options' `is_correct`, or `answer_text`) and the explanation."""

    model_config = example(REVIEW)

    question_id: uuid.UUID
    text: str
    type: QuestionType
    options: list[OptionKeyOut]
    answer_text: str | None
    explanation: str | None
    chosen_option_ids: list[uuid.UUID]
    given_text: str | None
    correct: bool


class AttemptDetailOut(AttemptSummary):
    """An attempt: while open, its questions (no answer keys) and the answers saved so far;
    once closed, the graded answers and the review (`questions: null`)."""

    model_config = example(
        ATTEMPT_SUMMARY | {"answers": [SAVED_ANSWER], "questions": None, "review": [REVIEW]}
    )

    answers: list[SavedAnswer]
    questions: list[QuestionOut] | None
    review: list[AnswerReviewOut] | None


class GrantIn(Input):
    model_config = example({"user_id": ex.USER_ID, "extra_attempts": 1})

    user_id: uuid.UUID
    extra_attempts: Annotated[int, Field(ge=0, le=1000), JSON_INTEGER]


class GrantOut(Output):
    model_config = example(
        {
            "quiz_id": ex.QUIZ_ID,
            "user_id": ex.USER_ID,
            "extra_attempts": 1,
            "max_attempts": 3,
            "attempts_allowed": 4,
            "attempts_used": 3,
        }
    )

    quiz_id: uuid.UUID
    user_id: uuid.UUID
    extra_attempts: int
    max_attempts: int | None
    # null when the quiz has no attempt limit
    attempts_allowed: int | None
    attempts_used: int
