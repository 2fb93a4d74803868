"""What `learnhub audit watch` leaves for `/metrics`: the audit completeness check's
checkpoint and result, and the gaps it currently knows of. Monitoring state, not entities:
not audited, no soft delete."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.models.base import Base, col_info
from learnhub.models.types import UTCDateTime


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    name: Mapped[str] = mapped_column(String(32), primary_key=True, info=col_info())
    # PostgreSQL: the oldest transaction still running when the last check read (the xmin of
    # its snapshot, as xid8); rows written by it or later are checked again next time.
    # NULL: the next check replays the whole trail (first run, SQLite).
    position: Mapped[int | None] = mapped_column(BigInteger, info=col_info())
    # ...and that snapshot (pg_snapshot text): a row is compared again only if the
    # transaction that wrote it was not visible to the last check.
    snapshot: Mapped[str | None] = mapped_column(Text, info=col_info())
    rows_checked: Mapped[int] = mapped_column(BigInteger, info=col_info())
    gap_entities: Mapped[int] = mapped_column(Integer, info=col_info())
    completeness_ratio: Mapped[float] = mapped_column(Float, info=col_info())
    # What the last run cost: audit rows it replayed, entities it compared.
    rows_replayed: Mapped[int] = mapped_column(BigInteger, info=col_info())
    entities_rechecked: Mapped[int] = mapped_column(BigInteger, info=col_info())
    full: Mapped[bool] = mapped_column(Boolean, info=col_info())
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, info=col_info())


class AuditCheckGap(Base):
    __tablename__ = "audit_check_gaps"

    entity_type: Mapped[str] = mapped_column(String(64), primary_key=True, info=col_info())
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, info=col_info())
    problem: Mapped[str] = mapped_column(String(1000), info=col_info())
