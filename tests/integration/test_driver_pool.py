"""The hot reads' own asyncpg pool (db/driver_pool.py) behind the driver read unit of work:
the same rows as through a session, each statement told to the engine's cursor events (the
timing, the slow-query log, statement counters) and timed by the reply clock, outside any
transaction, the connection reused and never reset; a broken connection is replaced and
the read still answers; a database that cannot be reached is SQLAlchemy's error (a 503 in
the API). Real PostgreSQL, real commits (committed_engine)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.driver_pool import DriverPool
from learnhub.db.engine import create_engine
from learnhub.db.instrumentation import REPLY_CLOCK_KEY, ReplyClock
from learnhub.db.uow import DriverReadUnitOfWork
from learnhub.metrics import DB_CONNECTIONS_OPENED
from learnhub.repositories.catalog import CatalogRepository
from learnhub.repositories.course_outline import CourseOutlineRepository
from learnhub.repositories.filters import CursorPagination
from tests.integration.test_driver_read_unit import Runs, course_slug, outline_through_a_session

pytestmark = pytest.mark.postgres_only
__all__ = ["course_slug"]  # the fixture, used here


@pytest.fixture
async def driver_pool(committed_engine: AsyncEngine) -> AsyncIterator[DriverPool]:
    pool = DriverPool(committed_engine, size=2, connect_timeout=5)
    await pool.open()
    yield pool
    await pool.close()


async def outline_from(pool: DriverPool, key: Any) -> Any:
    async with DriverReadUnitOfWork(pool.engine, pool) as uow:
        return await uow.repo(CourseOutlineRepository).published(key)


async def test_the_course_page_and_the_catalog_read_as_through_a_session(
    driver_pool: DriverPool, committed_engine: AsyncEngine, course_slug: str
) -> None:
    outline = await outline_from(driver_pool, course_slug)
    assert outline is not None and outline.card.slug == course_slug
    assert outline == await outline_through_a_session(committed_engine, course_slug)
    assert await outline_from(driver_pool, "no-such-course") is None
    assert await outline_from(driver_pool, uuid.uuid4()) is None
    async with DriverReadUnitOfWork(committed_engine, driver_pool) as uow:
        page = await uow.repo(CatalogRepository).catalog_page([], CursorPagination(5), None)
    assert page.items
    # Nothing was taken from the engine's own pool.
    assert committed_engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_each_statement_is_told_to_the_engines_events_outside_a_transaction(
    driver_pool: DriverPool, committed_engine: AsyncEngine, course_slug: str
) -> None:
    seen: list[tuple[str, bool, Any]] = []

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        clock = conn.connection._connection_record.info.get(REPLY_CLOCK_KEY)
        seen.append((statement.lstrip()[:6], isinstance(clock, ReplyClock), clock.last_reply))

    opened = DB_CONNECTIONS_OPENED._value.get()
    event.listen(committed_engine.sync_engine, "after_cursor_execute", after)
    try:
        for _ in range(3):
            assert await outline_from(driver_pool, course_slug) is not None
    finally:
        event.remove(committed_engine.sync_engine, "after_cursor_execute", after)
    assert [(kind, clocked) for kind, clocked, _ in seen] == [("SELECT", True)] * 3
    assert all(reply > 0 for *_, reply in seen), "the reply clock timed each statement"
    # Three reads one after another: one connection, opened once and counted.
    assert DB_CONNECTIONS_OPENED._value.get() == opened + 1
    async with driver_pool.acquire() as connection:
        assert not connection.is_in_transaction()


async def test_concurrent_reads_share_the_pools_connections(
    driver_pool: DriverPool, course_slug: str
) -> None:
    outlines = await asyncio.gather(*(outline_from(driver_pool, course_slug) for _ in range(10)))
    assert all(o is not None and o.card.slug == course_slug for o in outlines)
    backends = set()
    for _ in range(3):
        async with driver_pool.acquire() as connection:
            backends.add(await connection.fetchval("SELECT pg_backend_pid()"))
    assert 1 <= len(backends) <= 2, "never more than the pool's size"


async def test_a_broken_connection_is_replaced_and_the_read_still_answers(
    committed_engine: AsyncEngine, course_slug: str
) -> None:
    pool = DriverPool(committed_engine, size=1, connect_timeout=5)
    await pool.open()
    try:
        async with pool.acquire() as connection:
            backend = await connection.fetchval("SELECT pg_backend_pid()")
        async with committed_engine.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with Runs(committed_engine) as runs:
            outline = await outline_from(pool, course_slug)
        assert outline is not None and outline.card.slug == course_slug
        # asyncpg's pool replaces a connection it saw closed before handing it out; one whose
        # end it has not seen yet fails the statement, which then runs the ordinary way.
        assert len(runs) in (1, 2), runs
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") != backend
    finally:
        await pool.close()


async def test_a_database_that_cannot_be_reached_is_sqlalchemys_error(
    committed_engine: AsyncEngine,
) -> None:
    """What the API answers 503 to (a DBAPIError), not an unknown error."""
    url = committed_engine.url.set(database=f"no_such_database_{uuid.uuid4().hex[:8]}")
    engine = create_engine(url.render_as_string(hide_password=False))
    pool = DriverPool(engine, size=1, connect_timeout=5)
    await pool.open()  # opens nothing yet: connections are made on demand
    try:
        with pytest.raises(DBAPIError):
            await outline_from(pool, "any-course")
    finally:
        await pool.close()
        await engine.dispose()


async def test_the_pool_connects_as_the_engines_url_says(committed_engine: AsyncEngine) -> None:
    """Options in the URL reach asyncpg (here `ssl=disable`, and SQLAlchemy's own statement
    cache size, which asyncpg does not take, is left out)."""
    url = committed_engine.url.update_query_dict(
        {"ssl": "disable", "prepared_statement_cache_size": "50"}
    )
    engine = create_engine(url.render_as_string(hide_password=False))
    pool = DriverPool(engine, size=1, connect_timeout=5)
    await pool.open()
    try:
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT current_database()") == url.database
            assert connection.get_settings().server_version  # a working connection
    finally:
        await pool.close()
        await engine.dispose()
