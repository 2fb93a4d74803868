from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import PersonalData
from learnhub.domain.ids import new_id
from learnhub.models.base import Base, col_info
from learnhub.models.types import UTCDateTime


class LearnerStats(Base):
    """One learner's totals: a read model derived from enrollments, video progress and quiz
    attempts, recomputed from them for that learner by an event handler after each change.

    Not an entity (no soft delete, no audit rows): every value can be rebuilt from the
    audited sources, and the row goes with the user."""

    __tablename__ = "learner_stats"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id, info=col_info())
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("users.id", ondelete="CASCADE"),
        unique=True,
        info=col_info(PersonalData.DELETE),
    )
    # Courses the learner is in (active or completed), and completed ones.
    enrolled_courses: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info(PersonalData.DELETE)
    )
    completed_courses: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info(PersonalData.DELETE)
    )
    completed_videos: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info(PersonalData.DELETE)
    )
    # Distinct quizzes with at least one passed attempt.
    passed_quizzes: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info(PersonalData.DELETE)
    )
    last_activity_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info=col_info(PersonalData.DELETE)
    )
    refreshed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, info=col_info(PersonalData.DELETE)
    )

    __table_args__ = (
        CheckConstraint(
            "enrolled_courses >= 0 AND completed_courses >= 0 AND completed_videos >= 0"
            " AND passed_quizzes >= 0",
            name="counts_not_negative",
        ),
    )
