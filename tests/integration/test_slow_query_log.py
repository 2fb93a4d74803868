"""The slow-query log line (SPEC 8): a structured warning for every statement slower than
`LEARNHUB_SLOW_QUERY_MS`, and silence below it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from learnhub.api.app import create_app
from learnhub.db.engine import create_engine
from tests.api.conftest import test_settings as settings_for


def slow_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "slow_query"]


@asynccontextmanager
async def engine_with(db_url: str, threshold_ms: float) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url, slow_query_ms=threshold_ms)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_threshold_zero_logs_every_statement_with_its_details(db_url: str) -> None:
    async with engine_with(db_url, 0) as engine:
        with capture_logs() as logs:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT count(*) FROM users WHERE email <> 'x'")
    (line,) = [e for e in slow_lines(logs) if "FROM users" in e["statement"]]
    assert line["log_level"] == "warning"
    assert line["operation"] == "SELECT" and line["table"] == "users"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["statement"] == "SELECT count(*) FROM users WHERE email <> 'x'"


async def test_a_fast_statement_under_a_high_threshold_logs_nothing(db_url: str) -> None:
    async with engine_with(db_url, 10_000) as engine:
        with capture_logs() as logs:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT count(*) FROM users")
    assert slow_lines(logs) == []


@pytest.mark.postgres_only
async def test_a_statement_above_the_threshold_is_logged_and_one_below_is_not(
    db_url: str,
) -> None:
    async with engine_with(db_url, 20) as engine:
        with capture_logs() as logs:
            async with engine.connect() as conn:
                await conn.exec_driver_sql("SELECT pg_sleep(0.05)")
                await conn.exec_driver_sql("SELECT 1")
    (line,) = slow_lines(logs)
    assert line["statement"] == "SELECT pg_sleep(0.05)"
    assert line["operation"] == "SELECT" and line["table"] == "-"
    assert line["duration_ms"] >= 50


async def test_the_setting_reaches_the_application_engine(db_url: str) -> None:
    """LEARNHUB_SLOW_QUERY_MS configures the engine the API serves from (here /ready's probe)."""
    application = create_app(settings_for(db_url, slow_query_ms=0))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            with capture_logs() as logs:
                assert (await client.get("/ready")).status_code == 200
    assert [e for e in slow_lines(logs) if e["statement"] == "SELECT 1"]


def _readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])


@pytest.mark.postgres_only
async def test_time_waiting_for_a_busy_event_loop_is_not_counted(db_url: str) -> None:
    """SPEC 8: the reply of a fast statement has reached the driver, but the event loop is
    busy (here: a callback blocks it for 300 ms) before the awaiting task resumes. The
    statement took well under a millisecond at the database: no slow_query line, and the
    histogram records the round trip, not the 300 ms."""
    import asyncio
    import time

    from learnhub.metrics import DB_QUERY_DURATION

    async with engine_with(db_url, 100) as engine, engine.connect() as conn:
        statement = "SELECT count(*) FROM roles WHERE name <> 'x'"
        await conn.exec_driver_sql(statement)  # BEGIN done, statement prepared and cached
        raw = await conn.get_raw_connection()
        fd = raw.driver_connection._transport.get_extra_info("socket").fileno()  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        state = {"seen": False, "blocked": 0.0}

        def watch() -> None:
            # Wait until the reply is in the socket, then until the driver has read it:
            # from then on the statement's task is only waiting for the loop.
            if not state["seen"]:
                state["seen"] = _readable(fd)
            elif not _readable(fd):
                started = time.perf_counter()
                time.sleep(0.3)
                state["blocked"] = time.perf_counter() - started
                return
            loop.call_soon(watch)

        histogram = DB_QUERY_DURATION.labels(operation="SELECT", table="roles")
        before_sum = _hist_sum(histogram)
        with capture_logs() as logs:
            loop.call_soon(watch)
            started = time.perf_counter()
            await conn.exec_driver_sql(statement)
            wall = time.perf_counter() - started
        measured = _hist_sum(histogram) - before_sum
    assert state["blocked"] >= 0.3 and wall >= 0.3  # the loop really was blocked meanwhile
    assert slow_lines(logs) == []
    assert measured < 0.1


def _hist_sum(histogram: Any) -> float:
    for metric in histogram.collect():
        for sample in metric.samples:
            if sample.name.endswith("_sum"):
                return float(sample.value)
    return 0.0
