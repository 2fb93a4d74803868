"""Accounts, roles and the built-in role catalogue."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect

from learnhub.db.audit import entity_type_of, personal_fields
from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.domain.enums import EnrollmentStatus, ReviewStatus, UserStatus
from learnhub.domain.errors import Conflict, InvalidValue, NotFound
from learnhub.domain.permissions import (
    ADMIN,
    BUILTIN_ROLES,
    PERMISSIONS,
    STUDENT,
    USERS_MANAGE,
    USERS_READ_SELF,
)
from learnhub.domain.principal import Principal
from learnhub.domain.value_objects import Email
from learnhub.events.events import UserRegistered
from learnhub.models.base import BaseModel
from learnhub.models.learning import (
    Enrollment,
    QuizAttempt,
    Review,
    TutorConversation,
    TutorMessage,
    VideoProgress,
)
from learnhub.models.user import (
    PasswordResetToken,
    Permission,
    Role,
    User,
    UserActivity,
    UserSession,
)
from learnhub.repositories.attempts import AttemptRepository
from learnhub.repositories.audit import AuditErasure
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import (
    CursorPagination,
    Eq,
    Filter,
    In,
    IsNull,
    Page,
    Search,
)
from learnhub.repositories.learning import (
    CourseCounterRepository,
    CourseRatingRepository,
    EnrollmentRepository,
    ProgressRepository,
    ReviewRepository,
)
from learnhub.repositories.outbox import OutboxRepository
from learnhub.repositories.password_reset import PasswordResetRepository
from learnhub.repositories.session import LoginFailureRepository, UserSessionRepository
from learnhub.repositories.soft_deletion import DeleteBatch
from learnhub.repositories.stats import StatsRow
from learnhub.repositories.tutor import ConversationRepository, MessageRepository
from learnhub.repositories.user import (
    HasRole,
    PermissionRepository,
    RoleRepository,
    UserRepository,
)
from learnhub.services.activity import ActivityService
from learnhub.services.auth import USER_DELETED, SessionService, status_reason
from learnhub.services.base import BaseService
from learnhub.services.passwords import hash_password_off_loop
from learnhub.services.stats import LearnerStatsService

MAX_DISPLAY_NAME = 100
# What `UserAdminService.erase` does, in the words an administrator confirms it in.
ERASURE_STEPS = (
    "The account is removed for good: it cannot be restored and the person cannot log in.",
    "Their e-mail address and name are replaced by [erased] in every audit entry about the "
    "account, its sessions and its password resets, and left out of queued events.",
    "Their enrolments, video progress, quiz attempts, reviews and tutor conversations are "
    "deleted; course enrolment counts and ratings are adjusted.",
    "Their failed-login records are cleared.",
    "Audit entries they made as an actor keep only an anonymous id.",
)


def _display_name(raw: str) -> str:
    name = raw.strip()
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        raise InvalidValue(f"display name must be 1 to {MAX_DISPLAY_NAME} characters")
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise InvalidValue("display name must not contain control characters")
    return name


@dataclass(frozen=True, slots=True)
class UserChanges:
    """A partial update of an account: None leaves a field as it is."""

    display_name: str | None = None
    status: UserStatus | None = None


@dataclass(frozen=True, slots=True)
class UserQuery:
    """The administrators' user list: every filter given must match."""

    status: UserStatus | None = None
    q: str | None = None
    sort: str | None = None
    role: str | None = None
    # The soft-deleted accounts instead of the live ones (to find one to restore).
    deleted_only: bool = False

    def filters(self) -> list[Filter]:
        filters: list[Filter] = []
        if self.deleted_only:
            filters.append(IsNull(User.deleted_at, is_null=False))
        if self.status is not None:
            filters.append(Eq(User.status, self.status))
        if self.role is not None:
            filters.append(HasRole(self.role))
        if self.q:
            filters.append(Search([User.email, User.display_name], self.q))
        return filters


class UserService(BaseService):
    async def register(
        self, email: str, password: str, display_name: str, roles: list[str] | None = None
    ) -> User:
        address = Email(email).value
        name = _display_name(display_name)
        users = self.uow.repo(UserRepository)
        if await users.get_by_email(address) is not None:
            raise Conflict("an account with this e-mail already exists", field="email")
        wanted = roles or [STUDENT]
        found = await self.uow.repo(RoleRepository).get_by_names(wanted)
        missing = set(wanted) - {r.name for r in found}
        if missing:
            raise InvalidValue(f"unknown roles: {sorted(missing)}")
        password_hash = await hash_password_off_loop(password)
        user = await users.create(
            User(email=address, display_name=name, password_hash=password_hash, roles=found)
        )
        self.uow.record(UserRegistered(user_id=user.id, email=address))
        return user

    async def get(self, user_id: uuid.UUID) -> User:
        return await self.uow.repo(UserRepository).get(user_id)

    async def update_profile(
        self, user_id: uuid.UUID, display_name: str, expected_version: int | None = None
    ) -> User:
        return await self.uow.repo(UserRepository).update(
            user_id,
            {"display_name": _display_name(display_name)},
            expected_version=expected_version,
        )


class AccountService(BaseService):
    """The caller's own account (`users:read_self`). The permission is checked when the
    service is made for its owner: the API makes it while resolving the request, so a caller
    without it is refused before the request's input is looked at (403 before 422)."""

    def __init__(self, uow: AbstractUnitOfWork, owner: Principal) -> None:
        owner.require(USERS_READ_SELF)
        super().__init__(uow)
        self.owner = owner

    async def get(self) -> User:
        return await UserService(self.uow).get(self.owner.user_id)

    async def update(self, changes: UserChanges, expected_version: int | None) -> User:
        """The owner edits their display name; no change at all answers the account as it
        is."""
        if changes.status is not None:
            raise InvalidValue("an account's status is for the administrators to change")
        if changes.display_name is None:
            return await self.get()
        return await UserService(self.uow).update_profile(
            self.owner.user_id, changes.display_name, expected_version
        )

    async def activity(self, pagination: CursorPagination) -> Page[UserActivity]:
        return await ActivityService(self.uow).page(self.owner.user_id, pagination)

    async def stats(self) -> StatsRow:
        """The owner's learning totals (zeros before any activity)."""
        return await LearnerStatsService(self.uow).get(self.owner.user_id)


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
                continue
            # A role stored by an earlier release gains the permissions added to it since
            # (the set is the code's: no API edits a role's permissions), so an upgrade never
            # locks its holders out of a new endpoint. Nothing is taken away.
            held = {p.code for p in present[name].permissions}
            present[name].permissions.extend(existing[c] for c in sorted(codes - held))
        return list(present.values())


class UserAdminService(BaseService):
    """What administrators do to accounts, as `admin` (`users:manage`). The permission is
    checked when the service is made for its admin: the API makes it while resolving the
    request, so a caller without it is refused before the request's input is looked at
    (403 before 422, as the users routes have always answered)."""

    def __init__(self, uow: AbstractUnitOfWork, admin: Principal) -> None:
        admin.require(USERS_MANAGE)
        super().__init__(uow)
        self.admin = admin

    async def search(self, query: UserQuery, pagination: CursorPagination) -> Page[User]:
        return await self.uow.repo(UserRepository).get_all(
            query.filters(), pagination, query.sort, include_deleted=query.deleted_only
        )

    async def get(self, user_id: uuid.UUID, *, include_deleted: bool = False) -> User:
        return await self.uow.repo(UserRepository).get(user_id, include_deleted=include_deleted)

    async def update(
        self, user_id: uuid.UUID, changes: UserChanges, expected_version: int | None
    ) -> User:
        data: dict[str, object] = {}
        if changes.display_name is not None:
            data["display_name"] = _display_name(changes.display_name)
        if changes.status is not None:
            if user_id == self.admin.user_id and changes.status != UserStatus.ACTIVE:
                raise Conflict("administrators cannot suspend themselves")
            data["status"] = changes.status
        users = self.uow.repo(UserRepository)
        if not data:
            user = await users.get(user_id)
            users.check_version(user, expected_version)
            return user
        user = await users.update(user_id, data, expected_version=expected_version)
        if changes.status is not None and changes.status != UserStatus.ACTIVE:
            # Reactivating later must not bring these sessions back.
            await SessionService(self.uow).end_all_sessions(user_id, status_reason(changes.status))
        return user

    async def set_roles(
        self, user_id: uuid.UUID, names: list[str], expected_version: int | None = None
    ) -> User:
        wanted: list[str] = sorted(set(names))
        roles = await self.uow.repo(RoleRepository).get_by_names(wanted)
        missing = set(wanted) - {r.name for r in roles}
        if missing:
            raise InvalidValue(f"unknown roles: {sorted(missing)}")
        if user_id == self.admin.user_id and ADMIN not in wanted:
            raise Conflict("administrators cannot remove their own admin role")
        users = self.uow.repo(UserRepository)
        user = await users.get(user_id)
        users.check_version(user, expected_version)
        user.roles = sorted(roles, key=lambda r: r.name)
        # A membership change touches no column of the row; touching updated_at makes the
        # flush UPDATE it, so the version (and the ETag) moves with the roles.
        user.updated_at = utc_now()
        await users.flush(user)
        return user

    async def delete(self, user_id: uuid.UUID, expected_version: int | None = None) -> User:
        if user_id == self.admin.user_id:
            raise Conflict("administrators cannot delete themselves")
        # First, while the sessions are live rows: a restore brings them back revoked.
        await SessionService(self.uow).end_all_sessions(user_id, USER_DELETED)
        return await self.uow.repo(UserRepository).delete(user_id, expected_version)

    async def restore(self, user_id: uuid.UUID) -> User:
        """The account comes back, with its roles; its sessions come back too, but ended
        (see `delete`): the user logs in again."""
        users = self.uow.repo(UserRepository)
        await users.restore(user_id)
        return await users.get(user_id)  # reloaded with its roles

    async def restore_preview(self, user_id: uuid.UUID) -> DeleteBatch:
        """What `restore` would bring back (the account and its sessions, ended), unchanged."""
        return await self.uow.repo(UserRepository).delete_batch(user_id)

    async def unlock(self, user_id: uuid.UUID) -> int:
        """Clear the login throttle for an account (its recorded failed logins, from every
        address). Returns how many failures were cleared."""
        user = await self.uow.repo(UserRepository).get(user_id)
        return await self.uow.repo(LoginFailureRepository).delete_for_email(user.email)

    async def unlock_email(self, email: str) -> int:
        """`unlock` by e-mail address (the command line's way); NotFound without an account."""
        address = Email(email).value
        user = await self.uow.repo(UserRepository).get_by_email(address)
        if user is None:
            raise NotFound("user", address)
        return await self.unlock(user.id)

    async def erase(self, user_id: uuid.UUID) -> None:
        """GDPR erasure (`ERASURE_STEPS`): personal data leaves the audit trail and the outbox,
        then the row and everything it owns is hard-deleted. Actor ids elsewhere stay as
        pseudonymous UUIDs."""
        if user_id == self.admin.user_id:
            raise Conflict("administrators cannot erase themselves")
        users = self.uow.repo(UserRepository)
        user = await users.get(user_id, include_deleted=True)
        erasure = self.uow.repo(AuditErasure)
        await erasure.erase("user", [user.id], personal_fields(User))
        session_ids = await self.uow.repo(UserSessionRepository).ids_for_user(user.id)
        await erasure.erase("user_session", session_ids, personal_fields(UserSession))
        reset_ids = await self.uow.repo(PasswordResetRepository).ids_for_user(user.id)
        await erasure.erase(
            entity_type_of(inspect(PasswordResetToken)),
            reset_ids,
            personal_fields(PasswordResetToken),
        )
        await self.uow.repo(OutboxRepository).erase_personal_payloads("user", user.id, {"email"})
        await self.uow.repo(LoginFailureRepository).delete_for_email(user.email)
        # First, so the entries of rows that go with the user end with their removal.
        await users.forget_actor(user.id)
        await self._release_learning(user.id)
        await users.hard_delete(user.id)

    async def _release_learning(self, user_id: uuid.UUID) -> None:
        """What the database will cascade away with the user: first take it out of the
        courses' counters and rating, and audit each row's removal (erasing its personal
        values in earlier entries), so counters stay exact and `audit verify` stays clean."""
        counters = self.uow.repo(CourseCounterRepository)
        ratings = self.uow.repo(CourseRatingRepository)
        enrollments = self.uow.repo(EnrollmentRepository)
        for enrollment in await enrollments.get_many(
            await enrollments.ids_where([Eq(Enrollment.user_id, user_id)])
        ):
            if enrollment.status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
                await counters.add_enrollments(enrollment.course_id, -1)
        reviews = self.uow.repo(ReviewRepository)
        for review in await reviews.get_many(
            await reviews.ids_where([Eq(Review.user_id, user_id)])
        ):
            if review.status == ReviewStatus.PUBLISHED:
                await ratings.apply(review.course_id, {review.rating: -1})
        conversations = self.uow.repo(ConversationRepository)
        for repo, model in (
            (enrollments, Enrollment),
            (reviews, Review),
            (self.uow.repo(ProgressRepository), VideoProgress),
            (self.uow.repo(AttemptRepository), QuizAttempt),
            (conversations, TutorConversation),
        ):
            ids = await repo.ids_where([Eq(model.user_id, user_id)], include_deleted=True)
            await self._erase_rows(repo, model, ids)
        # Tutor messages are the user's through their conversations.
        conversation_ids = await conversations.ids_where(
            [Eq(TutorConversation.user_id, user_id)], include_deleted=True
        )
        messages = self.uow.repo(MessageRepository)
        message_ids = await messages.ids_where(
            [In(TutorMessage.conversation_id, conversation_ids)], include_deleted=True
        )
        await self._erase_rows(messages, TutorMessage, message_ids)

    async def _erase_rows(
        self, repo: BaseRepository[Any], model: type[BaseModel], ids: list[uuid.UUID]
    ) -> None:
        """Personal values leave the rows' audit entries, and their coming removal (by ON
        DELETE CASCADE with the user) is audited."""
        await self.uow.repo(AuditErasure).erase(
            entity_type_of(inspect(model)), ids, personal_fields(model)
        )
        await repo.audit_removal(ids)
