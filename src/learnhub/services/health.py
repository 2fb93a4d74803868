"""The system's health as the admin console shows it (issue 17, item 4): the outbox backlog
and the audit completeness the monitoring service reads for `/metrics`, with the last check's
known gaps; the version-conflict, delete and restore counters and the slow statements this
process has recorded; and, on demand, the query plans of `learnhub db report`.

The plans are made by operations code (`ops/db_report.py`: it asks the planner, so it may not
live in services/, and the served app may not import it): a composition root hands it in as
a `QueryPlans` callable, and without one the page says where to run the report instead."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client.metrics_core import Metric

from learnhub.db.instrumentation import RECENT_SLOW_QUERIES, SlowQuery
from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.permissions import AUDIT_READ, USERS_MANAGE
from learnhub.domain.principal import Principal
from learnhub.metrics import (
    DB_QUERY_DURATION,
    HARD_DELETES,
    RESTORES,
    SOFT_DELETES,
    families,
)
from learnhub.metrics import VERSION_CONFLICTS as CONFLICTS
from learnhub.repositories.audit_check import AuditCheckRepository
from learnhub.services.base import BaseService
from learnhub.services.monitoring import MonitoringService

GAPS_SHOWN = 50
SLOW_SHOWN = 20
TABLES_SHOWN = 10


class PlannedQuery(Protocol):
    """One row of the `db report` (`ops.db_report.QueryReport`)."""

    name: str
    summary: str
    time_ms: float | None
    timing: str
    note: str | None

    @property
    def access(self) -> str: ...


class PlanReport(Protocol):
    dialect: str

    @property
    def queries(self) -> Sequence[PlannedQuery]: ...


QueryPlans = Callable[[AbstractUnitOfWork], Awaitable[PlanReport]]


@dataclass(frozen=True, slots=True)
class AuditHealth:
    checked_at: datetime
    ratio: float
    rows_checked: int
    gap_entities: int
    full: bool
    gaps: list[tuple[str, str, str]]  # (entity type, entity id, problem), the first few


@dataclass(frozen=True, slots=True)
class TableTime:
    operation: str
    table: str
    statements: int
    total_ms: float

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.statements if self.statements else 0.0


@dataclass(frozen=True, slots=True)
class SystemHealth:
    outbox_backlog: int
    audit: AuditHealth | None  # None: `learnhub audit watch` has not checked yet
    # counter -> entity type -> count, since the server started (every worker's together)
    counters: dict[str, dict[str, int]]
    slow_queries: list[SlowQuery]  # newest first
    table_times: list[TableTime]  # the most time-consuming first
    plans: PlanReport | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def by_entity(counter: list[Metric]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for metric in counter:
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                entity = sample.labels.get("entity", "-")
                counts[entity] = counts.get(entity, 0) + int(sample.value)
    return dict(sorted(counts.items()))


def statement_times(statements: list[Metric]) -> list[TableTime]:
    totals: dict[tuple[str, str], list[float]] = {}
    for metric in statements:
        for sample in metric.samples:
            if sample.name.endswith(("_count", "_sum")):
                key = (sample.labels["operation"], sample.labels["table"])
                pair = totals.setdefault(key, [0.0, 0.0])
                pair[0 if sample.name.endswith("_count") else 1] += sample.value
    rows = [TableTime(op, table, int(c), s * 1000) for (op, table), (c, s) in totals.items() if c]
    return sorted(rows, key=lambda row: row.total_ms, reverse=True)[:TABLES_SHOWN]


class SystemHealthService(BaseService):
    def check_operator(self, caller: Principal) -> None:
        # The page shows the audit trail's gaps and statements' text: an operator's, i.e. an
        # administrator's, as the users and audit pages of the console are.
        caller.require(USERS_MANAGE)
        caller.require(AUDIT_READ)

    async def health(self, caller: Principal, plans: QueryPlans | None = None) -> SystemHealth:
        """What the health page shows; the query plans too when `plans` is given (they run
        every hot query through the planner (analysed on PostgreSQL): seconds on a big database)."""
        self.check_operator(caller)
        monitoring = MonitoringService(self.uow)
        checks = self.uow.repo(AuditCheckRepository)
        stored = await checks.checkpoint()
        audit = None
        if stored is not None:
            gaps = await checks.gaps(GAPS_SHOWN)
            audit = AuditHealth(
                checked_at=stored.checked_at,
                ratio=stored.completeness_ratio,
                rows_checked=stored.rows_checked,
                gap_entities=stored.gap_entities,
                full=stored.full,
                gaps=[(g.entity_type, str(g.entity_id), g.problem) for g in gaps],
            )
        # Every worker's files, read in a thread: the loop serves other requests meanwhile.
        shown = await asyncio.to_thread(
            families, CONFLICTS, SOFT_DELETES, HARD_DELETES, RESTORES, DB_QUERY_DURATION
        )
        counters = {
            "Version conflicts": by_entity(shown[CONFLICTS]),
            "Soft deletes": by_entity(shown[SOFT_DELETES]),
            "Hard deletes": by_entity(shown[HARD_DELETES]),
            "Restores": by_entity(shown[RESTORES]),
        }
        slow = list(reversed(RECENT_SLOW_QUERIES))[:SLOW_SHOWN]
        report: PlanReport | None = None
        if plans is not None:
            report = await plans(self.uow)
        return SystemHealth(
            outbox_backlog=await monitoring.outbox_backlog(),
            audit=audit,
            counters=counters,
            slow_queries=slow,
            table_times=statement_times(shown[DB_QUERY_DURATION]),
            plans=report,
        )
