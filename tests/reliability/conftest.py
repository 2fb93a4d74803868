"""The reliability scripts in a small configuration: real `learnhub serve` processes on a
throwaway PostgreSQL database (no `backend` fixture: each test runs once)."""

from __future__ import annotations

import os
import time

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


def process_group_gone(pid: int, within: float = 15.0) -> bool:
    """Whether no process of the group is left, waiting up to `within` seconds: processes
    sent SIGKILL still take a moment to exit on a busy machine."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


@pytest.fixture
def admin_dsn() -> str:
    return PG_ADMIN_DSN
