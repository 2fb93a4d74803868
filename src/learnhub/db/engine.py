"""Engine and session factory for PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

from __future__ import annotations

import time
import uuid
import weakref
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_

from learnhub.db.driver_reads import announced
from learnhub.db.instrumentation import instrument
from learnhub.db.pool import FairAsyncQueuePool
from learnhub.db.session import READ_ONLY_SESSION, LearnHubSession
from learnhub.metrics import DB_CONNECTIONS_OPENED

# Execution option for connections that only read: on SQLite they need no write lock.
READ_ONLY = "learnhub_read_only"

# Engines whose connections go through a pooler in transaction mode (PgBouncer's
# pool_mode=transaction), where consecutive transactions of one client connection may run on
# different server connections.
_BEHIND_TRANSACTION_POOLER: weakref.WeakSet[Engine] = weakref.WeakSet()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 0,
    echo: bool = False,
    slow_query_ms: float = 200.0,
    server_settings: dict[str, str] | None = None,
    transaction_pooler: bool = False,
    connect_timeout_seconds: float | None = None,
) -> AsyncEngine:
    """`server_settings` (PostgreSQL) are sent when each connection opens, so they are the
    session's defaults: a `RESET` inside a statement sequence returns to them.
    `connect_timeout_seconds` (PostgreSQL) bounds how long opening a connection may take
    (asyncpg's own default is a minute).

    `transaction_pooler`: the URL leads to a pooler in transaction mode (PostgreSQL only);
    see `transaction_pooler_connect_args`. Session settings cannot travel through one (the
    server connection changes from one transaction to the next), so `server_settings` are
    refused with it."""
    if transaction_pooler and server_settings and not is_sqlite(url):
        raise ValueError(
            "server_settings are session state, which a transaction pooler does not keep: "
            "connect directly (LEARNHUB_MIGRATION_DATABASE_URL for migrations)"
        )
    engine = _create(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        echo=echo,
        server_settings=server_settings,
        transaction_pooler=transaction_pooler,
        connect_timeout_seconds=connect_timeout_seconds,
    )
    instrument(engine.sync_engine, slow_query_ms)
    return engine


def behind_transaction_pooler(engine: AsyncEngine) -> bool:
    return engine.sync_engine in _BEHIND_TRANSACTION_POOLER


def reads_on_driver(engine: AsyncEngine) -> bool:
    """Whether a read may run on this engine's driver connections outside a transaction
    (db/driver_reads.py): asyncpg, straight to PostgreSQL. Behind a transaction pooler a
    statement prepared outside a transaction may be executed on another server connection."""
    return engine.dialect.driver == "asyncpg" and not behind_transaction_pooler(engine)


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def transaction_pooler_connect_args() -> dict[str, Any]:
    """asyncpg settings for a pooler in transaction mode (SQLAlchemy's documented recipe,
    "Prepared Statement Name with PGBouncer"). A prepared statement lives on one server
    connection, and the next transaction may run on another: so no cache keeps statements
    across transactions (asyncpg's own, and SQLAlchemy's), and every statement gets a name
    no other client connection uses, so two clients sharing one server connection never
    meet each other's statements. A statement is prepared and executed inside one
    transaction (reads too: see UnitOfWork), so it never changes server between the two."""
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": _unique_statement_name,
    }


def _create(
    url: str,
    *,
    pool_size: int,
    max_overflow: int,
    echo: bool,
    server_settings: dict[str, str] | None,
    transaction_pooler: bool,
    connect_timeout_seconds: float | None,
) -> AsyncEngine:
    # The pool keeps every connection it opens: overflow connections are closed when they
    # are returned to a full pool, so a load above pool_size opened (and closed) a new
    # connection for most checkouts. With no overflow, requests beyond pool_size wait for a
    # connection instead (see docs/decisions.md).
    if is_sqlite(url):
        in_memory = make_url(url).database in (None, "", ":memory:")
        pool: dict[str, Any] = {}
        if not in_memory:
            pool = {"poolclass": FairAsyncQueuePool, "pool_size": pool_size}
            pool["max_overflow"] = max_overflow
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **pool)
        _configure_sqlite(engine, in_memory=in_memory)
        _count_connections(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if server_settings:
        connect_args["server_settings"] = dict(server_settings)
    if transaction_pooler:
        connect_args.update(transaction_pooler_connect_args())
    if connect_timeout_seconds is not None:
        connect_args["timeout"] = connect_timeout_seconds
    engine = create_async_engine(
        url,
        echo=echo,
        poolclass=FairAsyncQueuePool,  # waiters served in arrival order (see db/pool.py)
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        connect_args=connect_args,
    )
    if transaction_pooler:
        _BEHIND_TRANSACTION_POOLER.add(engine.sync_engine)
    _ping_idle_connections(engine)
    _count_connections(engine)
    return engine


def _count_connections(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def connected(_dbapi_connection: Any, _record: Any) -> None:
        DB_CONNECTIONS_OPENED.inc()


# A pooled connection unused for this long is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "learnhub_idle_since"


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Survive a database restart without restarting the app, for one round trip only when
    a connection sat idle. `pool_pre_ping` pinged on every checkout, and SQLAlchemy's asyncpg
    ping is three round trips (BEGIN, the ping, ROLLBACK): most of a catalog read's cost. A
    connection that fails while in use (the database went away mid-traffic) invalidates the
    whole pool anyway, so after an outage every old connection is replaced."""

    @event.listens_for(engine.sync_engine, "checkin")
    def checkin(_dbapi_connection: Any, record: Any) -> None:
        # record.info lives as long as this DBAPI connection (a new one starts empty).
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or just used
        try:
            # Without arguments asyncpg sends a simple query: one round trip, no prepared
            # statement (behind a transaction pooler, a statement prepared outside a
            # transaction may be gone by the time it is executed).
            await_(dbapi_connection.driver_connection.execute("SELECT 1"))
        except Exception as exc:
            # The pool discards this connection and tries again with a new one.
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc


def _configure_sqlite(engine: AsyncEngine, *, in_memory: bool) -> None:
    """Pitfall 8: foreign keys on every connection, WAL, and real transactions.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; we switch it off
    and emit BEGIN ourselves (SQLAlchemy's documented recipe). Transactions begin IMMEDIATE:
    SQLite has one writer at a time, and a deferred transaction that read first and writes
    later fails at once with "database is locked" instead of waiting its turn.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # SQLite's lower() (and so ILIKE) folds ASCII only; use Python's Unicode-aware one
        # so search and case-insensitive rules agree with PostgreSQL.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # e.g. readiness probes: no transaction, no lock
        mode = "DEFERRED" if options.get(READ_ONLY) else "IMMEDIATE"
        connection.exec_driver_sql(f"BEGIN {mode}")


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        engine,
        sync_session_class=LearnHubSession,
        expire_on_commit=False,
        autoflush=True,
    )


async def start_read_only(session: AsyncSession) -> None:
    """Make a new session bound to an engine read-only: reads need no transaction on
    PostgreSQL (no BEGIN and ROLLBACK round trips), and on SQLite a deferred one that takes no
    write lock. Any write attempt raises."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine):
        # Bound to a caller's connection (as in tests): it stays inside that transaction.
        return
    session.sync_session.info[READ_ONLY_SESSION] = True
    # Behind a transaction pooler, though, a statement outside a transaction may be prepared
    # on one server connection and executed on another: reads keep their transaction there
    # (rolled back at the end).
    options: dict[str, Any] = {READ_ONLY: True}
    if bind.dialect.name == "postgresql" and not behind_transaction_pooler(bind):
        options = {"isolation_level": "AUTOCOMMIT"}
    await session.connection(execution_options=options)


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database, outside any transaction (readiness); raises when the
    database does not answer."""
    async with engine.connect() as conn:
        probe = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":
            # A simple query (one round trip, nothing prepared): safe behind a transaction
            # pooler, where a statement prepared outside a transaction may change server
            # before it is executed.
            raw = await probe.get_raw_connection()
            sync = probe.sync_connection
            assert sync is not None
            # Timed like any statement (instrumentation.py listens to these events).
            with announced(sync, "SELECT 1", ()):
                await raw.driver_connection.execute("SELECT 1")  # type: ignore[union-attr]
            return
        await probe.execute(text("SELECT 1"))
