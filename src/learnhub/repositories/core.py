"""What every part of the generic repository stands on: the model, the session, the base
statement and the fields a caller may write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import Select, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.domain.context import current_actor_id
from learnhub.domain.errors import InvalidValue
from learnhub.models.base import AuditActorMixin, BaseModel
from learnhub.repositories.filters import Sort

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


class RepositoryCore(Generic[T]):
    model: ClassVar[type[BaseModel]]
    sorts: ClassVar[Mapping[str, Sort]] = {}
    default_sort: ClassVar[str] = "newest"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def entity_name(self) -> str:
        return self.model.__name__

    def _select(self) -> Select[T]:
        """The base statement; subclasses add loader options for their list views here."""
        return cast(Select[T], select(self.model))

    def _check_fields(self, data: Mapping[str, Any]) -> None:
        columns = {attr.key for attr in inspect(self.model).column_attrs}
        relationships = {rel.key for rel in inspect(self.model).relationships}
        for field in data:
            if field in PROTECTED_FIELDS or field not in columns | relationships:
                raise InvalidValue(f"{self.entity_name} has no writable field {field!r}")

    def _actor_values(self, model: type[Any] | None = None) -> dict[str, Any]:
        model = model or self.model
        if issubclass(model, AuditActorMixin):
            return {"updated_by": current_actor_id.get()}
        return {}
