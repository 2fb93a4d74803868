"""Transactional outbox: domain events written with the change that caused them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.domain.clock import utc_now
from learnhub.models.base import SERVER_NOW, Base, col_info
from learnhub.models.types import UTCDateTime

UNPUBLISHED = text("published_at IS NULL")
UNHANDLED = text("handled_at IS NULL")


class OutboxMessage(Base):
    __tablename__ = "outbox"

    # Insertion order; per-aggregate order is by this position.
    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
        info=col_info(),
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, info=col_info())
    event_type: Mapped[str] = mapped_column(String(64), info=col_info())
    aggregate_type: Mapped[str] = mapped_column(String(64), info=col_info())
    aggregate_id: Mapped[uuid.UUID] = mapped_column(Uuid, info=col_info())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, info=col_info())
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, info=col_info())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, server_default=SERVER_NOW, info=col_info()
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    attempts: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info()
    )
    last_error: Mapped[str | None] = mapped_column(Text, info=col_info())
    # When in-process handlers were done with the event; set at insert when it has none.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())

    __table_args__ = (
        # The relay's hot query: the unpublished rows in order.
        Index(
            "ix_outbox_unpublished",
            "position",
            postgresql_where=UNPUBLISHED,
            sqlite_where=UNPUBLISHED,
        ),
        Index("ix_outbox_aggregate", "aggregate_type", "aggregate_id", "position"),
        # The handler retrier's query: the (few) unhandled rows in order.
        Index(
            "ix_outbox_unhandled",
            "position",
            postgresql_where=UNHANDLED,
            sqlite_where=UNHANDLED,
        ),
    )
