"""Who is calling: the authenticated user with the permissions of their roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.domain.errors import NotAuthenticated, PermissionDenied
from learnhub.domain.permissions import ADMIN, PUBLIC_PERMISSIONS


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


def require_open(principal: Principal | None, permission: str) -> None:
    """The check of a read that may be public: a public permission (PUBLIC_PERMISSIONS) lets
    every caller through, the anonymous one included; any other needs a logged-in caller
    holding it."""
    if permission in PUBLIC_PERMISSIONS:
        return
    if principal is None:
        raise NotAuthenticated(f"log in: missing permission {permission}")
    principal.require(permission)
