from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import pydantic_core
from pydantic import Field, StrictInt

from learnhub.api.schemas.common import Input, Output, Text
from learnhub.domain.enums import CourseStatus, DifficultyLevel, QuestionType
from learnhub.domain.value_objects import Price
from learnhub.models import AuditLog, Course, Quiz, Section, Video
from learnhub.repositories.course import CatalogCard

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TagText = Annotated[Text, Field(min_length=1, max_length=50)]
ObjectiveText = Annotated[Text, Field(min_length=1, max_length=300)]


class MoneyIn(Input):
    # Money travels as a decimal string; a JSON float would already have lost precision.
    amount: Annotated[str, Field(pattern=r"^\d{1,7}(\.\d{1,2})?$")] | StrictInt
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]

    def to_price(self) -> Price:
        return Price(Decimal(str(self.amount)), self.currency)


class MoneyOut(Output):
    amount: str
    currency: str


class CourseIn(Input):
    title: Text = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=20_000)
    price: MoneyIn = Field(default_factory=lambda: MoneyIn(amount="0.00", currency="USD"))
    difficulty: DifficultyLevel = DifficultyLevel.BEGINNER
    tags: list[TagText] = Field(default_factory=list, max_length=10)
    objectives: list[ObjectiveText] = Field(default_factory=list, max_length=20)
    slug: Text | None = Field(default=None, max_length=200, pattern=SLUG_PATTERN)


class CoursePatch(Input):
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=20_000)
    price: MoneyIn | None = None
    difficulty: DifficultyLevel | None = None
    tags: list[TagText] | None = Field(default=None, max_length=10)
    objectives: list[ObjectiveText] | None = Field(default=None, max_length=20)
    tutor_enabled: bool | None = None
    version: int | None = Field(default=None, ge=1)


class VersionIn(Input):
    version: int | None = Field(default=None, ge=1)


class CourseOut(Output):
    id: uuid.UUID
    slug: str
    title: str
    description: str
    price: MoneyOut
    difficulty: DifficultyLevel
    status: CourseStatus
    instructor_id: uuid.UUID
    rating: float
    rating_count: int
    # Published reviews per star, "1" to "5".
    rating_histogram: dict[str, int]
    enrollment_count: int
    tags: list[str]
    objectives: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    # Whether enrolled learners may ask the AI tutor about this course.
    tutor_enabled: bool

    @classmethod
    def fields_of(cls, course: Course) -> dict[str, Any]:
        return cls._scalar_fields(course) | {
            "tags": sorted(t.name for t in course.tags),
            "objectives": [o.text for o in course.objectives],
        }

    @classmethod
    def of(cls, course: Course) -> CourseOut:
        return cls(**cls.fields_of(course))

    @classmethod
    def card_fields(cls, card: CatalogCard) -> dict[str, Any]:
        """From the catalog's read model (tags already sorted, objectives in order)."""
        return cls._scalar_fields(card) | {"tags": card.tags, "objectives": card.objectives}

    @staticmethod
    def _scalar_fields(course: Course | CatalogCard) -> dict[str, Any]:
        """Every field but tags and objectives, from an entity or a catalog card alike."""
        return {
            "id": course.id,
            "slug": course.slug,
            "title": course.title,
            "description": course.description,
            "price": {"amount": str(course.price_amount), "currency": course.price_currency},
            "difficulty": course.difficulty,
            "status": course.status,
            "instructor_id": course.instructor_id,
            "rating": float(course.rating),
            "rating_count": course.rating_count,
            "rating_histogram": {
                str(stars): getattr(course, f"rating_{stars}_count") for stars in range(1, 6)
            },
            "enrollment_count": course.enrollment_count,
            "version": course.version,
            "created_at": course.created_at,
            "updated_at": course.updated_at,
            "published_at": course.published_at,
            "tutor_enabled": course.tutor_enabled,
        }


def catalog_page_json(cards: Sequence[CatalogCard], next_cursor: str | None) -> bytes:
    """A catalog page as `PageOut[CourseOut]` JSON, serialised straight from the read model.

    The catalog is the hottest read: its cards come from typed columns in one statement, so
    validating them into models first (then again as the response model) only repeats work;
    pydantic-core writes the same JSON from plain values (tests compare both ways)."""
    items = [CourseOut.card_fields(card) for card in cards]
    return pydantic_core.to_json({"items": items, "next_cursor": next_cursor})


class VideoSummary(Output):
    id: uuid.UUID
    title: str
    url: str
    duration_seconds: int
    position: int


class VideoOut(VideoSummary):
    course_id: uuid.UUID
    section_id: uuid.UUID
    transcript: str


class QuizSummary(Output):
    id: uuid.UUID
    title: str
    position: int
    pass_mark: int
    max_attempts: int | None
    time_limit_seconds: int | None


class SectionOut(Output):
    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    position: int


class SectionDetailOut(SectionOut):
    videos: list[VideoSummary]
    quizzes: list[QuizSummary]

    @classmethod
    def of(cls, section: Section) -> SectionDetailOut:
        return cls(
            id=section.id,
            course_id=section.course_id,
            title=section.title,
            position=section.position,
            videos=[VideoSummary.model_validate(v) for v in section.videos],
            quizzes=[QuizSummary.model_validate(q) for q in section.quizzes],
        )


class CourseDetailOut(CourseOut):
    sections: list[SectionDetailOut]

    @classmethod
    def of(cls, course: Course) -> CourseDetailOut:
        return cls(
            **cls.fields_of(course),
            sections=[SectionDetailOut.of(s) for s in course.sections],
        )


class SectionIn(Input):
    title: Text = Field(min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, le=10_000)


class SectionPatch(Input):
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=0, le=10_000)


class VideoIn(Input):
    title: Text = Field(min_length=1, max_length=200)
    url: Text = Field(max_length=2000)
    duration_seconds: int = Field(ge=1, le=7 * 24 * 3600)
    position: int | None = Field(default=None, ge=0, le=10_000)
    transcript: str = Field(default="", max_length=200_000)


class VideoPatch(Input):
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    url: Text | None = Field(default=None, max_length=2000)
    duration_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    position: int | None = Field(default=None, ge=0, le=10_000)
    transcript: str | None = Field(default=None, max_length=200_000)


class OptionIn(Input):
    text: Text = Field(min_length=1, max_length=500)
    is_correct: bool = False


class QuestionIn(Input):
    text: Text = Field(min_length=1, max_length=2000)
    type: QuestionType
    options: list[OptionIn] = Field(default_factory=list, max_length=10)
    answer_text: Text | None = Field(default=None, max_length=500)


class QuizIn(Input):
    title: Text = Field(min_length=1, max_length=200)
    pass_mark: int = Field(default=70, ge=0, le=100)
    max_attempts: int | None = Field(default=None, ge=1, le=1000)
    time_limit_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    position: int | None = Field(default=None, ge=0, le=10_000)
    questions: list[QuestionIn] = Field(default_factory=list, max_length=100)


class QuizPatch(Input):
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    pass_mark: int | None = Field(default=None, ge=0, le=100)
    max_attempts: int | None = Field(default=None, ge=1, le=1000)
    time_limit_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    questions: list[QuestionIn] | None = Field(default=None, max_length=100)


class OptionOut(Output):
    id: uuid.UUID
    text: str


class OptionKeyOut(OptionOut):
    is_correct: bool


class QuestionOut(Output):
    id: uuid.UUID
    text: str
    type: QuestionType
    options: list[OptionOut]


class QuestionKeyOut(Output):
    id: uuid.UUID
    text: str
    type: QuestionType
    options: list[OptionKeyOut]
    answer_text: str | None


class QuizOut(QuizSummary):
    """What learners see: questions and options, never the answer keys."""

    course_id: uuid.UUID
    section_id: uuid.UUID
    questions: list[QuestionOut]


class QuizAuthorOut(QuizSummary):
    """What the course's instructor and admins see: the answer keys included."""

    course_id: uuid.UUID
    section_id: uuid.UUID
    questions: list[QuestionKeyOut]


def quiz_out(quiz: Quiz, *, with_keys: bool) -> QuizOut | QuizAuthorOut:
    model = QuizAuthorOut if with_keys else QuizOut
    return model.model_validate(quiz)


class OrderIn(Input):
    ids: list[uuid.UUID] = Field(max_length=1000)


class AuditEntryOut(Output):
    id: uuid.UUID
    occurred_at: datetime
    actor_id: uuid.UUID | None
    request_id: str | None
    entity_type: str
    entity_id: uuid.UUID
    action: str
    changes: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditLog) -> AuditEntryOut:
        return cls(
            id=entry.id,
            occurred_at=entry.occurred_at,
            actor_id=entry.actor_id,
            request_id=entry.request_id,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            action=entry.action.value,
            changes=entry.changes,
        )


def video_out(video: Video) -> VideoOut:
    return VideoOut.model_validate(video)
