"""Timestamps, ids, and the SQLite connection settings (pitfall 8)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from learnhub.repositories.user import UserRepository
from learnhub.services.user import UserService
from tests.integration.helpers import register


async def test_ids_are_uuid7_and_timestamps_are_aware_utc(uow, session):
    first, second = await register(uow), await register(uow)
    assert first.id.version == 7 and first.id < second.id  # time-ordered
    session.expunge_all()
    loaded = await UserRepository(session).get(first.id)
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == UTC.utcoffset(None)
    assert loaded.created_at <= loaded.updated_at


async def test_updated_at_moves_on_update(uow, session):
    user = await register(uow)
    await asyncio.sleep(0.01)
    async with uow:
        updated = await UserService(uow).update_profile(user.id, "Renamed")
        await uow.commit()
    assert updated.updated_at > user.updated_at
    assert updated.created_at == user.created_at


async def test_foreign_keys_are_enforced(session, backend):
    if backend == "sqlite":
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    missing = uuid.uuid4()
    with pytest.raises(IntegrityError):
        await session.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            {
                "u": missing.hex if backend == "sqlite" else missing,
                "r": missing.hex if backend == "sqlite" else missing,
            },
        )


@pytest.mark.sqlite_only
async def test_sqlite_file_database_runs_in_wal_mode(session):
    assert (await session.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"


async def test_check_constraints_hold_in_the_database(session, backend):
    with pytest.raises(IntegrityError):
        await session.execute(
            text(
                "INSERT INTO users (id, email, display_name, password_hash, status, version) "
                "VALUES (:id, 'UPPER@EXAMPLE.COM', 'x', 'h', 'active', 1)"
            ),
            {"id": uuid.uuid4().hex if backend == "sqlite" else uuid.uuid4()},
        )
