from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.domain.enums import PersonalData, ReviewStatus
from learnhub.models.base import VersionedModel, col_info
from learnhub.models.types import enum_column

NOT_DELETED = text("deleted_at IS NULL")


class Review(VersionedModel):
    """One learner's review of a course. Only published reviews count towards the course's
    rating, rating_count and histogram, which move by atomic updates in the same transaction."""

    __tablename__ = "reviews"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), info=col_info(PersonalData.DELETE)
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="CASCADE"), info=col_info()
    )
    rating: Mapped[int] = mapped_column(SmallInteger, info=col_info(PersonalData.DELETE))
    body: Mapped[str] = mapped_column(Text, default="", info=col_info(PersonalData.DELETE))
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus, "review_status"),
        default=ReviewStatus.PUBLISHED,
        info=col_info(),
    )

    __table_args__ = (
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
        Index(
            "uq_reviews_user_course_live",
            "user_id",
            "course_id",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
        # A course's published reviews, newest first (and the course_id foreign key).
        Index("ix_reviews_course_status_created", "course_id", "status", "created_at"),
    )
