from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.enums import PersonalData
from learnhub.models.base import AuditableModel, Base, col_info
from learnhub.models.types import UTCDateTime

NOT_DELETED = text("deleted_at IS NULL")


class VideoProgress(AuditableModel):
    """One learner's progress in one video. Heartbeats change position and the watched
    union often; those columns are not audited (the audit records creation and completion)."""

    __tablename__ = "video_progress"
    __soft_delete_cascade__: ClassVar[tuple[str, ...]] = ()

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), info=col_info(PersonalData.DELETE)
    )
    video_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("videos.id", ondelete="CASCADE"), index=True, info=col_info()
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="CASCADE"), index=True, info=col_info()
    )
    position_seconds: Mapped[float] = mapped_column(
        Float, default=0.0, info=col_info(PersonalData.DELETE, audited=False)
    )
    # Credited watch time: the claim below, up to the real-time budget (services.learning).
    watched_seconds: Mapped[float] = mapped_column(
        Float, default=0.0, info=col_info(PersonalData.DELETE, audited=False)
    )
    # The length of the stored union of played segments, credited or not yet (rows from
    # before this column: 0, their union was all credited).
    claimed_seconds: Mapped[float] = mapped_column(
        Float,
        default=0.0,
        server_default=text("0"),
        info=col_info(PersonalData.DELETE, audited=False),
    )
    completed: Mapped[bool] = mapped_column(Boolean, default=False, info=col_info())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info=col_info(PersonalData.DELETE, audited=False)
    )
    # Where the credit budget starts; set with the row (rows from before it: NULL, their
    # created_at is used, the time of their first heartbeat).
    first_heartbeat_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info=col_info(PersonalData.DELETE, audited=False)
    )

    segments: Mapped[list[WatchedSegment]] = relationship(
        lazy="raise",
        order_by="WatchedSegment.start_seconds",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        CheckConstraint(
            "position_seconds >= 0 AND watched_seconds >= 0", name="progress_not_negative"
        ),
        CheckConstraint("NOT completed OR completed_at IS NOT NULL", name="completed_has_date"),
        Index(
            "uq_video_progress_user_video_live",
            "user_id",
            "video_id",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
        # SPEC 6: video_progress(completed, user_id).
        Index("ix_video_progress_completed_user", "completed", "user_id"),
        Index("ix_video_progress_user_course", "user_id", "course_id"),
    )


class WatchedSegment(Base):
    """One interval of the union of what a learner played (merged, never overlapping)."""

    __tablename__ = "video_progress_segments"

    progress_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("video_progress.id", ondelete="CASCADE"),
        primary_key=True,
        info=col_info(PersonalData.DELETE),
    )
    start_seconds: Mapped[float] = mapped_column(
        Float, primary_key=True, info=col_info(PersonalData.DELETE)
    )
    end_seconds: Mapped[float] = mapped_column(Float, info=col_info(PersonalData.DELETE))

    __table_args__ = (
        CheckConstraint(
            "start_seconds >= 0 AND end_seconds > start_seconds", name="segment_ordered"
        ),
    )
