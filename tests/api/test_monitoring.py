"""Data-layer gauges on `/metrics` (SPEC 8): the outbox backlog, counted at every scrape, and
audit completeness, from a background replay of the audit trail (`learnhub audit verify`).

The gauges are process-global, so the completeness tests first set a sentinel and then poll
`/metrics` until this test's application has replaced it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from structlog.testing import capture_logs

from learnhub.api.app import create_app
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.metrics import AUDIT_COMPLETENESS
from learnhub.models import OutboxMessage
from learnhub.services.audit import AuditService
from learnhub.services.monitoring import audit_check_loop
from tests.api.conftest import PASSWORD, create_account
from tests.api.conftest import test_settings as settings_for
from tests.api.test_metrics import Scrape, scrape
from tests.conftest import prepare
from tests.integration.helpers import unique_email
from tests.support.databases import database

BACKLOG = "learnhub_outbox_backlog"
COMPLETENESS = "learnhub_audit_completeness_ratio"
SENTINEL = -1.0


async def unpublished(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
    )
    return int(result.scalar_one())


async def register(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "password": PASSWORD, "display_name": "Backlog"},
    )
    assert response.status_code == 201, response.text


async def test_outbox_backlog_is_the_unpublished_count_at_each_scrape(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await register(client)  # UserRegistered, in the outbox until a relay publishes it
    first = (await scrape(client)).value(BACKLOG)
    assert first == await unpublished(session) >= 1

    await register(client)
    await register(client)
    second = (await scrape(client)).value(BACKLOG)
    assert second == await unpublished(session) == first + 2


async def test_metrics_answer_with_the_last_backlog_when_the_database_fails(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await register(client)
    known = (await scrape(client)).value(BACKLOG)
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    app.state.session_factory = create_session_factory(broken)
    try:
        with capture_logs() as logs:
            response = await client.get("/metrics")
    finally:
        await broken.dispose()
    assert response.status_code == 200
    assert Scrape(response.text).value(BACKLOG) == known
    assert [e for e in logs if e["event"] == "outbox_backlog_failed"]


# ---- audit completeness ---------------------------------------------------------------------


async def completeness_when(client: httpx.AsyncClient, done: Callable[[float], bool]) -> float:
    """Poll `/metrics` until the completeness gauge satisfies `done` (for at most 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        value = (await scrape(client)).value(COMPLETENESS)
        if done(value):
            return value
        assert time.monotonic() < deadline, f"completeness stayed at {value}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def fresh_url(backend: str, tmp_dir: Path) -> AsyncIterator[str]:
    """A database of this test's own: nothing else writes to it, before or during the test."""
    async with database(backend, tmp_dir, prefix="learnhub_monitor") as url:
        await prepare(url)
        yield url


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def checks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "learnhub-audit-check"]


async def test_audit_completeness_is_checked_in_the_background(fresh_url: str) -> None:
    engine = create_engine(fresh_url)
    try:
        user_email = await create_account(create_session_factory(engine), "student")
        AUDIT_COMPLETENESS.set(SENTINEL)
        application = create_app(settings_for(fresh_url, audit_check_interval_seconds=0.2))
        async with application.router.lifespan_context(application):
            assert len(checks()) == 1
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                # A clean database: everything the audit trail should explain, it does.
                assert await completeness_when(client, lambda v: v != SENTINEL) == 1.0

                # A write that bypasses the application (and so the audit trail).
                async with engine.begin() as conn:
                    await conn.exec_driver_sql(
                        "UPDATE users SET display_name = 'tampered' WHERE email = "
                        + ("$1" if engine.dialect.name == "postgresql" else "?"),
                        (user_email,),
                    )
                async with UnitOfWork(create_session_factory(engine)) as uow:
                    expected = (await AuditService(uow).verify()).completeness_ratio
                assert expected < 1.0
                assert await completeness_when(client, lambda v: v < 1.0) == expected
        # Shutdown cancels the background check.
        assert checks() == []
    finally:
        await engine.dispose()


@pytest.mark.parametrize("settings_overrides", [{"audit_check_interval_seconds": 0}])
async def test_interval_zero_disables_the_audit_check(app: FastAPI) -> None:
    assert checks() == []


async def test_audit_check_survives_database_errors(
    committed_engine: AsyncEngine, tmp_path: Path
) -> None:
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    current = {"engine": broken}
    AUDIT_COMPLETENESS.set(SENTINEL)
    with capture_logs() as logs:
        task = asyncio.create_task(audit_check_loop(lambda: current["engine"], 0.05))
        try:
            deadline = time.monotonic() + 10
            while len([e for e in logs if e["event"] == "audit_check_failed"]) < 2:
                assert time.monotonic() < deadline and not task.done()
                await asyncio.sleep(0.02)
            assert gauge(COMPLETENESS) == SENTINEL  # the last value stays
            current["engine"] = committed_engine  # the database is back
            while gauge(COMPLETENESS) == SENTINEL:
                assert time.monotonic() < deadline and not task.done()
                await asyncio.sleep(0.02)
            assert 0.0 <= gauge(COMPLETENESS) <= 1.0
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await broken.dispose()
    assert task.cancelled()
