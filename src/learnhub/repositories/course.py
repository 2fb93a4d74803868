"""Courses and their content: catalog queries, detail loading, ordering."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from learnhub.db.driver_reads import read_rows
from learnhub.db.soft_delete import INCLUDE_DELETED, live
from learnhub.domain.clock import utc_now
from learnhub.models.course import (
    Course,
    CourseObjective,
    Quiz,
    QuizQuestion,
    Section,
    Tag,
    Video,
)
from learnhub.models.course.catalog_generation import CATALOG_GENERATION_ROW, CatalogGeneration
from learnhub.models.user import User
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.course_catalog import (
    CATALOG_SORTS,
    GENERATION_AT,
    CatalogCard,
    CatalogPage,
    Listed,
    card_of,
    catalog_select,
    listed_currency,
    listed_page_read,
    listed_page_template,
)
from learnhub.repositories.course_outline import live_question_count
from learnhub.repositories.course_search import Mode, TextSearch, mode_of, search_sort_name
from learnhub.repositories.filters import (
    CursorPagination,
    Filter,
    Page,
    Sort,
    cursor_sort_name,
)
from learnhub.repositories.pages import (
    keyset_page,
    keyset_parameters,
    keyset_statement,
    page_of,
)

# Ordering by how well a course matches `q`: only with `q` (the default then).
RELEVANCE = "relevance"


class HasTag(Filter):
    def __init__(self, name: str) -> None:
        self.name = name

    def clause(self) -> ColumnElement[bool]:
        # Explicitly live tags: the catalog runs this as Core, outside the global filter.
        return Course.tags.any((Tag.name == self.name) & live(Tag))


class CourseRepository(BaseRepository[Course]):
    model = Course
    sorts: ClassVar[Mapping[str, Sort]] = CATALOG_SORTS
    default_sort = "rating"

    async def catalog_page(
        self,
        filters: Sequence[Filter],
        pagination: CursorPagination,
        sort: str | None,
        search: str | None = None,
    ) -> CatalogPage:
        """`_catalog_page`, with the catalog generation the page was read at. A page with
        cards carries it in its own rows (one snapshot); an empty page has no row to carry
        it, so the generation is read first and the page again after it: what it shows is
        then at least as new as the generation it is tagged with (a validator may only ever
        be older than its page, never newer, or a 304 could hide a change)."""
        page = await self._catalog_page(filters, pagination, sort, search)
        if page.items:
            return page
        generation = await self.catalog_generation()
        again = await self._catalog_page(filters, pagination, sort, search)
        return again if again.items else replace(again, generation=generation)

    async def catalog_generation(self) -> int:
        """The catalog's generation now (models/course/catalog_generation.py)."""
        stmt = select(CatalogGeneration.generation).where(
            CatalogGeneration.id == CATALOG_GENERATION_ROW
        )
        connection = await self.session.connection()
        return int((await connection.execute(stmt)).scalar_one())

    async def _catalog_page(
        self,
        filters: Sequence[Filter],
        pagination: CursorPagination,
        sort: str | None,
        search: str | None = None,
    ) -> CatalogPage:
        """One page of catalog cards in ONE statement (SPEC 4 read models): the course
        columns, with its tags and objectives aggregated by correlated sub-selects, mapped
        straight to cards.

        The hottest read of the platform, so it skips what it does not need: the statement
        is built once per dialect, and it runs on the session's connection as a Core
        statement, not through the ORM (no entities are loaded). That also bypasses the
        ORM's global soft-delete filter, so the statement applies `live()` to every table
        it reads itself.

        `search` (the catalog's `q`, see course_search) narrows to matching courses; `sort`
        "relevance" orders by how well they match. On PostgreSQL a first page that full-text
        search leaves empty is tried again with the typo fallback; the cursor's sort name
        remembers which of the two found the pages."""
        postgres = self.dialect_name == "postgresql"
        hot, currency = listed_currency(filters)
        if search is None and hot:
            order = self._sort(sort)
            return await self._listed_cards(order, pagination, currency, postgres=postgres)
        stmt = catalog_select(postgres).where(*(f.clause() for f in filters))
        if search is None:
            return await self._cards(stmt, self._sort(sort), pagination, postgres=postgres)
        by_cursor = cursor_sort_name(pagination.cursor) if pagination.cursor else None
        page = await self._searched(stmt, TextSearch(search, mode_of(by_cursor)), sort, pagination)
        typo = TextSearch(search, Mode.TYPO)
        if page.items or pagination.cursor or not postgres or not typo.typo_words():
            return page
        return await self._searched(stmt, typo, sort, pagination)

    async def _searched(
        self, stmt: Select[Any], search: TextSearch, sort: str | None, pagination: CursorPagination
    ) -> CatalogPage:
        postgres = self.dialect_name == "postgresql"
        stmt, rank = search.apply(stmt, postgres=postgres)
        if sort == RELEVANCE:
            order = Sort(RELEVANCE, rank, descending=True, value_type=float)
        else:
            order = self._sort(sort)
        order = replace(order, name=search_sort_name(order.name, search.mode))
        return await self._cards(stmt, order, pagination, postgres=postgres)

    async def _cards(
        self, stmt: Select[Any], order: Sort, pagination: CursorPagination, *, postgres: bool
    ) -> CatalogPage:
        stmt = keyset_statement(stmt, order, Course.id, pagination)
        connection = await self.session.connection()
        rows = (await connection.execute(stmt)).all()
        return self._page_of_rows(rows, order, pagination, postgres=postgres)

    async def _listed_cards(
        self,
        order: Sort,
        pagination: CursorPagination,
        currency: str | None,
        *,
        postgres: bool,
    ) -> CatalogPage:
        """The catalog unfiltered (or within one currency) in one of its sorts: the platform's
        hottest read, so its statement is built once per shape (`listed_page_template`) and
        run with the page's values. The same statement `_cards` would build, soft delete and
        listing included."""
        after, in_currency = bool(pagination.cursor), currency is not None
        values = keyset_parameters(order, pagination)
        if in_currency:
            values["currency"] = currency
        connection = await self.session.connection()
        template = listed_page_template(order.name, after, postgres, in_currency)
        read = (
            listed_page_read(order.name, after, in_currency, connection.dialect)
            if postgres
            else None
        )
        rows = await read_rows(connection, template, read, values)
        return self._page_of_rows(rows, order, pagination, postgres=postgres)

    def _page_of_rows(
        self, rows: Sequence[Any], order: Sort, pagination: CursorPagination, *, postgres: bool
    ) -> CatalogPage:
        cards = [card_of(row, postgres=postgres) for row in rows]
        page: Page[CatalogCard] = page_of(cards, order, Course.id, pagination)
        generation = int(rows[0][GENERATION_AT]) if rows else 0
        return CatalogPage(items=page.items, next_cursor=page.next_cursor, generation=generation)

    async def listed_currencies(self) -> tuple[str, str] | None:
        """The lowest and highest currency code of listed courses (None when none is
        listed): equal when every listed price is in one currency. Two lookups at the ends
        of ix_courses_price (which leads with the currency), whatever the catalog's size."""
        listed = (Listed().clause(), live(Course))
        lowest = select(func.min(Course.price_currency)).where(*listed).scalar_subquery()
        highest = select(func.max(Course.price_currency)).where(*listed).scalar_subquery()
        connection = await self.session.connection()
        low, high = (await connection.execute(select(lowest, highest))).one()
        return None if low is None else (low, high)

    @property
    def dialect_name(self) -> str:
        return self.session.get_bind().dialect.name

    def _select(self) -> Select[Course]:
        # A course card shows tags and objectives (one extra query each per page) and its
        # instructor's name (joined into the page's own statement; a deleted instructor
        # stays nameless).
        return select(Course).options(
            joinedload(Course.instructor.and_(live(User))),
            selectinload(Course.tags),
            selectinload(Course.objectives),
        )

    def detail_options(self, *, with_keys: bool) -> list[Any]:
        """Everything the course page shows, in one query per level (never N+1); the
        instructor's name by a join in the course's own statement."""
        quizzes = selectinload(Course.sections).selectinload(Section.quizzes)
        options: list[Any] = [
            joinedload(Course.instructor.and_(live(User))),
            selectinload(Course.tags),
            selectinload(Course.objectives),
            selectinload(Course.sections).selectinload(Section.videos),
            # The outline shows each quiz's question count: a correlated count inside the
            # quizzes' own statement, not one more statement.
            quizzes.with_expression(Quiz.question_count, live_question_count()),
        ]
        if with_keys:
            options.append(quizzes.selectinload(Quiz.questions).selectinload(QuizQuestion.options))
        return options

    async def get_detail(
        self, course_id: uuid.UUID, *, with_keys: bool = False, include_deleted: bool = False
    ) -> Course | None:
        # populate_existing: content already in this session (restored, reordered) must
        # still get the quizzes' question counts, which only a load fills in.
        stmt = (
            self._select()
            .where(Course.id == course_id)
            .options(*self.detail_options(with_keys=with_keys))
            .execution_options(populate_existing=True, **{INCLUDE_DELETED: include_deleted})
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_detail_by_slug(self, slug: str) -> Course | None:
        """The live course with this slug (unique among live courses), as `get_detail`."""
        stmt = (
            self._select()
            .where(Course.slug == slug)
            .options(*self.detail_options(with_keys=False))
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_instructor(
        self, instructor_id: uuid.UUID, pagination: CursorPagination
    ) -> Page[Course]:
        """An instructor's own courses (drafts included), newest first, with the
        instructor's name joined in."""
        stmt = self._select().where(Course.instructor_id == instructor_id)
        return await keyset_page(self.session, stmt, self._sort("created"), Course.id, pagination)

    async def slug_taken(self, slug: str) -> bool:
        result = await self.session.execute(select(Course.id).where(Course.slug == slug))
        return result.first() is not None

    async def slugs_like(self, base: str) -> set[str]:
        pattern = base.replace("%", "").replace("_", "\\_") + "%"
        result = await self.session.execute(
            select(Course.slug).where(Course.slug.like(pattern, escape="\\"))
        )
        return set(result.scalars().all())

    async def live_video_count(self, course_id: uuid.UUID) -> int:
        result = await self.session.execute(
            select(func.count()).select_from(Video).where(Video.course_id == course_id)
        )
        return int(result.scalar_one())


class TagRepository(BaseRepository[Tag]):
    model = Tag
    sorts: ClassVar[Mapping[str, Sort]] = {"name": Sort("name", Tag.name, descending=False)}
    default_sort = "name"

    async def get_or_create(self, names: Sequence[str]) -> list[Tag]:
        if not names:
            return []
        result = await self.session.execute(select(Tag).where(Tag.name.in_(list(names))))
        found = {t.name: t for t in result.scalars().all()}
        for name in names:
            if name not in found:
                found[name] = await self.create(Tag(name=name))
        return [found[n] for n in names]


class ObjectiveRepository(BaseRepository[CourseObjective]):
    model = CourseObjective


P = TypeVar("P", Section, Video, Quiz)


class PositionedRepository(BaseRepository[P]):
    """Children kept in order under a parent: append and reorder without breaking the
    unique (parent, position) index mid-way."""

    parent_column: ClassVar[str]

    @property
    def _child(self) -> Any:
        return self.model

    async def next_position(self, parent_id: uuid.UUID) -> int:
        column = getattr(self.model, self.parent_column)
        result = await self.session.execute(
            select(func.coalesce(func.max(self._child.position) + 1, 0)).where(column == parent_id)
        )
        return int(result.scalar_one())

    async def children(self, parent_id: uuid.UUID) -> list[P]:
        column = getattr(self.model, self.parent_column)
        result = await self.session.execute(
            select(self._child).where(column == parent_id).order_by(self._child.position)
        )
        return list(result.scalars().all())

    async def reorder(self, items: Sequence[P], ordered_ids: Sequence[uuid.UUID]) -> None:
        by_id = {item.id: item for item in items}
        # Two steps: first park every row above the current top, then set the final order.
        top = max((item.position for item in items), default=0) + len(items) + 1
        for offset, item in enumerate(items):
            item.position = top + offset
        await self.flush()
        for position, item_id in enumerate(ordered_ids):
            by_id[item_id].position = position
        await self.flush()


class SectionRepository(PositionedRepository[Section]):
    model = Section
    parent_column = "course_id"


class VideoRepository(PositionedRepository[Video]):
    model = Video
    parent_column = "section_id"


class QuizRepository(PositionedRepository[Quiz]):
    model = Quiz
    parent_column = "section_id"

    async def get_with_questions(self, quiz_id: uuid.UUID) -> Quiz | None:
        # populate_existing: after questions were replaced in this unit of work, the quiz
        # already in the session must not keep its stale list.
        result = await self.session.execute(
            select(Quiz)
            .where(Quiz.id == quiz_id)
            .options(selectinload(Quiz.questions).selectinload(QuizQuestion.options))
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def touch(self, quiz_id: uuid.UUID) -> None:
        """A change below the quiz (its questions replaced) is a change of the quiz: its
        `updated_at` and so its version move (unaudited columns: no audit row of its own)."""
        quiz = await self.get(quiz_id)
        quiz.updated_at = utc_now()
        await self.flush(quiz)


class QuestionRepository(BaseRepository[QuizQuestion]):
    model = QuizQuestion
