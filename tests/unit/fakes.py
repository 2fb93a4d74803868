"""In-memory fakes of the repositories and the unit of work, for service unit tests.

They mimic what the real ones guarantee and services rely on: ids exist from construction,
`create` refuses duplicates of the live unique keys, `update` refuses protected or unknown
fields and checks `expected_version` (optimistic locking) and bumps the version. They know
nothing of SQL, so services are tested on their business rules alone (SPEC 4).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import inspect

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.domain.errors import ConcurrencyConflict, Conflict, InvalidValue, NotFound
from learnhub.events.events import DomainEvent
from learnhub.models.base import BaseModel, VersionedModel
from learnhub.models.user import Permission, Role, User
from learnhub.repositories.core import PROTECTED_FIELDS
from learnhub.repositories.user import PermissionRepository, RoleRepository, UserRepository

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")


class FakeRepository(Generic[T]):
    model: ClassVar[type[BaseModel]]
    unique_field: ClassVar[str | None] = None  # a live unique key, like the partial indexes

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, T] = {}
        self.create_calls = 0  # every call, including refused ones
        self.created: list[T] = []  # every successful create, in order
        self.updated: list[tuple[uuid.UUID, dict[str, Any]]] = []

    @property
    def entity_name(self) -> str:
        return self.model.__name__

    def live(self) -> list[T]:
        return [row for row in self.rows.values() if row.deleted_at is None]

    # ---- reading ---------------------------------------------------------------------------

    async def get_by_id(self, entity_id: uuid.UUID, *, include_deleted: bool = False) -> T | None:
        entity = self.rows.get(entity_id)
        if entity is None or (entity.deleted_at is not None and not include_deleted):
            return None
        return entity

    async def get(self, entity_id: uuid.UUID, *, include_deleted: bool = False) -> T:
        entity = await self.get_by_id(entity_id, include_deleted=include_deleted)
        if entity is None:
            raise NotFound(self.entity_name, entity_id)
        return entity

    # ---- writing ---------------------------------------------------------------------------

    def _check_fields(self, data: Mapping[str, Any]) -> None:
        mapper = inspect(self.model)
        writable = {a.key for a in mapper.column_attrs} | {r.key for r in mapper.relationships}
        for field in data:
            if field in PROTECTED_FIELDS or field not in writable:
                raise InvalidValue(f"{self.entity_name} has no writable field {field!r}")

    def _check_unique(self, entity: T) -> None:
        if self.unique_field is None:
            return
        value = getattr(entity, self.unique_field)
        for other in self.live():
            if other is not entity and getattr(other, self.unique_field) == value:
                raise Conflict(
                    f"{self.entity_name} conflicts with an existing one",
                    constraint=f"uq_{self.unique_field}",
                )

    async def create(self, data: Mapping[str, Any] | T) -> T:
        self.create_calls += 1
        if isinstance(data, BaseModel):
            entity = cast(T, data)
        else:
            self._check_fields(data)
            entity = cast(T, self.model(**data))
        assert isinstance(entity, self.model), f"{type(entity).__name__} given to {self}"
        assert entity.id is not None
        self._check_unique(entity)
        # What the database and the flush would fill in.
        now = utc_now()
        entity.created_at = entity.created_at or now
        entity.updated_at = entity.updated_at or now
        if isinstance(entity, VersionedModel) and entity.version is None:
            entity.version = 1
        self.rows[entity.id] = entity
        self.created.append(entity)
        return entity

    async def update(
        self, entity_id: uuid.UUID, data: Mapping[str, Any], expected_version: int | None = None
    ) -> T:
        self._check_fields(data)
        entity = await self.get(entity_id)
        if expected_version is not None:
            if not isinstance(entity, VersionedModel):
                raise InvalidValue(f"{self.entity_name} is not versioned")
            if entity.version != expected_version:
                raise ConcurrencyConflict(
                    self.entity_name, entity.id, expected_version, entity.version
                )
        for field, value in data.items():
            setattr(entity, field, value)
        self._check_unique(entity)
        entity.updated_at = utc_now()
        if isinstance(entity, VersionedModel):
            entity.version += 1
        self.updated.append((entity_id, dict(data)))
        return entity


class FakeUserRepository(FakeRepository[User]):
    model = User
    unique_field = "email"

    async def get_by_email(self, email: str) -> User | None:
        # Exact match, as in SQL: the service must normalise before asking.
        return next((u for u in self.live() if u.email == email), None)


class FakeRoleRepository(FakeRepository[Role]):
    model = Role
    unique_field = "name"

    async def get_by_names(self, names: list[str]) -> list[Role]:
        wanted = set(names)
        return sorted((r for r in self.live() if r.name in wanted), key=lambda r: r.name)


class FakePermissionRepository(FakeRepository[Permission]):
    model = Permission
    unique_field = "code"

    async def get_by_codes(self, codes: list[str]) -> list[Permission]:
        wanted = set(codes)
        return sorted((p for p in self.live() if p.code in wanted), key=lambda p: p.code)


class FakeUnitOfWork(AbstractUnitOfWork):
    """Hands out the fakes for the real repository classes; records events in a list.

    `committed` is only ever set by `commit()`, which belongs to the request or command
    boundary: a service calling it is a bug the tests catch.
    """

    def __init__(self) -> None:
        self.users = FakeUserRepository()
        self.roles = FakeRoleRepository()
        self.permissions = FakePermissionRepository()
        self._repos: dict[type[Any], FakeRepository[Any]] = {
            UserRepository: self.users,
            RoleRepository: self.roles,
            PermissionRepository: self.permissions,
        }
        self.events: list[DomainEvent] = []
        self.committed = False
        self.rolled_back = False
        self.kept_errors: tuple[type[Exception], ...] = ()
        self.undo: list[Callable[[], Awaitable[None]]] = []

    def repo(self, factory: type[R]) -> R:
        try:
            return cast(R, self._repos[factory])
        except KeyError:
            raise AssertionError(f"no fake registered for {factory.__name__}") from None

    def record(self, event: DomainEvent) -> None:
        assert isinstance(event, DomainEvent)
        self.events.append(event)

    async def commit(self) -> None:
        self.committed = True

    async def rollback(self) -> None:
        self.rolled_back = True
        self.events = []

    def keep_despite_error(self, *errors: type[Exception]) -> None:
        self.kept_errors += errors

    def kept_despite(self, error: BaseException) -> bool:
        return isinstance(error, self.kept_errors)

    def undo_unless_committed(self, undo: Callable[[], Awaitable[None]]) -> None:
        self.undo.append(undo)

    async def release_transaction(self) -> None:
        await self.rollback()
