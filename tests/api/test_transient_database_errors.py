"""Database errors that are nobody's input and nobody's bug: PostgreSQL rolled a transaction
back because a concurrent one collided with it (a deadlock), or stopped a statement at its
statement_timeout. The problem handlers answer them with a retryable 4xx/5xx problem that says
nothing was saved, never a 500. The errors are provoked for real on PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.api import problems

pytestmark = pytest.mark.postgres_only


def _app(engine: AsyncEngine) -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.post("/timeout")
    async def timeout() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL statement_timeout = '50ms'"))
            await connection.execute(text("SELECT pg_sleep(5)"))

    @app.post("/deadlock/{first}/{second}")
    async def deadlock(first: int, second: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
            await asyncio.sleep(0.3)  # both requests hold their first lock
            await connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})

    return app


async def test_a_statement_timeout_is_a_retryable_503(engine: AsyncEngine):
    transport = httpx.ASGITransport(app=_app(engine), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/timeout")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "query_timeout"
    assert response.headers["retry-after"] == "5"


async def test_a_deadlock_answers_one_client_with_a_retryable_409(engine: AsyncEngine):
    transport = httpx.ASGITransport(app=_app(engine), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(
            client.post("/deadlock/15001/15002"), client.post("/deadlock/15002/15001")
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    collided = next(r for r in responses if r.status_code == 409)
    assert collided.json()["code"] == "concurrent_update"
    assert collided.headers["retry-after"] == "1"
