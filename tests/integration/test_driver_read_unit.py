"""The driver read unit of work (db/uow.py, DriverReadUnitOfWork, on db/driver_reads.py's
PooledDriverConnection): what a read model reads through it is what it reads through a
session, counted like any statement, outside any transaction, on one pooled connection that
goes back to the pool; a connection that broke is replaced, and one whose read was cut off
mid-statement serves the next read. Real PostgreSQL, real commits (committed_engine), an
engine of one connection where a test needs to know which connection the read gets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Float, Integer, bindparam, event, func, literal_column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db import driver_reads
from learnhub.db.driver_reads import PooledDriverConnection, compile_read
from learnhub.db.engine import create_engine, create_session_factory, reads_on_driver
from learnhub.db.uow import DriverReadUnitOfWork, UnitOfWork
from learnhub.domain.enums import DifficultyLevel
from learnhub.models import Course
from learnhub.repositories.catalog import CatalogRepository
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.course_catalog import Listed
from learnhub.repositories.course_outline import CourseOutline, CourseOutlineRepository
from learnhub.repositories.filters import CursorPagination, Eq
from tests.integration.helpers import register
from tests.integration.test_catalog_read_model import published_course

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def course_slug(committed_engine: AsyncEngine) -> str:
    factory = create_session_factory(committed_engine)
    instructor = await register(UnitOfWork(factory), roles=["instructor"])
    course = await published_course(UnitOfWork(factory), instructor.id, ["driver"])
    return course.slug


@pytest.fixture
async def one_connection(committed_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """An engine on the committed database whose pool holds a single connection."""
    url = committed_engine.url.render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=1)
    yield engine
    await engine.dispose()


class Runs:
    """Statements started on an engine (its before_cursor_execute event): a read that failed
    on the driver and ran again the ordinary way is started twice."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine, self.statements = engine.sync_engine, list[str]()

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.statements

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


async def outline_through_a_session(engine: AsyncEngine, slug: str) -> CourseOutline | None:
    async with UnitOfWork(create_session_factory(engine), read_only=True) as uow:
        return await uow.repo(CourseOutlineRepository).published(slug)


async def test_the_course_page_reads_as_through_a_session(
    committed_engine: AsyncEngine, course_slug: str
) -> None:
    assert reads_on_driver(committed_engine)
    async with DriverReadUnitOfWork(committed_engine) as uow:
        outline = await uow.repo(CourseOutlineRepository).published(course_slug)
        missing = await uow.repo(CourseOutlineRepository).published("no-such-course")
    assert outline is not None and missing is None
    assert outline == await outline_through_a_session(committed_engine, course_slug)
    assert outline.card.slug == course_slug and outline.card.objectives


async def test_one_counted_statement_outside_a_transaction_on_a_returned_connection(
    one_connection: AsyncEngine, course_slug: str
) -> None:
    statements: list[str] = []
    seen: dict[str, Any] = {}

    def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)
        driver = conn.connection.dbapi_connection.driver_connection
        seen["in transaction"] = driver.is_in_transaction()

    event.listen(one_connection.sync_engine, "before_cursor_execute", before)
    try:
        async with DriverReadUnitOfWork(one_connection) as uow:
            assert await uow.repo(CourseOutlineRepository).published(course_slug) is not None
    finally:
        event.remove(one_connection.sync_engine, "before_cursor_execute", before)
    assert len(statements) == 1 and statements[0].lstrip().startswith("SELECT")
    assert seen == {"in transaction": False}
    assert one_connection.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_connection_beyond_the_pools_room_is_closed_when_given_back(
    committed_engine: AsyncEngine, course_slug: str
) -> None:
    """Units given back their connections with and without room in the pool: one with room
    goes back to the queue as it is (no I/O, no greenlet), one beyond the pool's size is
    closed (I/O, in a greenlet); every read answers and nothing is left checked out."""
    url = committed_engine.url.render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=1, max_overflow=1)
    closed: list[object] = []
    event.listen(engine.sync_engine, "close", lambda conn, _record: closed.append(conn))
    try:
        first, second = DriverReadUnitOfWork(engine), DriverReadUnitOfWork(engine)
        async with first as one:
            async with second as two:
                assert await one.repo(CourseOutlineRepository).published(course_slug)
                assert await two.repo(CourseOutlineRepository).published(course_slug)
                assert engine.sync_engine.pool.checkedout() == 2  # type: ignore[attr-defined]
            assert closed == [], "the second went back to the queue (it had room), open"
        assert len(closed) == 1, "the first went back to a full queue: closed"
        driver = closed[0].driver_connection  # type: ignore[attr-defined]
        assert driver.is_closed(), "closed for real: a close needs I/O, run in a greenlet"
        pool = engine.sync_engine.pool
        assert pool.checkedout() == 0 and pool.checkedin() == 1  # type: ignore[attr-defined]
        async with DriverReadUnitOfWork(engine) as again:
            assert await again.repo(CourseOutlineRepository).published(course_slug)
    finally:
        await engine.dispose()


async def test_a_returned_connection_goes_to_the_unit_waiting_for_it(
    one_connection: AsyncEngine, course_slug: str
) -> None:
    async def read() -> bool:
        async with DriverReadUnitOfWork(one_connection) as uow:
            outline = await uow.repo(CourseOutlineRepository).published(course_slug)
            await asyncio.sleep(0.01)  # hold the pool's one connection while others wait
            return outline is not None

    assert await asyncio.gather(*(read() for _ in range(5))) == [True] * 5
    assert one_connection.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_read_takes_one_greenlet_and_gives_its_connection_back_without_one(
    one_connection: AsyncEngine, course_slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkout (which may wait or ping: I/O) and the first statement share one
    greenlet; giving the connection back to a pool that keeps it needs none."""
    spawned: list[str] = []
    spawn = driver_reads.greenlet_spawn

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        spawned.append(getattr(fn, "__name__", repr(fn)))
        return await spawn(fn, *args, **kwargs)

    monkeypatch.setattr(driver_reads, "greenlet_spawn", counting)
    for _ in range(2):
        async with DriverReadUnitOfWork(one_connection) as uow:
            assert await uow.repo(CourseOutlineRepository).published(course_slug) is not None
    assert spawned == ["_checkout_and_fetch", "_checkout_and_fetch"]
    assert one_connection.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_broken_connection_is_replaced_and_the_read_still_answers(
    one_connection: AsyncEngine, committed_engine: AsyncEngine, course_slug: str
) -> None:
    async with one_connection.connect() as warm:
        backend = (await warm.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    async with committed_engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    with Runs(one_connection) as runs:
        async with DriverReadUnitOfWork(one_connection) as uow:
            outline = await uow.repo(CourseOutlineRepository).published(course_slug)
    assert outline is not None and outline.card.slug == course_slug
    assert len(runs) == 2, "failed on the driver, then ran the ordinary way"
    async with one_connection.connect() as after:
        now = (await after.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert now != backend, "the broken connection went back into the pool"


async def test_a_read_cut_off_mid_statement_leaves_its_connection_fit_for_the_next(
    one_connection: AsyncEngine,
) -> None:
    sleep = select(func.pg_sleep(bindparam("seconds", type_=Float)))
    read = compile_read(sleep, one_connection.dialect)
    backend = select(func.pg_backend_pid())
    backend_read = compile_read(backend, one_connection.dialect)

    async def slow_read() -> None:
        async with PooledDriverConnection(one_connection) as connection:
            await connection.rows(sleep, read, {"seconds": 30.0})

    async with PooledDriverConnection(one_connection) as connection:
        ((before,),) = await connection.rows(backend, backend_read, {})
    task = asyncio.create_task(slow_read())
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The pool's only connection, the same one, on the driver: no error, so no second run.
    with Runs(one_connection) as runs:
        async with PooledDriverConnection(one_connection) as connection:
            rows = await asyncio.wait_for(connection.rows(sleep, read, {"seconds": 0.0}), 10)
            ((after,),) = await connection.rows(backend, backend_read, {})
    assert rows == [(None,)] and after == before
    assert len(runs) == 2, "a read failed on the driver first"


async def test_a_statement_the_server_refuses_keeps_its_connection(
    one_connection: AsyncEngine,
) -> None:
    """A server-side error is SQLAlchemy's error for the caller (the statement ran again the
    ordinary way), and the connection, still sound, is not discarded."""
    backend = select(func.pg_backend_pid())
    backend_read = compile_read(backend, one_connection.dialect)
    divide = select(literal_column("1") / bindparam("zero", type_=Integer))
    divide_read = compile_read(divide, one_connection.dialect)
    async with PooledDriverConnection(one_connection) as connection:
        ((before,),) = await connection.rows(backend, backend_read, {})
    with Runs(one_connection) as runs, pytest.raises(DBAPIError, match="division by zero"):
        async with PooledDriverConnection(one_connection) as connection:
            await connection.rows(divide, divide_read, {"zero": 0})
    assert len(runs) == 2, "on the driver, then the ordinary way"
    async with PooledDriverConnection(one_connection) as connection:
        ((after,),) = await connection.rows(backend, backend_read, {})
    assert after == before


async def test_a_statement_built_per_request_reads_on_one_connection_at_a_time(
    one_connection: AsyncEngine, course_slug: str
) -> None:
    """A compiled read holds the pooled connection; a statement built per request (a
    filtered catalog page) runs through SQLAlchemy after giving it back, and later reads
    stay on that connection: with a pool of one, holding two would wait forever."""
    difficult = [Listed(), Eq(Course.difficulty, DifficultyLevel.BEGINNER)]
    async with DriverReadUnitOfWork(one_connection) as uow:
        catalog = uow.repo(CatalogRepository)
        generation = await asyncio.wait_for(catalog.catalog_generation(), 10)
        filtered = catalog.catalog_page(difficult, CursorPagination(5), None)
        page = await asyncio.wait_for(filtered, 10)
        outline = await asyncio.wait_for(
            uow.repo(CourseOutlineRepository).published(course_slug), 10
        )
    assert generation >= 0 and outline is not None
    assert all(card.difficulty is DifficultyLevel.BEGINNER for card in page.items)
    assert one_connection.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_connection_that_cannot_be_opened_is_sqlalchemys_error(
    committed_engine: AsyncEngine,
) -> None:
    """What the API answers 503 to (a DBAPIError), not an unknown error."""
    url = committed_engine.url.set(database=f"no_such_database_{uuid.uuid4().hex[:8]}")
    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        async with DriverReadUnitOfWork(engine) as uow:
            with pytest.raises(DBAPIError):
                await uow.repo(CourseOutlineRepository).published("any-course")
    finally:
        await engine.dispose()


async def test_only_an_engine_straight_to_postgresql_reads_on_the_driver(
    committed_engine: AsyncEngine,
) -> None:
    url = committed_engine.url.render_as_string(hide_password=False)
    pooled = create_engine(url, transaction_pooler=True)
    sqlite = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        assert reads_on_driver(committed_engine)
        assert not reads_on_driver(pooled) and not reads_on_driver(sqlite)
    finally:
        await pooled.dispose()
        await sqlite.dispose()


async def test_it_takes_only_repositories_that_read_on_the_driver(
    committed_engine: AsyncEngine,
) -> None:
    async with DriverReadUnitOfWork(committed_engine) as uow:
        with pytest.raises(TypeError, match="does not read on the driver"):
            uow.repo(CourseRepository)
        with pytest.raises(RuntimeError):
            uow.keep_despite_error(ValueError)
        assert not uow.kept_despite(ValueError())
    assert committed_engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_an_unknown_key_is_no_course(committed_engine: AsyncEngine) -> None:
    async with DriverReadUnitOfWork(committed_engine) as uow:
        assert await uow.repo(CourseOutlineRepository).published(uuid.uuid4()) is None
