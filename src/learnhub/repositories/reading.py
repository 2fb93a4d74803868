"""Reading: by id (optionally locked), by filters in keyset pages, counts and ids; deleted
rows only when asked for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm.interfaces import ORMOption

from learnhub.db.soft_delete import INCLUDE_DELETED
from learnhub.domain.errors import NotFound
from learnhub.repositories.core import RepositoryCore, T
from learnhub.repositories.filters import (
    CursorPagination,
    Filter,
    OffsetPagination,
    Page,
    Sort,
    sort_named,
)
from learnhub.repositories.pages import keyset_page


class ReadingMixin(RepositoryCore[T]):
    def _sort(self, name: str | None) -> Sort:
        sorts = self.sorts or {"newest": Sort("newest", self.model.created_at, descending=True)}
        return sort_named(sorts, name, self.default_sort)

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

    async def ids_where(
        self, filters: Sequence[Filter], *, include_deleted: bool = False
    ) -> list[uuid.UUID]:
        result = await self.session.execute(
            select(self.model.id)
            .where(*(f.clause() for f in filters))
            .execution_options(**{INCLUDE_DELETED: include_deleted})
        )
        return list(result.scalars().all())
