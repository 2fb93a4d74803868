"""Hot reads below SQLAlchemy's execution layer: a statement compiled once, run on the
driver's connection (asyncpg, PostgreSQL), rows typed by the statement's own result types.

The catalog's first pages are the platform's hottest read. For them SQLAlchemy's per
execution work (an execution context, parameter and result wrapping, its prepared-statement
cache lookup) cost more CPU than the driver itself (about 0.35 against 0.14 ms a page). The
statement stays SQLAlchemy's: it is built by the repository with the same soft-delete and
listing helpers as every other read and compiled by the connection's dialect; only running
it skips the layer. What that layer gives every statement is kept:

- timing and the slow-query log: SQLAlchemy's `before/after_cursor_execute` events are
  dispatched around the call (db/instrumentation.py, and the tests' statement counters);
- typed values: each column's result processor (enums, UTC datetimes, decimals) as SQLAlchemy
  would apply it, and each parameter's bind processor;
- transactions: the statement runs only where it lands exactly as SQLAlchemy's would, on a
  connection in autocommit or inside a transaction the driver already holds; anywhere else
  (the first statement of a transaction, behind a transaction pooler) `fetch_typed` answers
  None and the caller runs the statement the ordinary way;
- errors: a driver error also answers None, and the ordinary run raises SQLAlchemy's
  translated error with its invalidation rules (a read is safe to run twice).

`PooledDriverConnection` goes one step further for a read-only unit of work
(db/uow.py, DriverReadUnitOfWork): it takes the pooled connection itself, without a Session
or a SQLAlchemy Connection around it, and keeps the same rules (see its notes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, cast

import structlog
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_, greenlet_spawn

from learnhub.db.driver_pool import DriverPool, DriverView
from learnhub.db.pool import FairAsyncQueuePool

log = structlog.get_logger("learnhub.db")

Processor = Callable[[Any], Any] | None
Processed = tuple[int, Callable[[Any], Any]]  # a column's position and its processor


@dataclass(frozen=True, slots=True)
class CompiledRead:
    """A statement's SQL for one dialect, its parameters in order and its columns' types."""

    sql: str
    parameters: tuple[str, ...]
    fixed: dict[str, Any]  # values compiled into the statement (not given per run)
    bind: tuple[Processor, ...]
    result: tuple[Processor, ...]
    # Only the columns that have a result processor (7 of a catalog card's 26): rows are
    # typed column by column, and this loop runs for every row of every hot read.
    processed: tuple[Processed, ...]


def compile_read(statement: ClauseElement, dialect: Dialect) -> CompiledRead:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = tuple(compiled.positiontup or ())
    binds = compiled.binds
    result = tuple(
        column.type.result_processor(dialect, None)
        for column in compiled._result_columns  # the statement's own column types
    )
    return CompiledRead(
        sql=compiled.string,
        parameters=names,
        fixed={name: value for name, value in compiled.params.items() if value is not None},
        bind=tuple(binds[name].type.bind_processor(dialect) for name in names),
        result=result,
        processed=tuple((at, process) for at, process in enumerate(result) if process),
    )


async def fetch_typed(
    connection: AsyncConnection, read: CompiledRead, values: dict[str, Any]
) -> list[tuple[Any, ...]] | None:
    """The rows of `read` run with `values`, typed as SQLAlchemy would type them; None when
    it must run the ordinary way instead (see the module's notes)."""
    sync = connection.sync_connection
    if sync is None or sync.dialect.driver != "asyncpg" or sync.invalidated or sync.closed:
        return None
    # A live connection's pooled DB-API connection: read directly, it needs no I/O, so no
    # greenlet switch (`get_raw_connection()` costs 7 us a call for the same object).
    adapted = sync.connection.dbapi_connection
    driver = getattr(adapted, "driver_connection", None)
    if driver is None or not (getattr(adapted, "autocommit", False) or driver.is_in_transaction()):
        return None
    arguments = _arguments(read, values)
    try:
        with announced(sync, read.sql, arguments):
            records = await driver.fetch(read.sql, *arguments)
    except Exception as error:
        log.info("driver_read_retried", error=type(error).__name__)
        return None
    return [_typed(record, read.processed) for record in records]


def _arguments(read: CompiledRead, values: dict[str, Any]) -> tuple[Any, ...]:
    given = [values[name] if name in values else read.fixed[name] for name in read.parameters]
    # A tuple, as SQLAlchemy hands positional parameters to the cursor events' listeners.
    return tuple(
        value if process is None else process(value)
        for process, value in zip(read.bind, given, strict=True)
    )


class announced:  # lower case: used as the context-manager function it replaced
    """A statement run on the driver, told to SQLAlchemy's cursor events as its own would
    be (timing, the slow-query log, statement counters); one that fails gets no
    after_cursor_execute, like a statement SQLAlchemy sees fail. A class, not a generator:
    the course page's one statement paid more for the generator than for the dispatch."""

    __slots__ = ("arguments", "connection", "sql")

    def __init__(
        self,
        connection: Connection | PooledView | DriverView,
        sql: str,
        arguments: tuple[Any, ...],
    ) -> None:
        self.connection, self.sql, self.arguments = connection, sql, arguments

    def __enter__(self) -> None:
        connection = self.connection
        connection.dispatch.before_cursor_execute(
            connection, None, self.sql, self.arguments, None, False
        )

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            connection = self.connection
            connection.dispatch.after_cursor_execute(
                connection, None, self.sql, self.arguments, None, False
            )


def _typed(record: Sequence[Any], processed: tuple[Processed, ...]) -> tuple[Any, ...]:
    values = list(record)
    for at, process in processed:
        value = values[at]
        if value is not None:
            values[at] = process(value)
    return tuple(values)


async def read_rows(
    connection: AsyncConnection,
    statement: Executable,
    read: CompiledRead | None,
    values: dict[str, Any],
) -> Sequence[Sequence[Any]]:
    """`statement`'s rows: on the driver when `read` (its compiled form) may run there
    (`fetch_typed`), else through SQLAlchemy as any statement."""
    rows = None if read is None else await fetch_typed(connection, read, values)
    if rows is None:
        return (await connection.execute(statement, values)).all()
    return rows


class PooledView:
    """What SQLAlchemy's cursor-event listeners read of a Connection (`info`, the pooled
    `connection`, `dispatch`), for a statement run on a pooled connection that no Connection
    wraps (PooledDriverConnection)."""

    __slots__ = ("connection", "dispatch", "info")

    def __init__(self, pooled: PoolProxiedConnection, engine: AsyncEngine) -> None:
        self.connection = pooled
        self.info = pooled.info  # a Connection's `info` is its pooled connection's too
        self.dispatch = engine.sync_engine.dispatch


class PooledDriverConnection:
    """A pooled connection's driver for the reads of a unit of work, without a Session or a
    Connection around it: on the anonymous course page those two cost more CPU than the
    whole request of the raw baseline (bench/RESULTS.md, issue 18).

    Only for an engine whose statements may run on the driver outside a transaction
    (`db.engine.reads_on_driver`: asyncpg, straight to PostgreSQL). What SQLAlchemy gives a
    statement is kept as in `fetch_typed`: the pool's checkout and checkin with their events
    (the idle connection's ping, the connection count), the cursor events (timing, the
    slow-query log, statement counters), rows typed by the statement's result types.

    A statement without a compiled form (built per request), a driver error, or a failure
    to open a connection sends the unit the ordinary way for the rest of its reads: a
    SQLAlchemy connection outside a transaction, which raises SQLAlchemy's translated error
    if the statement fails there too (a read is safe to run twice), and on which compiled
    statements still run on the driver (`read_rows`). The pooled connection goes back
    first: a unit never holds two connections, which under a full pool could wait on each
    other forever. A connection the driver reports closed is discarded, never handed out
    again; one whose read was cut off (its request cancelled) goes back as it is: asyncpg
    cancels the statement on the server and the connection serves the next read
    (tests/integration/test_driver_read_unit.py)."""

    def __init__(self, engine: AsyncEngine, driver_pool: DriverPool | None = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        # The engine's own connections for hot reads, when the app opened them (driver_pool.py)
        self.driver_pool = driver_pool
        self._pooled: PoolProxiedConnection | None = None
        self._pool: Pool | None = None  # the pool `_pooled` came from (the engine may dispose it)
        self._ordinary: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        return self  # a connection is taken by the first read

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._give_back_pooled()
        finally:
            ordinary, self._ordinary = self._ordinary, None
            if ordinary is not None:
                await ordinary.close()

    async def _give_back_pooled(self) -> None:
        pooled, self._pooled = self._pooled, None
        pool, self._pool = self._pool, None
        if pooled is None:
            return
        if isinstance(pool, FairAsyncQueuePool) and pool.keeps_a_returned_connection():
            # No I/O: the connection goes back to the queue (or to a waiter) as it is, and
            # the reset on return has nothing to roll back (no transaction was begun through
            # SQLAlchemy on it). A greenlet costs 10 us of the course page's CPU.
            pooled.close()
        else:
            # A checkin that closes a connection beyond the pool's size: I/O, in a greenlet.
            await greenlet_spawn(pooled.close)

    async def rows(
        self, statement: Executable, read: CompiledRead, values: dict[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """`statement`'s rows (`read` is its compiled form for this engine's dialect)."""
        if self._ordinary is not None:
            return await read_rows(self._ordinary, statement, read, values)
        arguments = _arguments(read, values)
        if self.driver_pool is not None:
            records = await self._fetch_from_driver_pool(read.sql, arguments)
        elif self._pooled is None:
            # A checkout may wait for a connection or ping an idle one: I/O, in a greenlet,
            # which runs the statement too (a switch out and back, where a second greenlet
            # cost 10 us of the course page's CPU).
            records = await greenlet_spawn(self._checkout_and_fetch, read.sql, arguments)
        else:
            records = await self._fetch(read.sql, arguments)
        if records is None:
            return await self.ordinary_rows(statement, values)
        return [_typed(record, read.processed) for record in records]

    def _checkout_and_fetch(self, sql: str, arguments: tuple[Any, ...]) -> list[Any] | None:
        pool = self.engine.sync_engine.pool
        try:
            self._pooled, self._pool = pool.connect(), pool
        except self.dialect.loaded_dbapi.Error:
            # Opening a connection failed: SQLAlchemy's own connect tries again and, if it
            # fails too, raises its translated error (a 503, not an unknown error).
            return None
        return await_(self._fetch(sql, arguments))

    async def _fetch(self, sql: str, arguments: tuple[Any, ...]) -> list[Any] | None:
        """The statement's records on the pooled connection; None when the driver failed it
        (the unit then reads the ordinary way)."""
        pooled = cast(PoolProxiedConnection, self._pooled)
        driver = pooled.dbapi_connection.driver_connection  # type: ignore[union-attr]
        try:
            with announced(PooledView(pooled, self.engine), sql, arguments):
                return cast(list[Any], await driver.fetch(sql, *arguments))
        except Exception as error:
            log.info("driver_read_retried", error=type(error).__name__)
            if driver.is_closed():
                pooled.invalidate(error)  # never handed out again
            return None

    async def _fetch_from_driver_pool(
        self, sql: str, arguments: tuple[Any, ...]
    ) -> list[Any] | None:
        """The statement's records on a connection of the driver pool, held for the statement
        alone; None when the driver failed it or no connection opened (the unit then reads
        the ordinary way, whose error, if any, is SQLAlchemy's)."""
        try:
            async with cast(DriverPool, self.driver_pool).acquire() as connection:
                with announced(connection.view, sql, arguments):
                    return cast(list[Any], await connection.fetch(sql, *arguments))
        except Exception as error:
            log.info("driver_read_retried", error=type(error).__name__)
            return None

    async def ordinary_rows(
        self, statement: Executable, values: dict[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """`statement`'s rows through SQLAlchemy, outside a transaction, on the connection
        the unit reads from from now on."""
        if self._ordinary is None:
            await self._give_back_pooled()
            connection = await self.engine.connect()
            self._ordinary = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return (await self._ordinary.execute(statement, values)).all()


# Where a read model's statements run: a session's connection, or a unit of work's pooled
# driver connection (DriverReadUnitOfWork).
ReadSource = AsyncSession | PooledDriverConnection


def source_dialect(source: ReadSource) -> Dialect:
    if isinstance(source, PooledDriverConnection):
        return source.dialect
    return source.get_bind().dialect


async def source_rows(
    source: ReadSource,
    statement: Executable,
    read_for: Callable[[Dialect], CompiledRead | None],
    values: dict[str, Any],
) -> Sequence[Sequence[Any]]:
    """`statement`'s rows from `source`; `read_for` gives its compiled form for a dialect
    (None: it runs through SQLAlchemy there)."""
    if isinstance(source, PooledDriverConnection):
        read = read_for(source.dialect)
        if read is None:
            return await source.ordinary_rows(statement, values)
        return await source.rows(statement, read, values)
    connection = await source.connection()
    return await read_rows(connection, statement, read_for(connection.dialect), values)
