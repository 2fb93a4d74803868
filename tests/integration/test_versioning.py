"""Optimistic locking (SPEC 3, pitfall 5)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.engine import create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.domain.errors import ConcurrencyConflict, NotFound
from learnhub.repositories.user import UserRepository
from learnhub.services.user import UserService
from tests.integration.helpers import audit_entries, register


async def test_version_starts_at_one_and_increments_per_update(uow):
    user = await register(uow)
    assert user.version == 1
    async with uow:
        updated = await UserService(uow).update_profile(user.id, "Second", expected_version=1)
        await uow.commit()
    assert updated.version == 2


async def test_stale_expected_version_is_refused_not_silently_overwritten(uow, session):
    user = await register(uow, display_name="Original")
    async with uow:
        await UserService(uow).update_profile(user.id, "First edit", expected_version=1)
        await uow.commit()
    with pytest.raises(ConcurrencyConflict) as caught:
        async with uow:
            await UserService(uow).update_profile(user.id, "Stale edit", expected_version=1)
            await uow.commit()
    assert caught.value.details["current_version"] == 2
    current = await UserRepository(session).get(user.id)
    assert current.display_name == "First edit" and current.version == 2


async def test_update_of_missing_row_is_not_found(uow):
    from learnhub.domain.ids import new_id

    with pytest.raises(NotFound):
        async with uow:
            await UserService(uow).update_profile(new_id(), "x", expected_version=1)


@pytest.mark.postgres_only
async def test_two_concurrent_writers_second_fails_and_nothing_is_lost(
    committed_engine: AsyncEngine,
):
    """Two real sessions on two connections read version 1; both write. On PostgreSQL the
    second UPDATE blocks on the first's row lock, then finds the version moved on."""
    factory = create_session_factory(committed_engine)
    user = await register(UnitOfWork(factory), display_name="Base")
    first_wrote = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with UnitOfWork(factory) as uow:
            await UserService(uow).update_profile(user.id, "Writer A", expected_version=1)
            first_wrote.set()
            await release_first.wait()
            await uow.commit()

    async def second() -> None:
        async with UnitOfWork(factory) as uow:
            repo = uow.repo(UserRepository)
            loaded = await repo.get(user.id)  # reads version 1 before A commits
            assert loaded.version == 1
            await first_wrote.wait()
            loop = asyncio.get_running_loop()
            loop.call_later(0.3, release_first.set)  # A commits while B's UPDATE waits
            loaded.display_name = "Writer B"
            await repo.flush(loaded)
            await uow.commit()

    results = await asyncio.gather(first(), second(), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], ConcurrencyConflict), results[1]

    async with UnitOfWork(factory) as uow:
        final = await uow.repo(UserRepository).get(user.id)
        entries = await audit_entries(uow.session, user.id)
    assert final.display_name == "Writer A" and final.version == 2
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].changes["display_name"] == ["Base", "Writer A"]


async def test_concurrent_clients_with_the_same_version_exactly_one_wins(
    committed_engine: AsyncEngine,
):
    """N clients PATCH with the same If-Match version at once, each on its own connection."""
    factory = create_session_factory(committed_engine)
    user = await register(UnitOfWork(factory), display_name="Base")
    clients = 8

    async def edit(n: int) -> None:
        async with UnitOfWork(factory) as uow:
            await UserService(uow).update_profile(user.id, f"Client {n}", expected_version=1)
            await uow.commit()

    results = await asyncio.gather(*(edit(n) for n in range(clients)), return_exceptions=True)
    winners = [n for n, r in enumerate(results) if r is None]
    assert len(winners) == 1, results
    assert all(isinstance(r, ConcurrencyConflict) for r in results if r is not None), results
    async with UnitOfWork(factory) as uow:
        final = await uow.repo(UserRepository).get(user.id)
        entries = await audit_entries(uow.session, user.id)
    assert final.display_name == f"Client {winners[0]}" and final.version == 2
    assert [e.action for e in entries] == ["create", "update"]
