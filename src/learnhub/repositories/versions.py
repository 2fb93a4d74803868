"""Optimistic locking: a stale version, given by the caller or found at flush, is a
`ConcurrencyConflict` (counted), never a lost update."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from learnhub.db.errors import translate_integrity_error
from learnhub.domain.errors import ConcurrencyConflict, InvalidValue, NotFound
from learnhub.metrics import VERSION_CONFLICTS
from learnhub.models.base import BaseModel, VersionedModel
from learnhub.repositories.core import RepositoryCore, T


class VersionsMixin(RepositoryCore[T]):
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
