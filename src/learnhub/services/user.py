"""Accounts, roles and the built-in role catalogue."""

from __future__ import annotations

import uuid

from learnhub.domain.errors import Conflict, InvalidValue
from learnhub.domain.permissions import BUILTIN_ROLES, PERMISSIONS, STUDENT
from learnhub.domain.value_objects import Email
from learnhub.events.events import UserRegistered
from learnhub.models.user import Permission, Role, User
from learnhub.repositories.user import PermissionRepository, RoleRepository, UserRepository
from learnhub.services.base import BaseService
from learnhub.services.passwords import hash_password

MAX_DISPLAY_NAME = 100


class UserService(BaseService):
    async def register(
        self, email: str, password: str, display_name: str, roles: list[str] | None = None
    ) -> User:
        address = Email(email).value
        name = display_name.strip()
        if not 1 <= len(name) <= MAX_DISPLAY_NAME:
            raise InvalidValue(f"display name must be 1 to {MAX_DISPLAY_NAME} characters")
        users = self.uow.repo(UserRepository)
        if await users.get_by_email(address) is not None:
            raise Conflict("an account with this e-mail already exists", field="email")
        wanted = roles or [STUDENT]
        found = await self.uow.repo(RoleRepository).get_by_names(wanted)
        missing = set(wanted) - {r.name for r in found}
        if missing:
            raise InvalidValue(f"unknown roles: {sorted(missing)}")
        user = await users.create(
            User(
                email=address, display_name=name, password_hash=hash_password(password), roles=found
            )
        )
        self.uow.record(UserRegistered(user_id=user.id, email=address))
        return user

    async def get(self, user_id: uuid.UUID) -> User:
        return await self.uow.repo(UserRepository).get(user_id)

    async def update_profile(
        self, user_id: uuid.UUID, display_name: str, expected_version: int | None = None
    ) -> User:
        name = display_name.strip()
        if not 1 <= len(name) <= MAX_DISPLAY_NAME:
            raise InvalidValue(f"display name must be 1 to {MAX_DISPLAY_NAME} characters")
        return await self.uow.repo(UserRepository).update(
            user_id, {"display_name": name}, expected_version=expected_version
        )


class RoleService(BaseService):
    async def ensure_builtin_roles(self) -> list[Role]:
        """Create any missing built-in role or permission; idempotent, audited like any write."""
        permissions = self.uow.repo(PermissionRepository)
        existing = {p.code: p for p in await permissions.get_by_codes(list(PERMISSIONS))}
        for code, description in PERMISSIONS.items():
            if code not in existing:
                existing[code] = await permissions.create(
                    Permission(code=code, description=description)
                )
        roles = self.uow.repo(RoleRepository)
        present = {r.name: r for r in await roles.get_by_names(list(BUILTIN_ROLES))}
        for name, (description, codes) in BUILTIN_ROLES.items():
            if name not in present:
                present[name] = await roles.create(
                    Role(
                        name=name,
                        description=description,
                        permissions=[existing[c] for c in sorted(codes)],
                    )
                )
        return list(present.values())
