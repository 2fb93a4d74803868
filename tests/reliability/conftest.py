"""The reliability scripts in a small configuration: real `learnhub serve` processes on a
throwaway PostgreSQL database (no `backend` fixture: each test runs once)."""

from __future__ import annotations

import os

import asyncpg
import pytest

from tests.support.databases import PG_ADMIN_DSN, _admin


async def require_postgres() -> None:
    """Fail (CI: LEARNHUB_REQUIRE_POSTGRES=1) or skip when PostgreSQL is unreachable."""
    connection = await _admin()
    await connection.close()


async def database_exists(admin_dsn: str, name: str) -> bool:
    connection = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


def process_group_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def admin_dsn() -> str:
    return PG_ADMIN_DSN
