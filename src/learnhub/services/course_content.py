"""Content authoring: a course's sections and videos, added, changed, reordered, deleted and
restored by its editors; and reading one of them as far as the caller may see it."""

from __future__ import annotations

import os
import uuid
from asyncio import to_thread
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from learnhub.domain import course_rules
from learnhub.domain.enums import CourseStatus
from learnhub.domain.errors import Conflict, InvalidValue, PayloadTooLarge
from learnhub.domain.principal import Principal
from learnhub.media.probe import probe_video
from learnhub.media.storage import MediaStorage, media_url
from learnhub.models.course import Course, Section, Video
from learnhub.repositories.course import SectionRepository, VideoRepository
from learnhub.repositories.filters import Eq, Filter, NotEq
from learnhub.services.base import BaseService
from learnhub.services.course_access import ContentAccess, CourseAccessService


@dataclass(frozen=True, slots=True)
class VideoUpload:
    """An uploaded file (spooled to disk by the web server beyond a small size), where it
    goes and how large it may be."""

    file: BinaryIO
    size: int | None  # None: measured from the file
    storage: MediaStorage
    max_bytes: int


def measured(upload: VideoUpload) -> int:
    upload.file.seek(0, os.SEEK_END)
    return upload.file.tell()


@dataclass(frozen=True, slots=True)
class SectionChanges:
    """A partial update of a section: None leaves a field as it is."""

    title: str | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class VideoChanges:
    """A partial update of a video: None leaves a field as it is."""

    title: str | None = None
    url: str | None = None
    duration_seconds: float | None = None
    position: int | None = None
    transcript: str | None = None
    is_preview: bool | None = None


class ContentAuthoringService(BaseService):
    """`principal` is the caller; None for the anonymous public."""

    @property
    def _access(self) -> CourseAccessService:
        return CourseAccessService(self.uow)

    # ---- sections ---------------------------------------------------------------------------

    async def add_section(
        self, principal: Principal, course_id: uuid.UUID, title: str, position: int | None = None
    ) -> Section:
        course = await self._access.editable(principal, course_id)
        sections = self.uow.repo(SectionRepository)
        if position is None:  # appending always works: max + 1, past the chosen-position limit
            position = await sections.next_position(course.id)
        else:
            position = course_rules.position(position)
        return await sections.create(
            Section(course_id=course.id, title=course_rules.title(title), position=position)
        )

    async def get_section(self, principal: Principal | None, section_id: uuid.UUID) -> Section:
        section = await self.uow.repo(SectionRepository).get(section_id)
        await self._access.visible(principal, section.course_id)  # visible iff its course is
        return section

    async def update_section(
        self,
        principal: Principal,
        section_id: uuid.UUID,
        changes: SectionChanges,
        expected_version: int | None = None,
    ) -> Section:
        section, _ = await self._access.section(principal, section_id)
        data: dict[str, Any] = {}
        if changes.title is not None:
            data["title"] = course_rules.title(changes.title)
        if changes.position is not None:
            data["position"] = course_rules.position(changes.position)
        return await self.uow.repo(SectionRepository).update(section.id, data, expected_version)

    async def delete_section(
        self, principal: Principal, section_id: uuid.UUID, expected_version: int | None = None
    ) -> None:
        section, course = await self._access.section(principal, section_id)
        self.uow.repo(SectionRepository).check_version(section, expected_version)
        await self._keep_a_video(course, NotEq(Video.section_id, section.id))
        await self.uow.repo(SectionRepository).delete(section.id, expected_version)

    async def restore_section(self, principal: Principal, section_id: uuid.UUID) -> Section:
        section, _ = await self._access.section(principal, section_id, include_deleted=True)
        return await self.uow.repo(SectionRepository).restore(section.id)

    async def reorder_sections(
        self, principal: Principal, course_id: uuid.UUID, ordered_ids: Sequence[uuid.UUID]
    ) -> list[Section]:
        course = await self._access.editable(principal, course_id)
        repo = self.uow.repo(SectionRepository)
        return await reorder(repo, course.id, ordered_ids)

    async def move_section(
        self, principal: Principal, section_id: uuid.UUID, offset: int
    ) -> list[Section]:
        """One step up (-1) or down (+1) among its course's sections."""
        section, course = await self._access.section(principal, section_id)
        return await move(self.uow.repo(SectionRepository), course.id, section.id, offset)

    # ---- videos -----------------------------------------------------------------------------

    async def add_video(
        self,
        principal: Principal,
        section_id: uuid.UUID,
        *,
        title: str,
        url: str,
        duration_seconds: int,
        position: int | None = None,
        transcript: str = "",
        is_preview: bool = False,
    ) -> Video:
        section, course = await self._access.section(principal, section_id)
        videos = self.uow.repo(VideoRepository)
        if position is None:  # appending always works: max + 1, past the chosen-position limit
            position = await videos.next_position(section.id)
        else:
            position = course_rules.position(position)
        return await videos.create(
            Video(
                course_id=course.id,
                section_id=section.id,
                title=course_rules.title(title),
                url=course_rules.video_url(url),
                duration_seconds=course_rules.duration(duration_seconds),
                position=position,
                transcript=transcript,
                is_preview=is_preview,
            )
        )

    async def upload_video(
        self,
        principal: Principal,
        section_id: uuid.UUID,
        upload: VideoUpload,
        *,
        title: str,
        transcript: str = "",
        is_preview: bool = False,
    ) -> Video:
        """A video made from an uploaded file: checked (size, then what the bytes really
        are, by PyAV), stored by the media storage under the section's course, its length
        read from the file; the row is `add_video`'s, pointing at the stored file's URL.
        A refused file leaves nothing behind; neither does a row that cannot be added or
        committed."""
        section, course = await self._access.section(principal, section_id)
        title = course_rules.title(title)  # refused before any work on the file
        size = upload.size if upload.size is not None else await to_thread(measured, upload)
        if size == 0:
            raise InvalidValue("the file is empty: choose a video file")
        if size > upload.max_bytes:
            limit = upload.max_bytes // (1024 * 1024)
            raise PayloadTooLarge(f"the file is larger than the upload limit of {limit} MB")
        probed = await to_thread(probe_video, upload.file)
        key = f"courses/{course.id}/{uuid.uuid4().hex}{probed.extension}"
        await to_thread(upload.storage.save_stream, key, upload.file)

        async def discard_file() -> None:
            await to_thread(upload.storage.delete, key)

        # Also when the row is refused at the boundary's commit, after this returns.
        self.uow.undo_unless_committed(discard_file)
        return await self.add_video(
            principal,
            section.id,
            title=title,
            url=media_url(key),
            duration_seconds=probed.duration_seconds,
            transcript=transcript,
            is_preview=is_preview,
        )

    async def get_video(
        self, principal: Principal | None, video_id: uuid.UUID
    ) -> tuple[Video, ContentAccess]:
        """The video, and how much of the course the caller may see (a locked video shows
        no url or transcript unless it is a free preview)."""
        video = await self.uow.repo(VideoRepository).get(video_id)
        return video, await self._access.visible(principal, video.course_id)

    async def update_video(
        self,
        principal: Principal,
        video_id: uuid.UUID,
        changes: VideoChanges,
        expected_version: int | None = None,
    ) -> Video:
        video, _ = await self._access.video(principal, video_id)
        checks: dict[str, Callable[[Any], Any]] = {
            "title": course_rules.title,
            "url": course_rules.video_url,
            "duration_seconds": course_rules.duration,
            "position": course_rules.position,
            "transcript": str,
            "is_preview": bool,
        }
        clean = {
            key: check(value)
            for key, check in checks.items()
            if (value := getattr(changes, key)) is not None
        }
        return await self.uow.repo(VideoRepository).update(video.id, clean, expected_version)

    async def delete_video(
        self, principal: Principal, video_id: uuid.UUID, expected_version: int | None = None
    ) -> None:
        video, course = await self._access.video(principal, video_id)
        self.uow.repo(VideoRepository).check_version(video, expected_version)
        await self._keep_a_video(course, NotEq(Video.id, video.id))
        await self.uow.repo(VideoRepository).delete(video.id, expected_version)

    async def restore_video(self, principal: Principal, video_id: uuid.UUID) -> Video:
        video, _ = await self._access.video(principal, video_id, include_deleted=True)
        return await self.uow.repo(VideoRepository).restore(video.id)

    async def reorder_videos(
        self, principal: Principal, section_id: uuid.UUID, ordered_ids: Sequence[uuid.UUID]
    ) -> list[Video]:
        section, _ = await self._access.section(principal, section_id)
        return await reorder(self.uow.repo(VideoRepository), section.id, ordered_ids)

    async def move_video(
        self, principal: Principal, video_id: uuid.UUID, offset: int
    ) -> list[Video]:
        """One step up (-1) or down (+1) among its section's videos."""
        video, _ = await self._access.video(principal, video_id)
        return await move(self.uow.repo(VideoRepository), video.section_id, video.id, offset)

    async def editable_video(self, principal: Principal, video_id: uuid.UUID) -> Video:
        """A video as its course's editors see it (404/403 for anyone else)."""
        video, _ = await self._access.video(principal, video_id)
        return video

    async def _keep_a_video(self, course: Course, removing: Filter) -> None:
        """A published course keeps at least one video (its publishing rule stays true).
        `removing` is NotEq(...) describing what stays."""
        if course.status != CourseStatus.PUBLISHED:
            return
        left = await self.uow.repo(VideoRepository).count(
            [Eq(Video.course_id, course.id), removing]
        )
        if left == 0:
            raise Conflict("a published course must keep at least one video")


async def reorder(repo: Any, parent_id: uuid.UUID, ordered_ids: Sequence[uuid.UUID]) -> list[Any]:
    """Positions of a parent's children (sections, videos, quizzes) in the order given, which
    must name every child exactly once."""
    items = await repo.children(parent_id)
    if sorted(ordered_ids) != sorted(item.id for item in items) or len(set(ordered_ids)) != len(
        ordered_ids
    ):
        raise InvalidValue("the new order must list every item exactly once")
    await repo.reorder(items, ordered_ids)
    return sorted(items, key=lambda item: item.position)


async def move(repo: Any, parent_id: uuid.UUID, item_id: uuid.UUID, offset: int) -> list[Any]:
    """`item_id` moved `offset` places among its siblings (the ends stay put: moving the
    first up or the last down changes nothing)."""
    ids = [item.id for item in await repo.children(parent_id)]
    if item_id not in ids or offset not in (-1, 1):
        raise InvalidValue("move an item one place up or down")
    at = ids.index(item_id)
    to = at + offset
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
    return await reorder(repo, parent_id, ids)
