"""The outbox relay on a real database: order, marking, failures and retries, concurrent
relays, and (PostgreSQL) a second relay never waiting on or overtaking the first."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.events.events import UserRegistered
from learnhub.events.transport import InMemoryTransport
from learnhub.models import OutboxMessage
from learnhub.workers.relay import OutboxRelay, backoff_seconds
from tests.conftest import prepare
from tests.support.databases import database


@pytest.fixture
async def factory(backend: str, tmp_dir: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A fresh database per test: the relay commits, and sees only this test's events."""
    async with database(backend, tmp_dir, prefix="learnhub_relay") as url:
        await prepare(url)
        engine = create_engine(url)
        yield create_session_factory(engine)
        await engine.dispose()


async def record(factory, aggregates: list[uuid.UUID]) -> list[uuid.UUID]:
    """One committed transaction per event, in the given order; returns the event ids."""
    ids = []
    for aggregate in aggregates:
        async with UnitOfWork(factory) as uow:
            event = UserRegistered(user_id=aggregate, email="someone@example.com")
            uow.record(event)
            await uow.commit()
            ids.append(event.event_id)
    return ids


async def unpublished(factory) -> int:
    async with factory() as session:
        rows = await session.execute(
            select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        )
        return len(rows.scalars().all())


async def test_relay_publishes_in_order_once_and_marks_rows(factory):
    a, b = uuid.uuid4(), uuid.uuid4()
    ids = await record(factory, [a, b, a, a, b])
    transport = InMemoryTransport()
    relay = OutboxRelay(factory, transport, batch_size=2)
    while (await relay.run_once()).published:
        pass
    assert [m.message_id for m in transport.published] == [str(i) for i in ids]
    envelope = json.loads(transport.published[0].data)
    assert envelope["event_type"] == "UserRegistered"
    assert transport.published[0].subject == "learnhub.events.UserRegistered"
    assert await unpublished(factory) == 0
    assert (await relay.run_once()).published == 0  # nothing twice


async def test_broker_failure_stops_the_batch_and_a_retry_resumes_in_order(factory):
    ids = await record(factory, [uuid.uuid4() for _ in range(5)])
    transport = InMemoryTransport(fail_after=2)
    relay = OutboxRelay(factory, transport, batch_size=10)
    result = await relay.run_once()
    assert result.published == 2 and result.failed
    assert await unpublished(factory) == 3
    async with factory() as session:
        failed = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.event_id == ids[2]))
        ).scalar_one()
    assert failed.attempts == 1 and "unavailable" in failed.last_error
    transport.fail_after = None  # the broker is back
    while (await relay.run_once()).published:
        pass
    assert [m.message_id for m in transport.published] == [str(i) for i in ids]


def test_backoff_doubles_and_is_capped():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_seconds(50) == 30.0


@pytest.mark.postgres_only
async def test_second_relay_skips_locked_rows_and_never_overtakes_an_aggregate(factory):
    x, y = uuid.uuid4(), uuid.uuid4()
    ids = await record(factory, [x, y, x, y])
    async with factory() as holder:
        # Another relay holds X's first event (row lock, uncommitted).
        await holder.execute(
            text("SELECT position FROM outbox WHERE event_id = :e FOR UPDATE"), {"e": ids[0]}
        )
        transport = InMemoryTransport()
        result = await OutboxRelay(factory, transport, batch_size=10).run_once()
        # Y's events go out; X's second event waits behind the held first one.
        assert [m.message_id for m in transport.published] == [str(ids[1]), str(ids[3])]
        assert result.published == 2
        await holder.rollback()
    transport2 = InMemoryTransport()
    while (await OutboxRelay(factory, transport2).run_once()).published:
        pass
    assert [m.message_id for m in transport2.published] == [str(ids[0]), str(ids[2])]
