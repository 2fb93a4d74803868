"""The audit trail: append-only, one row per entity change, written in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import AuditAction, PersonalData
from learnhub.models.base import SERVER_NOW, Base, col_info
from learnhub.models.types import UTCDateTime, enum_column


class AuditLog(Base):
    __tablename__ = "audit_log"

    # The key includes occurred_at: on PostgreSQL the table is partitioned by month on it
    # (revision 0019), and a partitioned table's key must hold the partition key.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, info=col_info())
    occurred_at: Mapped[datetime] = mapped_column(
        UTCDateTime, primary_key=True, default=utc_now, server_default=SERVER_NOW, info=col_info()
    )
    # No foreign key: the actor may be erased; the id stays as a pseudonymous reference.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, info=col_info(PersonalData.KEEP))
    request_id: Mapped[str | None] = mapped_column(String(64), info=col_info())
    transaction_id: Mapped[uuid.UUID] = mapped_column(Uuid, info=col_info())
    entity_type: Mapped[str] = mapped_column(String(64), info=col_info())
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid, info=col_info())
    action: Mapped[AuditAction] = mapped_column(
        enum_column(AuditAction, "audit_action"), info=col_info()
    )
    # Free-form by nature: {field: [old, new]}; personal values are erased in place (GDPR).
    changes: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, info=col_info(PersonalData.ANONYMISE)
    )

    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id", "occurred_at"),
        Index("ix_audit_log_actor", "actor_id", "occurred_at"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_transaction", "transaction_id"),
        # Everything one request changed (the admin console's request view).
        Index("ix_audit_log_request", "request_id", "occurred_at"),
        # PostgreSQL: one partition a month, made ahead by `learnhub.db.partitions`; SQLite
        # ignores this and keeps a plain table.
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )
