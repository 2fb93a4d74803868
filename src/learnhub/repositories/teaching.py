"""What an instructor reads about teaching a course (issue 17, item 3): the course's quizzes
and videos in course order, each learner's best score per quiz, and the course's statistics.
Every statement starts from an index on the course (sections by course and position,
enrolments by course and date) and reaches learners' rows through their unique
(quiz_id, user_id, attempt_no) and (user_id, video_id) indexes: no statement reads a table
whole, whatever the size of the platform (tests/repositories/test_teaching_plans.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Integer, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.db.soft_delete import live
from learnhub.domain.enums import AttemptState, EnrollmentStatus
from learnhub.models.course import Quiz, Section, Video
from learnhub.models.learning import Enrollment, QuizAttempt, VideoProgress

# Learners who are in the course: a cancelled or refunded enrolment no longer counts.
IN_COURSE = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


@dataclass(frozen=True, slots=True)
class CourseItem:
    id: uuid.UUID
    title: str


@dataclass(frozen=True, slots=True)
class BestScore:
    score: Decimal
    passed: bool
    attempts: int


@dataclass(frozen=True, slots=True)
class VideoCompletion:
    id: uuid.UUID
    title: str
    completed: int


@dataclass(frozen=True, slots=True)
class WeekCount:
    week: date  # the Monday the week starts on (UTC)
    enrolments: int


class TeachingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def quizzes(self, course_id: uuid.UUID) -> list[CourseItem]:
        """The course's live quizzes in course order (section, then quiz position): by the
        quizzes' course index, each one's section by its key."""
        stmt = (
            select(Quiz.id, Quiz.title)
            .join(Section, (Section.id == Quiz.section_id) & live(Section))
            .where(Quiz.course_id == course_id, live(Quiz))
            .order_by(Section.position, Quiz.position)
        )
        return [CourseItem(*row) for row in (await self.session.execute(stmt)).all()]

    async def best_scores(
        self, quiz_ids: Sequence[uuid.UUID], user_ids: Sequence[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], BestScore]:
        """Each (quiz, learner)'s best submitted score, whether any attempt passed, and how
        many attempts they made (submitted or not), for one page of a roster: one statement
        over the (quiz_id, user_id, attempt_no) index."""
        if not quiz_ids or not user_ids:
            return {}
        submitted = QuizAttempt.state != AttemptState.IN_PROGRESS
        stmt = (
            select(
                QuizAttempt.quiz_id,
                QuizAttempt.user_id,
                func.max(QuizAttempt.score).filter(submitted),
                func.max(cast(QuizAttempt.passed, Integer)),
                func.count(),
            )
            .where(
                QuizAttempt.quiz_id.in_(quiz_ids),
                QuizAttempt.user_id.in_(user_ids),
                live(QuizAttempt),
            )
            .group_by(QuizAttempt.quiz_id, QuizAttempt.user_id)
        )
        found: dict[tuple[uuid.UUID, uuid.UUID], BestScore] = {}
        for quiz_id, user_id, best, passed, attempts in (await self.session.execute(stmt)).all():
            if best is None:
                continue  # only an attempt in progress: no result yet
            found[(quiz_id, user_id)] = BestScore(Decimal(best), bool(passed), int(attempts))
        return found

    def _in_course(self, course_id: uuid.UUID) -> Any:
        return and_(
            Enrollment.course_id == course_id,
            Enrollment.status.in_(IN_COURSE),
            live(Enrollment),
        )

    async def enrolment_counts(self, course_id: uuid.UUID) -> tuple[int, int]:
        """(learners in the course, of whom completed it), one statement over the course's
        enrolments."""
        completed = func.count().filter(Enrollment.status == EnrollmentStatus.COMPLETED)
        stmt = select(func.count(), completed).where(self._in_course(course_id))
        total, done = (await self.session.execute(stmt)).one()
        return int(total), int(done or 0)

    async def weekly_enrolments(self, course_id: uuid.UUID) -> list[WeekCount]:
        """Enrolments (any status: when learners joined) per UTC week starting Monday, oldest
        first; weeks without any are left to the caller to fill in."""
        dialect = self.session.get_bind().dialect.name
        week: Any
        if dialect == "postgresql":
            week = cast(func.date_trunc("week", func.timezone("UTC", Enrollment.enrolled_at)), Date)
        else:  # SQLite stores UTC text: back to Monday on or before the day
            week = func.date(Enrollment.enrolled_at, "-6 days", "weekday 1")
        stmt = (
            select(week.label("week"), func.count())
            .where(Enrollment.course_id == course_id, live(Enrollment))
            .group_by(week)
            .order_by(week)
        )
        rows = (await self.session.execute(stmt)).all()
        return [WeekCount(as_date(day), int(count)) for day, count in rows]

    async def average_best_score(self, course_id: uuid.UUID) -> Decimal | None:
        """The mean over learners and quizzes of each learner's best submitted score at each
        of the course's quizzes (learners in the course only); None before any result."""
        quiz_ids = [quiz.id for quiz in await self.quizzes(course_id)]
        if not quiz_ids:
            return None
        best = (
            select(func.max(QuizAttempt.score).label("best"))
            .join(
                Enrollment,
                (Enrollment.user_id == QuizAttempt.user_id) & self._in_course(course_id),
            )
            .where(
                QuizAttempt.quiz_id.in_(quiz_ids),
                QuizAttempt.state != AttemptState.IN_PROGRESS,
                QuizAttempt.score.is_not(None),
                live(QuizAttempt),
            )
            .group_by(QuizAttempt.quiz_id, QuizAttempt.user_id)
            .subquery()
        )
        mean = (await self.session.execute(select(func.avg(best.c.best)))).scalar_one()
        return None if mean is None else Decimal(str(mean)).quantize(Decimal("0.1"))

    async def video_completions(self, course_id: uuid.UUID) -> list[VideoCompletion]:
        """Each live video of the course in course order, with how many learners in the
        course completed it: the course's sections by index, the enrolments by their
        course index, each learner's progress row by its unique (user_id, video_id) index."""
        completed = (
            select(func.count())
            .select_from(Enrollment)
            .join(
                VideoProgress,
                (VideoProgress.user_id == Enrollment.user_id)
                & (VideoProgress.video_id == Video.id)
                & VideoProgress.completed.is_(True)
                & live(VideoProgress),
            )
            .where(self._in_course(course_id))
            .correlate(Video)
            .scalar_subquery()
        )
        stmt = (
            select(Video.id, Video.title, completed)
            .join(Section, (Section.id == Video.section_id) & live(Section))
            .where(Video.course_id == course_id, live(Video))
            .order_by(Section.position, Video.position)
        )
        rows = (await self.session.execute(stmt)).all()
        return [VideoCompletion(video_id, title, int(n)) for video_id, title, n in rows]


def as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
