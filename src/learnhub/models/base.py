"""Declarative base, mixins and the three entity base classes.

Models hold columns, relationships and constraints only. Every column carries an
`info` entry saying what erasing a user does to it (see `PersonalData`); secrets are
marked so the audit trail redacts them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Integer, MetaData, Uuid, event, text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import PersonalData
from learnhub.domain.ids import new_id
from learnhub.models.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Rows inserted outside the ORM (COPY, raw SQL) still get a timestamp.
SERVER_NOW = text("CURRENT_TIMESTAMP")


def col_info(
    personal: PersonalData = PersonalData.NONE, *, secret: bool = False, audited: bool = True
) -> dict[str, Any]:
    """Column metadata read by the audit trail and the erasure path."""
    return {"personal_data": personal, "secret": secret, "audited": audited}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id, info=col_info())


class TimestampMixin:
    # Set in Python so values are exact to the microsecond on both databases and never need
    # a refresh round trip; the server default covers rows written outside the ORM.
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        nullable=False,
        default=utc_now,
        server_default=SERVER_NOW,
        info=col_info(audited=False),
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime,
        nullable=False,
        default=utc_now,
        onupdate=utc_now,
        server_default=SERVER_NOW,
        info=col_info(audited=False),
    )


def _actor_fk() -> ForeignKey:
    # The actor's row may be erased; the reference then becomes NULL, never an orphan.
    return ForeignKey("users.id", ondelete="SET NULL")


class SoftDeleteMixin:
    """Rows with `deleted_at` set are hidden from every ORM query (see db.soft_delete).

    `delete_batch_id` ties a parent to the children a cascading soft delete took with it,
    so a restore brings back exactly those.
    """

    # Owned child relationships that follow the parent into soft delete and back.
    __soft_delete_cascade__: ClassVar[tuple[str, ...]] = ()

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())

    @declared_attr
    def deleted_by(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(Uuid, _actor_fk(), index=True, info=col_info(PersonalData.KEEP))

    delete_batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, info=col_info())


class AuditActorMixin:
    @declared_attr
    def created_by(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(Uuid, _actor_fk(), index=True, info=col_info(PersonalData.KEEP))

    @declared_attr
    def updated_by(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(Uuid, _actor_fk(), index=True, info=col_info(PersonalData.KEEP))


class BaseModel(Base, IdMixin, TimestampMixin, SoftDeleteMixin):
    """Every entity: UUIDv7 id, timestamps, soft delete. Audited on every write."""

    __abstract__ = True


class AuditableModel(BaseModel, AuditActorMixin):
    """An entity that also records who created and last changed it."""

    __abstract__ = True


class VersionedModel(AuditableModel):
    """An entity edited concurrently: `version` guards every UPDATE (optimistic locking)."""

    __abstract__ = True

    version: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("1"), info=col_info(audited=False)
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


@event.listens_for(IdMixin, "init", propagate=True)
def _assign_id(target: IdMixin, args: Any, kwargs: dict[str, Any]) -> None:
    # The id exists from construction on, so events and audit rows can name it pre-flush.
    if kwargs.get("id") is None:
        kwargs["id"] = new_id()
