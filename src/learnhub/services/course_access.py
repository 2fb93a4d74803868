"""Who may see and who may change a course and its content: the checks every course use case
(lifecycle, content authoring, quiz authoring) shares."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from learnhub.domain.enums import CourseStatus
from learnhub.domain.errors import NotFound, PermissionDenied
from learnhub.domain.permissions import COURSES_AUTHOR, COURSES_MANAGE
from learnhub.domain.principal import Principal
from learnhub.models.course import Course, Quiz, Section, Video
from learnhub.repositories.course import (
    CourseRepository,
    QuizRepository,
    SectionRepository,
    VideoRepository,
)
from learnhub.repositories.learning import EnrollmentRepository
from learnhub.services.base import BaseService

AUTHOR, MANAGE = COURSES_AUTHOR, COURSES_MANAGE


class ContentAccess(StrEnum):
    """How much of a course's content a caller may see (SPEC 5, access to content)."""

    OUTLINE = "outline"  # titles, durations, positions, question counts; previews in full
    LEARNER = "learner"  # an enrolled learner: urls, transcripts, questions (no answer keys)
    EDITOR = "editor"  # the course's instructor and admins: everything, answer keys included

    @property
    def full(self) -> bool:
        return self is not ContentAccess.OUTLINE


@dataclass(frozen=True, slots=True)
class CourseView:
    course: Course
    access: ContentAccess


def can_edit(principal: Principal | None, course: Course) -> bool:
    if principal is None:
        return False
    if principal.can(MANAGE):
        return True
    return principal.can(AUTHOR) and course.instructor_id == principal.user_id


def require_edit(principal: Principal, course: Course) -> None:
    if not can_edit(principal, course):
        if course.status != CourseStatus.PUBLISHED:
            raise NotFound("Course", course.id)  # drafts of others do not exist for you
        raise PermissionDenied("only the course's instructor or an admin may change it")


class CourseAccessService(BaseService):
    """`principal` is the caller; None for the anonymous public."""

    async def editable(self, principal: Principal, course_id: uuid.UUID) -> Course:
        course = await self.uow.repo(CourseRepository).get(course_id)
        require_edit(principal, course)
        return course

    async def access(self, principal: Principal | None, course: Course) -> ContentAccess | None:
        """What the caller may see of `course`; None when it does not exist for them.

        A draft exists for its editors only; a published course's outline is public; an
        archived one is out of the catalog but stays open to the learners enrolled in it.
        Enrolment costs one indexed lookup, and only for a logged-in caller who is not an
        editor of the course."""
        if can_edit(principal, course):
            return ContentAccess.EDITOR
        if course.status == CourseStatus.DRAFT:
            return None
        if principal is not None and await self.uow.repo(EnrollmentRepository).is_open(
            principal.user_id, course.id
        ):
            return ContentAccess.LEARNER
        return ContentAccess.OUTLINE if course.status == CourseStatus.PUBLISHED else None

    async def visible(self, principal: Principal | None, course_id: uuid.UUID) -> ContentAccess:
        """The caller's access to a course whose content they read (404 when they may not)."""
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        access = None if course is None else await self.access(principal, course)
        if access is None:
            raise NotFound("Course", course_id)
        return access

    async def section(
        self, principal: Principal, section_id: uuid.UUID, *, include_deleted: bool = False
    ) -> tuple[Section, Course]:
        """A section its caller may change, with its course."""
        section = await self.uow.repo(SectionRepository).get(
            section_id, include_deleted=include_deleted
        )
        course = await self.uow.repo(CourseRepository).get(section.course_id)
        require_edit(principal, course)
        return section, course

    async def video(
        self, principal: Principal, video_id: uuid.UUID, *, include_deleted: bool = False
    ) -> tuple[Video, Course]:
        """A video its caller may change, with its course."""
        video = await self.uow.repo(VideoRepository).get(video_id, include_deleted=include_deleted)
        course = await self.uow.repo(CourseRepository).get(video.course_id)
        require_edit(principal, course)
        return video, course

    async def quiz(
        self, principal: Principal, quiz_id: uuid.UUID, *, include_deleted: bool = False
    ) -> tuple[Quiz, Course]:
        """A quiz its caller may change, with its course."""
        quiz = await self.uow.repo(QuizRepository).get(quiz_id, include_deleted=include_deleted)
        course = await self.uow.repo(CourseRepository).get(quiz.course_id)
        require_edit(principal, course)
        return quiz, course
