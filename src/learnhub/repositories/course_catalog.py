"""The catalog's read model: a course card, built from one Core statement (the course's
columns, its tags and objectives aggregated by correlated sub-selects, its instructor's name
joined in), run by `CatalogRepository.catalog_page` (repositories/catalog.py)."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Dialect

from learnhub.db.driver_reads import CompiledRead, compile_read
from learnhub.db.soft_delete import live
from learnhub.domain.enums import CourseStatus, DifficultyLevel
from learnhub.models.course import Course, CourseObjective, Tag, course_tags
from learnhub.models.course.catalog_generation import CATALOG_GENERATION_ROW, CatalogGeneration
from learnhub.models.user import User
from learnhub.repositories.filters import Eq, Filter, Page, Sort
from learnhub.repositories.pages import keyset_template


# Not frozen, though nothing changes a card after it is made: a frozen dataclass sets each
# of its 27 fields through object.__setattr__, 1.8 us a card against 0.2 us, on the hottest
# read's every row.
@dataclass(slots=True)
class CatalogCard:
    """A course as the catalog lists it: a read model built by one statement."""

    id: uuid.UUID
    slug: str
    title: str
    description: str
    price_amount: Decimal
    price_currency: str
    difficulty: DifficultyLevel
    status: CourseStatus
    instructor_id: uuid.UUID
    rating: Decimal
    rating_count: int
    rating_1_count: int
    rating_2_count: int
    rating_3_count: int
    rating_4_count: int
    rating_5_count: int
    enrollment_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    tutor_enabled: bool
    tags: list[str]
    objectives: list[str]
    # The instructor's display name; None when the instructor's account is soft-deleted.
    instructor_name: str | None
    # How well the card matched a search's `q` (higher first); None without `q`.
    rank: float | None = None


@dataclass(frozen=True, slots=True)
class CatalogPage(Page[CatalogCard]):
    """A page of cards, and the catalog generation it was read at (see `GENERATION`)."""

    generation: int = 0


# The catalog's generation (models/course/catalog_generation.py), read by the same statement
# as the cards so both come from one snapshot: a page is never older than its generation.
GENERATION = (
    select(CatalogGeneration.generation)
    .where(CatalogGeneration.id == CATALOG_GENERATION_ROW)
    .scalar_subquery()
)

CARD_COLUMNS = tuple(
    getattr(Course, name)
    for name in CatalogCard.__slots__
    if name not in ("tags", "objectives", "instructor_name", "rank")
)
_CARD_SCALARS = len(CARD_COLUMNS)


@functools.cache
def catalog_select(postgres: bool, *, generation: bool = True) -> Select[Any]:
    """The catalog cards' columns: the course's own, then its tags (by name) and its
    objectives (in order), each aggregated in a correlated sub-select, and its instructor's
    display name by a join (one primary-key lookup per card of the page, in the same
    statement), then the catalog generation unless `generation` is false (a course page
    does not show it). Soft-deleted rows are filtered here explicitly: the statement runs as
    Core, outside the ORM's global filter; a soft-deleted instructor leaves the name NULL,
    the card stays."""
    tags = (
        select(_ordered(Tag.name, Tag.name, postgres=postgres))
        .select_from(course_tags.join(Tag, Tag.id == course_tags.c.tag_id))
        .where(course_tags.c.course_id == Course.id, live(Tag))
        .correlate(Course)
        .scalar_subquery()
    )
    objectives = (
        select(_ordered(CourseObjective.text, CourseObjective.position, postgres=postgres))
        .where(CourseObjective.course_id == Course.id, live(CourseObjective))
        .correlate(Course)
        .scalar_subquery()
    )
    instructor = Course.__table__.outerjoin(
        User.__table__, (User.id == Course.instructor_id) & live(User)
    )
    return (
        select(
            *CARD_COLUMNS,
            tags.label("tags"),
            objectives.label("objectives"),
            User.display_name.label("instructor_name"),
            *([GENERATION.label("catalog_generation")] if generation else []),
        )
        .select_from(instructor)
        .where(live(Course))
    )


def card_of(row: Sequence[Any], *, postgres: bool, generation: bool = True) -> CatalogCard:
    """A row of `catalog_select(postgres, generation=generation)` (and what a search adds
    after it) as a card."""
    return CatalogCard(  # type: ignore[call-arg]  # the row holds the fields in order
        *row[:_CARD_SCALARS],
        _unpacked(row[_CARD_SCALARS], postgres=postgres),
        _unpacked(row[_CARD_SCALARS + 1], postgres=postgres),
        row[_CARD_SCALARS + 2],  # the instructor's name; the generation may follow
        *row[GENERATION_AT + 1 if generation else GENERATION_AT :],
    )


# Where a `catalog_select` row holds the catalog generation.
GENERATION_AT = _CARD_SCALARS + 3


def _ordered(value: Any, order: Any, *, postgres: bool) -> Any:
    """An aggregate of `value` in `order`: a text[] on PostgreSQL; on SQLite (no ordered
    aggregates before 3.44) a JSON array of [order, value] pairs, sorted when unpacked."""
    if postgres:
        return func.array_agg(aggregate_order_by(value, order))
    return func.json_group_array(func.json_array(order, value))


def _unpacked(aggregate: Any, *, postgres: bool) -> list[str]:
    if aggregate is None:
        return []
    if postgres:
        return list(aggregate)
    return [value for _order, value in sorted(json.loads(aggregate))]


CATALOG_SORTS: dict[str, Sort] = {
    "rating": Sort("rating", Course.rating, descending=True),
    "enrollments": Sort("enrollments", Course.enrollment_count, descending=True),
    "newest": Sort("newest", Course.published_at, descending=True),
    "price": Sort("price", Course.price_amount, descending=False),
    "-price": Sort("-price", Course.price_amount, descending=True),
    # Authors' own listings include drafts, which have no published_at.
    "created": Sort("created", Course.created_at, descending=True),
}


class Listed(Filter):
    """Published and (by the global filter) not deleted: what the public catalog shows.

    The status is rendered as a literal, not a bound parameter: the catalog's indexes are
    partial on `status = 'published'`, and a generic prepared plan can use them only when
    the condition is in the SQL text."""

    def clause(self) -> ColumnElement[bool]:
        return Course.status == literal_column(f"'{CourseStatus.PUBLISHED.value}'")


@functools.cache
def listed_page_template(
    sort: str, after_cursor: bool, postgres: bool, in_currency: bool = False
) -> Select[Any]:
    """A page of the catalog in `sort`, first or after a cursor, unfiltered or within one
    currency (a price order needs one), with its values as parameters (`keyset_template`,
    and `currency`); built once per process and reused."""
    stmt = catalog_select(postgres).where(Listed().clause())
    if in_currency:
        stmt = stmt.where(Course.price_currency == bindparam("currency", type_=String()))
    return keyset_template(stmt, CATALOG_SORTS[sort], Course.id, after_cursor=after_cursor)


def listed_currency(filters: Sequence[Filter]) -> tuple[bool, str | None]:
    """Whether `filters` ask for the hot catalog shape (listed courses, and at most their
    currency: `listed_page_template`), and which currency. Any other filter: (False, None)."""
    currency = None
    for item in filters:
        if type(item) is Listed:
            continue
        field = getattr(item, "field", None)
        if type(item) is Eq and field is Course.price_currency and currency is None:
            currency = str(item.value)
            continue
        return False, None
    return True, currency


@functools.lru_cache(maxsize=64)  # per sort, cursor or not, and engine (dialect)
def listed_page_read(
    sort: str, after_cursor: bool, in_currency: bool, dialect: Dialect
) -> CompiledRead:
    """`listed_page_template` compiled for the driver (db/driver_reads.py), once per dialect."""
    return compile_read(listed_page_template(sort, after_cursor, True, in_currency), dialect)
