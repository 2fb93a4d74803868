"""The hot reads' own connections: asyncpg's pool, beside SQLAlchemy's.

The anonymous catalog and course pages run one prepared statement each on a driver
connection outside a transaction (db/driver_reads.py). Taking that connection from
SQLAlchemy's pool cost more than anything else left between the course page and the raw
baseline: the checkout and checkin with their events and a greenlet, about 40 us of a
350 us request (bench/RESULTS.md, issue 18). asyncpg's own pool hands out a connection for a
few microseconds, and the hot reads need nothing of SQLAlchemy's: no transaction, no reset
(they change no session state, so a connection goes back as it is).

What the hot reads keep: every statement is told to the engine's cursor events (timing with
the reply clock, the slow-query log, statement counters) through `DriverView`, as a statement
of the engine's own pool is; each connection opened counts in the connections metric; the
connect timeout is the engine's. A connection that fails is closed by asyncpg and replaced
on the next acquire; the read that met the failure goes the ordinary way (SQLAlchemy's
translated error, a 503 when the database is down), as on the engine's pool.

The pool is per worker and opens connections on demand up to its size (the engine's pool
size): a worker may hold up to twice `LEARNHUB_DB_POOL_SIZE` connections, which
docs/deployment.md counts in the connection budget.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.instrumentation import REPLY_CLOCK_KEY, install_reply_clock
from learnhub.metrics import DB_CONNECTIONS_OPENED


class _Record:
    """What the statement listeners read of a pooled connection's record: its `info`."""

    __slots__ = ("info",)

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}


class _Pooled:
    """What the statement listeners read of a Connection's pooled connection."""

    __slots__ = ("_connection_record",)

    def __init__(self) -> None:
        self._connection_record = _Record()


class DriverView:
    """A driver pool connection as SQLAlchemy's cursor-event listeners see a Connection
    (`info`, the pooled `connection`, `dispatch`); made once per connection."""

    __slots__ = ("connection", "dispatch", "info")

    def __init__(self, engine: AsyncEngine) -> None:
        self.connection = _Pooled()
        self.info: dict[str, Any] = {}
        self.dispatch = engine.sync_engine.dispatch


class DriverConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection that carries its view for the statement events."""

    __slots__ = ("view",)


# Options of SQLAlchemy's asyncpg adapter that a URL may carry; asyncpg itself takes none.
_ADAPTER_OPTIONS = ("prepared_statement_cache_size", "prepared_statement_name_func")


async def _as_it_is(_connection: asyncpg.Connection) -> None:
    """Released as it is: the hot reads change no session state, so asyncpg's default reset
    (a `RESET ALL; UNLISTEN *; ...` round trip per release) would be work for nothing."""


class DriverPool:
    """asyncpg's pool on the engine's database, for the hot reads (see the module's text)."""

    def __init__(self, engine: AsyncEngine, size: int, connect_timeout: float | None) -> None:
        self.engine = engine
        self.size = size
        self.connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        # What the engine's dialect gives asyncpg.connect for its URL (host, user, database,
        # and options such as `ssl`), less the options of SQLAlchemy's own adapter.
        _, connect = self.engine.dialect.create_connect_args(self.engine.url)
        for adapter_option in _ADAPTER_OPTIONS:
            connect.pop(adapter_option, None)
        self._pool = await asyncpg.create_pool(
            **connect,
            min_size=0,  # opened on demand, like the engine's pool
            max_size=self.size,
            reset=_as_it_is,
            init=self._connected,
            connection_class=DriverConnection,
            timeout=self.connect_timeout if self.connect_timeout is not None else 60,
        )

    async def _connected(self, connection: DriverConnection) -> None:
        DB_CONNECTIONS_OPENED.inc()
        view = DriverView(self.engine)
        view.connection._connection_record.info[REPLY_CLOCK_KEY] = install_reply_clock(connection)
        connection.view = view

    def acquire(self) -> Any:
        """asyncpg's `acquire()`: an async context manager giving a DriverConnection."""
        if self._pool is None:
            raise RuntimeError("the driver pool is not open")
        return self._pool.acquire()

    def connections(self) -> int:
        """How many connections the pool holds now (it keeps those it opened)."""
        return self._pool.get_size() if self._pool is not None else 0

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
