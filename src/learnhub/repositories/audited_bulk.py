"""Bulk writes outside the unit of work: ORM bulk statements flagged `audited_bulk` that
write their own audit rows in the same transaction (the session refuses any other bulk
write on an audited model), and the unaudited system-maintained columns."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Mapper

from learnhub.db.audit import audit_row, audited_columns, render_value, write_audit_rows
from learnhub.db.session import AUDITED_BULK
from learnhub.db.soft_delete import INCLUDE_DELETED
from learnhub.domain.enums import AuditAction
from learnhub.domain.errors import InvalidValue
from learnhub.models.base import VersionedModel
from learnhub.repositories.core import RepositoryCore, T
from learnhub.repositories.filters import Filter


class AuditedBulkMixin(RepositoryCore[T]):
    async def bulk_update(
        self, filters: Sequence[Filter], values: Mapping[str, Any], *, bump_version: bool = False
    ) -> int:
        """Update every live row matching `filters`, audited per row with its old values.
        `bump_version` also increments a versioned row's version, so an edit that read the
        row before this update fails its version check instead of overwriting it."""
        self._check_fields(values)
        extra: dict[str, Any] = {}
        if bump_version and issubclass(self.model, VersionedModel):
            extra["version"] = self.model.version + 1
        changed = await self._update_audited(
            inspect(self.model),
            [f.clause() for f in filters],
            values,
            AuditAction.UPDATE,
            expressions=extra,
        )
        return len(changed)

    async def update_system_fields(self, entity_id: uuid.UUID, values: Mapping[str, Any]) -> None:
        """Set columns the system maintains (last_login_at, counters) without bumping the
        row's version, so they never cause false conflicts for human edits (pitfall 5).
        Only columns declared `audited=False` qualify: nothing here needs an audit row."""
        mapper = inspect(self.model)
        for field in values:
            column = mapper.columns.get(field)
            if column is None or column.info.get("audited", True):
                raise InvalidValue(f"{field!r} is not a system-maintained column")
        await self.session.execute(
            update(self.model)
            .where(self.model.id == entity_id)
            .values(**values)
            .execution_options(**{AUDITED_BULK: True}, synchronize_session=False)
        )

    async def _bulk(self, stmt: Any, *, include_deleted: bool = False) -> list[uuid.UUID]:
        """Run an ORM bulk UPDATE ... RETURNING id that the caller audits itself."""
        result = await self.session.execute(
            stmt.execution_options(
                **{AUDITED_BULK: True, INCLUDE_DELETED: include_deleted},
                synchronize_session="fetch",
            )
        )
        return list(result.scalars().all())

    async def _write_audit(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.run_sync(write_audit_rows, rows)

    async def _update_audited(
        self,
        mapper: Mapper[Any],
        where: Sequence[Any],
        values: Mapping[str, Any],
        action: AuditAction,
        *,
        include_deleted: bool = False,
        expressions: Mapping[str, Any] | None = None,
        stamp_actor: bool = True,
    ) -> list[uuid.UUID]:
        """The one audited bulk UPDATE: every write of audited columns the repositories make
        outside the unit of work (soft delete, restore, bulk_update, erasure's reference
        clearing) goes through here, so no column it sets can be missing from the trail.
        (Counters and other system-maintained columns are `audited=False`: see
        `update_system_fields`.)

        It reads (and on PostgreSQL locks) the matching rows' current values of every audited
        column it sets, `updated_by` included when the actor is stamped, updates the rows that
        still match, and writes one entry per updated row with `{column: [old, new]}` for each
        audited column whose value changed. `expressions` are SQL expressions for columns the
        trail does not record (a version bump). Returns the ids updated."""
        model = mapper.class_
        values = {**values, **(self._actor_values(model) if stamp_actor else {})}
        audited = dict(audited_columns(mapper))
        expressions = dict(expressions or {})
        if any(key in audited for key in expressions):
            raise InvalidValue("an audited column must be set to a value, not an expression")
        tracked = [key for key in values if key in audited]
        options = {INCLUDE_DELETED: include_deleted}
        before = await self.session.execute(
            select(model.id, *(getattr(model, key) for key in tracked))
            .where(*where)
            .with_for_update(of=model)
            .execution_options(**options)
        )
        old_rows = {row[0]: row[1:] for row in before.all()}
        if not old_rows:
            return []
        # The conditions are applied again in the UPDATE itself: a row a concurrent
        # transaction changed meanwhile (e.g. a status already moved on) is not updated.
        updated = await self._bulk(
            update(model)
            .where(model.id.in_(list(old_rows)), *where)
            .values(**values, **expressions)
            .returning(model.id),
            include_deleted=include_deleted,
        )
        rows = []
        for entity_id in updated:
            changes = {
                key: [render_value(audited[key], old), render_value(audited[key], values[key])]
                for key, old in zip(tracked, old_rows[entity_id], strict=True)
                if old != values[key]
            }
            if changes:
                rows.append(
                    audit_row(self.session.sync_session, mapper, entity_id, action, changes)
                )
        await self._write_audit(rows)
        return updated

    async def audit_removal(self, ids: Sequence[uuid.UUID]) -> None:
        """Audit rows for rows the database is about to remove by ON DELETE CASCADE."""
        mapper = inspect(self.model)
        await self._write_audit(
            [
                audit_row(self.session.sync_session, mapper, i, AuditAction.HARD_DELETE, {})
                for i in ids
            ]
        )
