from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from learnhub.domain.enums import AuditAction
from learnhub.domain.errors import InvalidValue
from learnhub.domain.permissions import AUDIT_READ
from learnhub.domain.principal import Principal
from learnhub.models.audit import AuditLog
from learnhub.repositories.audit import ArchivedEntry, AuditGap, AuditLogRepository
from learnhub.repositories.filters import (
    CursorPagination,
    Eq,
    Filter,
    LessThan,
    Page,
    Range,
    Sort,
    decode_cursor,
    encode_cursor,
)
from learnhub.services.base import BaseService
from learnhub.services.course import CourseService

READ = AUDIT_READ
# A course's history, newest first (ties by id, which the cursor names too).
HISTORY_SORT = Sort("history", AuditLog.occurred_at, descending=True)


@dataclass(frozen=True, slots=True)
class AuditReport:
    rows_checked: int
    gaps: list[AuditGap]

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def completeness_ratio(self) -> float:
        if self.rows_checked == 0:
            return 1.0
        broken = len({(g.entity_type, g.entity_id) for g in self.gaps})
        return max(0.0, 1.0 - broken / self.rows_checked)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What `GET /audit` filters on; every field given must match. The time window is
    half-open: `occurred_after` inclusive, `occurred_before` exclusive, so consecutive
    windows neither overlap nor miss an entry."""

    entity_type: str | None = None
    entity_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    action: AuditAction | None = None
    # Everything one request changed (the id the request middleware logs and answers with).
    request_id: str | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None

    def filters(self) -> list[Filter]:
        after, before = self.occurred_after, self.occurred_before
        if after is not None and before is not None and after > before:
            raise InvalidValue("occurred_after must not be later than occurred_before")
        filters: list[Filter] = [
            Eq(field, value)
            for field, value in (
                (AuditLog.entity_type, self.entity_type),
                (AuditLog.entity_id, self.entity_id),
                (AuditLog.actor_id, self.actor_id),
                (AuditLog.action, self.action),
                (AuditLog.request_id, self.request_id),
            )
            if value is not None
        ]
        if after is not None:
            filters.append(Range(AuditLog.occurred_at, minimum=after))
        if before is not None:
            filters.append(LessThan(AuditLog.occurred_at, before))
        return filters


class AuditService(BaseService):
    async def course_history(
        self, principal: Principal, course_id: uuid.UUID, pagination: CursorPagination
    ) -> Page[AuditLog]:
        """The audit trail of a course and its content, a page at a time (its instructor and
        admins: `CourseService.history` checks). A malformed cursor is refused first."""
        cursor, limit = pagination.cursor, pagination.limit
        before = decode_cursor(cursor, HISTORY_SORT) if cursor else None
        entries = await CourseService(self.uow).history(principal, course_id, limit + 1, before)
        page, more = entries[:limit], len(entries) > limit
        last = page[-1] if more else None
        next_cursor = encode_cursor(HISTORY_SORT, last.occurred_at, last.id) if last else None
        return Page(items=page, next_cursor=next_cursor)

    async def verify(self, archived: Sequence[ArchivedEntry] = ()) -> AuditReport:
        """Replay the trail, the live table and the `archived` entries (archive files of
        detached partitions) together, and compare it with the rows."""
        checked, gaps = await self.uow.repo(AuditLogRepository).verify(archived)
        return AuditReport(rows_checked=checked, gaps=gaps)

    def check_reader(self, principal: Principal) -> None:
        """Refuse, before anything else, a caller who may not read the trail (a page checks
        this before it offers its filters)."""
        principal.require(READ)

    async def search(
        self, principal: Principal, query: AuditQuery, pagination: CursorPagination
    ) -> Page[AuditLog]:
        """The audit trail, for holders of `audit:read` (the admins)."""
        principal.require(READ)
        return await self.uow.repo(AuditLogRepository).search(query.filters(), pagination)
