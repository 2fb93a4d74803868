from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import JSON_NUMBER, Input, Output
from learnhub.api.schemas.examples import example
from learnhub.domain.enums import CourseStatus, EnrollmentStatus


class EnrollmentOut(Output):
    model_config = example(ex.ENROLLMENT)

    id: uuid.UUID
    user_id: uuid.UUID
    course_id: uuid.UUID
    status: EnrollmentStatus
    enrolled_at: datetime
    completed_at: datetime | None
    version: int


class CourseSummary(Output):
    model_config = example(ex.MY_ENROLLMENT["course"])

    id: uuid.UUID
    slug: str
    title: str
    # draft, published or archived (an archived course stays open to its learners)
    status: CourseStatus


class MyEnrollmentOut(EnrollmentOut):
    """One of the caller's enrolments. When the course was deleted the enrolment stays
    listed with `course_available: false` (the course summary as it was, and
    `progress_percent: null`); the course and everything in it then answer 404."""

    model_config = example(ex.MY_ENROLLMENT)

    course: CourseSummary
    # False when the course was deleted: it is unavailable everywhere.
    course_available: bool
    # null when the course is unavailable
    progress_percent: float | None


# A point of a video in seconds, as JSON Schema's `number` (a boolean or a string is refused,
# not read as 1.0 or parsed), bounded as the document says.
Seconds = Annotated[float, Field(ge=0, le=7 * 24 * 3600, allow_inf_nan=False), JSON_NUMBER]


class ProgressIn(Input):
    model_config = example(ex.PROGRESS_IN)

    position_seconds: Seconds
    # [[start, end], ...]; that a segment ends after it starts, and within the video, is
    # checked by the service (no JSON Schema states either).
    played_segments: list[tuple[Seconds, Seconds]] | None = Field(default=None, max_length=500)
    watched_seconds: Seconds | None = None


class VideoHeartbeatIn(ProgressIn):
    model_config = example(ex.PROGRESS_IN | {"video_id": ex.VIDEO_ID})

    video_id: uuid.UUID


class HeartbeatsIn(Input):
    model_config = example({"heartbeats": [ex.PROGRESS_IN | {"video_id": ex.VIDEO_ID}]})

    # A player's buffer of heartbeats, synced at once (say, after playing offline).
    heartbeats: list[VideoHeartbeatIn] = Field(min_length=1, max_length=100)


class ProgressOut(Output):
    model_config = example(ex.PROGRESS)

    video_id: uuid.UUID
    position_seconds: float
    watched_seconds: float
    completed: bool
    completed_at: datetime | None
    updated_at: datetime


class ProgressListOut(Output):
    model_config = example({"items": [ex.PROGRESS]})

    items: list[ProgressOut]


class ResumeOut(Output):
    model_config = example({"video_id": ex.VIDEO_ID, "position_seconds": 312.5})

    video_id: uuid.UUID
    position_seconds: float


VIDEO_PROGRESS_ITEM = {
    "video_id": ex.VIDEO_ID,
    "section_id": ex.SECTION_ID,
    "title": "Why async?",
    "duration_seconds": 600,
    "position_seconds": 312.5,
    "watched_seconds": 300.0,
    "percent": 50.0,
    "completed": False,
}
QUIZ_PROGRESS_ITEM = {
    "quiz_id": ex.QUIZ_ID,
    "section_id": ex.SECTION_ID,
    "title": "Check yourself",
    "passed": False,
}


class VideoProgressItem(Output):
    """One video of the course in outline order with the caller's progress in it (zeros
    when never played)."""

    model_config = example(VIDEO_PROGRESS_ITEM)

    video_id: uuid.UUID
    section_id: uuid.UUID
    title: str
    duration_seconds: int
    position_seconds: float
    # credited watch time (see PUT /videos/{id}/progress)
    watched_seconds: float
    # watched_seconds of the duration, 0 to 100
    percent: float
    completed: bool


class QuizProgressItem(Output):
    model_config = example(QUIZ_PROGRESS_ITEM)

    quiz_id: uuid.UUID
    section_id: uuid.UUID
    title: str
    # whether any of the caller's attempts passed
    passed: bool


class CourseProgressOut(Output):
    model_config = example(
        {
            "course_id": ex.COURSE_ID,
            "completed_items": 2,
            "total_items": 5,
            "percent": 40.0,
            "resume": {"video_id": ex.VIDEO_ID, "position_seconds": 312.5},
            "completed": False,
            "videos": [VIDEO_PROGRESS_ITEM],
            "quizzes": [QUIZ_PROGRESS_ITEM],
        }
    )

    course_id: uuid.UUID
    completed_items: int
    total_items: int
    percent: float
    # The video touched most recently, unless completed: then the next unfinished one in
    # outline order. null before any video was played.
    resume: ResumeOut | None
    completed: bool
    # The course's videos and quizzes in outline order.
    videos: list[VideoProgressItem]
    quizzes: list[QuizProgressItem]


class RosterUser(Output):
    model_config = example({"id": ex.USER_ID, "display_name": "Ada", "email": None})

    id: uuid.UUID
    display_name: str
    # Administrators only; null for the course's instructor (a learner's address is not
    # theirs to see).
    email: str | None


class RosterEntryOut(Output):
    """One learner of the course, as its instructor sees them."""

    model_config = example(
        {
            "enrollment_id": ex.ENROLLMENT_ID,
            "user": {"id": ex.USER_ID, "display_name": "Ada", "email": None},
            "status": "active",
            "enrolled_at": ex.CREATED,
            "completed_at": None,
            "percent": 40.0,
            "last_activity_at": ex.UPDATED,
        }
    )

    enrollment_id: uuid.UUID
    user: RosterUser
    status: EnrollmentStatus
    enrolled_at: datetime
    completed_at: datetime | None
    percent: float
    # the learner's last heartbeat in the course, or their enrolment when later
    last_activity_at: datetime
