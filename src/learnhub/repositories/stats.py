"""The learner_stats read model: recomputed for one learner from the source tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, distinct, func, literal, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.db.soft_delete import including_deleted, live
from learnhub.domain.clock import utc_now
from learnhub.domain.enums import EnrollmentStatus
from learnhub.domain.ids import new_id
from learnhub.models import Enrollment, LearnerStats, QuizAttempt, User, VideoProgress

IN_COURSE = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


@dataclass(frozen=True, slots=True)
class StatsRow:
    enrolled_courses: int = 0
    completed_courses: int = 0
    completed_videos: int = 0
    passed_quizzes: int = 0
    last_activity_at: datetime | None = None
    refreshed_at: datetime | None = None


class LearnerStatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> StatsRow:
        """The stored stats; zeros for a learner who has none yet. One statement."""
        result = await self.session.execute(
            select(
                LearnerStats.enrolled_courses,
                LearnerStats.completed_courses,
                LearnerStats.completed_videos,
                LearnerStats.passed_quizzes,
                LearnerStats.last_activity_at,
                LearnerStats.refreshed_at,
            ).where(LearnerStats.user_id == user_id)
        )
        row = result.first()
        return StatsRow(*row) if row is not None else StatsRow()

    async def refresh(self, user_id: uuid.UUID) -> bool:
        """Recompute the learner's row from enrollments, video progress and quiz attempts.

        Idempotent (a recomputation, never an increment), so a retried event is harmless. The
        row is locked first (an upsert) and the totals are read after the lock is held: on
        PostgreSQL two concurrent refreshes of one learner take turns, and the later one reads
        a snapshot that includes everything the earlier one saw, so a stale result can never
        overwrite a fresh one (SQLite serialises writers anyway). False when the user is
        gone (erased since the event), in which case there is nothing to keep."""
        now = utc_now()
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        columns = ["id", "user_id", "refreshed_at"]
        # A soft-deleted learner's row is kept fresh too (only erasure removes the user
        # row): the read of `users` includes deleted rows on purpose.
        lock = including_deleted(
            insert(LearnerStats)
            .from_select(
                columns,
                select(
                    literal(new_id()), User.id, literal(now, LearnerStats.refreshed_at.type)
                ).where(User.id == user_id),
            )
            .on_conflict_do_update(
                index_elements=[LearnerStats.user_id], set_={"refreshed_at": now}
            )
            .returning(LearnerStats.id)
        )
        if (await self.session.execute(lock)).first() is None:
            return False
        totals = (await self.session.execute(self._totals(user_id))).one()
        await self.session.execute(
            update(LearnerStats)
            .where(LearnerStats.user_id == user_id)
            .values(
                enrolled_courses=totals.enrolled_courses,
                completed_courses=totals.completed_courses,
                completed_videos=totals.completed_videos,
                passed_quizzes=totals.passed_quizzes,
                last_activity_at=totals.last_activity_at,
                refreshed_at=now,
            )
        )
        return True

    @staticmethod
    def _totals(user_id: uuid.UUID) -> Select[Any]:
        """One SELECT of scalar subqueries over the live source rows (soft-deleted ones are
        left out explicitly: the global filter is not relied on inside subqueries)."""
        mine = and_(Enrollment.user_id == user_id, live(Enrollment))
        watched = and_(VideoProgress.user_id == user_id, live(VideoProgress))
        tried = and_(QuizAttempt.user_id == user_id, live(QuizAttempt))
        enrolled = (
            select(func.count())
            .select_from(Enrollment)
            .where(mine, Enrollment.status.in_(IN_COURSE))
        )
        completed = (
            select(func.count())
            .select_from(Enrollment)
            .where(mine, Enrollment.status == EnrollmentStatus.COMPLETED)
        )
        videos = (
            select(func.count())
            .select_from(VideoProgress)
            .where(watched, VideoProgress.completed.is_(True))
        )
        quizzes = select(func.count(distinct(QuizAttempt.quiz_id))).where(
            tried, QuizAttempt.passed.is_(True)
        )
        moments = union_all(
            select(Enrollment.enrolled_at.label("at")).where(mine),
            select(Enrollment.completed_at).where(mine),
            select(Enrollment.cancelled_at).where(mine),
            select(VideoProgress.last_heartbeat_at).where(watched),
            select(VideoProgress.completed_at).where(watched),
            select(QuizAttempt.submitted_at).where(tried),
        ).subquery()
        last = select(func.max(moments.c.at))
        return select(
            enrolled.scalar_subquery().label("enrolled_courses"),
            completed.scalar_subquery().label("completed_courses"),
            videos.scalar_subquery().label("completed_videos"),
            quizzes.scalar_subquery().label("passed_quizzes"),
            last.scalar_subquery().label("last_activity_at"),
        )
