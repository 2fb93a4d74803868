from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import EnrollmentStatus, PersonalData
from learnhub.models.base import VersionedModel, col_info
from learnhub.models.types import UTCDateTime, enum_column

NOT_DELETED = text("deleted_at IS NULL")


class Enrollment(VersionedModel):
    """A learner in a course, with the course progress kept on the same row (updated in the
    transaction that completes a video or passes a quiz)."""

    __tablename__ = "enrollments"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), info=col_info(PersonalData.DELETE)
    )
    # RESTRICT: learning history must survive; a course with learners is archived, not erased.
    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="RESTRICT"), info=col_info()
    )
    status: Mapped[EnrollmentStatus] = mapped_column(
        enum_column(EnrollmentStatus, "enrollment_status"),
        default=EnrollmentStatus.ACTIVE,
        info=col_info(),
    )
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, info=col_info())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    # Progress counters, maintained by the system (no version bump, not audited per change).
    completed_videos: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info(audited=False)
    )
    passed_quizzes: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info(audited=False)
    )

    __table_args__ = (
        CheckConstraint(
            "completed_videos >= 0 AND passed_quizzes >= 0", name="progress_not_negative"
        ),
        CheckConstraint(
            "status <> 'completed' OR completed_at IS NOT NULL", name="completed_has_date"
        ),
        # One enrolment per learner and course among live rows; it also serves
        # "my enrollments" (leading user_id) and the user_id foreign key.
        Index(
            "uq_enrollments_user_course_live",
            "user_id",
            "course_id",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
        Index("ix_enrollments_user_id", "user_id"),
        Index("ix_enrollments_course_id", "course_id"),
        # A course's roster, newest first, in keyset pages: one range of this index per page.
        Index(
            "ix_enrollments_course_enrolled_live",
            "course_id",
            "enrolled_at",
            "id",
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
    )
