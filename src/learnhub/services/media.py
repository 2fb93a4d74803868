"""Who may read a file of the media storage: the rules of the course the file belongs to
(its key names it, `courses/<course id>/...`), as for the course's videos (SPEC 5): its
enrolled learners, instructor and admins; everyone who may see the course's outline when a
free preview video of that course plays it."""

from __future__ import annotations

from learnhub.domain.course_rules import MEDIA_URL_PREFIX, media_course_id, video_locked
from learnhub.domain.errors import InvalidValue, NotFound, PermissionDenied
from learnhub.domain.principal import Principal
from learnhub.models.course import Video
from learnhub.repositories.course import CourseRepository, VideoRepository
from learnhub.repositories.filters import Eq, In
from learnhub.services.base import BaseService
from learnhub.services.course_access import CourseAccessService


class MediaAccessService(BaseService):
    async def readable(self, principal: Principal | None, key: str) -> None:
        """Nothing when the caller may read the media file `key`; `NotFound` when its course
        does not exist for them (or the key is no media key), `PermissionDenied` when they
        may see the course's outline but not this file."""
        try:
            course_id = media_course_id(key)
        except InvalidValue:
            raise NotFound("Media", key) from None
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        access = (
            None
            if course is None
            else await CourseAccessService(self.uow).access(principal, course)
        )
        if course is None or access is None:
            raise NotFound("Media", key)
        if access.full:
            return  # the course's every file, played by a video or not yet
        # A video of the course that plays the file and that the one lock rule leaves
        # unlocked for this caller (its preview flags asked of the rule, not restated).
        unlocked = [flag for flag in (True, False) if not video_locked(is_preview=flag, full=False)]
        playing = await self.uow.repo(VideoRepository).count(
            [
                Eq(Video.course_id, course_id),
                Eq(Video.url, MEDIA_URL_PREFIX + key),
                In(Video.is_preview, unlocked),
            ]
        )
        if not playing:
            raise PermissionDenied("enrol in the course to watch its videos")
