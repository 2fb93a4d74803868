"""Statement timing: a histogram by operation and table, and a log line for slow queries.

What is timed is the database round trip, not the wait for a busy event loop (SPEC 8). A
statement's clock starts just before the driver sends it (SQLAlchemy's before_cursor_execute,
which runs synchronously right before asyncpg writes to its socket) and, on PostgreSQL, stops
when the reply reaches the driver's protocol (`data_received`, timestamped by `ReplyClock`
sitting between the socket transport and asyncpg's protocol), not when the awaiting task is
resumed: under load that resumption waits behind every other ready callback of the loop, and
counting it made almost every statement "slow" at 32 clients.

Limits (documented in docs/decisions.md): a reply is timestamped when the loop reads it, so
the rest of the loop iteration that was running when the bytes arrived still counts; for a
statement that needs several round trips (the BEGIN that opens a transaction, preparing a
statement not in the cache yet) the time between them counts too. SQLite (aiosqlite runs
statements in a thread and hands results back through the loop) keeps the end-to-end time.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import Engine

from learnhub.metrics import statement_duration

log = structlog.get_logger("learnhub.db")
_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE|JOIN)\s+"?([a-zA-Z_][a-zA-Z0-9_]*)', re.IGNORECASE)
_START_KEY = "learnhub_query_start"
REPLY_CLOCK_KEY = "learnhub_reply_clock"  # where a connection record's `info` keeps it


@dataclass(frozen=True, slots=True)
class SlowQuery:
    at: float  # Unix time the statement ended
    operation: str
    table: str
    duration_ms: float
    statement: str


# The last slow statements of this process, newest last, for the admin's health page: the log
# line stays the record; this is what an operator sees without reading logs.
RECENT_SLOW_QUERIES: deque[SlowQuery] = deque(maxlen=50)


# Statements repeat (their values are parameters), and the search for the main table walks
# a long one's column list: 8 us for a catalog page, once per statement text now.
@functools.lru_cache(maxsize=4096)
def classify(statement: str) -> tuple[str, str]:
    """(operation, main table) of a statement, with few label values (no ids, no literals)."""
    words = statement.lstrip().split(None, 1)
    operation = words[0].upper() if words else "OTHER"
    if operation not in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
        return operation if operation.isalpha() and len(operation) < 12 else "OTHER", "-"
    return operation, _main_table(statement)


def _main_table(statement: str) -> str:
    """The first table named outside parentheses: the statement's own, not a sub-select's
    in its column list (the course page's first FROM is its tags' sub-select)."""
    first = None
    for match in _TABLE.finditer(statement):
        first = first or match
        before = statement[: match.start()]
        if before.count("(") == before.count(")"):
            return match.group(1).lower()
    return first.group(1).lower() if first else "-"


class ReplyClock(asyncio.Protocol):
    """Stands between a socket transport and the driver's protocol and notes when the last
    bytes from the server arrived; everything else passes straight through."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        self.protocol = protocol
        self.last_reply = 0.0

    def data_received(self, data: bytes) -> None:
        self.last_reply = time.perf_counter()
        self.protocol.data_received(data)

    def eof_received(self) -> bool | None:
        return self.protocol.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.connection_lost(exc)

    def pause_writing(self) -> None:
        self.protocol.pause_writing()

    def resume_writing(self) -> None:
        self.protocol.resume_writing()


def install_reply_clock(driver_connection: Any) -> ReplyClock | None:
    """Put a ReplyClock in front of an asyncpg connection's protocol (None when the driver
    or its transport does not allow it: then statements are timed end to end)."""
    transport = getattr(driver_connection, "_transport", None)
    protocol = getattr(driver_connection, "_protocol", None)
    if transport is None or protocol is None or not hasattr(transport, "set_protocol"):
        return None
    try:
        if transport.get_protocol() is not protocol:
            return None
        clock = ReplyClock(protocol)
        transport.set_protocol(clock)
    except Exception:  # an unusual transport: fall back to end-to-end timing
        return None
    return clock


def instrument(engine: Engine, slow_query_ms: float) -> None:
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def connect(dbapi_connection: Any, record: Any) -> None:
            driver = getattr(dbapi_connection, "driver_connection", None)
            record.info[REPLY_CLOCK_KEY] = install_reply_clock(driver)

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, _cursor: Any, _stmt: str, _params: Any, _ctx: Any, _many: bool) -> None:
        conn.info.setdefault(_START_KEY, []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def after(
        conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        start = conn.info[_START_KEY].pop()
        end = time.perf_counter()
        clock = _clock_of(conn)
        if clock is not None and start < clock.last_reply <= end:
            end = clock.last_reply  # not the wait for the loop to resume this task
        elapsed = end - start
        operation, table = classify(statement)
        statement_duration(operation, table).observe(elapsed)
        if elapsed * 1000 >= slow_query_ms:
            RECENT_SLOW_QUERIES.append(
                SlowQuery(time.time(), operation, table, round(elapsed * 1000, 2), statement[:500])
            )
            log.warning(
                "slow_query",
                operation=operation,
                table=table,
                duration_ms=round(elapsed * 1000, 2),
                statement=statement[:500],
            )


def _clock_of(conn: Any) -> ReplyClock | None:
    try:
        record = conn.connection._connection_record
    except Exception:
        return None
    if record is None:
        return None
    clock = record.info.get(REPLY_CLOCK_KEY)
    return clock if isinstance(clock, ReplyClock) else None
