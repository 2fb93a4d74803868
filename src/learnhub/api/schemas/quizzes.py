"""Quizzes as authored (questions, options and answer keys in, the key only for editors out)
and as a learner or an outline-only caller sees them."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StrictBool

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import (
    JSON_INTEGER,
    Input,
    Output,
    Position,
    Seconds,
    Text,
    Version,
    Words,
)
from learnhub.api.schemas.examples import example
from learnhub.domain.enums import QuestionType
from learnhub.models import Quiz


class QuizSummary(Output):
    model_config = example(ex.QUIZ_SUMMARY)

    id: uuid.UUID
    title: str
    position: int
    pass_mark: int
    max_attempts: int | None
    time_limit_seconds: int | None
    version: int


class QuizOutline(QuizSummary):
    model_config = example(ex.QUIZ_SUMMARY | {"question_count": 1})

    question_count: int


class OptionIn(Input):
    model_config = example({"text": "Bar chart", "is_correct": True})

    text: Words = Field(min_length=1, max_length=500)
    is_correct: StrictBool = False


class QuestionIn(Input):
    model_config = example(ex.QUESTION_IN)

    text: Words = Field(min_length=1, max_length=2000)
    type: QuestionType
    options: list[OptionIn] = Field(default_factory=list, max_length=10)
    answer_text: Text | None = Field(default=None, max_length=500)
    # Shown to learners with the answer review, once their attempt is closed.
    explanation: Text | None = Field(default=None, max_length=2000)


class QuizIn(Input):
    model_config = example(
        {
            "title": "Charts check",
            "pass_mark": 70,
            "max_attempts": 3,
            "time_limit_seconds": 600,
            "questions": [ex.QUESTION_IN],
        }
    )

    title: Words = Field(min_length=1, max_length=200)
    pass_mark: Annotated[int, Field(ge=0, le=100), JSON_INTEGER] = 70
    max_attempts: Annotated[int, Field(ge=1, le=1000), JSON_INTEGER] | None = None
    time_limit_seconds: Seconds | None = None
    position: Position | None = None
    questions: list[QuestionIn] = Field(default_factory=list, max_length=100)


class QuizPatch(Input):
    model_config = example({"pass_mark": 80, "version": 1})

    title: Words | None = Field(default=None, min_length=1, max_length=200)
    pass_mark: Annotated[int, Field(ge=0, le=100), JSON_INTEGER] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=1000), JSON_INTEGER] | None = None
    time_limit_seconds: Seconds | None = None
    questions: list[QuestionIn] | None = Field(default=None, max_length=100)
    version: Version | None = None


class OptionOut(Output):
    model_config = example(ex.QUESTION["options"][0])

    id: uuid.UUID
    text: str


class OptionKeyOut(OptionOut):
    model_config = example(ex.QUESTION_KEY["options"][0])

    is_correct: bool


class QuestionOut(Output):
    model_config = example(ex.QUESTION)

    id: uuid.UUID
    text: str
    type: QuestionType
    options: list[OptionOut]


class QuestionKeyOut(Output):
    model_config = example(ex.QUESTION_KEY)

    id: uuid.UUID
    text: str
    type: QuestionType
    options: list[OptionKeyOut]
    answer_text: str | None
    explanation: str | None


class QuizOut(QuizSummary):
    """What learners see: questions and options, never the answer keys. Callers who may see
    the course's outline only (neither enrolled nor its instructor or an admin) get
    `locked: true` and `questions: null`."""

    model_config = example(ex.QUIZ)

    course_id: uuid.UUID
    section_id: uuid.UUID
    question_count: int
    # null when `locked`
    questions: list[QuestionOut] | None
    locked: bool = False


class QuizAuthorOut(QuizSummary):
    """What the course's instructor and admins see: the answer keys included."""

    model_config = example(ex.QUIZ_AUTHOR)

    course_id: uuid.UUID
    section_id: uuid.UUID
    questions: list[QuestionKeyOut]


def quiz_out(quiz: Quiz, *, with_keys: bool, locked: bool = False) -> QuizOut | QuizAuthorOut:
    """The quiz for its editors (`with_keys`), an enrolled learner, or (`locked`) a caller who
    sees the outline only. Its questions must be loaded."""
    if with_keys:
        return QuizAuthorOut.model_validate(quiz)
    summary = QuizSummary.model_validate(quiz).model_dump()
    return QuizOut(
        **summary,
        course_id=quiz.course_id,
        section_id=quiz.section_id,
        question_count=len(quiz.questions),
        questions=None if locked else [QuestionOut.model_validate(q) for q in quiz.questions],
        locked=locked,
    )
