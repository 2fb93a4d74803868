"""Soft delete and restore, cascading to owned children under one delete batch id (a restore
brings back exactly the children that went with the row), and hard delete with every child
the database cascades to audited first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapper

from learnhub.db.audit import audit_row, entity_type_of
from learnhub.db.errors import translate_integrity_error
from learnhub.db.soft_delete import INCLUDE_DELETED
from learnhub.domain.clock import utc_now
from learnhub.domain.context import current_actor_id
from learnhub.domain.enums import AuditAction
from learnhub.domain.ids import new_id
from learnhub.repositories.audited_bulk import AuditedBulkMixin
from learnhub.repositories.core import T
from learnhub.repositories.filters import Filter
from learnhub.repositories.reading import ReadingMixin
from learnhub.repositories.versions import VersionsMixin


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One row a restore would bring back with its parent: its audit entity type, its id and,
    when the row has one, its title (a section's, a video's)."""

    entity_type: str
    entity_id: uuid.UUID
    title: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteBatch:
    """A soft-deleted row and the owned rows its delete took with it (same delete batch id):
    exactly what `restore` brings back. An undeleted row has no batch and no rows."""

    entity: Any
    batch_id: uuid.UUID | None
    deleted_at: datetime | None
    deleted_by: uuid.UUID | None
    rows: list[BatchRow] = field(default_factory=list)


class SoftDeletionMixin(AuditedBulkMixin[T], VersionsMixin[T], ReadingMixin[T]):
    async def delete(self, entity_id: uuid.UUID, expected_version: int | None = None) -> T:
        """Soft delete, cascading to owned children under one delete batch id."""
        entity = await self.get(entity_id)
        self.check_version(entity, expected_version)
        await self._soft_delete_ids(
            inspect(self.model), [entity.id], new_id(), utc_now(), current_actor_id.get()
        )
        # The identity map still holds the object; drop it so no later load in this session
        # (a relationship, a session.get) can hand the deleted row back (pitfall 1).
        self.session.expunge(entity)
        return entity

    async def bulk_delete(self, filters: Sequence[Filter]) -> int:
        """Soft delete every live row matching `filters`, with cascades, audited per row."""
        ids = await self.ids_where(filters)
        if ids:
            await self._soft_delete_ids(
                inspect(self.model), ids, new_id(), utc_now(), current_actor_id.get()
            )
        return len(ids)

    async def restore(self, entity_id: uuid.UUID) -> T:
        """Undo a soft delete together with exactly the children that went with it."""
        entity = await self.get(entity_id, include_deleted=True)
        if entity.deleted_at is None:
            return entity
        await self._restore_batch(
            inspect(self.model), [entity.id], entity.delete_batch_id, root=True
        )
        return entity

    async def delete_batch(self, entity_id: uuid.UUID) -> DeleteBatch:
        """What `restore(entity_id)` would bring back, read without changing anything: the
        same walk down the owned relationships, matching the same delete batch id."""
        entity = await self.get(entity_id, include_deleted=True)
        batch = entity.delete_batch_id if entity.deleted_at is not None else None
        rows: list[BatchRow] = []
        if batch is not None:
            await self._collect_batch(inspect(self.model), [entity.id], batch, rows)
        return DeleteBatch(entity, batch, entity.deleted_at, entity.deleted_by, rows)

    async def _collect_batch(
        self, mapper: Mapper[Any], ids: list[uuid.UUID], batch: uuid.UUID, rows: list[BatchRow]
    ) -> None:
        for child_mapper, child_column in _owned_children(mapper):
            model = child_mapper.class_
            found = await self.session.execute(
                select(model)
                .where(child_column.in_(ids), model.delete_batch_id == batch)
                .order_by(model.id)
                .execution_options(**{INCLUDE_DELETED: True})
            )
            children = list(found.scalars().all())
            kind = entity_type_of(child_mapper)
            rows.extend(BatchRow(kind, c.id, getattr(c, "title", None)) for c in children)
            if children:
                await self._collect_batch(child_mapper, [c.id for c in children], batch, rows)

    async def hard_delete(self, entity_id: uuid.UUID) -> None:
        """Remove a row for good; the database cascades to owned children (ON DELETE CASCADE),
        and every removed child is audited here first."""
        entity = await self.get(entity_id, include_deleted=True)
        await self._audit_owned_descendants(inspect(self.model), [entity.id])
        await self.session.delete(entity)
        await self.flush(entity)

    async def _soft_delete_ids(
        self,
        mapper: Mapper[Any],
        ids: list[uuid.UUID],
        batch: uuid.UUID,
        now: datetime,
        actor: uuid.UUID | None,
    ) -> None:
        model = mapper.class_
        deleted = await self._update_audited(
            mapper,
            [model.id.in_(ids)],
            {"deleted_at": now, "deleted_by": actor, "delete_batch_id": batch},
            AuditAction.SOFT_DELETE,
        )
        for child_mapper, child_column in _owned_children(mapper):
            child_ids = await self._child_ids(child_mapper, child_column, deleted)
            if child_ids:
                await self._soft_delete_ids(child_mapper, child_ids, batch, now, actor)

    async def _child_ids(
        self,
        child_mapper: Mapper[Any],
        child_column: Any,
        parent_ids: list[uuid.UUID],
        *,
        batch: uuid.UUID | None = None,
        include_deleted: bool = False,
    ) -> list[uuid.UUID]:
        stmt = select(child_mapper.class_.id).where(child_column.in_(parent_ids))
        if batch is not None:
            stmt = stmt.where(child_mapper.class_.delete_batch_id == batch)
        result = await self.session.execute(
            stmt.execution_options(**{INCLUDE_DELETED: include_deleted})
        )
        return list(result.scalars().all())

    async def _restore_batch(
        self,
        mapper: Mapper[Any],
        ids: list[uuid.UUID],
        batch: uuid.UUID | None,
        *,
        root: bool = False,
    ) -> None:
        model = mapper.class_
        where = [model.id.in_(ids), model.deleted_at.is_not(None)]
        if not root:
            where.append(model.delete_batch_id == batch)
        try:
            restored = await self._update_audited(
                mapper,
                where,
                {"deleted_at": None, "deleted_by": None, "delete_batch_id": None},
                AuditAction.RESTORE,
                include_deleted=True,
            )
        except IntegrityError as exc:  # e.g. the e-mail or slug was taken meanwhile
            raise translate_integrity_error(exc, mapper.class_.__name__) from exc
        if batch is None:
            return
        for child_mapper, child_column in _owned_children(mapper):
            child_ids = await self._child_ids(
                child_mapper, child_column, restored, batch=batch, include_deleted=True
            )
            if child_ids:
                await self._restore_batch(child_mapper, child_ids, batch)

    async def _audit_owned_descendants(self, mapper: Mapper[Any], ids: list[uuid.UUID]) -> None:
        for child_mapper, child_column in _owned_children(mapper):
            child_ids = await self._child_ids(child_mapper, child_column, ids, include_deleted=True)
            if child_ids:
                await self._audit_owned_descendants(child_mapper, child_ids)
                await self._write_audit(
                    [
                        audit_row(
                            self.session.sync_session, child_mapper, i, AuditAction.HARD_DELETE, {}
                        )
                        for i in child_ids
                    ]
                )


def _owned_children(mapper: Mapper[Any]) -> list[tuple[Mapper[Any], Any]]:
    """(child mapper, child FK column) for each owned relationship the model declares."""
    found = []
    for name in getattr(mapper.class_, "__soft_delete_cascade__", ()):
        rel = mapper.relationships[name]
        ((parent_column, child_column),) = rel.local_remote_pairs
        if parent_column.key != "id":
            raise TypeError(f"owned relationship {name} must reference the parent's id")
        found.append((rel.mapper, child_column))
    return found
