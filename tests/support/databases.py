"""Throwaway databases for the test suite: a SQLite file, and a PostgreSQL database created
for the run and dropped after it. CI sets LEARNHUB_REQUIRE_POSTGRES=1 so an unreachable
PostgreSQL fails the run instead of skipping it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

PG_ADMIN_DSN = os.environ.get(
    "LEARNHUB_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("LEARNHUB_REQUIRE_POSTGRES", "") not in ("", "0", "false")


def _async_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL unreachable at {PG_ADMIN_DSN}: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@asynccontextmanager
async def postgres_database(prefix: str = "learnhub_test") -> AsyncIterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _async_url(PG_ADMIN_DSN, name)
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def sqlite_database(directory: Path, prefix: str = "learnhub_test") -> AsyncIterator[str]:
    path = directory / f"{prefix}_{uuid.uuid4().hex[:12]}.db"
    try:
        yield f"sqlite+aiosqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - test teardown


@asynccontextmanager
async def database(
    backend: str, directory: Path, prefix: str = "learnhub_test"
) -> AsyncIterator[str]:
    if backend == "postgresql":
        async with postgres_database(prefix) as url:
            yield url
    else:
        async with sqlite_database(directory, prefix) as url:
            yield url
