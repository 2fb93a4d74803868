"""The generic repository: statement-based, soft-delete aware, audited, optimistic-locked,
built from one mixin per concern (reading and keyset pages, versions, audited bulk
operations, soft deletion) on a common core.

Single-entity writes go through the ORM unit of work, so the session's flush hook audits
them. Bulk writes (cascading soft delete and restore, bulk update) run as ORM bulk
statements flagged `audited_bulk` and write their own audit rows in the same transaction;
any other bulk write on an audited model is refused by the session.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, cast

from learnhub.models.base import BaseModel
from learnhub.repositories.audited_bulk import AuditedBulkMixin
from learnhub.repositories.core import T
from learnhub.repositories.reading import ReadingMixin
from learnhub.repositories.soft_deletion import SoftDeletionMixin
from learnhub.repositories.versions import VersionsMixin


class BaseRepository(SoftDeletionMixin[T], AuditedBulkMixin[T], VersionsMixin[T], ReadingMixin[T]):
    """A repository of `model`: single-entity create and update here, through the ORM unit of
    work (audited by the session's flush hook); reading, versions, audited bulk operations
    and soft deletion from the mixins."""

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
