"""The generic repository: statement-based, soft-delete aware, audited, optimistic-locked.

Single-entity writes go through the ORM unit of work, so the session's flush hook audits
them. Bulk writes (cascading soft delete and restore, bulk update) run as ORM bulk
statements flagged `audited_bulk` and write their own audit rows in the same transaction;
any other bulk write on an audited model is refused by the session.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import Select, func, inspect, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.interfaces import ORMOption

from learnhub.db.audit import audit_row, audited_columns, render_value, write_audit_rows
from learnhub.db.errors import translate_integrity_error
from learnhub.db.session import AUDITED_BULK
from learnhub.db.soft_delete import INCLUDE_DELETED
from learnhub.domain.clock import utc_now
from learnhub.domain.context import current_actor_id
from learnhub.domain.enums import AuditAction
from learnhub.domain.errors import ConcurrencyConflict, InvalidValue, NotFound
from learnhub.domain.ids import new_id
from learnhub.metrics import VERSION_CONFLICTS
from learnhub.models.base import AuditActorMixin, BaseModel, VersionedModel
from learnhub.repositories.filters import (
    CursorPagination,
    Filter,
    OffsetPagination,
    Page,
    Sort,
    decode_cursor,
    encode_cursor,
)

T = TypeVar("T", bound=BaseModel)

# Columns a caller may never set through create/update: the repository owns them.
PROTECTED_FIELDS = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted_by",
        "delete_batch_id",
        "created_by",
        "updated_by",
        "version",
    }
)


class BaseRepository(Generic[T]):
    model: ClassVar[type[BaseModel]]
    sorts: ClassVar[Mapping[str, Sort]] = {}
    default_sort: ClassVar[str] = "newest"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- reading -------------------------------------------------------------------------

    @property
    def entity_name(self) -> str:
        return self.model.__name__

    def _select(self) -> Select[T]:
        """The base statement; subclasses add loader options for their list views here."""
        return cast(Select[T], select(self.model))

    def _sort(self, name: str | None) -> Sort:
        sorts = self.sorts or {"newest": Sort("newest", self.model.created_at, descending=True)}
        key = name or self.default_sort
        if key not in sorts:
            raise InvalidValue(f"unknown sort {key!r}; use one of {sorted(sorts)}")
        return sorts[key]

    async def get_by_id(
        self,
        entity_id: uuid.UUID,
        *,
        include_deleted: bool = False,
        options: Sequence[ORMOption] = (),
        lock: bool = False,
    ) -> T | None:
        """`lock=True` reads the row's latest committed state and holds it (SELECT ... FOR
        UPDATE on PostgreSQL; SQLite's transactions are serialised already), for decisions
        that must not race: what a concurrent delete or hide changed is seen, not a stale
        copy from the identity map."""
        # A SELECT, never session.get(): the identity map would hand back a row soft-deleted
        # earlier in this session (pitfall 1).
        stmt = self._select().where(self.model.id == entity_id).options(*options)
        if lock:
            stmt = stmt.with_for_update(of=self.model).execution_options(populate_existing=True)
        result = await self.session.execute(
            stmt.execution_options(**{INCLUDE_DELETED: include_deleted})
        )
        return result.scalar_one_or_none()

    async def get(
        self, entity_id: uuid.UUID, *, include_deleted: bool = False, lock: bool = False
    ) -> T:
        entity = await self.get_by_id(entity_id, include_deleted=include_deleted, lock=lock)
        if entity is None:
            raise NotFound(self.entity_name, entity_id)
        return entity

    async def get_all(
        self,
        filters: Sequence[Filter] = (),
        pagination: CursorPagination | OffsetPagination | None = None,
        sort: str | None = None,
        *,
        include_deleted: bool = False,
    ) -> Page[T]:
        stmt = self._select().where(*(f.clause() for f in filters))
        return await keyset_page(
            self.session,
            stmt,
            self._sort(sort),
            self.model.id,
            pagination or CursorPagination(),
            include_deleted=include_deleted,
        )

    async def get_many(self, ids: Sequence[uuid.UUID], *, include_deleted: bool = False) -> list[T]:
        if not ids:
            return []
        stmt = self._select().where(self.model.id.in_(list(ids)))
        result = await self.session.execute(
            stmt.execution_options(**{INCLUDE_DELETED: include_deleted})
        )
        return list(result.scalars().all())

    async def count(self, filters: Sequence[Filter] = (), *, include_deleted: bool = False) -> int:
        stmt = select(func.count()).select_from(self.model).where(*(f.clause() for f in filters))
        result = await self.session.execute(
            stmt.execution_options(**{INCLUDE_DELETED: include_deleted})
        )
        return int(result.scalar_one())

    # ---- single-entity writes (audited by the session's flush hook) ----------------------

    def _check_fields(self, data: Mapping[str, Any]) -> None:
        columns = {attr.key for attr in inspect(self.model).column_attrs}
        relationships = {rel.key for rel in inspect(self.model).relationships}
        for field in data:
            if field in PROTECTED_FIELDS or field not in columns | relationships:
                raise InvalidValue(f"{self.entity_name} has no writable field {field!r}")

    async def flush(self, entity: BaseModel | None = None) -> None:
        # Read the id now: a failed flush expires every object in the session.
        entity_id = entity.id if entity is not None else None
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise translate_integrity_error(exc, self.entity_name) from exc
        except StaleDataError as exc:
            if entity_id is None:
                raise
            # The row changed or vanished since we read it: tell which.
            current = await self._current_version(entity_id)
            if current is None:
                raise NotFound(self.entity_name, entity_id) from exc
            VERSION_CONFLICTS.labels(entity=self.entity_name).inc()
            raise ConcurrencyConflict(self.entity_name, entity_id, None, current) from exc

    async def _current_version(self, entity_id: uuid.UUID) -> int | None:
        if not issubclass(self.model, VersionedModel):
            return None
        await self.session.rollback()
        result = await self.session.execute(
            select(self.model.version).where(self.model.id == entity_id)
        )
        return result.scalar_one_or_none()

    async def create(self, data: Mapping[str, Any] | T) -> T:
        if isinstance(data, BaseModel):
            entity = data
        else:
            self._check_fields(data)
            entity = cast(T, self.model(**data))
        self.session.add(entity)
        await self.flush()
        return entity

    async def update(
        self, entity_id: uuid.UUID, data: Mapping[str, Any], expected_version: int | None = None
    ) -> T:
        self._check_fields(data)
        entity = await self.get(entity_id)
        self.check_version(entity, expected_version)
        for field, value in data.items():
            setattr(entity, field, value)
        await self.flush(entity)
        return entity

    def check_version(self, entity: T, expected_version: int | None) -> None:
        """Pitfall 5: a client's stale version copied onto a loaded object would be silently
        overwritten by SQLAlchemy, so the comparison is explicit."""
        if expected_version is None:
            return
        if not isinstance(entity, VersionedModel):
            raise InvalidValue(f"{self.entity_name} is not versioned")
        if entity.version != expected_version:
            VERSION_CONFLICTS.labels(entity=self.entity_name).inc()
            raise ConcurrencyConflict(self.entity_name, entity.id, expected_version, entity.version)

    # ---- soft delete, restore, hard delete ------------------------------------------------

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

    async def hard_delete(self, entity_id: uuid.UUID) -> None:
        """Remove a row for good; the database cascades to owned children (ON DELETE CASCADE),
        and every removed child is audited here first."""
        entity = await self.get(entity_id, include_deleted=True)
        await self._audit_owned_descendants(inspect(self.model), [entity.id])
        await self.session.delete(entity)
        await self.flush(entity)

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

    # ---- helpers ---------------------------------------------------------------------------

    def _actor_values(self, model: type[Any] | None = None) -> dict[str, Any]:
        model = model or self.model
        if issubclass(model, AuditActorMixin):
            return {"updated_by": current_actor_id.get()}
        return {}

    async def ids_where(
        self, filters: Sequence[Filter], *, include_deleted: bool = False
    ) -> list[uuid.UUID]:
        result = await self.session.execute(
            select(self.model.id)
            .where(*(f.clause() for f in filters))
            .execution_options(**{INCLUDE_DELETED: include_deleted})
        )
        return list(result.scalars().all())

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


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    order: Sort,
    id_column: Any,
    pagination: CursorPagination | OffsetPagination,
    *,
    include_deleted: bool = False,
    rows: bool = False,
) -> Page[Any]:
    """One page of `stmt` in `order` (ties broken by id, same direction); of entities, or of
    `rows` for a statement selecting columns.

    Keyset by default: the cursor names the last row's sort value and id, so a page costs
    the same at any depth and rows inserted meanwhile never shift it. Offset only for small
    admin listings."""
    stmt = keyset_statement(stmt, order, id_column, pagination)
    result = await session.execute(stmt.execution_options(**{INCLUDE_DELETED: include_deleted}))
    found = list(result.all() if rows else result.scalars().all())
    return page_of(found, order, id_column, pagination)


def keyset_statement(
    stmt: Select[Any],
    order: Sort,
    id_column: Any,
    pagination: CursorPagination | OffsetPagination,
) -> Select[Any]:
    """`stmt` ordered, bounded after the cursor and limited to one row more than a page
    (that row only tells whether there is a next page)."""
    key = order.field
    if order.descending:
        stmt = stmt.order_by(key.desc(), id_column.desc())
    else:
        stmt = stmt.order_by(key.asc(), id_column.asc())
    if isinstance(pagination, OffsetPagination):
        stmt = stmt.offset(pagination.offset)
    elif pagination.cursor:
        last_value, last_id = decode_cursor(pagination.cursor, order)
        boundary, after = tuple_(key, id_column), tuple_(last_value, last_id)
        stmt = stmt.where(boundary < after if order.descending else boundary > after)
    return stmt.limit(pagination.limit + 1)


def page_of(
    found: list[Any],
    order: Sort,
    id_column: Any,
    pagination: CursorPagination | OffsetPagination,
) -> Page[Any]:
    """The page in what `keyset_statement` found, and the cursor after it if there is more."""
    items = found[: pagination.limit]
    next_cursor = None
    if len(found) > pagination.limit and isinstance(pagination, CursorPagination):
        last = items[-1]
        next_cursor = encode_cursor(
            order, getattr(last, order.field.key), getattr(last, id_column.key)
        )
    return Page(items=items, next_cursor=next_cursor)


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
