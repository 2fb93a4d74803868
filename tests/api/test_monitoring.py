"""Data-layer gauges on `/metrics` (SPEC 8): the outbox backlog, counted at every scrape, and
audit completeness, checked incrementally from a checkpoint by `learnhub audit watch` (never
inside the API workers) and read by `/metrics` at scrape time."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from structlog.testing import capture_logs

from learnhub.api.app import create_app
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.models import AuditLog, OutboxMessage
from learnhub.repositories.audit import AuditLogRepository
from learnhub.services.audit import AuditService
from learnhub.workers.audit_watch import audit_watch_loop, run_audit_check
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


@pytest.fixture
async def fresh_url(backend: str, tmp_dir: Path) -> AsyncIterator[str]:
    """A database of this test's own: nothing else writes to it, before or during the test."""
    async with database(backend, tmp_dir, prefix="learnhub_monitor") as url:
        await prepare(url)
        yield url


@pytest.fixture
async def fresh_engine(fresh_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def fresh_client(fresh_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The application on the fresh database, with its default settings."""
    application = create_app(settings_for(fresh_url))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


PG_WHERE = "$1 WHERE email = $2"


async def tamper(engine: AsyncEngine, email: str, name: str = "tampered") -> None:
    """A write that bypasses the application (and so the audit trail)."""
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "UPDATE users SET display_name = "
            + (
                "$1 WHERE email = $2"
                if engine.dialect.name == "postgresql"
                else "? WHERE email = ?"
            ),
            (name, email),
        )


async def verified_ratio(engine: AsyncEngine) -> float:
    """What `learnhub audit verify` (the full replay) says."""
    async with UnitOfWork(create_session_factory(engine)) as uow:
        return (await AuditService(uow).verify()).completeness_ratio


async def trail_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(AuditLog))).scalar_one())


async def test_the_api_process_starts_no_background_work(fresh_url: str) -> None:
    """SPEC 8: the completeness replay never runs inside an API worker, whatever the interval
    setting says: starting the app starts no task, and serving requests and scrapes runs
    no replay."""
    replays: list[object] = []
    original = AuditLogRepository.verify

    async def counting(self: AuditLogRepository) -> Any:
        replays.append(self)
        return await original(self)

    before = set(asyncio.all_tasks())
    application = create_app(settings_for(fresh_url, audit_check_interval_seconds=0.05))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AuditLogRepository, "verify", counting)
        async with application.router.lifespan_context(application):
            assert set(asyncio.all_tasks()) - before == set()
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await register(client)
                await asyncio.sleep(0.3)
                assert (await client.get("/metrics")).status_code == 200
                await asyncio.sleep(0.2)
    assert replays == []


async def test_metrics_show_what_the_last_check_stored(
    fresh_client: httpx.AsyncClient, fresh_engine: AsyncEngine, fresh_url: str
) -> None:
    # Before any check the ratio is unknown, not a reassuring 0 or 1.
    assert math.isnan((await scrape(fresh_client)).value(COMPLETENESS))

    email = await create_account(create_session_factory(fresh_engine), "student")
    first = await run_audit_check(fresh_engine)
    assert first.full and first.gap_entities == 0
    assert (await scrape(fresh_client)).value(COMPLETENESS) == 1.0
    assert (await scrape(fresh_client)).value("learnhub_audit_checked_timestamp_seconds") > 0

    await tamper(fresh_engine, email)
    expected = await verified_ratio(fresh_engine)
    assert expected < 1.0
    second = await run_audit_check(fresh_engine)
    assert second.gap_entities == 1
    assert second.completeness_ratio == expected
    assert (await scrape(fresh_client)).value(COMPLETENESS) == expected


async def test_the_check_detects_a_raw_write_after_the_checkpoint_and_its_repair(
    fresh_client: httpx.AsyncClient, fresh_engine: AsyncEngine, backend: str
) -> None:
    email = await create_account(create_session_factory(fresh_engine), "student")
    await run_audit_check(fresh_engine)  # the checkpoint

    await tamper(fresh_engine, email)
    found = await run_audit_check(fresh_engine)
    assert found.gap_entities == 1
    assert found.completeness_ratio == await verified_ratio(fresh_engine) < 1.0
    if backend == "postgresql":  # incremental: only the tampered user was compared again
        assert not found.full and found.entities_rechecked == 1

    # Putting the value back is a write too: the entity is compared again, the gap is gone.
    await tamper(fresh_engine, email, "Student User")
    repaired = await run_audit_check(fresh_engine)
    assert repaired.gap_entities == 0 and repaired.completeness_ratio == 1.0
    assert await verified_ratio(fresh_engine) == 1.0
    assert (await scrape(fresh_client)).value(COMPLETENESS) == 1.0


@pytest.mark.postgres_only
async def test_an_incremental_check_costs_what_changed_since_the_checkpoint(
    fresh_client: httpx.AsyncClient, fresh_engine: AsyncEngine
) -> None:
    factory = create_session_factory(fresh_engine)
    for _ in range(20):
        await create_account(factory, "student")
    trail = await trail_rows(fresh_engine)
    assert trail >= 20

    full = await run_audit_check(fresh_engine)
    assert full.full and full.rows_replayed == trail

    # Nothing written since: nothing replayed, nothing compared.
    idle = await run_audit_check(fresh_engine)
    assert not idle.full
    assert (idle.rows_replayed, idle.entities_rechecked) == (0, 0)
    assert idle.rows_checked == full.rows_checked and idle.gap_entities == 0

    # One registration through the API: only its rows are replayed.
    await register(fresh_client)
    new_rows = await trail_rows(fresh_engine) - trail
    after = await run_audit_check(fresh_engine)
    assert not after.full
    assert 1 <= after.rows_replayed <= new_rows
    assert after.entities_rechecked <= new_rows
    assert after.rows_checked == full.rows_checked + 1  # the new user
    assert after.completeness_ratio == 1.0 == await verified_ratio(fresh_engine)

    # The statements it ran read no more than that: count rows fetched from audit_log.
    fetched: list[int] = []

    @event.listens_for(fresh_engine.sync_engine, "after_cursor_execute")
    def rows(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "FROM audit_log" in statement and "count(" not in statement:
            fetched.append(cursor.rowcount)

    try:
        await register(fresh_client)
        await run_audit_check(fresh_engine)
    finally:
        event.remove(fresh_engine.sync_engine, "after_cursor_execute", rows)
    assert fetched and sum(n for n in fetched if n > 0) <= 2 * new_rows


async def test_the_watch_survives_database_errors(tmp_path: Path) -> None:
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(audit_watch_loop(broken, 0.02, stop))
        try:
            for _ in range(500):
                if len([e for e in logs if e["event"] == "audit_check_failed"]) >= 2:
                    break
                assert not task.done()
                await asyncio.sleep(0.01)
            assert len([e for e in logs if e["event"] == "audit_check_failed"]) >= 2
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await broken.dispose()


@pytest.mark.postgres_only
async def test_the_change_filter_takes_transaction_ids_past_2_to_the_31(
    fresh_engine: AsyncEngine,
) -> None:
    """Transaction ids (xid8) of a long-lived database exceed 32-bit integers: the filter's
    parameters are 64-bit."""
    from learnhub.models import User
    from learnhub.repositories.audit_check import Snapshot, _written_after

    later = 5 * 2**32 + 123
    previous = Snapshot(later - 1000, later - 900, f"{later - 1000}:{later - 900}:")
    now = Snapshot(later, later + 10, f"{later}:{later + 10}:")
    async with fresh_engine.connect() as conn:
        result = await conn.execute(select(User.id).where(_written_after(previous, now)))
        result.all()  # runs: no integer overflow
