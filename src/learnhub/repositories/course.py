"""Courses and their content: detail loading, listings by instructor, ordering (the
catalog's pages are repositories/catalog.py's)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

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
from learnhub.models.user import User
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.catalog import DEFAULT_SORT
from learnhub.repositories.course_catalog import (
    CATALOG_SORTS,
)
from learnhub.repositories.course_outline import live_question_count
from learnhub.repositories.filters import (
    CursorPagination,
    Page,
    Sort,
)
from learnhub.repositories.pages import (
    keyset_page,
)


class CourseRepository(BaseRepository[Course]):
    model = Course
    sorts: ClassVar[Mapping[str, Sort]] = CATALOG_SORTS
    default_sort = DEFAULT_SORT

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
