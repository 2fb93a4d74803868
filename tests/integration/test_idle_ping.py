"""Pooled PostgreSQL connections: one left idle is pinged before reuse, and a dead one is
replaced without the caller noticing; one just used is handed out without a round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from learnhub.db import engine as engine_module
from learnhub.db.engine import create_engine

pytestmark = pytest.mark.postgres_only


async def backend_pid(engine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def kill(url: str, pid: int) -> None:
    other = create_engine(url)
    try:
        async with other.connect() as conn:
            await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_an_idle_connection_that_died_is_replaced_before_use(backend, db_url, monkeypatch):
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = create_engine(db_url, pool_size=1)
    try:
        first = await backend_pid(engine)
        await kill(db_url, first)
        # Checked out again after being idle: the ping finds it dead, the pool reconnects.
        second = await backend_pid(engine)
        assert second != first
    finally:
        await engine.dispose()


async def test_a_connection_used_a_moment_ago_is_not_pinged(backend, db_url, monkeypatch):
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = create_engine(db_url, pool_size=1)
    try:
        first = await backend_pid(engine)
        await kill(db_url, first)
        # Not pinged: the dead connection is only found out by the statement itself, which
        # fails (an outage answers 503) and invalidates the pool for the next checkout.
        with pytest.raises(DBAPIError):
            await backend_pid(engine)
        assert await backend_pid(engine) != first
    finally:
        await engine.dispose()
