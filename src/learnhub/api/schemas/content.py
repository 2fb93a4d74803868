"""A course's content: sections and videos, in and out, with the locked view of a video for
callers who may see the outline only."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Self

from pydantic import Field, StrictBool

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import Input, Output, Position, Seconds, Text, Version, Words
from learnhub.api.schemas.examples import example
from learnhub.api.schemas.quizzes import QuizOutline
from learnhub.domain.course_rules import LOCKED_VIDEO_FIELDS, VIDEO_URL_PATTERN, video_locked
from learnhub.models import Section, Video

# A video's address: http(s), no white space (what the service checks).
LOCKED_NOTE = (
    "Locked content (SPEC 5): callers who are neither enrolled in the course nor its "
    "instructor or an admin see the outline only; for them a video that is not a free preview "
    "has `locked: true` and `url` (and `transcript`) null."
)


class VideoSummary(Output):
    __doc__ = LOCKED_NOTE
    model_config = example(ex.VIDEO_SUMMARY)

    id: uuid.UUID
    title: str
    # null when `locked`
    url: str | None
    duration_seconds: int
    position: int
    version: int
    # A free preview: shown in full to everyone who may see the course's outline.
    is_preview: bool
    # True when the caller may see the outline only and this is not a preview.
    locked: bool = False

    @classmethod
    def of(cls, video: Video, *, full: bool) -> Self:
        """The video as a caller sees it: in full, or (outline only) locked unless it is a
        free preview."""
        out = cls.model_validate(video)
        lock = cls.lock(is_preview=video.is_preview, full=full)
        return out.model_copy(update=lock) if lock else out

    @classmethod
    def lock(cls, *, is_preview: bool, full: bool) -> Mapping[str, Any]:
        """What the one lock rule (`video_locked`) changes in a video's fields: nothing for a
        free preview, or for a caller who sees it all."""
        if not video_locked(is_preview=is_preview, full=full):
            return _NOTHING_CHANGES
        return _locked_fields(cls)


_NOTHING_CHANGES: Mapping[str, Any] = MappingProxyType({})


@functools.cache
def _locked_fields(model: type[VideoSummary]) -> Mapping[str, Any]:
    """A locked video's changed fields, found once per model: every video of a course page
    written afresh asks, and pydantic's `model_fields` takes a microsecond to read."""
    hidden = {name: None for name in LOCKED_VIDEO_FIELDS if name in model.model_fields}
    return MappingProxyType({**hidden, "locked": True})


class VideoOut(VideoSummary):
    __doc__ = LOCKED_NOTE
    model_config = example(ex.VIDEO)

    course_id: uuid.UUID
    section_id: uuid.UUID
    # null when `locked`
    transcript: str | None


class SectionOut(Output):
    model_config = example(ex.SECTION)

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    position: int
    version: int


class SectionDetailOut(SectionOut):
    model_config = example(ex.COURSE_DETAIL["sections"][0])

    videos: list[VideoSummary]
    quizzes: list[QuizOutline]

    @classmethod
    def of(cls, section: Section, *, full: bool) -> SectionDetailOut:
        return cls(
            id=section.id,
            course_id=section.course_id,
            title=section.title,
            position=section.position,
            version=section.version,
            videos=[VideoSummary.of(v, full=full) for v in section.videos],
            quizzes=[QuizOutline.model_validate(q) for q in section.quizzes],
        )


class SectionIn(Input):
    model_config = example({"title": "Getting started", "position": 0})

    title: Words = Field(min_length=1, max_length=200)
    position: Position | None = None


class SectionPatch(Input):
    model_config = example({"title": "First steps", "version": 1})

    title: Words | None = Field(default=None, min_length=1, max_length=200)
    position: Position | None = None
    version: Version | None = None


class VideoIn(Input):
    model_config = example(
        {
            "title": "Your first bar chart",
            "url": ex.VIDEO["url"],
            "duration_seconds": 540,
            "transcript": ex.VIDEO["transcript"],
            "is_preview": True,
        }
    )

    title: Words = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2000, pattern=VIDEO_URL_PATTERN)
    duration_seconds: Seconds
    position: Position | None = None
    transcript: Text = Field(default="", max_length=200_000)
    # A free preview: url and transcript shown to everyone who sees the outline.
    is_preview: StrictBool = False


class VideoPatch(Input):
    model_config = example({"title": "Your first bar chart, labelled", "version": 1})

    title: Words | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2000, pattern=VIDEO_URL_PATTERN)
    duration_seconds: Seconds | None = None
    position: Position | None = None
    transcript: Text | None = Field(default=None, max_length=200_000)
    is_preview: StrictBool | None = None
    version: Version | None = None


class OrderIn(Input):
    model_config = example({"ids": [ex.SECTION_ID, ex.SECOND_SECTION_ID]})

    ids: list[uuid.UUID] = Field(max_length=1000)


def video_out(video: Video) -> VideoOut:
    return VideoOut.model_validate(video)
