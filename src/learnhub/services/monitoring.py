"""Gauges for `/metrics` and the audit completeness check behind one of them (SPEC 8).

The outbox backlog is counted at every scrape (one COUNT over a partial index). Audit
completeness is expensive to establish, so the API never computes it: `learnhub audit watch`
(a separate process; `learnhub serve` starts one next to the server) checks incrementally from
a checkpoint and stores the result, and a scrape reads that one row.

A monitoring read never fails its caller: a database error is logged and the gauge keeps its
last value, so `/metrics` answers while the database is down and shows the last known state.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learnhub.db.uow import UnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.metrics import AUDIT_CHECKED_AT, AUDIT_COMPLETENESS, OUTBOX_BACKLOG
from learnhub.models.monitoring import AuditCheckpoint
from learnhub.repositories.audit import AuditLogRepository
from learnhub.repositories.audit_check import (
    CHECKPOINT,
    MAX_XID_DISTANCE,
    AuditCheckRepository,
    Snapshot,
)
from learnhub.repositories.outbox import OutboxRepository
from learnhub.services.base import BaseService

log = structlog.get_logger("learnhub.monitoring")

# A scrape waits at most this long for the backlog count before showing the last value.
BACKLOG_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class AuditCheckResult:
    full: bool
    rows_checked: int
    gap_entities: int
    rows_replayed: int
    entities_rechecked: int

    @property
    def completeness_ratio(self) -> float:
        # As `learnhub audit verify` computes it: entities with a gap over rows checked.
        if self.rows_checked == 0:
            return 1.0
        return max(0.0, 1.0 - self.gap_entities / self.rows_checked)


class MonitoringService(BaseService):
    async def outbox_backlog(self) -> int:
        return await self.uow.repo(OutboxRepository).backlog()

    async def audit_completeness(self) -> tuple[float, float] | None:
        """(ratio, when checked) as the last check stored it; None before any check."""
        return await self.uow.repo(AuditCheckRepository).completeness()

    async def check_audit(self, *, full: bool = False) -> AuditCheckResult:
        """Check audit completeness from the checkpoint and store the result.

        Incremental on PostgreSQL: only entities written (row or trail) since the checkpoint
        are replayed and compared, so the cost follows what changed. A full replay on the
        first run, with `full`, on SQLite, and when the checkpoint is too old to compare
        transaction ids with. Rows deleted by raw SQL (no trail entry, no row left) are found
        by full replays only (`learnhub audit verify`, `learnhub audit watch --full`)."""
        checks = self.uow.repo(AuditCheckRepository)
        now = await checks.snapshot()
        stored = await checks.checkpoint()
        previous = None
        if stored is not None and stored.position is not None and stored.snapshot:
            previous = Snapshot(stored.position, stored.position, stored.snapshot)
        incremental = (
            not full
            and now is not None
            and previous is not None
            and 0 <= now.xmin - previous.xmin < MAX_XID_DISTANCE
        )
        if incremental:
            assert now is not None and previous is not None
            changed = await checks.changed_since(previous, now)
            replayed, gaps = await checks.recheck(changed)
            gap_entities = await checks.replace_gaps(gaps, within=changed)
            rows = await checks.count_rows()
            rechecked = sum(len(ids) for ids in changed.values())
        else:
            rows, gaps = await self.uow.repo(AuditLogRepository).verify()
            gap_entities = await checks.replace_gaps(gaps, within=None)
            replayed = await checks.count_trail()
            rechecked = rows
        result = AuditCheckResult(
            full=not incremental,
            rows_checked=rows,
            gap_entities=gap_entities,
            rows_replayed=replayed,
            entities_rechecked=rechecked,
        )
        await checks.save(
            AuditCheckpoint(
                name=CHECKPOINT,
                position=None if now is None else now.xmin,
                snapshot=None if now is None else now.text,
                rows_checked=rows,
                gap_entities=gap_entities,
                completeness_ratio=result.completeness_ratio,
                rows_replayed=replayed,
                entities_rechecked=rechecked,
                full=result.full,
                checked_at=utc_now(),
            )
        )
        return result


async def refresh_outbox_backlog(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Set the backlog gauge from one COUNT over the unpublished-rows index."""
    try:
        async with asyncio.timeout(BACKLOG_TIMEOUT_SECONDS), UnitOfWork(session_factory) as uow:
            backlog = await MonitoringService(uow).outbox_backlog()
    except Exception:
        log.exception("outbox_backlog_failed")
        return
    OUTBOX_BACKLOG.set(backlog)


async def refresh_audit_completeness(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Set the completeness gauge from the last stored check (one primary-key read); NaN
    until `learnhub audit watch` has checked once."""
    try:
        async with (
            asyncio.timeout(BACKLOG_TIMEOUT_SECONDS),
            UnitOfWork(session_factory, read_only=True) as uow,
        ):
            stored = await MonitoringService(uow).audit_completeness()
    except Exception:
        log.exception("audit_completeness_read_failed")
        return
    ratio, checked_at = stored if stored is not None else (math.nan, math.nan)
    AUDIT_COMPLETENESS.set(ratio)
    AUDIT_CHECKED_AT.set(checked_at)
