"""An unreachable database is a 503 problem, never a 500 (found by reliability/faults.py).

asyncpg lets the socket's ConnectionRefusedError out of connect when PostgreSQL is down, and
reports "the database system is shutting down" / "starting up" (SQLSTATE 57P03) as a plain
driver Error: both used to fall through to the 500 handler. No database is needed here: the
app points at a loopback port nobody listens on."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from learnhub.api.app import create_app
from learnhub.config import Settings
from tests.api.conftest import TEST_SECRET, assert_problem


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DriverError(Exception):
    """Stands in for a driver exception carrying a SQLSTATE, as asyncpg's do."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.fixture
async def nowhere_app() -> AsyncIterator[FastAPI]:
    settings = Settings(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/nowhere",
        jwt_secret=TEST_SECRET,
        log_level="warning",
        audit_check_interval_seconds=0,
    )
    app = create_app(settings)

    @app.get("/test/driver-error/{sqlstate}")
    async def driver_error(sqlstate: str) -> None:
        raise DBAPIError("SELECT 1", None, DriverError(f"failed with {sqlstate}", sqlstate))

    @app.get("/test/pool-timeout")
    async def pool_timeout() -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def nowhere(nowhere_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: a 500 must show up as a response, not as an exception here.
    transport = httpx.ASGITransport(app=nowhere_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_refused_connection_is_a_503_problem(nowhere: httpx.AsyncClient) -> None:
    for response in (
        await nowhere.get("/api/v1/courses"),
        await nowhere.post(
            "/api/v1/auth/register",
            json={"email": "x@example.com", "password": "long enough", "display_name": "X"},
        ),
        await nowhere.get(
            "/api/v1/users/me/enrollments", headers={"Authorization": "Bearer not-a-token"}
        ),
    ):
        if response.status_code == 401:  # a bad token may be refused before any query
            continue
        assert_problem(response, 503, "service_unavailable")
        assert response.headers["retry-after"] == "5"
    ready = await nowhere.get("/ready")
    assert ready.status_code == 503
    assert ready.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("sqlstate", ["57P01", "57P03", "08006", "53300"])
async def test_database_going_away_is_a_503(nowhere: httpx.AsyncClient, sqlstate: str) -> None:
    assert_problem(await nowhere.get(f"/test/driver-error/{sqlstate}"), 503, "service_unavailable")


async def test_other_driver_errors_stay_500(nowhere: httpx.AsyncClient) -> None:
    # 42P01 undefined table: a bug, not an outage; it must not hide behind a 503.
    assert_problem(await nowhere.get("/test/driver-error/42P01"), 500, "internal_error")


async def test_an_exhausted_pool_is_a_503(nowhere: httpx.AsyncClient) -> None:
    # Every pooled connection busy past the pool timeout: overloaded, retry later.
    response = await nowhere.get("/test/pool-timeout")
    assert_problem(response, 503, "service_unavailable")
    assert response.headers["retry-after"] == "5"
