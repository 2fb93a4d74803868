"""Copies of one rotated refresh token presented at the same moment (PostgreSQL, real
commits): every copy is refused with 401 and the session ends. Both requests read the
session before either revokes it (a barrier makes that certain); revoking it by a versioned
ORM update made the second one trip over the first's revocation (a version conflict, 409)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.engine import create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.domain.errors import ConcurrencyConflict, NotAuthenticated
from learnhub.repositories.session import UserSessionRepository
from learnhub.services.auth import AuthService
from learnhub.services.tokens import TokenSettings
from tests.integration.helpers import register, unique_email

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("fast_password_hashing")]

TOKENS = TokenSettings(
    secret="refresh-race-signing-secret-" + "r" * 32,
    issuer="learnhub",
    access_ttl=timedelta(minutes=5),
    refresh_ttl=timedelta(days=1),
)


async def refresh(factory, token: str) -> str:
    async with UnitOfWork(factory) as uow:
        try:
            pair = await AuthService(uow, TOKENS).refresh(token)
        except NotAuthenticated as refused:
            await uow.commit()  # as the API does: a detected reuse revokes the session
            return f"401 {refused}"
        await uow.commit()
        return pair.refresh_token


async def test_copies_of_a_rotated_token_at_once_are_all_refused(
    committed_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
):
    factory = create_session_factory(committed_engine)
    email = unique_email("reuse")
    await register(UnitOfWork(factory), email, password="correct horse battery")
    async with UnitOfWork(factory) as uow:
        first = (await AuthService(uow, TOKENS).login(email, "correct horse battery")).refresh_token
        await uow.commit()
    second = await refresh(factory, first)
    assert not second.startswith("401")

    # Both requests read the session (seeing `first` as the rotated-away token) before
    # either writes.
    both_read = asyncio.Barrier(2)
    read = UserSessionRepository.get_by_id

    async def read_then_wait(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = await read(self, *args, **kwargs)
        await asyncio.wait_for(both_read.wait(), timeout=10)
        return found

    monkeypatch.setattr(UserSessionRepository, "get_by_id", read_then_wait)
    outcomes = await asyncio.gather(
        refresh(factory, first), refresh(factory, first), return_exceptions=True
    )
    monkeypatch.undo()
    assert not any(isinstance(o, ConcurrencyConflict) for o in outcomes), outcomes
    assert outcomes == ["401 refresh token reused; session revoked"] * 2, outcomes

    # The session is over: the current token is refused too.
    assert (await refresh(factory, second)).startswith("401"), "the session is still live"
    session_id = uuid.UUID(second.split(".", 1)[0])
    async with UnitOfWork(factory) as uow:
        ended = await uow.repo(UserSessionRepository).get(session_id)
    assert ended.revoked_at is not None and ended.revoked_reason == "token_reuse"
