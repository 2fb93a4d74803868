"""Passwords people manage themselves: changing one's password (knowing the current one) and
resetting a forgotten one through a one-time token sent by e-mail (SPEC 13: tokens issued
before a password change never work again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.domain.enums import UserStatus
from learnhub.domain.errors import (
    InvalidResetToken,
    InvalidValue,
    NotAuthenticated,
    TooManyRequests,
    WrongPassword,
)
from learnhub.domain.ids import new_id
from learnhub.domain.permissions import USERS_READ_SELF
from learnhub.domain.principal import Principal
from learnhub.domain.value_objects import Email
from learnhub.events.events import PasswordChanged, PasswordResetRequested
from learnhub.models.user import PasswordResetToken
from learnhub.repositories.password_reset import PasswordResetRepository
from learnhub.repositories.session import LoginFailureRepository, UserSessionRepository
from learnhub.repositories.user import UserRepository
from learnhub.services.activity import ActivityService
from learnhub.services.auth import PASSWORD_CHANGED, ThrottlePolicy
from learnhub.services.base import BaseService
from learnhub.services.passwords import (
    hash_password_off_loop,
    validate_password,
    verify_password_off_loop,
)
from learnhub.services.tokens import TokenSettings, hash_reset_token, reset_token

# Why a reset token ended (password_reset_tokens.ended_reason).
USED = "used"
SUPERSEDED = "superseded"
# Why the sessions ended on a reset (user_sessions.revoked_reason).
PASSWORD_RESET = "password_reset"


@dataclass(frozen=True, slots=True)
class ResetPolicy:
    """How long a reset token lives, and how many an account may be sent per window (more
    requests are answered alike and send nothing)."""

    ttl: timedelta = timedelta(minutes=30)
    max_per_window: int = 3
    window: timedelta = timedelta(hours=1)


class CredentialService(BaseService):
    """Resetting needs no caller. Changing one's password needs the `owner`, whose permission
    (`users:read_self`, the one that lets a person edit their own account) is checked when
    the service is made for them, as `AccountService` does: 403 before 422."""

    def __init__(
        self,
        uow: AbstractUnitOfWork,
        tokens: TokenSettings,
        throttle: ThrottlePolicy | None = None,
        reset: ResetPolicy | None = None,
        *,
        owner: Principal | None = None,
    ) -> None:
        if owner is not None:
            owner.require(USERS_READ_SELF)
        super().__init__(uow)
        self.tokens = tokens
        self.throttle = throttle or ThrottlePolicy()
        self.reset = reset or ResetPolicy()
        self.owner = owner

    async def change_password(
        self, current_password: str, new_password: str, *, ip_address: str | None = None
    ) -> int:
        """The owner changes their password, proving the current one. A wrong one counts as
        a failed login (the login throttle's memory, per account and address), so this is no
        way around it. Every other session of the owner ends; the caller's own session (the
        one whose access token made this request) stays. Returns how many sessions ended."""
        owner = self.owner
        if owner is None:
            raise NotAuthenticated("changing a password needs the account's owner")
        self.uow.keep_despite_error(WrongPassword, TooManyRequests)
        validate_password(new_password)
        users = self.uow.repo(UserRepository)
        user = await users.get(owner.user_id)
        failures = self.uow.repo(LoginFailureRepository)
        now = utc_now()
        recent = await failures.count_for_account_at(
            since=now - self.throttle.window, email=user.email, ip_address=ip_address
        )
        if recent >= self.throttle.max_per_account:
            retry = int(self.throttle.window.total_seconds())
            raise TooManyRequests("too many wrong passwords for this account", retry)
        if not await verify_password_off_loop(user.password_hash, current_password):
            failures.add(user.email, ip_address)
            raise WrongPassword("the current password is wrong")
        if current_password == new_password:
            raise InvalidValue("the new password must differ from the current one")
        password_hash = await hash_password_off_loop(new_password)
        return await self._set_password(
            owner.user_id, password_hash, PASSWORD_CHANGED, keep_session=owner.session_id
        )

    async def request_reset(self, email: str) -> None:
        """Make a reset token for a live, active account with this address and record the
        event whose handler mails it; for any other address do nothing. The caller answers
        alike either way (no account enumeration). Older pending tokens end here."""
        try:
            address = Email(email).value
        except InvalidValue:
            return
        user = await self.uow.repo(UserRepository).get_by_email(address)
        if user is None or user.status != UserStatus.ACTIVE:
            return
        resets = self.uow.repo(PasswordResetRepository)
        now = utc_now()
        if await resets.count_since(user.id, now - self.reset.window) >= self.reset.max_per_window:
            return
        await resets.end_pending_for_user(user.id, SUPERSEDED, now)
        token_id = new_id()
        await resets.create(
            PasswordResetToken(
                id=token_id,
                user_id=user.id,
                token_hash=hash_reset_token(reset_token(self.tokens, token_id)),
                expires_at=now + self.reset.ttl,
            )
        )
        self.uow.record(PasswordResetRequested(user_id=user.id, token_id=token_id))

    async def confirm_reset(self, token: str, new_password: str) -> int:
        """Set a new password with a reset token: the token is used up (of two confirmations
        racing with it exactly one wins), every other pending token and every session of the
        user ends. An unknown, used, superseded or expired token, or one of an account that
        is no longer active, is `InvalidResetToken`. Returns how many sessions ended."""
        validate_password(new_password)  # a bad password does not use the token up
        if not 16 <= len(token) <= 256:
            raise InvalidResetToken("the reset token is invalid or has expired")
        resets = self.uow.repo(PasswordResetRepository)
        row = await resets.get_by_hash(hash_reset_token(token))
        now = utc_now()
        if row is None or row.ended_at is not None or row.expires_at <= now:
            raise InvalidResetToken("the reset token is invalid or has expired")
        user = await self.uow.repo(UserRepository).get_by_id(row.user_id)
        if user is None or user.status != UserStatus.ACTIVE:
            raise InvalidResetToken("the reset token is invalid or has expired")
        password_hash = await hash_password_off_loop(new_password)
        if not await resets.end(row.id, USED, now):
            raise InvalidResetToken("the reset token is invalid or has expired")
        return await self._set_password(user.id, password_hash, PASSWORD_RESET, keep_session=None)

    async def reset_mail(self, token_id: uuid.UUID) -> tuple[str, str] | None:
        """The recipient and the token to mail for the reset token `token_id`, or None when
        there is nothing to send any more (the token ended or expired, the account is gone or
        not active): a retried event then sends nothing."""
        token = await self.uow.repo(PasswordResetRepository).get_by_id(token_id)
        if token is None or token.ended_at is not None or token.expires_at <= utc_now():
            return None
        user = await self.uow.repo(UserRepository).get_by_id(token.user_id)
        if user is None or user.status != UserStatus.ACTIVE:
            return None
        return user.email, reset_token(self.tokens, token_id)

    async def _set_password(
        self,
        user_id: uuid.UUID,
        password_hash: str,
        reason: str,
        *,
        keep_session: uuid.UUID | None,
    ) -> int:
        """Store the new hash (audited, the value redacted), end the user's pending reset
        tokens and sessions (but `keep_session`), record the activity and the event.

        The user's row is locked first, as `SessionService.end_all_sessions` does: a login
        racing this either committed its session before (ended here) or waits for the new
        hash. Ending the sessions is the whole of SPEC 13 here: an access token is honoured
        only while its session is unrevoked."""
        users = self.uow.repo(UserRepository)
        await users.get(user_id, lock=True)
        await users.update(user_id, {"password_hash": password_hash})
        now = utc_now()
        await self.uow.repo(PasswordResetRepository).end_pending_for_user(user_id, reason, now)
        sessions = self.uow.repo(UserSessionRepository)
        ended = await sessions.revoke_all_for_user(
            user_id, reason, now, except_session=keep_session
        )
        ActivityService(self.uow).record(user_id, "password_changed", reason=reason)
        self.uow.record(PasswordChanged(user_id=user_id, reason=reason))
        return ended
