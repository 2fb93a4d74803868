"""Courses and the catalog: a course in, patched and out (money as a decimal string), the
catalog page straight from its read model, and a course's detail with its outline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
import pycountry
from pydantic import BeforeValidator, Field, StrictBool

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import Input, Output, PersonOut, Text, Version, Words
from learnhub.api.schemas.content import LOCKED_NOTE, SectionDetailOut
from learnhub.api.schemas.examples import example
from learnhub.domain.enums import CourseStatus, DifficultyLevel
from learnhub.domain.value_objects import Price
from learnhub.models import Course
from learnhub.repositories.course_catalog import CatalogCard
from learnhub.repositories.course_outline import CourseOutline

# ISO 4217 codes (what `Price` accepts), listed in the OpenAPI document.
CURRENCY_CODES = sorted(c.alpha_3 for c in pycountry.currencies)
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
    # Money travels as a decimal string; a JSON float would already have lost precision.
    model_config = example(ex.PRICE)

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
    instructor: PersonOut
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
        """From an entity loaded with its instructor (CourseRepository joins it in)."""
        instructor = course.instructor
        return cls._scalar_fields(course) | {
            "tags": sorted(t.name for t in course.tags),
            "objectives": [o.text for o in course.objectives],
            "instructor": PersonOut.named(
                course.instructor_id, instructor.display_name if instructor else None
            ),
        }

    @classmethod
    def of(cls, course: Course) -> CourseOut:
        return cls(**cls.fields_of(course))

    @classmethod
    def card_fields(cls, card: CatalogCard) -> dict[str, Any]:
        """From the catalog's read model (tags already sorted, objectives in order)."""
        return cls._scalar_fields(card) | {
            "tags": card.tags,
            "objectives": card.objectives,
            "instructor": PersonOut.named(card.instructor_id, card.instructor_name),
        }

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
                "1": course.rating_1_count,
                "2": course.rating_2_count,
                "3": course.rating_3_count,
                "4": course.rating_4_count,
                "5": course.rating_5_count,
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
    validating them into models first (then again as the response model) only repeats work.
    orjson writes the same JSON as the response model would (tests compare both ways) in a
    tenth of pydantic-core's time for these untyped values (38 against 374 us a page)."""
    items = [CourseOut.card_fields(card) for card in cards]
    return orjson.dumps(
        {"items": items, "next_cursor": next_cursor}, option=orjson.OPT_UTC_Z, default=_uuid_text
    )


def _uuid_text(value: Any) -> str:
    """asyncpg hands back its own UUID class, which orjson does not take for a uuid.UUID."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def course_outline_json(outline: CourseOutline) -> bytes:
    """The public course page (`CourseDetailOut`, outline only) straight from its read
    model, as `catalog_page_json` does for the catalog: the card's JSON, and the sections as
    PostgreSQL wrote them (their videos already locked by the one lock rule), put in as
    they are. Decoding them to lock the videos here and encoding them again was most of the
    36 us a page's writing cost under load (bench/RESULTS.md, bench/ablation.py). Tests
    compare the page with the response model's JSON."""
    card = orjson.dumps(
        CourseOut.card_fields(outline.card), option=orjson.OPT_UTC_Z, default=_uuid_text
    )
    return b"".join((card[:-1], b',"sections":', outline.sections_json.encode(), b"}"))


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
