"""The web player's use cases (issue 16): where a learner resumes a course, what the player
page of one video shows, and a heartbeat answered with the course's progress. Access and
progress come from the services the API uses (`CourseService.view_by_key`,
`CourseProgressService`, `ProgressService`): this module only puts them together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.course_rules import video_locked
from learnhub.domain.errors import NotEnrolled, NotFound
from learnhub.domain.principal import Principal
from learnhub.models.course import Course, Video
from learnhub.models.learning import VideoProgress
from learnhub.services.base import BaseService
from learnhub.services.course import CourseService
from learnhub.services.course_access import ContentAccess
from learnhub.services.course_progress import CourseProgress, CourseProgressService
from learnhub.services.learning import Heartbeat, ProgressService

# A stored position this close to the end starts the video again rather than at its end.
REPLAY_WITHIN_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ResumePoint:
    course: Course
    video_id: uuid.UUID
    position_seconds: float


@dataclass(frozen=True, slots=True)
class PlayerView:
    course: Course
    access: ContentAccess
    video: Video
    # The caller's progress in the course: enrolled learners only (editors and free-preview
    # viewers have none, and their player sends no heartbeat).
    progress: CourseProgress | None
    start_seconds: float

    @property
    def records_progress(self) -> bool:
        return self.progress is not None

    def may_watch(self, video: Any) -> bool:
        """Whether this caller may play `video` of the course (a video or its summary), by
        the one lock rule."""
        return not video_locked(is_preview=video.is_preview, full=self.access.full)


@dataclass(frozen=True, slots=True)
class HeartbeatAnswer:
    video: VideoProgress
    course: CourseProgress


def videos_in_order(course: Course) -> list[Video]:
    return [video for section in course.sections for video in section.videos]


class PlayerService(BaseService):
    def __init__(self, uow: AbstractUnitOfWork, progress: ProgressService | None = None) -> None:
        super().__init__(uow)
        self.progress = progress or ProgressService(uow)

    async def _learner_progress(
        self, principal: Principal | None, course: Course, access: ContentAccess
    ) -> CourseProgress | None:
        if principal is None or access is not ContentAccess.LEARNER:
            return None
        return await CourseProgressService(self.uow).course_progress(principal, course.id)

    async def resume_point(self, principal: Principal | None, course_key: str) -> ResumePoint:
        """Where the caller picks the course up again (`domain.progress.resume_index`, through
        the course progress): the first video when nothing was watched yet; for the course's
        instructor and admins, its first video. Others must enrol first."""
        view = await CourseService(self.uow).view_by_key(principal, course_key)
        videos = videos_in_order(view.course)
        if not view.access.full:
            raise NotEnrolled("enrol in the course to watch it")
        if not videos:
            raise NotFound("Video", course_key)
        progress = await self._learner_progress(principal, view.course, view.access)
        if progress is not None and progress.resume_video_id is not None:
            position = progress.resume_position_seconds or 0.0
            return ResumePoint(view.course, progress.resume_video_id, position)
        return ResumePoint(view.course, videos[0].id, 0.0)

    async def player(
        self,
        principal: Principal | None,
        course_key: str,
        video_id: uuid.UUID,
        at_seconds: float | None = None,
    ) -> PlayerView:
        """One video of a course in the player, for whoever may watch it (SPEC 5: enrolled
        learners, the instructor and admins; anyone who may see the outline for a free
        preview), starting at `at_seconds` when given (a tutor citation), else at the stored
        position (from the start again when that was the end)."""
        view = await CourseService(self.uow).view_by_key(principal, course_key)
        video = next((v for v in videos_in_order(view.course) if v.id == video_id), None)
        if video is None:
            raise NotFound("Video", video_id)
        if video_locked(is_preview=video.is_preview, full=view.access.full):
            raise NotEnrolled("enrol in the course to watch this video")
        progress = await self._learner_progress(principal, view.course, view.access)
        duration = float(video.duration_seconds)
        if at_seconds is not None:
            start = min(max(at_seconds, 0.0), duration)
        else:
            stored = next(
                (v for v in (progress.videos if progress else ()) if v.video_id == video_id), None
            )
            start = stored.position_seconds if stored else 0.0
            if start >= duration - REPLAY_WITHIN_SECONDS:
                start = 0.0
        return PlayerView(view.course, view.access, video, progress, start)

    async def heartbeat(
        self, principal: Principal, video_id: uuid.UUID, beat: Heartbeat
    ) -> HeartbeatAnswer:
        """The player's heartbeat, by the API's rules (`ProgressService.heartbeat`), answered
        with the video's progress and the course's, which the page shows."""
        video = await self.progress.heartbeat(principal, video_id, beat)
        course = await CourseProgressService(self.uow).course_progress(principal, video.course_id)
        return HeartbeatAnswer(video, course)
