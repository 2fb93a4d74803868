"""Quiz attempts: the attempt started, the answers submitted, the grading returned."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from learnhub.api.schemas.common import Input, Output, Text
from learnhub.api.schemas.quizzes import QuestionOut


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
