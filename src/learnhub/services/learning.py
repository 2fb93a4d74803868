"""Enrolment and progress: who learns what, and how far they got.

Progress is decided on the server. A heartbeat's played segments are merged into the
stored union (replays and overlaps never count twice), which is kept whole; the credited
watch time is that union's length up to one real-time budget per (learner, video):
`max_playback_rate` x the wall-clock seconds since the first heartbeat, plus one
tolerance. Claims beyond the budget are credited as it grows, so a real-time player
reaches 100 % as it finishes, while no number or rhythm of heartbeats outruns the clock;
seeking to the end or replaying old heartbeats can never complete a video or move
progress backwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.clock import Clock, utc_now
from learnhub.domain.enums import CourseStatus, EnrollmentStatus
from learnhub.domain.errors import Conflict, InvalidValue, NotEnrolled, NotFound
from learnhub.domain.permissions import LEARNING_PARTICIPATE
from learnhub.domain.principal import Principal
from learnhub.domain.progress import (
    CreditPolicy,
    Segment,
    checked_seconds,
    covered,
    credit,
    is_open,
    merge_segments,
    played_segment,
)
from learnhub.events.events import (
    CourseCompleted,
    EnrollmentCancelled,
    UserEnrolled,
    VideoCompleted,
)
from learnhub.models.course import Course
from learnhub.models.learning import Enrollment, VideoProgress
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.filters import CursorPagination, Eq, Page
from learnhub.repositories.learning import (
    CourseCounterRepository,
    EnrollmentRepository,
    HeartbeatTarget,
    ProgressRepository,
)
from learnhub.services.activity import ActivityService
from learnhub.services.base import BaseService

PARTICIPATE = LEARNING_PARTICIPATE
# Heartbeats one request may carry (a player's offline buffer, synced).
MAX_HEARTBEATS = 100


@dataclass(frozen=True, slots=True)
class Heartbeat:
    position_seconds: float
    played_segments: Sequence[Segment] | None = None
    watched_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class EnrollmentView:
    """One of the learner's enrolments as they list it. A soft-deleted course stays in the
    list, unavailable: its summary is what it was, and it has no progress to show."""

    enrollment: Enrollment
    course: Course
    percent: float | None

    @property
    def course_available(self) -> bool:
        return self.course.deleted_at is None


class EnrollmentService(BaseService):
    async def enroll(self, principal: Principal, course_id: uuid.UUID) -> Enrollment:
        principal.require(PARTICIPATE)
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        if course is None or course.status == CourseStatus.DRAFT:
            raise NotFound("Course", course_id)
        if course.status != CourseStatus.PUBLISHED:
            raise Conflict("the course is not open for enrolment")
        enrollments = self.uow.repo(EnrollmentRepository)
        existing = await enrollments.for_user_and_course(principal.user_id, course.id)
        if existing is not None and existing.status in (
            EnrollmentStatus.ACTIVE,
            EnrollmentStatus.COMPLETED,
        ):
            raise Conflict("already enrolled in this course")
        if existing is not None:  # cancelled or refunded: the same row comes back
            # Progress earned before is kept; a course finished before stays finished.
            existing.status = (
                EnrollmentStatus.COMPLETED if existing.completed_at else EnrollmentStatus.ACTIVE
            )
            existing.cancelled_at = None
            existing.enrolled_at = utc_now()
            await enrollments.flush(existing)
            enrollment = existing
        else:
            enrollment = await enrollments.create(
                Enrollment(user_id=principal.user_id, course_id=course.id)
            )
        await self.uow.repo(CourseCounterRepository).add_enrollments(course.id, +1)
        self.uow.record(
            UserEnrolled(
                course_id=course.id, user_id=principal.user_id, enrollment_id=enrollment.id
            )
        )
        ActivityService(self.uow).record(
            principal.user_id, "enrolled", subject_type="course", subject_id=course.id
        )
        return enrollment

    async def cancel(self, principal: Principal, enrollment_id: uuid.UUID) -> Enrollment:
        enrollments = self.uow.repo(EnrollmentRepository)
        enrollment = await enrollments.get(enrollment_id)
        if enrollment.user_id != principal.user_id and not principal.is_admin:
            raise NotFound("Enrollment", enrollment_id)  # others' enrolments do not exist
        if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
            raise Conflict(f"the enrolment is already {enrollment.status.value}")
        enrollment.status, enrollment.cancelled_at = EnrollmentStatus.CANCELLED, utc_now()
        await enrollments.flush(enrollment)
        await self.uow.repo(CourseCounterRepository).add_enrollments(enrollment.course_id, -1)
        self.uow.record(
            EnrollmentCancelled(
                course_id=enrollment.course_id,
                user_id=enrollment.user_id,
                enrollment_id=enrollment.id,
            )
        )
        ActivityService(self.uow).record(
            enrollment.user_id,
            "enrollment_cancelled",
            subject_type="course",
            subject_id=enrollment.course_id,
        )
        return enrollment

    async def mine(
        self, principal: Principal, pagination: CursorPagination
    ) -> Page[EnrollmentView]:
        page = await self.uow.repo(EnrollmentRepository).get_all(
            [Eq(Enrollment.user_id, principal.user_id)], pagination, "newest"
        )
        course_ids = [e.course_id for e in page.items]
        # Deleted courses too: the learner's list shows such an enrolment as unavailable.
        courses = {
            c.id: c
            for c in await self.uow.repo(CourseRepository).get_many(
                course_ids, include_deleted=True
            )
        }
        totals = await self.uow.repo(CourseCounterRepository).item_totals(course_ids)
        views = []
        for e in page.items:
            course = courses[e.course_id]  # enrolments keep their course (ON DELETE RESTRICT)
            done, total = e.completed_videos + e.passed_quizzes, totals.get(e.course_id, 0)
            percent: float | None = round(100.0 * min(done, total) / total, 1) if total else 0.0
            if course.deleted_at is not None:
                percent = None  # its content is gone with it: nothing to measure against
            views.append(EnrollmentView(enrollment=e, course=course, percent=percent))
        return Page(items=views, next_cursor=page.next_cursor)

    async def require(
        self, user_id: uuid.UUID, course_id: uuid.UUID, *, lock: bool = False
    ) -> Enrollment:
        """The learner's active (or completed) enrolment; `lock` holds its row until commit,
        which serialises that learner's concurrent actions in the course."""
        enrollment = await self.uow.repo(EnrollmentRepository).for_user_and_course(
            user_id, course_id, lock=lock
        )
        if enrollment is None or not is_open(enrollment.status):
            raise NotEnrolled("enrol in the course first")
        return enrollment


class ProgressService(BaseService):
    def __init__(
        self,
        uow: AbstractUnitOfWork,
        policy: CreditPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(uow)
        self.policy = policy or CreditPolicy()
        self.clock = clock

    async def heartbeat(
        self, principal: Principal, video_id: uuid.UUID, beat: Heartbeat
    ) -> VideoProgress:
        (progress,) = await self.heartbeats(principal, [(video_id, beat)])
        return progress

    async def heartbeats(
        self, principal: Principal, beats: Sequence[tuple[uuid.UUID, Heartbeat]]
    ) -> list[VideoProgress]:
        """Apply a learner's heartbeats in order, all or none; returns each video's progress
        (first-seen order). A player syncing buffered heartbeats sends many at once: they
        cost the same few statements as one (the videos, the locked progress rows, at most
        one UPDATE per video), not a round of statements each. Every beat is credited
        within the video's one real-time budget (`CreditPolicy.budget`), as a single
        heartbeat is."""
        principal.require(PARTICIPATE)
        if not beats:
            return []
        if len(beats) > MAX_HEARTBEATS:
            raise InvalidValue(f"at most {MAX_HEARTBEATS} heartbeats at once")
        repo = self.uow.repo(ProgressRepository)
        video_ids = list(dict.fromkeys(video_id for video_id, _ in beats))
        # The hottest write: what it needs to know is one statement, not three entities.
        targets = await repo.heartbeat_targets(principal.user_id, video_ids)
        for video_id in video_ids:
            target = targets.get(video_id)
            if target is None or target.course_status == CourseStatus.DRAFT:
                raise NotFound("Video", video_id)
            if target.enrollment_id is None or not is_open(target.enrollment_status):
                raise NotEnrolled("enrol in the course first")
        segmented = any(beat.played_segments is not None for _, beat in beats)
        now = self.clock()
        rows = await repo.get_or_create_many(
            principal.user_id,
            [(video_id, targets[video_id].course_id) for video_id in video_ids],
            with_segments=segmented,
            first_heartbeat_at=now,
        )
        budget: dict[uuid.UUID, float] = {}
        window: dict[uuid.UUID, float] = {}
        for video_id in video_ids:
            progress = rows[video_id]
            if progress.first_heartbeat_at is None:  # a row from before the budget
                progress.first_heartbeat_at = progress.created_at
            # One budget per (learner, video), the same for every beat of the batch: many
            # beats earn no more than one, and a buffer synced late is not penalised.
            budget[video_id] = self.policy.budget(progress.first_heartbeat_at, now)
            # A simple client's claims also grow by at most the time since its previous
            # stored heartbeat, shared by the batch's beats.
            window[video_id] = progress.watched_seconds + self.policy.window(
                progress.last_heartbeat_at, now
            )
        completed: list[HeartbeatTarget] = []
        for video_id, beat in beats:
            if self._apply(
                rows[video_id], targets[video_id], beat, budget[video_id], window[video_id], now
            ):
                completed.append(targets[video_id])
        await repo.flush()
        for target in completed:
            await self._video_completed(
                principal.user_id,
                target.course_id,
                target.video_id,
                target.enrollment_id,  # type: ignore[arg-type]  # checked above
            )
        return [rows[video_id] for video_id in video_ids]

    def _apply(
        self,
        progress: VideoProgress,
        video: HeartbeatTarget,
        beat: Heartbeat,
        budget: float,
        window: float,
        now: datetime,
    ) -> bool:
        """One heartbeat on the learner's row: its played segments join the stored union
        (kept whole), and the credited time becomes what is claimed up to `budget` (a
        simple client's `watched_seconds` up to `window` as well); True when it completed
        the video."""
        duration = float(video.duration_seconds)
        position = checked_seconds(beat.position_seconds, "position_seconds")
        watched = credit(progress.watched_seconds, progress.claimed_seconds, budget)
        if beat.played_segments is not None:
            played = [played_segment(s, e, duration) for s, e in beat.played_segments]
            old = [(s.start_seconds, s.end_seconds) for s in progress.segments]
            union = merge_segments([*old, *played])
            if union != old:  # a replay writes nothing
                self.uow.repo(ProgressRepository).replace_segments(progress, union)
                progress.claimed_seconds = round(covered(union), 3)
            watched = credit(watched, progress.claimed_seconds, budget)
        elif beat.watched_seconds is not None:
            claimed = min(checked_seconds(beat.watched_seconds, "watched_seconds"), duration)
            watched = credit(watched, claimed, min(budget, window))
        # Never backwards: a stale or replayed heartbeat cannot lower what was earned.
        progress.watched_seconds = watched
        progress.position_seconds = min(position, duration)
        progress.last_heartbeat_at = now
        newly_completed = (
            not progress.completed
            and progress.watched_seconds >= self.policy.completion_ratio * duration
            and self.policy.completion_allowed(
                progress.first_heartbeat_at or progress.created_at, now, duration
            )
        )
        if newly_completed:
            progress.completed, progress.completed_at = True, now
        return newly_completed

    async def _video_completed(
        self,
        user_id: uuid.UUID,
        course_id: uuid.UUID,
        video_id: uuid.UUID,
        enrollment_id: uuid.UUID,
    ) -> None:
        self.uow.record(VideoCompleted(course_id=course_id, user_id=user_id, video_id=video_id))
        ActivityService(self.uow).record(
            user_id, "video_completed", subject_type="video", subject_id=video_id
        )
        enrollments = self.uow.repo(EnrollmentRepository)
        await enrollments.add_progress(enrollment_id, videos=1)
        await self.complete_if_done(user_id, course_id, enrollment_id)

    async def complete_if_done(
        self, user_id: uuid.UUID, course_id: uuid.UUID, enrollment_id: uuid.UUID
    ) -> bool:
        """Mark the enrolment completed when every item is done; exactly once, even when two
        last items finish concurrently (a conditional UPDATE decides)."""
        enrollments = self.uow.repo(EnrollmentRepository)
        videos, quizzes = await enrollments.progress_counts(enrollment_id)
        totals = await self.uow.repo(CourseCounterRepository).item_totals([course_id])
        if videos + quizzes < totals[course_id] or totals[course_id] == 0:
            return False
        changed = await enrollments.bulk_update(
            [Eq(Enrollment.id, enrollment_id), Eq(Enrollment.status, EnrollmentStatus.ACTIVE)],
            {"status": EnrollmentStatus.COMPLETED, "completed_at": utc_now()},
        )
        if changed:
            self.uow.record(
                CourseCompleted(course_id=course_id, user_id=user_id, enrollment_id=enrollment_id)
            )
            ActivityService(self.uow).record(
                user_id, "course_completed", subject_type="course", subject_id=course_id
            )
        return bool(changed)
