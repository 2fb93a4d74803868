"""The audit trail, for administrators (SPEC 7, `GET /audit`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator, AwareDatetime

from learnhub.api.deps import Caller, Limit, Uow
from learnhub.api.query_parameters import KnownQueryOnly
from learnhub.api.schemas.audit import AuditEntryOut
from learnhub.api.schemas.common import PROBLEM_RESPONSES, Cursor, PageOut
from learnhub.domain.enums import AuditAction
from learnhub.repositories.filters import CursorPagination
from learnhub.services.audit import AuditQuery, AuditService

router = APIRouter(tags=["audit"], responses=PROBLEM_RESPONSES)


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+14:00 lies before the first instant a datetime holds in UTC
        # (9999-12-31T23:59:59-14:00 after the last). The document allows any date-time, so
        # such a bound is read as the nearest one that can be held: no entry lies beyond it.
        earliest, latest = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
        return earliest if value.year == earliest.year else latest


Instant = Annotated[AwareDatetime | None, AfterValidator(lambda v: v and _in_utc(v))]


@router.get("/audit", summary="Search the audit trail", dependencies=[KnownQueryOnly])
async def audit_trail(
    caller: Caller,
    uow: Uow,
    entity_type: Annotated[
        str | None, Query(max_length=64, pattern=r"^[a-z][a-z_]*$", description="e.g. course")
    ] = None,
    entity_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    action: AuditAction | None = None,
    occurred_after: Annotated[Instant, Query(description="inclusive, with a UTC offset")] = None,
    occurred_before: Annotated[Instant, Query(description="exclusive, with a UTC offset")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> PageOut[AuditEntryOut]:
    """Audit entries, newest first (ties by id), each with its changes `{field: [old, new]}`;
    every filter given must match. Needs `audit:read` (administrators)."""
    query = AuditQuery(
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor_id,
        action=action,
        occurred_after=occurred_after,
        occurred_before=occurred_before,
    )
    page = await AuditService(uow).search(caller, query, CursorPagination(limit, cursor))
    return PageOut(items=[AuditEntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)
