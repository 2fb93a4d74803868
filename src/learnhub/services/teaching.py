"""The studio's teaching pages (issue 17, item 3): a course's learners with their quiz
results, its reviews including hidden ones for moderation, and its statistics. Only the
course's instructor and admins read them, by the roster's rule: a course the caller cannot
see does not exist (404); one they can see but not teach is refused (403)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from learnhub.domain.clock import utc_now
from learnhub.domain.errors import NotFound, PermissionDenied
from learnhub.domain.principal import Principal
from learnhub.models.course import Course
from learnhub.models.learning import Review
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.filters import CursorPagination, Eq, Page
from learnhub.repositories.learning import ReviewRepository
from learnhub.repositories.teaching import (
    BestScore,
    CourseItem,
    TeachingRepository,
    VideoCompletion,
    WeekCount,
)
from learnhub.services.base import BaseService
from learnhub.services.course_access import CourseAccessService, can_edit
from learnhub.services.roster import RosterEntry, RosterService

# The enrolment chart covers at most this many weeks, ending with the current one.
MAX_WEEKS = 26


@dataclass(frozen=True, slots=True)
class LearnersPage:
    course: Course
    quizzes: list[CourseItem]
    entries: list[RosterEntry]
    scores: dict[tuple[uuid.UUID, uuid.UUID], BestScore]
    next_cursor: str | None

    def score(self, quiz_id: uuid.UUID, user_id: uuid.UUID) -> BestScore | None:
        return self.scores.get((quiz_id, user_id))


@dataclass(frozen=True, slots=True)
class VideoDropOff:
    video: VideoCompletion
    share: float  # percent of the learners in the course who completed the video


@dataclass(frozen=True, slots=True)
class CourseStats:
    course: Course
    learners: int
    completed: int
    weeks: list[WeekCount]
    average_score: Decimal | None
    videos: list[VideoDropOff]

    @property
    def completion_rate(self) -> float:
        return round(100.0 * self.completed / self.learners, 1) if self.learners else 0.0


class TeachingService(BaseService):
    async def course(self, principal: Principal, course_id: uuid.UUID) -> Course:
        """The course, when the caller teaches it (its instructor) or is an admin."""
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        if course is None:
            raise NotFound("Course", course_id)
        if not can_edit(principal, course):
            if await CourseAccessService(self.uow).access(principal, course) is None:
                raise NotFound("Course", course_id)
            raise PermissionDenied("only the course's instructor or an admin may see this page")
        return course

    async def learners(
        self, principal: Principal, course_id: uuid.UUID, pagination: CursorPagination
    ) -> LearnersPage:
        """One roster page (the roster service's, with its rules on emails) with each
        learner's best score at each of the course's quizzes."""
        course = await self.course(principal, course_id)
        roster = await RosterService(self.uow).page(principal, course_id, pagination)
        teaching = self.uow.repo(TeachingRepository)
        quizzes = await teaching.quizzes(course_id)
        entries = list(roster.items)
        scores = await teaching.best_scores(
            [quiz.id for quiz in quizzes], [entry.row.user_id for entry in entries]
        )
        return LearnersPage(course, quizzes, entries, scores, roster.next_cursor)

    async def reviews(
        self, principal: Principal, course_id: uuid.UUID, pagination: CursorPagination
    ) -> tuple[Course, Page[Review]]:
        """The course's live reviews newest first, hidden ones included (to be shown again),
        with the course as it is now (its rating read after any moderation)."""
        course = await self.course(principal, course_id)
        page = await self.uow.repo(ReviewRepository).get_all(
            [Eq(Review.course_id, course_id)], pagination, "newest"
        )
        return course, page

    async def stats(self, principal: Principal, course_id: uuid.UUID) -> CourseStats:
        course = await self.course(principal, course_id)
        teaching = self.uow.repo(TeachingRepository)
        learners, completed = await teaching.enrolment_counts(course_id)
        weeks = weekly_series(await teaching.weekly_enrolments(course_id), utc_now().date())
        videos = [
            VideoDropOff(video, round(100.0 * video.completed / learners, 1) if learners else 0.0)
            for video in await teaching.video_completions(course_id)
        ]
        average = await teaching.average_best_score(course_id)
        return CourseStats(course, learners, completed, weeks, average, videos)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_series(counts: list[WeekCount], today: date) -> list[WeekCount]:
    """Every week from the first enrolment's (at most MAX_WEEKS back) to the current one,
    weeks without enrolments as zeros; an empty course shows none."""
    if not counts:
        return []
    last = week_start(today)
    first = max(counts[0].week, last - timedelta(weeks=MAX_WEEKS - 1))
    by_week = {count.week: count.enrolments for count in counts}
    weeks, week = [], first
    while week <= max(last, counts[-1].week):
        weeks.append(WeekCount(week, by_week.get(week, 0)))
        week += timedelta(weeks=1)
    return weeks
