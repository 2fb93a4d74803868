from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.enums import PersonalData, UserStatus
from learnhub.models.base import VersionedModel, col_info
from learnhub.models.types import UTCDateTime, enum_column
from learnhub.models.user.role import user_roles

if TYPE_CHECKING:
    from learnhub.models.user.role import Role
    from learnhub.models.user.session import UserSession

NOT_DELETED = text("deleted_at IS NULL")


class User(VersionedModel):
    __tablename__ = "users"
    __soft_delete_cascade__: ClassVar[tuple[str, ...]] = ("sessions",)

    # Stored normalised (value object Email); the CHECK makes case-insensitivity a database fact.
    email: Mapped[str] = mapped_column(String(254), info=col_info(PersonalData.ANONYMISE))
    display_name: Mapped[str] = mapped_column(String(100), info=col_info(PersonalData.ANONYMISE))
    password_hash: Mapped[str] = mapped_column(
        String(255), info=col_info(PersonalData.ANONYMISE, secret=True)
    )
    status: Mapped[UserStatus] = mapped_column(
        enum_column(UserStatus, "user_status"), default=UserStatus.ACTIVE, info=col_info()
    )
    last_login_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info=col_info(PersonalData.ANONYMISE, audited=False)
    )

    roles: Mapped[list[Role]] = relationship(
        secondary=user_roles, lazy="raise", order_by="Role.name"
    )
    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user",
        lazy="raise",
        passive_deletes=True,
        foreign_keys="UserSession.user_id",
    )

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("length(display_name) > 0", name="display_name_not_empty"),
        Index(
            "uq_users_email_live",
            "email",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
        Index("ix_users_email_status", "email", "status"),
    )


# Newest-first listings (SPEC 6: users(created_at DESC)).
Index("ix_users_created_at_desc", User.created_at.desc())
