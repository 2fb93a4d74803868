"""What a user may take away (GDPR export): everything LearnHub holds about them, gathered
here; the API only writes it out. Erasure lives with the account admin service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.permissions import USERS_READ_SELF
from learnhub.domain.principal import Principal
from learnhub.models import AuditLog, PasswordResetToken, User, UserActivity, UserSession
from learnhub.models.learning import (
    Enrollment,
    QuizAttempt,
    Review,
    TutorConversation,
    TutorMessage,
    VideoProgress,
)
from learnhub.repositories.attempts import AttemptRepository
from learnhub.repositories.audit import AuditLogRepository
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import Eq
from learnhub.repositories.learning import (
    EnrollmentRepository,
    ProgressRepository,
    ReviewRepository,
)
from learnhub.repositories.password_reset import PasswordResetRepository
from learnhub.repositories.session import ActivityRepository, UserSessionRepository
from learnhub.repositories.stats import StatsRow
from learnhub.repositories.tutor import ConversationRepository, MessageRepository
from learnhub.repositories.user import UserRepository
from learnhub.services.base import BaseService
from learnhub.services.stats import LearnerStatsService

T = TypeVar("T", Enrollment, VideoProgress, QuizAttempt, Review, TutorConversation)


@dataclass(frozen=True, slots=True)
class ExportBundle:
    user: User
    sessions: list[UserSession]
    password_resets: list[PasswordResetToken]
    activity: list[UserActivity]
    history: list[AuditLog]
    enrollments: list[Enrollment]
    progress: list[VideoProgress]
    attempts: list[QuizAttempt]
    reviews: list[Review]
    conversations: list[tuple[TutorConversation, list[TutorMessage]]]
    stats: StatsRow


class PrivacyService(BaseService):
    """The owner's own data (`users:read_self`), checked when the service is made for its
    owner (as `AccountService`: 403 before anything else)."""

    def __init__(self, uow: AbstractUnitOfWork, owner: Principal) -> None:
        owner.require(USERS_READ_SELF)
        super().__init__(uow)
        self.owner = owner

    async def export(self) -> ExportBundle:
        """Everything LearnHub holds about the owner."""
        user_id = self.owner.user_id
        conversations = await self._owned(ConversationRepository, TutorConversation, user_id)
        messages = await self.uow.repo(MessageRepository).in_conversations(
            [c.id for c in conversations]
        )
        return ExportBundle(
            user=await self.uow.repo(UserRepository).get(user_id),
            sessions=await self.uow.repo(UserSessionRepository).for_user(user_id),
            password_resets=await self.uow.repo(PasswordResetRepository).for_user(user_id),
            activity=await self.uow.repo(ActivityRepository).all_for_user(user_id),
            history=await self.uow.repo(AuditLogRepository).for_entity("user", user_id),
            enrollments=await self._owned(EnrollmentRepository, Enrollment, user_id),
            progress=await self._owned(ProgressRepository, VideoProgress, user_id),
            attempts=await self._owned(AttemptRepository, QuizAttempt, user_id),
            reviews=await self._owned(ReviewRepository, Review, user_id),
            conversations=[(c, messages.get(c.id, [])) for c in conversations],
            stats=await LearnerStatsService(self.uow).get(user_id),
        )

    async def _owned(
        self, repository: type[BaseRepository[T]], model: type[T], user_id: uuid.UUID
    ) -> list[T]:
        """Every live row of `model` that belongs to the user (two statements)."""
        repo = self.uow.repo(repository)
        return await repo.get_many(await repo.ids_where([Eq(model.user_id, user_id)]))
