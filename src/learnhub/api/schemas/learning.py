from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, model_validator

from learnhub.api.schemas.common import Input, Output
from learnhub.domain.enums import EnrollmentStatus


class EnrollmentOut(Output):
    id: uuid.UUID
    user_id: uuid.UUID
    course_id: uuid.UUID
    status: EnrollmentStatus
    enrolled_at: datetime
    completed_at: datetime | None
    version: int


class CourseSummary(Output):
    id: uuid.UUID
    slug: str
    title: str


class MyEnrollmentOut(EnrollmentOut):
    course: CourseSummary
    progress_percent: float


Seconds = float


class ProgressIn(Input):
    position_seconds: float = Field(ge=0, le=7 * 24 * 3600, allow_inf_nan=False)
    played_segments: list[tuple[Seconds, Seconds]] | None = Field(default=None, max_length=500)
    watched_seconds: float | None = Field(default=None, ge=0, le=7 * 24 * 3600, allow_inf_nan=False)

    @model_validator(mode="after")
    def finite_segments(self) -> ProgressIn:
        for start, end in self.played_segments or ():
            for value in (start, end):
                if not (0 <= value <= 7 * 24 * 3600):
                    raise ValueError("segment bounds must be between 0 and one week")
        return self


class VideoHeartbeatIn(ProgressIn):
    video_id: uuid.UUID


class HeartbeatsIn(Input):
    # A player's buffer of heartbeats, synced at once (say, after playing offline).
    heartbeats: list[VideoHeartbeatIn] = Field(min_length=1, max_length=100)


class ProgressOut(Output):
    video_id: uuid.UUID
    position_seconds: float
    watched_seconds: float
    completed: bool
    completed_at: datetime | None
    updated_at: datetime


class ProgressListOut(Output):
    items: list[ProgressOut]


class ResumeOut(Output):
    video_id: uuid.UUID
    position_seconds: float


class CourseProgressOut(Output):
    course_id: uuid.UUID
    completed_items: int
    total_items: int
    percent: float
    resume: ResumeOut | None
    completed: bool
