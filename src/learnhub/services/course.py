"""Course lifecycle and the catalog: drafting, editing, publishing, archiving, deleting and
restoring a course; the public catalog, an instructor's own courses, a course page and its
history. Content (sections, videos) and quizzes have their own services."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

from learnhub.db.audit import entity_type_of
from learnhub.domain import course_rules
from learnhub.domain.clock import utc_now
from learnhub.domain.enums import CourseStatus, DifficultyLevel
from learnhub.domain.errors import Conflict, InvalidValue, NotAuthenticated, NotFound
from learnhub.domain.ids import parse_id
from learnhub.domain.principal import Principal
from learnhub.domain.value_objects import Price
from learnhub.events.events import CourseArchived, CoursePublished
from learnhub.models.audit import AuditLog
from learnhub.models.course import Course, CourseObjective, Quiz, Section, Video
from learnhub.repositories.audit import AuditLogRepository
from learnhub.repositories.course import (
    CourseRepository,
    QuizRepository,
    SectionRepository,
    TagRepository,
    VideoRepository,
)
from learnhub.repositories.filters import CursorPagination, Eq, IsNull, Page
from learnhub.repositories.soft_deletion import DeleteBatch
from learnhub.services.base import BaseService
from learnhub.services.course_access import (
    AUTHOR,
    MANAGE,
    CourseAccessService,
    CourseView,
    require_edit,
)


@dataclass(frozen=True, slots=True)
class CourseDraft:
    title: str
    description: str = ""
    price: Price = field(default_factory=lambda: Price(Decimal("0"), "USD"))
    difficulty: DifficultyLevel = DifficultyLevel.BEGINNER
    tags: Sequence[str] = ()
    objectives: Sequence[str] = ()
    slug: str | None = None


@dataclass(frozen=True, slots=True)
class CourseChanges:
    title: str | None = None
    description: str | None = None
    price: Price | None = None
    difficulty: DifficultyLevel | None = None
    tags: Sequence[str] | None = None
    objectives: Sequence[str] | None = None
    tutor_enabled: bool | None = None


NEEDS_A_VIDEO = "a course needs at least one video to be published"


@dataclass(frozen=True, slots=True)
class PublishCheck:
    """One rule a course must meet to be published, and whether it does now."""

    requirement: str
    met: bool


class CourseService(BaseService):
    """`principal` is the caller; None for the anonymous public."""

    @property
    def _access(self) -> CourseAccessService:
        return CourseAccessService(self.uow)

    # ---- reading --------------------------------------------------------------------------

    async def mine(self, principal: Principal | None, pagination: CursorPagination) -> Page[Course]:
        if principal is None:
            raise NotAuthenticated("log in to list your own courses")
        principal.require(AUTHOR)
        return await self.uow.repo(CourseRepository).by_instructor(principal.user_id, pagination)

    async def studio(
        self, principal: Principal | None, pagination: CursorPagination
    ) -> Page[Course]:
        """The courses the caller may edit, drafts and archived ones included, newest first:
        every course for an administrator (courses:manage), one's own for an instructor."""
        if principal is None:
            raise NotAuthenticated("log in to open the studio")
        if principal.can(MANAGE):
            return await self.uow.repo(CourseRepository).get_all([], pagination, "created")
        return await self.mine(principal, pagination)

    async def for_editing(self, principal: Principal, course_id: uuid.UUID) -> Course:
        """The whole course (answer keys aside) for one of its editors: 404 for a draft of
        someone else, 403 for another's published course, as every edit would answer."""
        course = await self.uow.repo(CourseRepository).get_detail(course_id)
        if course is None:
            raise NotFound("Course", course_id)
        require_edit(principal, course)
        return course

    async def publish_checklist(
        self, principal: Principal, course_id: uuid.UUID
    ) -> list[PublishCheck]:
        """What publishing needs (the rules `publish` enforces), each met or not yet."""
        course = await self._access.editable(principal, course_id)
        return await self._publish_checks(course)

    async def _publish_checks(self, course: Course) -> list[PublishCheck]:
        videos = await self.uow.repo(CourseRepository).live_video_count(course.id)
        try:
            Price(course.price_amount, course.price_currency)
            valid_price = True
        except InvalidValue:
            valid_price = False
        return [
            PublishCheck("At least one video", videos >= 1),
            PublishCheck("A valid price and currency", valid_price),
        ]

    async def deleted(
        self, principal: Principal | None, pagination: CursorPagination
    ) -> Page[Course]:
        """Soft-deleted courses, most recently created first: administrators (courses:manage)
        find one to restore; anyone else is refused (401 anonymous, 403 others)."""
        if principal is None:
            raise NotAuthenticated("log in to list deleted courses")
        principal.require(MANAGE)
        return await self.uow.repo(CourseRepository).get_all(
            [IsNull(Course.deleted_at, is_null=False)], pagination, "created", include_deleted=True
        )

    async def view(self, principal: Principal | None, course_id: uuid.UUID) -> CourseView:
        """The course page and how much of it the caller may see."""
        course = await self.uow.repo(CourseRepository).get_detail(course_id)
        access = None if course is None else await self._access.access(principal, course)
        if course is None or access is None:
            raise NotFound("Course", course_id)
        return CourseView(course, access)

    async def view_by_key(self, principal: Principal | None, key: str) -> CourseView:
        """`view` by id or by slug: a key written as an id is an id (slugs never look like
        one, see course_rules.addressable_slug), anything else a slug. A draft found by its
        slug is as invisible as by its id."""
        course_id = parse_id(key)
        if course_id is not None:
            return await self.view(principal, course_id)
        repo = self.uow.repo(CourseRepository)
        course = await repo.get_detail_by_slug(key) if course_rules.is_slug(key) else None
        access = None if course is None else await self._access.access(principal, course)
        if course is None or access is None:
            raise NotFound("Course", key)
        return CourseView(course, access)

    async def detail(self, principal: Principal | None, course_id: uuid.UUID) -> Course:
        """The course page, for callers who may see the course at all."""
        return (await self.view(principal, course_id)).course

    async def history(
        self,
        principal: Principal,
        course_id: uuid.UUID,
        limit: int,
        before: tuple[Any, uuid.UUID] | None = None,
    ) -> list[AuditLog]:
        course = await self.uow.repo(CourseRepository).get(course_id, include_deleted=True)
        require_edit(principal, course)
        # The course's own entries and those of its content, deleted content included.
        ids = [course.id]
        ids += await self.uow.repo(SectionRepository).ids_where(
            [Eq(Section.course_id, course.id)], include_deleted=True
        )
        ids += await self.uow.repo(VideoRepository).ids_where(
            [Eq(Video.course_id, course.id)], include_deleted=True
        )
        ids += await self.uow.repo(QuizRepository).ids_where(
            [Eq(Quiz.course_id, course.id)], include_deleted=True
        )
        types = [entity_type_of(inspect(m)) for m in (Course, Section, Video, Quiz)]
        return await self.uow.repo(AuditLogRepository).for_entities(types, ids, limit, before)

    # ---- course lifecycle -------------------------------------------------------------------

    async def create(self, principal: Principal, draft: CourseDraft) -> Course:
        principal.require(AUTHOR)
        repo = self.uow.repo(CourseRepository)
        slug = course_rules.slugify(draft.slug or draft.title)
        slug = course_rules.addressable_slug(slug, given=draft.slug is not None)
        if draft.slug is not None:
            if await repo.slug_taken(slug):
                raise Conflict(f"slug {slug!r} is taken", field="slug")
        else:
            slug = course_rules.free_slug(slug, await repo.slugs_like(slug))
        course = Course(
            title=course_rules.title(draft.title),
            slug=slug,
            description=draft.description.strip(),
            instructor_id=principal.user_id,
            price_amount=draft.price.amount,
            price_currency=draft.price.currency,
            difficulty=draft.difficulty,
            tags=await self.uow.repo(TagRepository).get_or_create(course_rules.tags(draft.tags)),
            objectives=[
                CourseObjective(position=i, text=t)
                for i, t in enumerate(course_rules.objectives(draft.objectives))
            ],
        )
        return await repo.create(course)

    async def update(
        self,
        principal: Principal,
        course_id: uuid.UUID,
        changes: CourseChanges,
        expected_version: int | None,
    ) -> Course:
        repo = self.uow.repo(CourseRepository)
        course = await repo.get_detail(course_id)
        if course is None:
            raise NotFound("Course", course_id)
        require_edit(principal, course)
        repo.check_version(course, expected_version)
        if changes.title is not None:
            course.title = course_rules.title(changes.title)
        if changes.description is not None:
            course.description = changes.description.strip()
        if changes.price is not None:
            course.price_amount, course.price_currency = (
                changes.price.amount,
                changes.price.currency,
            )
        if changes.difficulty is not None:
            course.difficulty = changes.difficulty
        if changes.tutor_enabled is not None:
            course.tutor_enabled = changes.tutor_enabled
        if changes.tags is not None:
            course.tags = await self.uow.repo(TagRepository).get_or_create(
                course_rules.tags(changes.tags)
            )
            course.updated_at = utc_now()  # membership changes move the version too
        if changes.objectives is not None:
            texts = course_rules.objectives(changes.objectives)
            if texts != [o.text for o in course.objectives]:
                course.objectives = [
                    CourseObjective(position=i, text=t) for i, t in enumerate(texts)
                ]
                course.updated_at = utc_now()
        await repo.flush(course)
        return course

    async def publish(
        self, principal: Principal, course_id: uuid.UUID, expected_version: int | None = None
    ) -> Course:
        repo = self.uow.repo(CourseRepository)
        course = await self._access.editable(principal, course_id)
        repo.check_version(course, expected_version)
        if course.status == CourseStatus.PUBLISHED:
            return course
        has_video, _ = await self._publish_checks(course)
        if not has_video.met:
            raise Conflict(NEEDS_A_VIDEO)
        Price(course.price_amount, course.price_currency)  # still a valid price
        course.status = CourseStatus.PUBLISHED
        course.published_at = utc_now()
        await repo.flush(course)
        self.uow.record(CoursePublished(course_id=course.id, instructor_id=course.instructor_id))
        return course

    async def archive(
        self, principal: Principal, course_id: uuid.UUID, expected_version: int | None = None
    ) -> Course:
        repo = self.uow.repo(CourseRepository)
        course = await self._access.editable(principal, course_id)
        repo.check_version(course, expected_version)
        if course.status != CourseStatus.PUBLISHED:
            raise Conflict(f"only a published course can be archived (it is {course.status})")
        course.status = CourseStatus.ARCHIVED
        await repo.flush(course)
        self.uow.record(CourseArchived(course_id=course.id))
        return course

    async def delete(
        self, principal: Principal, course_id: uuid.UUID, expected_version: int | None = None
    ) -> None:
        await self._access.editable(principal, course_id)
        await self.uow.repo(CourseRepository).delete(course_id, expected_version)

    async def restore(self, principal: Principal, course_id: uuid.UUID) -> Course:
        repo = self.uow.repo(CourseRepository)
        course = await repo.get(course_id, include_deleted=True)
        require_edit(principal, course)
        await repo.restore(course_id)
        return await self.detail(principal, course_id)

    async def for_editor(self, principal: Principal, course_id: uuid.UUID) -> Course:
        """The course with its content, for its editors only (the instructor, admins): what
        deleting it would take along."""
        await self._access.editable(principal, course_id)
        return await self.detail(principal, course_id)

    async def restore_preview(self, principal: Principal, course_id: uuid.UUID) -> DeleteBatch:
        """What `restore` would bring back: the course and the content its delete took with
        it (same delete batch), changing nothing. The same check as `restore`."""
        repo = self.uow.repo(CourseRepository)
        require_edit(principal, await repo.get(course_id, include_deleted=True))
        return await repo.delete_batch(course_id)

    async def hard_delete(self, principal: Principal, course_id: uuid.UUID) -> None:
        principal.require(MANAGE)
        await self.uow.repo(CourseRepository).hard_delete(course_id)
