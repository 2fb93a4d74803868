from __future__ import annotations

import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.models.base import VersionedModel, col_info

NOT_DELETED = text("deleted_at IS NULL")


class Video(VersionedModel):
    __tablename__ = "videos"

    # The course id is denormalised from the section so course-wide queries (progress,
    # publish checks) need no join; the section's course never changes.
    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="CASCADE"), index=True, info=col_info()
    )
    section_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sections.id", ondelete="CASCADE"), info=col_info()
    )
    title: Mapped[str] = mapped_column(String(200), info=col_info())
    url: Mapped[str] = mapped_column(String(2000), info=col_info())
    duration_seconds: Mapped[int] = mapped_column(Integer, info=col_info())
    position: Mapped[int] = mapped_column(Integer, info=col_info())
    transcript: Mapped[str] = mapped_column(Text, default="", info=col_info())
    # A free preview: its url and transcript are shown to everyone who may see the outline.
    is_preview: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), info=col_info()
    )

    __table_args__ = (
        CheckConstraint("duration_seconds > 0", name="duration_positive"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        Index(
            "uq_videos_section_position_live",
            "section_id",
            "position",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
        Index("ix_videos_section_id", "section_id"),
    )
