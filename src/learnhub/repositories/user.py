from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import selectinload

from learnhub.db.session import AUDITED_BULK
from learnhub.domain.enums import AuditAction, UserStatus
from learnhub.models.base import Base, BaseModel
from learnhub.models.user import Permission, Role, User
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import Filter, Sort

# The columns through which rows name the user who acted on them.
ACTOR_COLUMNS = ("created_by", "updated_by", "deleted_by")


@dataclass(frozen=True, slots=True)
class HasRole(Filter):
    """Users holding the role of this name (an unknown name matches nobody)."""

    name: str

    def clause(self) -> ColumnElement[bool]:
        return User.roles.any(Role.name == self.name)


class UserRepository(BaseRepository[User]):
    model = User
    sorts: ClassVar[Mapping[str, Sort]] = {
        "newest": Sort("newest", User.created_at, descending=True),
        "email": Sort("email", User.email, descending=False),
    }

    def _select(self) -> Select[User]:
        # Users are always shown with their roles: load them in one extra query, never lazily.
        return select(User).options(selectinload(User.roles))

    async def get_by_email(self, email: str) -> User | None:
        result = await self.session.execute(self._select().where(User.email == email))
        return result.scalar_one_or_none()

    async def record_login(self, user_id: uuid.UUID, at: datetime) -> bool:
        """Set last_login_at (a system column: no version bump, no audit row) if the account
        is still live and active; False when it no longer is. The UPDATE takes the user's row
        lock, which orders a login against a concurrent deletion or suspension: whichever
        comes second sees the other (see SessionService.end_all_sessions)."""
        result = await self.session.execute(
            update(User)
            .where(User.id == user_id, User.status == UserStatus.ACTIVE)
            .values(last_login_at=at)
            .execution_options(**{AUDITED_BULK: True}, synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def forget_actor(self, user_id: uuid.UUID) -> None:
        """Before a user's row goes for good: every row naming them as its actor
        (`created_by`, `updated_by`, `deleted_by`) gets NULL there, audited. The foreign keys'
        ON DELETE SET NULL would do the same, but behind the audit trail's back. The user's
        own row is left as it is: its trail ends with its removal."""
        mappers = sorted(Base.registry.mappers, key=lambda m: m.class_.__name__)
        for mapper in mappers:
            if not issubclass(mapper.class_, BaseModel):
                continue
            for key in ACTOR_COLUMNS:
                if key in mapper.columns:
                    await self._update_audited(
                        mapper,
                        [getattr(mapper.class_, key) == user_id, mapper.class_.id != user_id],
                        {key: None},
                        AuditAction.UPDATE,
                        include_deleted=True,
                        stamp_actor=False,
                    )


class RoleRepository(BaseRepository[Role]):
    model = Role
    sorts: ClassVar[Mapping[str, Sort]] = {"name": Sort("name", Role.name, descending=False)}
    default_sort = "name"

    def _select(self) -> Select[Role]:
        return select(Role).options(selectinload(Role.permissions))

    async def get_by_names(self, names: list[str]) -> list[Role]:
        result = await self.session.execute(self._select().where(Role.name.in_(names)))
        return list(result.scalars().all())


class PermissionRepository(BaseRepository[Permission]):
    model = Permission
    sorts: ClassVar[Mapping[str, Sort]] = {"code": Sort("code", Permission.code, descending=False)}
    default_sort = "code"

    async def get_by_codes(self, codes: list[str]) -> list[Permission]:
        result = await self.session.execute(select(Permission).where(Permission.code.in_(codes)))
        return list(result.scalars().all())
