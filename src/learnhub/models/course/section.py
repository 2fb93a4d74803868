from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.models.base import VersionedModel, col_info

if TYPE_CHECKING:
    from learnhub.models.course.quiz import Quiz
    from learnhub.models.course.video import Video

NOT_DELETED = text("deleted_at IS NULL")


class Section(VersionedModel):
    """An ordered part of a course; owns its videos and quizzes."""

    __tablename__ = "sections"
    __soft_delete_cascade__: ClassVar[tuple[str, ...]] = ("videos", "quizzes")

    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="CASCADE"), info=col_info()
    )
    title: Mapped[str] = mapped_column(String(200), info=col_info())
    position: Mapped[int] = mapped_column(Integer, info=col_info())

    videos: Mapped[list[Video]] = relationship(
        lazy="raise",
        order_by="Video.position",
        passive_deletes=True,
        foreign_keys="Video.section_id",
    )
    quizzes: Mapped[list[Quiz]] = relationship(
        lazy="raise",
        order_by="Quiz.position",
        passive_deletes=True,
        foreign_keys="Quiz.section_id",
    )

    __table_args__ = (
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        # Also serves "sections of a course in order" and the course_id foreign key.
        Index(
            "uq_sections_course_position_live",
            "course_id",
            "position",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
        Index("ix_sections_course_id", "course_id"),
    )
