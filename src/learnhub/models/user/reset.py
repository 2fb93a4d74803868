from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.domain.enums import PersonalData
from learnhub.models.base import VersionedModel, col_info
from learnhub.models.types import UTCDateTime


class PasswordResetToken(VersionedModel):
    """A one-time password reset token. Only its SHA-256 hash is stored; it ends when used,
    when a newer one is asked for, or when the password changes (`ended_at`, `ended_reason`),
    and is refused after `expires_at`. Ending it is one conditional UPDATE, so of two
    confirmations racing with the same token exactly one wins."""

    __tablename__ = "password_reset_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("users.id", ondelete="CASCADE"),
        info=col_info(PersonalData.DELETE),
    )
    token_hash: Mapped[str] = mapped_column(
        String(128), unique=True, info=col_info(PersonalData.DELETE, secret=True)
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, info=col_info())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    # "used", "superseded" (a newer token was asked for), "password_changed".
    ended_reason: Mapped[str | None] = mapped_column(String(32), info=col_info())


# Pending tokens of a user, the newest first (supersede on a new request, rate limit).
Index(
    "ix_password_reset_tokens_user_created",
    PasswordResetToken.user_id,
    PasswordResetToken.created_at,
)
