"""`learnhub audit watch`: the audit completeness check, run outside the API workers (SPEC 8),
each run one committed transaction; `/metrics` reads the stored result."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.engine import create_session_factory
from learnhub.db.partitions import ensure_partitions
from learnhub.db.uow import UnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.services.monitoring import AuditCheckResult, MonitoringService

log = structlog.get_logger("learnhub.monitoring")


async def run_audit_check(engine: AsyncEngine, *, full: bool = False) -> AuditCheckResult:
    """One check in its own transaction (REPEATABLE READ on PostgreSQL: the snapshot the
    checkpoint position comes from is the one every read sees), committed."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    started = time.perf_counter()
    async with UnitOfWork(create_session_factory(engine)) as uow:
        result = await MonitoringService(uow).check_audit(full=full)
        await uow.commit()
    log.info(
        "audit_check",
        full=result.full,
        rows_checked=result.rows_checked,
        rows_replayed=result.rows_replayed,
        entities_rechecked=result.entities_rechecked,
        gap_entities=result.gap_entities,
        completeness=round(result.completeness_ratio, 6),
        seconds=round(time.perf_counter() - started, 3),
    )
    return result


async def run_partition_maintenance(engine: AsyncEngine) -> None:
    """The months ahead of the partitioned history tables (PostgreSQL), every round: a
    catalog read when they exist, so nobody has to remember a month. A failure (a lock not
    granted in time) is logged and tried again next round; the months are made well ahead."""
    try:
        result = await ensure_partitions(engine, utc_now())
    except Exception:
        log.exception("partition_maintenance_failed")
        return
    if result.created:
        log.info("partitions_created", partitions=result.created)
    if result.blocked:
        log.error("partitions_blocked_by_default_rows", partitions=result.blocked)


async def audit_watch_loop(
    engine: AsyncEngine, interval_seconds: float, stop: asyncio.Event, *, full_first: bool = False
) -> None:
    """Check every `interval_seconds` until `stop` is set; a failed check is logged and
    tried again at the next interval."""
    full = full_first
    while not stop.is_set():
        await run_partition_maintenance(engine)
        try:
            await run_audit_check(engine, full=full)
            full = False
        except Exception:
            log.exception("audit_check_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
