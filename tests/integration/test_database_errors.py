"""Each kind of database error, provoked for real on each engine that has it, and named by
`db.errors.classify` alone (the one module that reads SQLSTATEs and SQLite codes).

SQLite has no data exceptions (it stores any value in any column), no serialization
failures (one writer at a time) and no statement timeout, so those kinds are provoked on
PostgreSQL only."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from learnhub.db.engine import create_engine
from learnhub.db.errors import DbError, caused_by, classify, translate_integrity_error
from learnhub.domain.errors import Conflict, InvalidValue

PROBE = """CREATE TABLE probe_errors (
    id INTEGER PRIMARY KEY,
    name VARCHAR(20) UNIQUE,
    parent_id INTEGER REFERENCES probe_errors (id),
    n INTEGER CHECK (n > 0),
    note VARCHAR(20) NOT NULL
)"""


async def _error(connection: AsyncConnection, *statements: str) -> DBAPIError:
    """The error the statements raise, inside a savepoint so the test's transaction goes on
    (which also undoes a `SET LOCAL` among them)."""
    with pytest.raises(DBAPIError) as info:
        async with connection.begin_nested():
            for sql in statements:
                await connection.execute(text(sql))
    return info.value


@pytest.fixture
async def probe(connection: AsyncConnection) -> AsyncConnection:
    await connection.execute(text(PROBE))  # rolled back with the test's transaction
    await connection.execute(text("INSERT INTO probe_errors VALUES (1, 'taken', NULL, 1, 'x')"))
    return connection


@pytest.mark.parametrize(
    ("sql", "kind", "domain_error"),
    [
        (
            "INSERT INTO probe_errors VALUES (2, 'taken', NULL, 1, 'x')",
            DbError.UNIQUE_VIOLATION,
            Conflict,
        ),
        (
            "INSERT INTO probe_errors VALUES (2, 'free', 99, 1, 'x')",
            DbError.FOREIGN_KEY_VIOLATION,
            Conflict,
        ),
        (
            "INSERT INTO probe_errors VALUES (2, 'free', NULL, 0, 'x')",
            DbError.CHECK_VIOLATION,
            InvalidValue,
        ),
        (
            "INSERT INTO probe_errors VALUES (2, 'free', NULL, 1, NULL)",
            DbError.NOT_NULL_VIOLATION,
            InvalidValue,
        ),
    ],
    ids=["unique", "foreign_key", "check", "not_null"],
)
async def test_integrity_errors_are_classified_and_translated(probe, sql, kind, domain_error):
    error = await _error(probe, sql)
    assert isinstance(error, IntegrityError)
    assert classify(error) is kind
    assert type(translate_integrity_error(error, "probe")) is domain_error


async def test_a_lock_not_granted_in_time_is_a_lock_timeout(engine, connection, backend):
    if backend == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(1414)"))
        async with engine.connect() as other:
            error = await _error(
                other, "SET LOCAL lock_timeout = '50ms'", "SELECT pg_advisory_xact_lock(1414)"
            )
            await other.rollback()
    else:
        # The test's own connection holds SQLite's write lock (transactions BEGIN
        # IMMEDIATE); a second writer waits its busy_timeout, cut short here, then gives up.
        await connection.execute(text("SELECT 1"))
        async with engine.connect() as other:
            raw = await other.get_raw_connection()
            await raw.driver_connection.execute("PRAGMA busy_timeout = 50")
            with pytest.raises(DBAPIError) as info:
                await other.execute(text("SELECT 1"))
            error = info.value
            await other.invalidate()  # not back to the pool with the short timeout
    assert classify(error) is DbError.LOCK_TIMEOUT
    # Wrapped by a tool (as Alembic's runner does), the cause is still found.
    try:
        raise RuntimeError("the migration failed") from error
    except RuntimeError as wrapped:
        assert caused_by(wrapped, DbError.LOCK_TIMEOUT)
        assert not caused_by(wrapped, DbError.STATEMENT_TIMEOUT)


async def test_an_unreachable_database_is_unavailable(db_url, backend, tmp_path: Path):
    if backend == "postgresql":
        victim_engine = create_engine(db_url, pool_size=1)
        killer_engine = create_engine(db_url, pool_size=1)
        try:
            async with victim_engine.connect() as victim, killer_engine.connect() as killer:
                pid = (await victim.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                with pytest.raises(DBAPIError) as info:
                    await victim.execute(text("SELECT 1"))
        finally:
            await victim_engine.dispose()
            await killer_engine.dispose()
    else:
        nowhere = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")
        try:
            with pytest.raises(DBAPIError) as info:
                async with nowhere.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        finally:
            await nowhere.dispose()
    assert classify(info.value) is DbError.UNAVAILABLE


@pytest.mark.postgres_only
async def test_a_value_the_database_refuses_is_invalid(connection):
    error = await _error(connection, "SELECT CAST('twelve' AS integer)")
    assert classify(error) is DbError.INVALID_VALUE


@pytest.mark.postgres_only
async def test_a_statement_stopped_by_statement_timeout(connection):
    error = await _error(connection, "SET LOCAL statement_timeout = '50ms'", "SELECT pg_sleep(5)")
    assert classify(error) is DbError.STATEMENT_TIMEOUT


@pytest.mark.postgres_only
async def test_a_deadlock_is_a_serialization_failure(engine):
    async with engine.connect() as first, engine.connect() as second:
        await first.execute(text("SELECT pg_advisory_xact_lock(1401)"))
        await second.execute(text("SELECT pg_advisory_xact_lock(1402)"))
        results = await asyncio.gather(
            first.execute(text("SELECT pg_advisory_xact_lock(1402)")),
            second.execute(text("SELECT pg_advisory_xact_lock(1401)")),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        await first.rollback()
        await second.rollback()
    assert len(errors) == 1, results
    assert classify(errors[0]) is DbError.SERIALIZATION_FAILURE


@pytest.mark.postgres_only
async def test_a_concurrent_update_is_a_serialization_failure(engine: AsyncEngine):
    table = f"probe_serialization_{uuid.uuid4().hex[:8]}"
    async with engine.connect() as setup:
        await setup.execute(text(f"CREATE TABLE {table} (id int PRIMARY KEY, n int)"))
        await setup.execute(text(f"INSERT INTO {table} VALUES (1, 0)"))
        await setup.commit()
    try:
        async with engine.connect() as reader, engine.connect() as writer:
            await reader.execution_options(isolation_level="REPEATABLE READ")
            await reader.execute(text(f"SELECT n FROM {table}"))  # the snapshot is taken
            await writer.execute(text(f"UPDATE {table} SET n = 1"))
            await writer.commit()
            with pytest.raises(DBAPIError) as info:
                await reader.execute(text(f"UPDATE {table} SET n = 2"))
            await reader.rollback()
        assert classify(info.value) is DbError.SERIALIZATION_FAILURE
    finally:
        async with engine.connect() as cleanup:
            await cleanup.execute(text(f"DROP TABLE {table}"))
            await cleanup.commit()


@pytest.mark.postgres_only
async def test_the_drivers_own_errors_are_classified_too(probe):
    """asyncpg's raw connection (the seeder's COPY) raises its errors unwrapped."""
    raw = await probe.get_raw_connection()
    with pytest.raises(Exception) as info:
        await raw.driver_connection.execute(
            "INSERT INTO probe_errors VALUES (2, 'taken', NULL, 1, 'x')"
        )
    assert not isinstance(info.value, DBAPIError)
    assert classify(info.value) is DbError.UNIQUE_VIOLATION


@pytest.mark.postgres_only
async def test_other_database_errors_are_other(connection):
    error = await _error(connection, "SELECT * FROM no_such_table")
    assert classify(error) is DbError.OTHER


def test_errors_that_are_not_the_databases_have_no_kind():
    assert classify(ValueError("no")) is None
    assert not caused_by(RuntimeError("no"), DbError.UNAVAILABLE)
