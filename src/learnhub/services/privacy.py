"""What a user may take away (GDPR export). Erasure lives with the account admin service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.models import AuditLog, User, UserActivity, UserSession
from learnhub.repositories.audit import AuditLogRepository
from learnhub.repositories.session import ActivityRepository, UserSessionRepository
from learnhub.repositories.user import UserRepository
from learnhub.services.base import BaseService


@dataclass(frozen=True, slots=True)
class ExportBundle:
    user: User
    sessions: list[UserSession]
    activity: list[UserActivity]
    history: list[AuditLog]


class PrivacyService(BaseService):
    async def export(self, user_id: uuid.UUID) -> ExportBundle:
        return ExportBundle(
            user=await self.uow.repo(UserRepository).get(user_id),
            sessions=await self.uow.repo(UserSessionRepository).for_user(user_id),
            activity=await self.uow.repo(ActivityRepository).all_for_user(user_id),
            history=await self.uow.repo(AuditLogRepository).for_entity("user", user_id),
        )
