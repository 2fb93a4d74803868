"""The relay against the real NATS JetStream server (127.0.0.1:4222)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learnhub.db.engine import create_engine, create_session_factory
from learnhub.events.transport import Message, NatsTransport, TransportError
from learnhub.models import OutboxMessage
from learnhub.workers.relay import OutboxRelay
from tests.conftest import prepare
from tests.integration.test_outbox_relay import record, unpublished
from tests.support.databases import database

NATS_URL = os.environ.get("LEARNHUB_TEST_NATS_URL", "nats://127.0.0.1:4222")
REQUIRE_NATS = os.environ.get("LEARNHUB_REQUIRE_NATS", "") not in ("", "0", "false")


@pytest.fixture
async def nats_client():
    import nats

    try:
        client = await nats.connect(NATS_URL, connect_timeout=3, max_reconnect_attempts=0)
    except Exception as exc:  # unreachable broker
        if REQUIRE_NATS:
            pytest.fail(f"NATS unreachable at {NATS_URL}: {exc}", pytrace=False)
        pytest.skip(f"NATS unreachable at {NATS_URL}")
    yield client
    await client.close()


@pytest.fixture
async def factory(tmp_dir: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with database("sqlite", tmp_dir, prefix="learnhub_nats") as url:
        await prepare(url)
        engine = create_engine(url)
        yield create_session_factory(engine)
        await engine.dispose()


async def test_relay_publishes_to_jetstream_in_order_and_duplicates_are_dropped(
    factory, nats_client
):
    transport = NatsTransport(NATS_URL)
    await transport.publish(Message("learnhub.events.Warmup", b"{}", str(uuid.uuid4())))
    received: list[str] = []
    expected: set[str] = set()
    arrived = asyncio.Event()

    async def collect(message) -> None:
        received.append(json.loads(message.data)["event_id"])
        if expected and expected <= set(received):
            arrived.set()

    subscription = await nats_client.subscribe("learnhub.events.UserRegistered", cb=collect)
    aggregate = uuid.uuid4()
    ids = [str(i) for i in await record(factory, [aggregate] * 5)]
    expected.update(ids)
    relay = OutboxRelay(factory, transport)
    while (await relay.run_once()).published:
        pass
    async with asyncio.timeout(5):  # fails the test if the events never arrive
        await arrived.wait()
    ours = [i for i in received if i in ids]
    assert ours == ids
    assert await unpublished(factory) == 0

    js = nats_client.jetstream()
    before = (await js.stream_info(NatsTransport.STREAM)).state.messages
    async with factory() as session:
        row = (await session.execute(select(OutboxMessage).limit(1))).scalar_one()
    from learnhub.workers.relay import to_message

    await transport.publish(to_message(row))  # a redelivery after a crash, say
    after = (await js.stream_info(NatsTransport.STREAM)).state.messages
    assert after == before  # JetStream de-duplicated it by event id
    await subscription.unsubscribe()
    await transport.close()


async def test_broker_down_marks_nothing_published(factory, nats_client):
    await record(factory, [uuid.uuid4(), uuid.uuid4()])
    transport = NatsTransport("nats://127.0.0.1:1")  # nothing listens there
    result = await OutboxRelay(factory, transport).run_once()
    assert result.failed and result.published == 0
    assert await unpublished(factory) == 2
    with pytest.raises(TransportError):
        await transport.publish(Message("learnhub.events.X", b"{}", "x"))


def test_cli_relay_once_publishes_what_is_waiting(nats_client, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from learnhub.cli.app import app
    from learnhub.config import get_settings

    monkeypatch.setenv("LEARNHUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LEARNHUB_NATS_URL", NATS_URL)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(
            app,
            ["users", "create", "relay@example.com", "--password-stdin"],
            input="a-long-password\n",
        )
        assert created.exit_code == 0, created.output
        relayed = runner.invoke(app, ["events", "relay", "--once"])
        assert relayed.exit_code == 0, relayed.output
        assert "1 events published" in relayed.stdout  # the UserRegistered event
        again = runner.invoke(app, ["events", "relay", "--once"])
        assert "0 events published" in again.stdout
    finally:
        get_settings.cache_clear()
