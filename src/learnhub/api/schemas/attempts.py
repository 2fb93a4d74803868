"""Quiz attempts: the attempt started, the answers submitted, the grading returned."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import Input, Output, Text
from learnhub.api.schemas.examples import example
from learnhub.api.schemas.quizzes import QuestionOut


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
