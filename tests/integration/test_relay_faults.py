"""The relay under faults, against a private NATS JetStream server (its own loopback port
and store directory) and a committed throwaway database on each engine:

- a `learnhub events relay` process SIGKILLed mid-batch and restarted: nothing is lost, the
  outbox drains, each aggregate's first deliveries stay in order, and JetStream drops the
  republished events by message id (the event id);
- the broker stopped mid-run and started again on the same store: the relay backs off,
  resumes by itself, and the stream ends with every event exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.db.engine import READ_ONLY, create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.events.events import UserRegistered
from learnhub.events.transport import NatsTransport
from learnhub.models import OutboxMessage
from learnhub.workers.relay import OutboxRelay, backoff_seconds
from tests.conftest import prepare
from tests.support.databases import database
from tests.support.nats import PrivateNats

AGGREGATES = 12


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateNats]:
    server = PrivateNats(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


@asynccontextmanager
async def committed_database(backend: str, tmp_dir: Path) -> AsyncIterator[AsyncEngine]:
    async with database(backend, tmp_dir, prefix="learnhub_fault") as url:
        await prepare(url)
        engine = create_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()


async def record_events(engine: AsyncEngine, total: int) -> list[tuple[str, str]]:
    """`total` committed events spread at random over a few aggregates, a few hundred per
    transaction; returns (event id, aggregate id) in outbox order."""
    factory = create_session_factory(engine)
    rng = random.Random(6)
    aggregates = [uuid.uuid4() for _ in range(AGGREGATES)]
    recorded: list[tuple[str, str]] = []
    while len(recorded) < total:
        async with UnitOfWork(factory) as uow:
            for _ in range(min(250, total - len(recorded))):
                event = UserRegistered(user_id=rng.choice(aggregates), email="x@example.com")
                uow.record(event)
                recorded.append((str(event.event_id), str(event.aggregate_id)))
            await uow.commit()
    return recorded


async def outbox_state(engine: AsyncEngine) -> tuple[int, int]:
    """(unpublished rows, failed publish attempts), read without taking a write lock."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{READ_ONLY: True})
        row = (
            await conn.execute(
                select(
                    func.count().filter(OutboxMessage.published_at.is_(None)),
                    func.coalesce(func.sum(OutboxMessage.attempts), 0),
                )
            )
        ).one()
        return int(row[0]), int(row[1])


async def marked_ids(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{READ_ONLY: True})
        rows = await conn.execute(
            select(OutboxMessage.event_id).where(OutboxMessage.published_at.is_not(None))
        )
        return {str(event_id) for event_id in rows.scalars()}


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Poll `check` until it holds; fail the test after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)


async def wait_until_drained(engine: AsyncEngine, within: float) -> None:
    async def drained() -> bool:
        return (await outbox_state(engine))[0] == 0

    await eventually(drained, within)


async def stream_count(js: Any) -> int:
    try:
        return int((await js.stream_info(NatsTransport.STREAM)).state.messages)
    except NotFoundError:  # the relay has not created the stream yet
        return 0


async def stream_envelopes(url: str) -> list[dict[str, Any]]:
    """Every message the stream holds, in stream order (= order of first arrival)."""
    nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        held = await stream_count(js)
        sub = await js.pull_subscribe(
            NatsTransport.SUBJECTS,
            stream=NatsTransport.STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
        )
        envelopes: list[dict[str, Any]] = []
        async with asyncio.timeout(20):
            while len(envelopes) < held:
                for msg in await sub.fetch(batch=1000, timeout=5):
                    envelopes.append(json.loads(msg.data))
        await sub.unsubscribe()
        return envelopes
    finally:
        await nc.close()


def by_aggregate(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for event_id, aggregate_id in pairs:
        grouped[aggregate_id].append(event_id)
    return dict(grouped)


def assert_stream_holds_each_event_once_in_order(
    envelopes: list[dict[str, Any]], recorded: list[tuple[str, str]]
) -> None:
    ids = [e["event_id"] for e in envelopes]
    assert len(ids) == len(set(ids)), "a republished event was stored twice"
    assert set(ids) == {event_id for event_id, _ in recorded}, "an event was lost"
    stored = by_aggregate([(e["event_id"], e["aggregate_id"]) for e in envelopes])
    assert stored == by_aggregate(recorded), "an aggregate's events were reordered"


def start_relay(url: str, nats_url: str, directory: Path, name: str, batch: int) -> Any:
    env = {**os.environ, "LEARNHUB_DATABASE_URL": url, "LEARNHUB_NATS_URL": nats_url}
    with (directory / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "learnhub.cli", "events", "relay", "--batch-size", str(batch)],
            env=env,
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def test_relay_killed_mid_batch_restarts_and_loses_nothing(
    backend: str, tmp_dir: Path, tmp_path: Path, broker: PrivateNats
) -> None:
    total, batch = 4000, 500
    relays: list[Any] = []
    deliveries: Counter[str] = Counter()
    first_deliveries: list[tuple[str, str]] = []

    async def count_delivery(msg: Any) -> None:
        envelope = json.loads(msg.data)
        if not deliveries[envelope["event_id"]]:
            first_deliveries.append((envelope["event_id"], envelope["aggregate_id"]))
        deliveries[envelope["event_id"]] += 1

    try:
        async with committed_database(backend, tmp_dir) as engine:
            url = engine.url.render_as_string(hide_password=False)
            recorded = await record_events(engine, total)
            nc = await nats.connect(broker.url, connect_timeout=3, max_reconnect_attempts=0)
            try:
                # A plain subscriber sees every publish, duplicates included.
                await nc.subscribe(NatsTransport.SUBJECTS, cb=count_delivery)
                await nc.flush()
                js = nc.jetstream()

                relays.append(start_relay(url, broker.url, tmp_path, "relay-1", batch))
                async with asyncio.timeout(30):
                    while True:  # kill it well inside a later batch: published, not marked
                        held = await stream_count(js)
                        inside = batch // 10 <= held % batch <= batch * 4 // 5
                        if batch < held < total - batch and inside:
                            break
                        assert relays[0].poll() is None, (tmp_path / "relay-1.log").read_text()
                        await asyncio.sleep(0.005)
                relays[0].send_signal(signal.SIGKILL)
                relays[0].wait(timeout=10)
                await asyncio.sleep(0.2)  # let the broker take what was already sent
                held_at_kill = await stream_count(js)
                marked = await marked_ids(engine)
                marked_at_kill = len(marked)
                assert 0 < held_at_kill < total
                # Killed mid-batch: earlier batches were marked, and some events of this one
                # reached the broker but were never marked.
                assert 0 < marked_at_kill < held_at_kill

                started = time.monotonic()
                relays.append(start_relay(url, broker.url, tmp_path, "relay-2", batch))
                await wait_until_drained(engine, within=60)
                drained_in = time.monotonic() - started
                relays[1].send_signal(signal.SIGTERM)  # the CLI stops cleanly on SIGTERM
                assert relays[1].wait(timeout=10) == 0, (tmp_path / "relay-2.log").read_text()

                async def caught_up() -> bool:  # the plain subscriber has them all
                    return len(deliveries) == total

                await eventually(caught_up, within=10)
                await nc.flush()
                assert (await stream_count(js)) == total
            finally:
                await nc.close()

            assert (await outbox_state(engine))[0] == 0
            assert_stream_holds_each_event_once_in_order(
                await stream_envelopes(broker.url), recorded
            )
            # At least once: every event arrived; the ones published but unmarked at the
            # kill arrived again, and JetStream stored them once (checked above).
            assert set(deliveries) == {event_id for event_id, _ in recorded}
            duplicates = sum(deliveries.values()) - total
            assert duplicates >= held_at_kill - marked_at_kill
            assert not {i for i, n in deliveries.items() if n > 1} & marked  # never re-sent
            assert by_aggregate(first_deliveries) == by_aggregate(recorded)
            print(
                f"\n[{backend}] killed at {held_at_kill}/{total} in the stream, "
                f"{marked_at_kill} marked; restart drained in {drained_in:.2f}s; "
                f"{duplicates} republished and de-duplicated"
            )
    finally:
        for relay in relays:
            if relay.poll() is None:
                relay.kill()
                relay.wait(timeout=10)


async def test_broker_stopped_mid_run_relay_backs_off_and_resumes(
    backend: str, tmp_dir: Path, broker: PrivateNats
) -> None:
    total, batch, down_for = 3000, 200, 2.0
    async with committed_database(backend, tmp_dir) as engine:
        recorded = await record_events(engine, total)
        transport = NatsTransport(broker.url)
        relay = OutboxRelay(create_session_factory(engine), transport, batch_size=batch)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop, idle_seconds=0.1))
        try:
            nc = await nats.connect(broker.url, connect_timeout=3, max_reconnect_attempts=0)
            try:
                js = nc.jetstream()
                async with asyncio.timeout(30):
                    while True:
                        if (held := await stream_count(js)) >= 2 * batch:
                            break
                        await asyncio.sleep(0.005)
            finally:
                await nc.close()
            assert held < total, "the relay finished before the broker could be stopped"

            broker.stop()  # mid-run
            stopped = time.monotonic()
            await asyncio.sleep(down_for)
            # A publish fails only when its ack times out: on a loaded machine that can take
            # longer than `down_for`, so wait (bounded) for the first recorded failure.
            for _ in range(300):  # at most about 30 s more
                state = await outbox_state(engine)
                if state[1] >= 1:
                    break
                await asyncio.sleep(0.1)
            unpublished_while_down, failures_while_down = state
            down = time.monotonic() - stopped
            assert unpublished_while_down > 0
            assert failures_while_down >= 1  # the relay noticed the broker was gone
            # ... and backed off instead of spinning: at most one try per backoff step.
            steps = 0
            while sum(backoff_seconds(n) for n in range(1, steps + 2)) <= down:
                steps += 1
            assert failures_while_down <= steps + 1

            broker.start()  # same port, same store: the stream survives
            restarted = time.monotonic()
            await wait_until_drained(engine, within=60)  # the relay resumes by itself
            resumed_in = time.monotonic() - restarted
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await transport.close()

        assert_stream_holds_each_event_once_in_order(await stream_envelopes(broker.url), recorded)
        async with engine.connect() as conn:
            failed = (
                await conn.execute(
                    select(OutboxMessage.attempts, OutboxMessage.last_error).where(
                        OutboxMessage.attempts > 0
                    )
                )
            ).all()
        assert failed and all(error for _, error in failed)
        print(
            f"\n[{backend}] broker down {down:.2f}s at {held}/{total}: "
            f"{failures_while_down} failed tries; drained {resumed_in:.2f}s after restart"
        )
