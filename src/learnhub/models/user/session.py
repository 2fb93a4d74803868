from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.enums import PersonalData
from learnhub.models.base import BaseModel, col_info
from learnhub.models.types import UTCDateTime

if TYPE_CHECKING:
    from learnhub.models.user.user import User


class UserSession(BaseModel):
    """One login: the refresh token is stored only as a hash."""

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
    user_agent: Mapped[str | None] = mapped_column(String(512), info=col_info(PersonalData.DELETE))
    ip_address: Mapped[str | None] = mapped_column(String(45), info=col_info(PersonalData.DELETE))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, info=col_info())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())

    user: Mapped[User] = relationship(
        back_populates="sessions", lazy="raise", foreign_keys=[user_id]
    )
