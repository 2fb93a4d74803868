"""Every model, imported in one place so Alembic and the mappers see them all."""

from learnhub.models.audit import AuditLog
from learnhub.models.base import AuditableModel, Base, BaseModel, VersionedModel
from learnhub.models.outbox import OutboxMessage
from learnhub.models.user import Permission, Role, User, UserSession, role_permissions, user_roles

__all__ = [
    "AuditLog",
    "AuditableModel",
    "Base",
    "BaseModel",
    "OutboxMessage",
    "Permission",
    "Role",
    "User",
    "UserSession",
    "VersionedModel",
    "role_permissions",
    "user_roles",
]
