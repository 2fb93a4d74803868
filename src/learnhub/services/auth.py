"""Logging in and out, token refresh with rotation and reuse detection, throttling, and
turning an access token into a Principal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.domain.enums import UserStatus
from learnhub.domain.errors import (
    AccountSuspended,
    ConcurrencyConflict,
    InvalidValue,
    NotAuthenticated,
    TooManyRequests,
)
from learnhub.domain.principal import Principal
from learnhub.domain.value_objects import Email
from learnhub.models.user import UserSession
from learnhub.repositories.session import LoginFailureRepository, UserSessionRepository
from learnhub.repositories.user import UserRepository
from learnhub.services.activity import ActivityService
from learnhub.services.base import BaseService
from learnhub.services.passwords import hash_password, verify_password_off_loop
from learnhub.services.tokens import (
    TokenPair,
    TokenSettings,
    compose_refresh_token,
    decode_access_token,
    hash_refresh_secret,
    issue_access_token,
    new_refresh_secret,
    parse_refresh_token,
)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verifying against a real hash when the account does not exist keeps timings alike.
    return hash_password("no-such-account-placeholder")


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """Failed logins allowed within `window`: per account from one client address, and per
    client address across accounts. Nothing counts an account's failures from everywhere,
    so no one can lock another person out by guessing wrong from their own address."""

    window: timedelta = timedelta(minutes=15)
    max_per_account: int = 5
    max_per_ip: int = 20


# Why a session ended (user_sessions.revoked_reason, at most 32 characters).
LOGOUT = "logout"
TOKEN_REUSE = "token_reuse"
USER_DELETED = "user_deleted"
PASSWORD_CHANGED = "password_changed"


def status_reason(status: UserStatus) -> str:
    """The reason recorded when an account leaves `active` (e.g. `user_suspended`)."""
    return f"user_{status.value}"


class SessionService(BaseService):
    async def end_all_sessions(self, user_id: uuid.UUID, reason: str) -> int:
        """SPEC 13: tokens issued before a user's deletion, suspension or password change
        never work again, whatever happens to the user afterwards (restore included). Every
        token names its session (an access token by `sid`, a refresh token by its prefix) and
        is honoured only while that session is unrevoked, so ending the sessions is the whole
        rule: each is revoked (audited, with `reason`) and nothing ever un-revokes one.

        The user's row is locked first: a login running concurrently either committed its
        session before (and it is revoked here) or waits and then finds the account no longer
        active (`UserRepository.record_login`). Returns how many sessions were ended."""
        await self.uow.repo(UserRepository).get(user_id, include_deleted=True, lock=True)
        return await self.uow.repo(UserSessionRepository).revoke_all_for_user(
            user_id, reason, utc_now()
        )


class AuthService(BaseService):
    """Failures that must persist (a failed login, a revoked session) are written before the
    error is raised, and the use case tells its unit of work to keep them despite the error:
    the boundary commits them and then answers with the error."""

    def __init__(
        self, uow: AbstractUnitOfWork, tokens: TokenSettings, throttle: ThrottlePolicy | None = None
    ) -> None:
        super().__init__(uow)
        self.tokens = tokens
        self.throttle = throttle or ThrottlePolicy()

    async def login(
        self,
        email: str,
        password: str,
        *,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> TokenPair:
        # A failed attempt is counted (the throttle's memory) although the login fails.
        self.uow.keep_despite_error(NotAuthenticated, TooManyRequests)
        try:
            address = Email(email).value
        except InvalidValue:
            raise NotAuthenticated("wrong e-mail or password") from None
        now = utc_now()
        users = self.uow.repo(UserRepository)
        user = await users.get_by_email(address)
        failures = self.uow.repo(LoginFailureRepository)
        sessions = self.uow.repo(UserSessionRepository)
        since = now - self.throttle.window
        if user is not None:
            # A success from this address wipes the account's slate there (only there).
            last = await sessions.last_login_from(user.id, ip_address)
            if last is not None and last > since:
                since = last
        retry = int(self.throttle.window.total_seconds())
        if (
            await failures.count_for_account_at(since=since, email=address, ip_address=ip_address)
            >= self.throttle.max_per_account
        ):
            raise TooManyRequests("too many failed logins for this account", retry)
        if (
            ip_address
            and await failures.count_since(since=now - self.throttle.window, ip_address=ip_address)
            >= self.throttle.max_per_ip
        ):
            raise TooManyRequests("too many failed logins from this address", retry)

        if user is None:
            await verify_password_off_loop(_dummy_hash(), password)
            failures.add(address, ip_address)
            raise NotAuthenticated("wrong e-mail or password")
        if not await verify_password_off_loop(user.password_hash, password):
            failures.add(address, ip_address)
            raise NotAuthenticated("wrong e-mail or password")
        if user.status != UserStatus.ACTIVE:
            raise AccountSuspended(f"account is {user.status.value}")

        # Before the session exists: a deletion or suspension committed meanwhile wins.
        if not await users.record_login(user.id, now):
            raise AccountSuspended("account is no longer active")
        secret = new_refresh_secret()
        login = await sessions.create(
            UserSession(
                user_id=user.id,
                refresh_token_hash=hash_refresh_secret(secret),
                user_agent=(user_agent or "")[:512] or None,
                ip_address=ip_address,
                expires_at=now + self.tokens.refresh_ttl,
            )
        )
        ActivityService(self.uow).record(
            user.id, "login", subject_type="session", subject_id=login.id
        )
        return self._pair(user.id, login.id, secret)

    async def refresh(self, refresh_token: str) -> TokenPair:
        # A detected reuse revokes the session, and the revocation stands although the
        # refresh is refused.
        self.uow.keep_despite_error(NotAuthenticated)
        session_id, secret = parse_refresh_token(refresh_token)
        sessions = self.uow.repo(UserSessionRepository)
        login = await sessions.get_by_id(session_id)
        if login is None or login.revoked_at is not None:
            raise NotAuthenticated("refresh token invalid")
        presented, now = hash_refresh_secret(secret), utc_now()
        if presented == login.previous_token_hash:
            # A rotated token came back: someone holds a copy. End the session for both, by
            # a conditional UPDATE: several copies presented at once must all be refused,
            # not trip over each other's revocation (a version conflict, 409).
            await sessions.revoke(login.id, TOKEN_REUSE, now)
            raise NotAuthenticated("refresh token reused; session revoked")
        if presented != login.refresh_token_hash or login.expires_at <= now:
            raise NotAuthenticated("refresh token invalid")
        user = await self.uow.repo(UserRepository).get_by_id(login.user_id)
        if user is None or user.status != UserStatus.ACTIVE:
            raise NotAuthenticated("account unavailable")
        new_secret = new_refresh_secret()
        login.previous_token_hash = presented
        login.refresh_token_hash = hash_refresh_secret(new_secret)
        try:
            await sessions.flush(login)  # version check: one of two racing rotations wins
        except ConcurrencyConflict:
            raise NotAuthenticated("refresh token already used") from None
        return self._pair(user.id, login.id, new_secret)

    async def logout(self, refresh_token: str) -> None:
        session_id, secret = parse_refresh_token(refresh_token)
        sessions = self.uow.repo(UserSessionRepository)
        login = await sessions.get_by_id(session_id)
        if login is None or hash_refresh_secret(secret) not in (
            login.refresh_token_hash,
            login.previous_token_hash,
        ):
            raise NotAuthenticated("refresh token invalid")
        if login.revoked_at is None:
            # Conditional, like a reuse revocation: a refresh racing the logout cannot make
            # it fail, and loses its own version check instead.
            await sessions.revoke(login.id, LOGOUT, utc_now())

    async def end_session(self, principal: Principal) -> None:
        """Log out with only the access token: end the session it names (the principal was
        resolved from a live session just now)."""
        if principal.session_id is None:
            raise NotAuthenticated("no session to end")
        await self.uow.repo(UserSessionRepository).revoke(principal.session_id, LOGOUT, utc_now())

    async def principal(self, access_token: str) -> Principal:
        claims = decode_access_token(self.tokens, access_token)
        return await self._principal_of(claims.user_id, claims.session_id)

    async def session_principal(self, session_token: str) -> Principal:
        """The caller of a browser session (issue 16): its cookie holds the session's refresh
        token, never rotated there, honoured while the session is unrevoked, unexpired and
        the token is its current one. So logout, deletion, suspension and a password change
        (all of which revoke the session row) end the browser session as they end tokens."""
        session_id, secret = parse_refresh_token(session_token)
        login = await self.uow.repo(UserSessionRepository).get_by_id(session_id)
        if (
            login is None
            or login.revoked_at is not None
            or login.expires_at <= utc_now()
            or hash_refresh_secret(secret) != login.refresh_token_hash
        ):
            raise NotAuthenticated("session ended")
        return await self._principal_of(login.user_id, login.id)

    async def _principal_of(self, user_id: uuid.UUID, session_id: uuid.UUID) -> Principal:
        rows = await self.uow.repo(UserSessionRepository).principal_rows(user_id, session_id)
        if not rows:
            raise NotAuthenticated("session ended or account gone")
        if rows[0][0] != UserStatus.ACTIVE:
            raise NotAuthenticated(f"account is {rows[0][0].value}")
        return Principal(
            user_id=user_id,
            session_id=session_id,
            roles=frozenset(r for _, r, _ in rows if r),
            permissions=frozenset(p for _, _, p in rows if p),
        )

    def _pair(self, user_id: uuid.UUID, session_id: uuid.UUID, secret: str) -> TokenPair:
        now = utc_now()
        return TokenPair(
            access_token=issue_access_token(self.tokens, user_id, session_id, now),
            refresh_token=compose_refresh_token(session_id, secret),
            expires_in=int(self.tokens.access_ttl.total_seconds()),
        )
