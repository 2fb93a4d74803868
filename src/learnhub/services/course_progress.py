"""A learner's progress through one course: the contract's totals and resume point, with
every video's and quiz's state in outline order (SPEC 5, 7)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.domain.enums import EnrollmentStatus
from learnhub.domain.errors import NotFound
from learnhub.domain.principal import Principal
from learnhub.domain.progress import resume_index
from learnhub.models.course import Course
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.course_progress import (
    CourseProgressRepository,
    QuizInOutline,
    VideoInOutline,
)
from learnhub.repositories.filters import Eq
from learnhub.services.base import BaseService
from learnhub.services.learning import EnrollmentService


@dataclass(frozen=True, slots=True)
class CourseProgress:
    course_id: uuid.UUID
    completed_items: int
    total_items: int
    completed: bool
    resume_video_id: uuid.UUID | None
    resume_position_seconds: float | None
    videos: list[VideoInOutline]
    quizzes: list[QuizInOutline]

    @property
    def percent(self) -> float:
        if self.total_items == 0:
            return 0.0
        return round(100.0 * min(self.completed_items, self.total_items) / self.total_items, 1)


class CourseProgressService(BaseService):
    async def course_progress(self, principal: Principal, course_id: uuid.UUID) -> CourseProgress:
        """The caller's progress in a course they are enrolled in: the enrolment, the course,
        then two statements for the whole outline (videos with progress, quizzes with their
        pass state), not one per item."""
        enrollment = await EnrollmentService(self.uow).require(principal.user_id, course_id)
        # A soft-deleted course is unavailable to its learners (their enrolment list says so).
        if not await self.uow.repo(CourseRepository).count([Eq(Course.id, course_id)]):
            raise NotFound("Course", course_id)
        outline = self.uow.repo(CourseProgressRepository)
        videos = await outline.videos(principal.user_id, course_id)
        quizzes = await outline.quizzes(principal.user_id, course_id)
        total = len(videos) + len(quizzes)
        at = resume_index([v.completed for v in videos], [v.last_heartbeat_at for v in videos])
        resume = videos[at] if at is not None else None
        return CourseProgress(
            course_id=course_id,
            completed_items=min(enrollment.completed_videos + enrollment.passed_quizzes, total),
            total_items=total,
            completed=enrollment.status == EnrollmentStatus.COMPLETED,
            resume_video_id=resume.video_id if resume else None,
            resume_position_seconds=resume.position_seconds if resume else None,
            videos=videos,
            quizzes=quizzes,
        )
