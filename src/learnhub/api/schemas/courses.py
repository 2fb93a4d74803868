from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

import pycountry
import pydantic_core
from pydantic import BeforeValidator, Field, StrictBool

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import JSON_INTEGER, Input, Output, Text, Version, Words
from learnhub.api.schemas.examples import example
from learnhub.domain.enums import CourseStatus, DifficultyLevel, QuestionType
from learnhub.domain.value_objects import Price
from learnhub.models import AuditLog, Course, Quiz, Section, Video
from learnhub.repositories.course import CatalogCard

# ISO 4217 codes (what `Price` accepts), listed in the OpenAPI document.
CURRENCY_CODES = sorted(c.alpha_3 for c in pycountry.currencies)
# A video's address: http(s), no white space (what the service checks).
URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"
# Integers with their bounds declared in the document (see JSON_INTEGER).
Position = Annotated[int, Field(ge=0, le=10_000), JSON_INTEGER]
Seconds = Annotated[int, Field(ge=1, le=7 * 24 * 3600), JSON_INTEGER]
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TagText = Annotated[Text, Field(min_length=1, max_length=50)]
ObjectiveText = Annotated[Text, Field(min_length=1, max_length=300)]


def _whole_amount(value: Any) -> Any:
    """An amount given as a JSON number must be a whole one. JSON Schema's `integer` holds
    `20.0` too (JSON has one number type), so it is taken as 20, exactly; `19.99` is refused
    (a float has lost the cents' exactness before it arrives; money travels as a decimal
    string)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError('an amount is a decimal string such as "19.99" or a whole number')
    return value


WHOLE_AMOUNT = BeforeValidator(_whole_amount)


class MoneyIn(Input):
    model_config = example(ex.PRICE)

    # Money travels as a decimal string; a JSON float would already have lost precision.
    amount: (
        Annotated[str, Field(pattern=r"^[0-9]{1,6}(\.[0-9]{1,2})?$", description='e.g. "19.99"')]
        | Annotated[int, Field(ge=0, le=999_999), WHOLE_AMOUNT]
    )
    currency: Annotated[
        str,
        Field(pattern=r"^[A-Za-z]{3}$", json_schema_extra={"enum": CURRENCY_CODES}),
    ]

    def to_price(self) -> Price:
        return Price(Decimal(str(self.amount)), self.currency)


class MoneyOut(Output):
    model_config = example(ex.PRICE)

    amount: str
    currency: str


class CourseIn(Input):
    model_config = example(
        {
            key: ex.COURSE[key]
            for key in ("title", "description", "price", "difficulty", "tags", "objectives", "slug")
        }
    )

    title: Words = Field(min_length=1, max_length=200)
    description: Text = Field(default="", max_length=20_000)
    price: MoneyIn = Field(default_factory=lambda: MoneyIn(amount="0.00", currency="USD"))
    difficulty: DifficultyLevel = DifficultyLevel.BEGINNER
    tags: list[TagText] = Field(default_factory=list, max_length=10)
    objectives: list[ObjectiveText] = Field(default_factory=list, max_length=20)
    slug: Text | None = Field(default=None, max_length=200, pattern=SLUG_PATTERN)


class CoursePatch(Input):
    model_config = example(
        {"price": {"amount": "24.99", "currency": "EUR"}, "tutor_enabled": True, "version": 4}
    )

    title: Words | None = Field(default=None, min_length=1, max_length=200)
    description: Text | None = Field(default=None, max_length=20_000)
    price: MoneyIn | None = None
    difficulty: DifficultyLevel | None = None
    tags: list[TagText] | None = Field(default=None, max_length=10)
    objectives: list[ObjectiveText] | None = Field(default=None, max_length=20)
    tutor_enabled: StrictBool | None = None
    version: Version | None = None


class VersionIn(Input):
    model_config = example({"version": 4})

    version: Version | None = None


class CourseOut(Output):
    model_config = example(ex.COURSE)

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


LOCKED_NOTE = (
    "Locked content (SPEC 5): callers who are neither enrolled in the course nor its "
    "instructor or an admin see the outline only; for them a video that is not a free preview "
    "has `locked: true` and `url` (and `transcript`) null."
)


class VideoSummary(Output):
    __doc__ = LOCKED_NOTE
    model_config = example(ex.VIDEO_SUMMARY)

    id: uuid.UUID
    title: str
    # null when `locked`
    url: str | None
    duration_seconds: int
    position: int
    version: int
    # A free preview: shown in full to everyone who may see the course's outline.
    is_preview: bool
    # True when the caller may see the outline only and this is not a preview.
    locked: bool = False

    @classmethod
    def of(cls, video: Video, *, full: bool) -> Self:
        """The video as a caller sees it: in full, or (outline only) locked unless it is a
        free preview."""
        out = cls.model_validate(video)
        if full or video.is_preview:
            return out
        hidden = {name: None for name in LOCKED_FIELDS if name in cls.model_fields}
        return out.model_copy(update={**hidden, "locked": True})


class VideoOut(VideoSummary):
    __doc__ = LOCKED_NOTE
    model_config = example(ex.VIDEO)

    course_id: uuid.UUID
    section_id: uuid.UUID
    # null when `locked`
    transcript: str | None


# What a locked video leaves out.
LOCKED_FIELDS = ("url", "transcript")


class QuizSummary(Output):
    model_config = example(ex.QUIZ_SUMMARY)

    id: uuid.UUID
    title: str
    position: int
    pass_mark: int
    max_attempts: int | None
    time_limit_seconds: int | None
    version: int


class SectionOut(Output):
    model_config = example(ex.SECTION)

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    position: int
    version: int


class QuizOutline(QuizSummary):
    model_config = example(ex.QUIZ_SUMMARY | {"question_count": 1})

    question_count: int


class SectionDetailOut(SectionOut):
    model_config = example(ex.COURSE_DETAIL["sections"][0])

    videos: list[VideoSummary]
    quizzes: list[QuizOutline]

    @classmethod
    def of(cls, section: Section, *, full: bool) -> SectionDetailOut:
        return cls(
            id=section.id,
            course_id=section.course_id,
            title=section.title,
            position=section.position,
            version=section.version,
            videos=[VideoSummary.of(v, full=full) for v in section.videos],
            quizzes=[QuizOutline.model_validate(q) for q in section.quizzes],
        )


class CourseDetailOut(CourseOut):
    __doc__ = LOCKED_NOTE
    model_config = example(ex.COURSE_DETAIL)

    sections: list[SectionDetailOut]

    @classmethod
    def of(cls, course: Course, *, full: bool = False) -> CourseDetailOut:
        """`full`: the caller may see the content (enrolled, the instructor, an admin);
        otherwise the outline, with locked videos."""
        return cls(
            **cls.fields_of(course),
            sections=[SectionDetailOut.of(s, full=full) for s in course.sections],
        )


class SectionIn(Input):
    model_config = example({"title": "Getting started", "position": 0})

    title: Words = Field(min_length=1, max_length=200)
    position: Position | None = None


class SectionPatch(Input):
    model_config = example({"title": "First steps", "version": 1})

    title: Words | None = Field(default=None, min_length=1, max_length=200)
    position: Position | None = None
    version: Version | None = None


class VideoIn(Input):
    model_config = example(
        {
            "title": "Your first bar chart",
            "url": ex.VIDEO["url"],
            "duration_seconds": 540,
            "transcript": ex.VIDEO["transcript"],
            "is_preview": True,
        }
    )

    title: Words = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2000, pattern=URL_PATTERN)
    duration_seconds: Seconds
    position: Position | None = None
    transcript: Text = Field(default="", max_length=200_000)
    # A free preview: url and transcript shown to everyone who sees the outline.
    is_preview: StrictBool = False


class VideoPatch(Input):
    model_config = example({"title": "Your first bar chart, labelled", "version": 1})

    title: Words | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2000, pattern=URL_PATTERN)
    duration_seconds: Seconds | None = None
    position: Position | None = None
    transcript: Text | None = Field(default=None, max_length=200_000)
    is_preview: StrictBool | None = None
    version: Version | None = None


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


class OrderIn(Input):
    model_config = example({"ids": [ex.SECTION_ID, ex.SECOND_SECTION_ID]})

    ids: list[uuid.UUID] = Field(max_length=1000)


class AuditEntryOut(Output):
    model_config = example(ex.AUDIT_ENTRY)

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
