from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import PersonalData
from learnhub.models.base import SERVER_NOW, Base, BaseModel, col_info
from learnhub.models.types import UTCDateTime

NOT_DELETED = text("deleted_at IS NULL")

user_roles = Table(
    "user_roles",
    Base.metadata,
    Column(
        "user_id",
        Uuid,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=col_info(PersonalData.DELETE),
    ),
    Column(
        "role_id",
        Uuid,
        ForeignKey("roles.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
        info=col_info(PersonalData.DELETE),
    ),
    Column(
        "assigned_at",
        UTCDateTime,
        nullable=False,
        default=utc_now,
        server_default=SERVER_NOW,
        info=col_info(PersonalData.DELETE),
    ),
)

role_permissions = Table(
    "role_permissions",
    Base.metadata,
    Column(
        "role_id",
        Uuid,
        ForeignKey("roles.id", ondelete="CASCADE"),
        primary_key=True,
        info=col_info(),
    ),
    Column(
        "permission_id",
        Uuid,
        ForeignKey("permissions.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
        info=col_info(),
    ),
)


class Permission(BaseModel):
    __tablename__ = "permissions"

    code: Mapped[str] = mapped_column(String(64), info=col_info())  # e.g. "courses:write"
    description: Mapped[str] = mapped_column(String(255), default="", info=col_info())

    __table_args__ = (
        Index(
            "uq_permissions_code_live",
            "code",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
    )


class Role(BaseModel):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(64), info=col_info())
    description: Mapped[str] = mapped_column(String(255), default="", info=col_info())

    permissions: Mapped[list[Permission]] = relationship(
        secondary=role_permissions, lazy="raise", order_by=Permission.code
    )

    __table_args__ = (
        Index(
            "uq_roles_name_live",
            "name",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
    )
