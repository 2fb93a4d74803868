"""A login racing an account's deletion (PostgreSQL, real commits): whichever comes second
sees the other. Either the login finds the account gone and creates no session, or the
deletion finds the login's committed session and ends it; never a live session on a
deleted account (which a restore would bring back)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.engine import create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.domain.errors import AccountSuspended
from learnhub.domain.permissions import ADMIN, BUILTIN_ROLES
from learnhub.domain.principal import Principal
from learnhub.models.user import UserSession
from learnhub.repositories.session import UserSessionRepository
from learnhub.services.auth import AuthService
from learnhub.services.tokens import TokenSettings
from learnhub.services.user import UserAdminService
from tests.integration.helpers import register, unique_email

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "correct horse battery"
TOKENS = TokenSettings(
    secret="session-end-race-signing-secret-" + "s" * 32,
    issuer="learnhub",
    access_ttl=timedelta(minutes=5),
    refresh_ttl=timedelta(days=1),
)
# Some other administrator deletes the account.
ADMIN_PRINCIPAL = Principal(
    user_id=uuid.uuid4(),
    session_id=None,
    roles=frozenset({ADMIN}),
    permissions=BUILTIN_ROLES[ADMIN][1],
)


async def login(factory, email: str) -> str:
    async with UnitOfWork(factory) as uow:
        try:
            await AuthService(uow, TOKENS).login(email, PASSWORD, ip_address="192.0.2.1")
        except AccountSuspended as refused:
            return f"403 {refused}"
        await uow.commit()
        return "200"


async def delete(factory, user_id: uuid.UUID) -> None:
    async with UnitOfWork(factory) as uow:
        await UserAdminService(uow, ADMIN_PRINCIPAL).delete(user_id)
        await uow.commit()


async def sessions_of(factory, user_id: uuid.UUID) -> list[UserSession]:
    async with UnitOfWork(factory) as uow:
        result = await uow.session.execute(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .execution_options(include_deleted=True)
        )
        return list(result.scalars())


async def test_a_deletion_committed_during_a_login_wins(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
):
    factory = create_session_factory(committed_engine)
    email = unique_email("race.first")
    user = await register(UnitOfWork(factory), email, password=PASSWORD)
    checked = UserSessionRepository.last_login_from
    deleted = asyncio.Event()

    async def check_then_wait(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The login has read the account (active) and checked its password.
        found = await checked(self, *args, **kwargs)
        await asyncio.wait_for(deleted.wait(), timeout=10)
        return found

    monkeypatch.setattr(UserSessionRepository, "last_login_from", check_then_wait)
    pending = asyncio.create_task(login(factory, email))
    await asyncio.sleep(0.2)
    await delete(factory, user.id)
    deleted.set()
    assert await pending == "403 account is no longer active"
    assert await sessions_of(factory, user.id) == []


async def test_a_deletion_during_a_login_ends_the_new_session(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
):
    factory = create_session_factory(committed_engine)
    email = unique_email("race.second")
    user = await register(UnitOfWork(factory), email, password=PASSWORD)
    create = UserSessionRepository.create
    created = asyncio.Event()

    async def create_then_linger(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The session row exists, uncommitted; the deletion starts meanwhile.
        found = await create(self, *args, **kwargs)
        created.set()
        await asyncio.sleep(0.5)
        return found

    monkeypatch.setattr(UserSessionRepository, "create", create_then_linger)
    pending = asyncio.create_task(login(factory, email))
    await asyncio.wait_for(created.wait(), timeout=10)
    await delete(factory, user.id)
    assert await pending == "200"
    [ended] = await sessions_of(factory, user.id)
    assert ended.revoked_at is not None and ended.revoked_reason == "user_deleted"
