from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import PersonalData
from learnhub.domain.ids import new_id
from learnhub.models.base import Base, VersionedModel, col_info
from learnhub.models.types import UTCDateTime

if TYPE_CHECKING:
    from learnhub.models.user.user import User


class UserSession(VersionedModel):
    """One login. Refresh tokens are stored only as hashes; each refresh rotates the token
    (the version column makes concurrent rotations of one token fail but one)."""

    __tablename__ = "user_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=col_info(PersonalData.DELETE),
    )
    refresh_token_hash: Mapped[str] = mapped_column(
        String(128), unique=True, info=col_info(PersonalData.DELETE, secret=True)
    )
    # The token this one replaced: presenting it again means it was stolen (reuse detection).
    previous_token_hash: Mapped[str | None] = mapped_column(
        String(128), index=True, info=col_info(PersonalData.DELETE, secret=True)
    )
    user_agent: Mapped[str | None] = mapped_column(String(512), info=col_info(PersonalData.DELETE))
    ip_address: Mapped[str | None] = mapped_column(String(45), info=col_info(PersonalData.DELETE))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, info=col_info())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    revoked_reason: Mapped[str | None] = mapped_column(String(32), info=col_info())

    user: Mapped[User] = relationship(
        back_populates="sessions", lazy="raise", foreign_keys=[user_id]
    )


class UserActivity(Base):
    """Append-only learner activity: a log, not an entity (no soft delete, no audit rows)."""

    __tablename__ = "user_activity"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id, info=col_info())
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), info=col_info(PersonalData.DELETE)
    )
    type: Mapped[str] = mapped_column(String(64), info=col_info(PersonalData.DELETE))
    subject_type: Mapped[str | None] = mapped_column(String(64), info=col_info(PersonalData.DELETE))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, info=col_info(PersonalData.DELETE))
    # Part of the key: on PostgreSQL the log is partitioned by month on it (revision 0019).
    occurred_at: Mapped[datetime] = mapped_column(
        UTCDateTime, primary_key=True, default=utc_now, info=col_info(PersonalData.DELETE)
    )
    # Free-form by nature and kept small by the service (a few keys, short values).
    details: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSON, default=dict, info=col_info(PersonalData.DELETE)
    )

    # PostgreSQL: one partition a month (`learnhub.db.partitions`); SQLite: a plain table.
    __table_args__ = ({"postgresql_partition_by": "RANGE (occurred_at)"},)


class LoginFailure(Base):
    """A failed login, for throttling by account and by address (a log, kept briefly)."""

    __tablename__ = "login_failures"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id, info=col_info())
    email: Mapped[str] = mapped_column(String(254), info=col_info(PersonalData.DELETE))
    ip_address: Mapped[str | None] = mapped_column(String(45), info=col_info(PersonalData.DELETE))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, info=col_info())

    __table_args__ = (
        Index("ix_login_failures_email_occurred", "email", "occurred_at"),
        Index("ix_login_failures_ip_occurred", "ip_address", "occurred_at"),
    )


# A learner's activity, newest first (SPEC 5: indexed by (user_id, occurred_at DESC)).
Index("ix_user_activity_user_occurred", UserActivity.user_id, UserActivity.occurred_at.desc())
