"""What a quiz is allowed to be, with no session: its settings and each question's shape by
type (how many options, how many correct)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from learnhub.domain import course_rules
from learnhub.domain.enums import QuestionType
from learnhub.domain.errors import InvalidValue
from learnhub.domain.value_objects import Duration

MAX_QUESTIONS, MAX_OPTIONS = 100, 10


@dataclass(frozen=True, slots=True)
class OptionSpec:
    text: str
    is_correct: bool = False


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    text: str
    type: QuestionType
    options: Sequence[OptionSpec] = ()
    answer_text: str | None = None
    explanation: str | None = None


@dataclass(frozen=True, slots=True)
class QuizSpec:
    title: str
    pass_mark: int = 70
    max_attempts: int | None = None
    time_limit_seconds: int | None = None
    questions: Sequence[QuestionSpec] = ()


def validate_question(spec: QuestionSpec) -> None:
    if not 1 <= len(spec.text.strip()) <= 2000:
        raise InvalidValue("question text must be 1 to 2000 characters")
    if spec.explanation is not None and len(spec.explanation) > 2000:
        raise InvalidValue("an explanation has at most 2000 characters")
    correct = sum(1 for o in spec.options if o.is_correct)
    count = len(spec.options)
    if count > MAX_OPTIONS or any(not 1 <= len(o.text.strip()) <= 500 for o in spec.options):
        raise InvalidValue(f"a question has at most {MAX_OPTIONS} options of 1-500 characters")
    if spec.type == QuestionType.SHORT_ANSWER:
        if count or not (spec.answer_text and spec.answer_text.strip()):
            raise InvalidValue("a short-answer question has an answer_text and no options")
    elif spec.type == QuestionType.SINGLE_CHOICE:
        if count < 2 or correct != 1:
            raise InvalidValue("a single-choice question has 2+ options, exactly one correct")
    elif spec.type == QuestionType.MULTIPLE_CHOICE:
        if count < 2 or correct < 1:
            raise InvalidValue("a multiple-choice question has 2+ options, at least one correct")
    elif spec.type == QuestionType.TRUE_FALSE and (count != 2 or correct != 1):
        raise InvalidValue("a true/false question has exactly two options, one correct")


def validate_quiz(spec: QuizSpec) -> None:
    course_rules.title(spec.title)
    if not 0 <= spec.pass_mark <= 100:
        raise InvalidValue("pass_mark is a percentage (0-100)")
    if spec.max_attempts is not None and spec.max_attempts < 1:
        raise InvalidValue("max_attempts must be at least 1")
    if spec.time_limit_seconds is not None:
        Duration(spec.time_limit_seconds)
        if spec.time_limit_seconds < 1:
            raise InvalidValue("time_limit_seconds must be positive")
    if len(spec.questions) > MAX_QUESTIONS:
        raise InvalidValue(f"a quiz has at most {MAX_QUESTIONS} questions")
    for question in spec.questions:
        validate_question(question)


def score_of(correct: Sequence[bool]) -> Decimal:
    """The percentage of questions answered correctly, two decimals (half up); 0 for a quiz
    without questions. Unanswered questions count as wrong."""
    if not correct:
        return Decimal(0).quantize(Decimal("0.01"))
    score = Decimal(100 * sum(correct)) / len(correct)
    return score.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def attempts_allowed(max_attempts: int | None, extra_attempts: int) -> int | None:
    """Attempts a learner may make at a quiz in all: its limit plus the extra attempts granted
    to them; None when the quiz has no limit."""
    return None if max_attempts is None else max_attempts + extra_attempts
