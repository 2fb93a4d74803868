"""Enrollments and progress."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Select, case, func, literal_column, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from learnhub.db.session import AUDITED_BULK
from learnhub.db.soft_delete import INCLUDE_DELETED, live
from learnhub.domain.enums import CourseStatus, EnrollmentStatus
from learnhub.domain.errors import Conflict
from learnhub.models.course import Course, Quiz, Video
from learnhub.models.learning import (
    Enrollment,
    Review,
    VideoProgress,
    WatchedSegment,
)
from learnhub.models.user import User
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import Sort

# Counter updates also reach soft-deleted rows, so a restored course or enrolment comes back
# with exact numbers.
COUNTER_UPDATE = {AUDITED_BULK: True, INCLUDE_DELETED: True, "synchronize_session": False}
# Enrolments whose learner may learn in the course (a completed one revisits it).
OPEN_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


class EnrollmentRepository(BaseRepository[Enrollment]):
    model = Enrollment
    sorts: ClassVar[Mapping[str, Sort]] = {
        "newest": Sort("newest", Enrollment.enrolled_at, descending=True)
    }

    async def for_user_and_course(
        self, user_id: uuid.UUID, course_id: uuid.UUID, *, lock: bool = False
    ) -> Enrollment | None:
        stmt = select(Enrollment).where(
            Enrollment.user_id == user_id, Enrollment.course_id == course_id
        )
        result = await self.session.execute(stmt.with_for_update() if lock else stmt)
        return result.scalar_one_or_none()

    async def is_open(self, user_id: uuid.UUID, course_id: uuid.UUID) -> bool:
        """Whether the learner holds a live, active or completed enrolment in the course: one
        lookup on the (user, course) unique index."""
        result = await self.session.execute(
            select(Enrollment.id).where(
                Enrollment.user_id == user_id,
                Enrollment.course_id == course_id,
                Enrollment.status.in_(OPEN_STATUSES),
            )
        )
        return result.first() is not None

    async def add_progress(
        self, enrollment_id: uuid.UUID, *, videos: int = 0, quizzes: int = 0
    ) -> None:
        """Atomic increments of the progress counters (no version bump)."""
        await self.session.execute(
            update(Enrollment)
            .where(Enrollment.id == enrollment_id)
            .values(
                completed_videos=Enrollment.completed_videos + videos,
                passed_quizzes=Enrollment.passed_quizzes + quizzes,
            )
            .execution_options(**COUNTER_UPDATE)
        )

    async def progress_counts(self, enrollment_id: uuid.UUID) -> tuple[int, int]:
        result = await self.session.execute(
            select(Enrollment.completed_videos, Enrollment.passed_quizzes).where(
                Enrollment.id == enrollment_id
            )
        )
        videos, quizzes = result.one()
        return int(videos), int(quizzes)


class CourseCounterRepository:
    """Counters on courses kept exact by atomic `x = x + delta` in the caller's transaction."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def add_enrollments(self, course_id: uuid.UUID, delta: int) -> None:
        await self.session.execute(
            update(Course)
            .where(Course.id == course_id)
            .values(enrollment_count=Course.enrollment_count + delta)
            .execution_options(**COUNTER_UPDATE)
        )

    async def item_totals(self, course_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Live videos plus live quizzes per course (what 100 % means)."""
        totals = dict.fromkeys(course_ids, 0)
        for model in (Video, Quiz):
            result = await self.session.execute(
                select(model.course_id, func.count())
                .where(model.course_id.in_(course_ids))
                .group_by(model.course_id)
            )
            for course_id, count in result.all():
                totals[course_id] += int(count)
        return totals


@dataclass(frozen=True, slots=True)
class HeartbeatTarget:
    """What a heartbeat needs to know about its video, read in one statement."""

    video_id: uuid.UUID
    duration_seconds: int
    course_id: uuid.UUID
    course_status: CourseStatus
    enrollment_id: uuid.UUID | None
    enrollment_status: EnrollmentStatus | None


class ProgressRepository(BaseRepository[VideoProgress]):
    model = VideoProgress

    def _select(self) -> Select[VideoProgress]:
        return select(VideoProgress).options(selectinload(VideoProgress.segments))

    async def heartbeat_targets(
        self, user_id: uuid.UUID, video_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, HeartbeatTarget]:
        """Per video: its length and course, the course's status and the learner's
        enrolment in it (None when not enrolled), in one statement instead of loading three
        entities. The global filter hides deleted videos and courses; the enrolment's is
        stated in the join, which must keep the video when only a deleted enrolment exists."""
        stmt = (
            select(
                Video.id,
                Video.duration_seconds,
                Video.course_id,
                Course.status,
                Enrollment.id,
                Enrollment.status,
            )
            .join(Course, Course.id == Video.course_id)
            .outerjoin(
                Enrollment,
                (Enrollment.course_id == Video.course_id)
                & (Enrollment.user_id == user_id)
                & live(Enrollment),
            )
            .where(Video.id.in_(list(video_ids)))
        )
        rows = (await self.session.execute(stmt)).all()
        return {row[0]: HeartbeatTarget(*row) for row in rows}

    async def for_user_and_video(
        self, user_id: uuid.UUID, video_id: uuid.UUID
    ) -> VideoProgress | None:
        """The learner's row for the video, with its segments (heartbeats lock and read
        their rows through `get_or_create_many`)."""
        result = await self.session.execute(
            self._select().where(
                VideoProgress.user_id == user_id, VideoProgress.video_id == video_id
            )
        )
        return result.scalar_one_or_none()

    async def get_or_create_many(
        self,
        user_id: uuid.UUID,
        videos: Sequence[tuple[uuid.UUID, uuid.UUID]],
        *,
        with_segments: bool = True,
        first_heartbeat_at: datetime | None = None,
    ) -> dict[uuid.UUID, VideoProgress]:
        """The learner's rows for these (video, course) pairs by video, locked (in video
        order, so two requests of one learner never deadlock); missing ones created, with
        `first_heartbeat_at`. Two
        first heartbeats racing both succeed: the loser's insert fails inside a SAVEPOINT and
        it reads the winner's row instead (an upsert that still goes through the audited
        unit of work)."""
        for _attempt in range(3):
            found = await self._for_user_and_videos(
                user_id, [video_id for video_id, _ in videos], with_segments=with_segments
            )
            missing = [
                VideoProgress(
                    user_id=user_id,
                    video_id=video_id,
                    course_id=course_id,
                    first_heartbeat_at=first_heartbeat_at,
                    segments=[],
                )
                for video_id, course_id in videos
                if video_id not in found
            ]
            if not missing:
                return found
            try:
                async with self.session.begin_nested():
                    self.session.add_all(missing)
            except IntegrityError:
                continue  # another request created one of them first: read again
            return found | {progress.video_id: progress for progress in missing}
        # Unreachable unless rows keep appearing and vanishing under us.
        raise Conflict("the progress rows kept changing while being created; retry")

    async def _for_user_and_videos(
        self, user_id: uuid.UUID, video_ids: Sequence[uuid.UUID], *, with_segments: bool
    ) -> dict[uuid.UUID, VideoProgress]:
        stmt = (
            select(VideoProgress)
            .where(VideoProgress.user_id == user_id, VideoProgress.video_id.in_(list(video_ids)))
            .order_by(VideoProgress.video_id)
            .with_for_update()
        )
        if with_segments:
            stmt = stmt.options(selectinload(VideoProgress.segments))
        result = await self.session.execute(stmt)
        return {progress.video_id: progress for progress in result.scalars().all()}

    def replace_segments(
        self, progress: VideoProgress, segments: Sequence[tuple[float, float]]
    ) -> None:
        progress.segments = [WatchedSegment(start_seconds=s, end_seconds=e) for s, e in segments]


class ReviewRepository(BaseRepository[Review]):
    model = Review
    sorts: ClassVar[Mapping[str, Sort]] = {
        "newest": Sort("newest", Review.created_at, descending=True)
    }

    def _select(self) -> Select[Review]:
        # Reviews are shown with their author's name: joined into the same statement (never
        # N+1); explicitly live, so a deleted author stays nameless in reads of deleted
        # reviews too (restore).
        return select(Review).options(joinedload(Review.author.and_(live(User))))

    async def for_user_and_course(self, user_id: uuid.UUID, course_id: uuid.UUID) -> Review | None:
        result = await self.session.execute(
            select(Review).where(Review.user_id == user_id, Review.course_id == course_id)
        )
        return result.scalar_one_or_none()


class CourseRatingRepository:
    """The course's rating, rating_count and 1..5 histogram, moved together by one atomic
    UPDATE whose right-hand sides all read the row's current values: exact under concurrent
    reviews, never recomputed over all reviews."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def apply(self, course_id: uuid.UUID, deltas: Mapping[int, int]) -> None:
        deltas = {stars: d for stars, d in deltas.items() if d}
        if not deltas:
            return
        counts = {stars: getattr(Course, f"rating_{stars}_count") for stars in range(1, 6)}
        new_counts = {stars: counts[stars] + deltas.get(stars, 0) for stars in range(1, 6)}
        new_total = sum(new_counts.values())
        weighted = sum(stars * new_counts[stars] for stars in range(1, 6))
        rating = case(
            (new_total == 0, 0),
            else_=func.round(weighted * literal_column("1.0") / new_total, 2),
        )
        values: dict[str, Any] = {f"rating_{s}_count": new_counts[s] for s in deltas}
        values["rating_count"] = Course.rating_count + sum(deltas.values())
        values["rating"] = rating
        await self.session.execute(
            update(Course)
            .where(Course.id == course_id)
            .values(**values)
            .execution_options(**COUNTER_UPDATE)
        )

    async def histogram(self, course_id: uuid.UUID) -> dict[int, int]:
        result = await self.session.execute(
            select(*(getattr(Course, f"rating_{s}_count") for s in range(1, 6))).where(
                Course.id == course_id
            )
        )
        row = result.one()
        return {stars: int(row[stars - 1]) for stars in range(1, 6)}
