"""Who is calling: the authenticated user with the permissions of their roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.domain.errors import PermissionDenied
from learnhub.domain.permissions import ADMIN


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    session_id: uuid.UUID | None
    roles: frozenset[str]
    permissions: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"missing permission {permission}", permission=permission)
