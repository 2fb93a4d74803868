"""Reading the audit trail and checking that it is complete."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, cast

from sqlalchemy import Column, Table, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper

from learnhub.db.audit import audit_value, audited_columns, entity_type_of
from learnhub.db.soft_delete import including_deleted
from learnhub.domain.enums import AuditAction
from learnhub.models.audit import AuditLog
from learnhub.models.base import Base, BaseModel
from learnhub.repositories.filters import CursorPagination, Filter, Page, Sort
from learnhub.repositories.pages import keyset_page

AUDIT_SORTS: dict[str, Sort] = {"newest": Sort("newest", AuditLog.occurred_at, descending=True)}


@dataclass(frozen=True, slots=True)
class ArchivedEntry:
    """An audit row from an archive file (`learnhub audit archive` detached its partition):
    what the replay needs of it."""

    id: uuid.UUID
    occurred_at: datetime
    entity_type: str
    entity_id: uuid.UUID
    action: AuditAction
    changes: dict[str, Any]

    @property
    def trail_order(self) -> tuple[uuid.UUID, datetime, uuid.UUID]:
        return (self.entity_id, self.occurred_at, self.id)


@dataclass(frozen=True, slots=True)
class AuditGap:
    """An entity row whose current state the audit trail does not explain."""

    entity_type: str
    entity_id: uuid.UUID
    problem: str


def audited_mappers() -> list[Mapper[Any]]:
    return sorted(
        (m for m in Base.registry.mappers if issubclass(m.class_, BaseModel)),
        key=lambda m: m.class_.__name__,
    )


def _same(column: Column[Any], expected: Any, actual: Any) -> bool:
    if expected == actual:
        return True
    if expected is None or actual is None:
        return False
    try:  # numbers rendered with different scales ("19.9" vs "19.90") are the same value
        return Decimal(str(expected)) == Decimal(str(actual))
    except InvalidOperation:
        return False


def replay_entry(
    states: dict[uuid.UUID, dict[str, Any] | None],
    entity_id: uuid.UUID,
    action: AuditAction,
    changes: dict[str, Any],
) -> None:
    """Apply one audit entry (in trail order) to the replayed states."""
    if action == AuditAction.HARD_DELETE:
        states[entity_id] = None
        return
    state = {} if action == AuditAction.CREATE else (states.get(entity_id) or {})
    for field, (_old, new) in changes.items():
        state[field] = new
    states[entity_id] = state


def checked_columns(mapper: Mapper[Any]) -> list[tuple[str, Column[Any]]]:
    """The columns `audit verify` compares with the trail (audited, not secret)."""
    return [(k, c) for k, c in audited_columns(mapper) if not c.info.get("secret")]


def row_gap(
    entity_type: str,
    columns: Sequence[tuple[str, Column[Any]]],
    values: dict[str, Any],
    states: dict[uuid.UUID, dict[str, Any] | None],
) -> AuditGap | None:
    """The gap, if any, between a row's values and its replayed state."""
    entity_id = values["id"]
    state = states.get(entity_id)
    if state is None:
        why = "no audit entry" if entity_id not in states else "hard-deleted in trail"
        return AuditGap(entity_type, entity_id, why)
    for key, column in columns:
        if not _same(column, state.get(key), audit_value(values[key])):
            return AuditGap(
                entity_type,
                entity_id,
                f"{key} is {audit_value(values[key])!r}, trail says {state.get(key)!r}",
            )
    return None


def vanished(
    entity_type: str, states: dict[uuid.UUID, dict[str, Any] | None], seen: set[uuid.UUID]
) -> list[AuditGap]:
    """Entities the trail says exist whose rows are gone."""
    return [
        AuditGap(entity_type, entity_id, "row gone without hard_delete")
        for entity_id, state in states.items()
        if state is not None and entity_id not in seen
    ]


class AuditLogRepository:
    """Append-only: this repository reads. Writes happen in the session's flush hook."""

    sorts: ClassVar[dict[str, Sort]] = AUDIT_SORTS

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(
        self, filters: Sequence[Filter] = (), pagination: CursorPagination | None = None
    ) -> Page[AuditLog]:
        """Entries matching every filter, newest first (ties by id), one keyset page.

        Indexes: an entity filter uses ix_audit_log_entity (entity_type, entity_id,
        occurred_at), an actor filter ix_audit_log_actor (actor_id, occurred_at), a request
        filter ix_audit_log_request (request_id, occurred_at); anything
        else walks ix_audit_log_occurred_at backwards and stops after one page."""
        return await keyset_page(
            self.session,
            select(AuditLog).where(*(f.clause() for f in filters)),
            AUDIT_SORTS["newest"],
            AuditLog.id,
            pagination or CursorPagination(),
        )

    async def for_entity(self, entity_type: str, entity_id: uuid.UUID) -> list[AuditLog]:
        result = await self.session.execute(
            select(AuditLog)
            .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == entity_id)
            .order_by(AuditLog.occurred_at, AuditLog.id)
        )
        return list(result.scalars().all())

    async def for_entities(
        self,
        entity_types: Sequence[str],
        entity_ids: Sequence[uuid.UUID],
        limit: int,
        before: tuple[datetime, uuid.UUID] | None = None,
    ) -> list[AuditLog]:
        """Entries about any of `entity_ids` (entities of `entity_types`), newest first;
        `before` is the keyset position (occurred_at, id) of the last entry already seen.
        The types add nothing to the match (ids are unique) but let the query use
        ix_audit_log_entity, which leads with the type, instead of scanning the trail."""
        stmt = select(AuditLog).where(
            AuditLog.entity_type.in_(list(entity_types)),
            AuditLog.entity_id.in_(list(entity_ids)),
        )
        if before is not None:
            stmt = stmt.where(tuple_(AuditLog.occurred_at, AuditLog.id) < tuple_(*before))
        result = await self.session.execute(
            stmt.order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc()).limit(limit)
        )
        return list(result.scalars().all())

    async def _replayed_states(
        self, entity_type: str, archived: Sequence[ArchivedEntry] = ()
    ) -> dict[uuid.UUID, dict[str, Any] | None]:
        """Each entity's state as the audit trail tells it (None once hard-deleted): the live
        rows merged, in trail order, with the archived ones of this type. An entry present in
        both (an archive written whose detach did not commit) counts once."""
        states: dict[uuid.UUID, dict[str, Any] | None] = {}
        older = sorted(archived, key=lambda e: e.trail_order)
        archived_ids = {entry.id for entry in older}
        position = 0
        result = await self.session.stream(
            select(AuditLog.entity_id, AuditLog.occurred_at, AuditLog.id, AuditLog.action)
            .add_columns(AuditLog.changes)
            .where(AuditLog.entity_type == entity_type)
            .order_by(AuditLog.entity_id, AuditLog.occurred_at, AuditLog.id)
            .execution_options(yield_per=5000)
        )
        async for entity_id, occurred_at, audit_id, action, changes in result:
            while position < len(older) and older[position].trail_order < (
                entity_id,
                occurred_at,
                audit_id,
            ):
                entry = older[position]
                replay_entry(states, entry.entity_id, entry.action, entry.changes)
                position += 1
            if audit_id not in archived_ids:
                replay_entry(states, entity_id, action, changes)
        for entry in older[position:]:
            replay_entry(states, entry.entity_id, entry.action, entry.changes)
        return states

    async def verify(self, archived: Sequence[ArchivedEntry] = ()) -> tuple[int, list[AuditGap]]:
        """Replay the trail for every audited table and compare with the rows; `archived`
        entries (read from `learnhub audit archive` files) are part of the trail.

        Returns (rows checked, gaps). A gap is a row with no entry, a field whose value the
        trail does not explain (a write that bypassed the audit), or a row that vanished
        without a hard_delete entry.
        """
        checked, gaps = 0, []
        by_type: dict[str, list[ArchivedEntry]] = {}
        for entry in archived:
            by_type.setdefault(entry.entity_type, []).append(entry)
        for mapper in audited_mappers():
            entity_type = entity_type_of(mapper)
            states = await self._replayed_states(entity_type, by_type.get(entity_type, ()))
            columns = checked_columns(mapper)
            model = mapper.class_
            result = await self.session.stream(
                including_deleted(
                    select(*(getattr(model, k) for k, _ in columns))
                ).execution_options(yield_per=5000)
            )
            seen: set[uuid.UUID] = set()
            async for row in result:
                values = dict(zip((k for k, _ in columns), row, strict=True))
                seen.add(values["id"])
                checked += 1
                gap = row_gap(entity_type, columns, values, states)
                if gap is not None:
                    gaps.append(gap)
            gaps += vanished(entity_type, states, seen)
        return checked, gaps


ERASED = "[erased]"


class AuditErasure:
    """The single path allowed to rewrite audit rows (GDPR erasure): it replaces the values of
    personal-data fields inside `changes`, for the given entities, and nothing else."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def erase(
        self, entity_type: str, entity_ids: Sequence[uuid.UUID], fields: frozenset[str]
    ) -> int:
        if not entity_ids or not fields:
            return 0
        result = await self.session.execute(
            select(AuditLog.id, AuditLog.changes).where(
                AuditLog.entity_type == entity_type, AuditLog.entity_id.in_(list(entity_ids))
            )
        )
        updates = []
        for audit_id, changes in result.all():
            erased = {
                key: [None if v is None else ERASED for v in pair] if key in fields else pair
                for key, pair in changes.items()
            }
            if erased != changes:
                updates.append({"audit_id": audit_id, "changes": erased})
        if updates:
            await self.session.run_sync(_rewrite_changes, updates)
        return len(updates)


def _rewrite_changes(session: Any, updates: list[dict[str, Any]]) -> None:
    from sqlalchemy import bindparam, update

    connection = session.connection()
    table = cast(Table, AuditLog.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("audit_id"))
        .values(changes=bindparam("changes"))
    )
    if connection.dialect.name == "postgresql":
        # Lets this transaction's UPDATEs past the append-only trigger, for `changes` only.
        connection.exec_driver_sql("SET LOCAL learnhub.audit_erasure = 'on'")
        connection.execute(stmt, updates)
        connection.exec_driver_sql("SET LOCAL learnhub.audit_erasure = 'off'")
    else:
        # SQLite has no session variables: lift the trigger inside this same transaction
        # (SQLite DDL is transactional), so a rollback puts it back too.
        connection.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        connection.execute(stmt, updates)
        connection.exec_driver_sql(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (UPDATE rejected)'); END"
        )
