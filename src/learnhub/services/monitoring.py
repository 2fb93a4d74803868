"""Gauges the API process keeps fresh: the outbox backlog (cheap, refreshed on every scrape)
and audit completeness (expensive, refreshed by a background task).

A monitoring read never fails its caller: a database error is logged and the gauge keeps its
last value, so `/metrics` answers while the database is down and shows the last known state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learnhub.db.engine import READ_ONLY, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.metrics import AUDIT_COMPLETENESS, OUTBOX_BACKLOG
from learnhub.repositories.outbox import OutboxRepository
from learnhub.services.audit import AuditReport, AuditService
from learnhub.services.base import BaseService

log = structlog.get_logger("learnhub.monitoring")

# A scrape waits at most this long for the backlog count before showing the last value.
BACKLOG_TIMEOUT_SECONDS = 2.0
# The first audit check runs this soon after start-up (or after one interval, if shorter).
FIRST_AUDIT_CHECK_DELAY_SECONDS = 5.0


class MonitoringService(BaseService):
    async def outbox_backlog(self) -> int:
        return await self.uow.repo(OutboxRepository).backlog()

    async def audit(self) -> AuditReport:
        return await AuditService(self.uow).verify()


async def refresh_outbox_backlog(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """Set the backlog gauge from one COUNT over the unpublished-rows index."""
    try:
        async with asyncio.timeout(BACKLOG_TIMEOUT_SECONDS), UnitOfWork(session_factory) as uow:
            backlog = await MonitoringService(uow).outbox_backlog()
    except Exception:
        log.exception("outbox_backlog_failed")
        return
    OUTBOX_BACKLOG.set(backlog)


async def check_audit_completeness(engine: AsyncEngine) -> AuditReport:
    """Replay the audit trail (`learnhub audit verify`) and set the completeness gauge.

    The replay only reads: on SQLite its transaction begins DEFERRED, so a check that takes a
    while never holds the writer lock."""
    factory = create_session_factory(engine.execution_options(**{READ_ONLY: True}))
    async with UnitOfWork(factory) as uow:
        report = await MonitoringService(uow).audit()
    AUDIT_COMPLETENESS.set(report.completeness_ratio)
    log.info(
        "audit_check",
        rows_checked=report.rows_checked,
        gaps=len(report.gaps),
        completeness=round(report.completeness_ratio, 6),
    )
    return report


async def audit_check_loop(engine: Callable[[], AsyncEngine], interval_seconds: float) -> None:
    """Check audit completeness every `interval_seconds` until cancelled; a failed check is
    logged and retried at the next interval. `engine` is looked up at every run, so it always
    checks the database the application currently serves."""
    await asyncio.sleep(min(interval_seconds, FIRST_AUDIT_CHECK_DELAY_SECONDS))
    while True:
        try:
            await check_audit_completeness(engine())
        except Exception:
            log.exception("audit_check_failed")
        await asyncio.sleep(interval_seconds)
