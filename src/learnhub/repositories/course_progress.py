"""A learner's progress through a course's outline: every live video with the learner's row
for it, and every live quiz with whether they passed it, each in one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.db.soft_delete import live
from learnhub.models.course import Quiz, Section, Video
from learnhub.models.learning import QuizAttempt, VideoProgress


@dataclass(frozen=True, slots=True)
class VideoInOutline:
    """One live video of the course and the learner's progress in it (zeros when untouched)."""

    video_id: uuid.UUID
    section_id: uuid.UUID
    title: str
    duration_seconds: int
    position_seconds: float
    watched_seconds: float
    completed: bool
    last_heartbeat_at: datetime | None

    @property
    def percent(self) -> float:
        """Credited watch time as a share of the duration, 0 to 100."""
        return round(100.0 * min(self.watched_seconds / self.duration_seconds, 1.0), 1)


@dataclass(frozen=True, slots=True)
class QuizInOutline:
    quiz_id: uuid.UUID
    section_id: uuid.UUID
    title: str
    passed: bool


class CourseProgressRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def videos(self, user_id: uuid.UUID, course_id: uuid.UUID) -> list[VideoInOutline]:
        """The course's live videos in outline order (section, then video position), each
        with the learner's live progress row if any: one statement, whatever the count."""
        stmt = (
            select(
                Video.id,
                Video.section_id,
                Video.title,
                Video.duration_seconds,
                VideoProgress.position_seconds,
                VideoProgress.watched_seconds,
                VideoProgress.completed,
                VideoProgress.last_heartbeat_at,
            )
            .join(Section, (Section.id == Video.section_id) & live(Section))
            .outerjoin(
                VideoProgress,
                (VideoProgress.video_id == Video.id)
                & (VideoProgress.user_id == user_id)
                & live(VideoProgress),
            )
            .where(Video.course_id == course_id, live(Video))
            .order_by(Section.position, Video.position, Video.id)
        )
        rows = (await self.session.execute(stmt)).all()
        return [
            VideoInOutline(
                video_id=row[0],
                section_id=row[1],
                title=row[2],
                duration_seconds=int(row[3]),
                position_seconds=float(row[4] or 0.0),
                watched_seconds=float(row[5] or 0.0),
                completed=bool(row[6]),
                last_heartbeat_at=row[7],
            )
            for row in rows
        ]

    async def quizzes(self, user_id: uuid.UUID, course_id: uuid.UUID) -> list[QuizInOutline]:
        """The course's live quizzes in outline order, each with whether the learner has a
        passed attempt: one statement (an EXISTS per row on the attempts' index)."""
        passed = exists(
            select(QuizAttempt.id).where(
                QuizAttempt.quiz_id == Quiz.id,
                QuizAttempt.user_id == user_id,
                QuizAttempt.passed.is_(True),
                live(QuizAttempt),
            )
        )
        stmt = (
            select(Quiz.id, Quiz.section_id, Quiz.title, passed)
            .join(Section, (Section.id == Quiz.section_id) & live(Section))
            .where(Quiz.course_id == course_id, live(Quiz))
            .order_by(Section.position, Quiz.position, Quiz.id)
        )
        rows = (await self.session.execute(stmt)).all()
        return [QuizInOutline(row[0], row[1], row[2], bool(row[3])) for row in rows]
