from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.enums import PersonalData, ReviewStatus
from learnhub.models.base import VersionedModel, col_info
from learnhub.models.types import enum_column

if TYPE_CHECKING:
    from learnhub.models.user.user import User

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

    # Read only, for showing the author's name: loaded by a join (repositories.learning);
    # a soft-deleted author is filtered out of the join (None).
    author: Mapped[User | None] = relationship(
        "User", lazy="raise", viewonly=True, foreign_keys=[user_id]
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
