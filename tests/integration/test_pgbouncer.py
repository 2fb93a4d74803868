"""LearnHub behind PgBouncer in transaction pooling mode (issue 19, item 2), PostgreSQL only.

The test setup starts a PgBouncer of its own (tests/support/pgbouncer.py) with two server
connections per database, so the app's client connections really share them: consecutive
transactions of one client connection run on whichever server connection is free. Through
it, with `db_transaction_pooler` on, a concurrent smoke journey of the API, two outbox relays at
once and `learnhub events relay` (its own process, to a real NATS JetStream) work; with it
off, the same kind of load fails on prepared statements."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.api.app import create_app
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.replicas import PRIMARY_ONLY, ReplicaSet
from learnhub.events.transport import InMemoryTransport
from learnhub.models import OutboxMessage
from learnhub.workers.relay import OutboxRelay
from tests.api import conftest as api_conftest
from tests.api.conftest import Account, assert_problem, create_account, login
from tests.api.test_courses import (
    API,
    COURSES,
    add_section,
    add_video,
    auth,
    course_url,
    create_course,
    etag_version,
    publish,
)
from tests.conftest import prepare
from tests.integration.helpers import unique_email
from tests.support.databases import postgres_database
from tests.support.live_server import free_port, stop, wait_until_healthy
from tests.support.nats import PrivateNats
from tests.support.pgbouncer import PgBouncer, admin_show, running_pgbouncer

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

POOL_SIZE = 2  # server connections PgBouncer keeps per database and user
CLIENTS = 6  # concurrent API clients, each with its own work: more than POOL_SIZE
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
async def direct_url() -> AsyncIterator[str]:
    """A migrated database of this module's own, reached directly (the migrations' way)."""
    async with postgres_database("learnhub_pgbouncer") as url:
        await prepare(url)
        yield url


@pytest.fixture(scope="module")
def bouncer(direct_url: str) -> Iterator[PgBouncer]:
    with running_pgbouncer(direct_url, pool_size=POOL_SIZE) as started:
        yield started


@pytest.fixture
async def app(bouncer: PgBouncer, direct_url: str) -> AsyncIterator[FastAPI]:
    settings = api_conftest.test_settings(
        bouncer.url_for(direct_url),
        db_transaction_pooler=True,
        migration_database_url=direct_url,
        db_pool_size=CLIENTS * 2,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def client_for(app: FastAPI, number: int = 1) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{number}", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def register_and_log_in(client: httpx.AsyncClient) -> Account:
    email = unique_email("pooled")
    registered = await client.post(
        f"{API}/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": "Pooled Learner"},
    )
    assert registered.status_code == 201, registered.text
    return await login(client, email, PASSWORD)


async def learner_journey(app: FastAPI, number: int, course_id: str, video_id: str) -> None:
    """One learner, on a client of its own: register, log in, browse the catalog, enrol,
    send heartbeats, read its enrolments."""
    async with client_for(app, number) as client:
        learner = await register_and_log_in(client)
        catalog = await client.get(COURSES)
        assert catalog.status_code == 200, catalog.text
        assert course_id in [c["id"] for c in catalog.json()["items"]]
        page = await client.get(course_url(course_id))
        assert page.status_code == 200, page.text
        enrolled = await client.post(course_url(course_id, "/enrollments"), headers=learner.headers)
        assert enrolled.status_code == 201, enrolled.text
        beat = await client.put(
            f"{API}/videos/{video_id}/progress",
            headers=learner.headers,
            json={"position_seconds": 0},
        )
        assert beat.status_code == 200, beat.text
        mine = await client.get(f"{API}/users/me/enrollments", headers=learner.headers)
        assert mine.status_code == 200, mine.text
        assert [e["course_id"] for e in mine.json()["items"]] == [course_id]


async def test_api_smoke_journey_through_pgbouncer(
    app: FastAPI, bouncer: PgBouncer, direct_url: str
) -> None:
    async with client_for(app) as client:
        instructor = await login(
            client, await create_account(app.state.session_factory, "instructor")
        )
        course = await create_course(client, instructor)
        section = await add_section(client, instructor, course["id"])
        video = await add_video(client, instructor, section["id"], duration_seconds=100)
        # A published course keeps at least one video: this one is soft-deleted later.
        spare = await add_video(client, instructor, section["id"])
        published = await publish(client, instructor, course["id"])
        assert published["status"] == "published"

        # Several learners at once: more client connections than PgBouncer has servers.
        await asyncio.gather(
            *(learner_journey(app, n, course["id"], video["id"]) for n in range(2, 2 + CLIENTS))
        )
        page = await client.get(course_url(course["id"]))
        assert page.json()["enrollment_count"] == CLIENTS

        # A write bumps the version; a write on the old version is refused.
        url = course_url(course["id"])
        current = etag_version(page.headers["etag"])
        renamed = await client.patch(
            url, headers=auth(instructor, **{"If-Match": current}), json={"title": "Pooled"}
        )
        assert renamed.status_code == 200, renamed.text
        assert etag_version(renamed.headers["etag"]) != current
        stale = await client.patch(
            url, headers=auth(instructor, **{"If-Match": current}), json={"title": "Lost"}
        )
        assert_problem(stale, 412, "precondition_failed")

        # Soft delete and restore.
        video_url = f"{API}/videos/{spare['id']}"
        deleted = await client.delete(video_url, headers=instructor.headers)
        assert deleted.status_code == 204, deleted.text
        assert_problem(await client.get(video_url, headers=instructor.headers), 404, "not_found")
        restored = await client.post(f"{video_url}/restore", headers=instructor.headers)
        assert restored.status_code == 200, restored.text
        assert (await client.get(video_url, headers=instructor.headers)).status_code == 200

        assert (await client.get("/ready")).status_code == 200

    # PgBouncer served all of it with at most POOL_SIZE server connections.
    database = make_url(direct_url).database
    servers = [s for s in admin_show(bouncer, "SERVERS") if s["database"] == database]
    assert 1 <= len(servers) <= POOL_SIZE


async def test_client_connections_share_the_server_connections(
    app: FastAPI, bouncer: PgBouncer, direct_url: str
) -> None:
    """Many client connections, open at once, each running transactions: PostgreSQL sees no
    more backends than PgBouncer's pool, and one client's transactions move between them."""
    engine: AsyncEngine = app.state.engine
    connections = [await engine.connect() for _ in range(CLIENTS)]
    try:

        async def backends(connection: Any) -> list[int]:
            seen = []
            for _ in range(10):
                async with connection.begin():
                    pid = await connection.scalar(text("SELECT pg_backend_pid()"))
                    seen.append(int(pid))
                await asyncio.sleep(0)
            return seen

        per_client = await asyncio.gather(*(backends(c) for c in connections))
        # With the deployment's server_reset_query (DEALLOCATE ALL after every transaction),
        # no statement prepared by the load above is left on a server connection: only the
        # one this transaction prepares to count them.
        async with connections[0].begin():
            left = await connections[0].scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        assert left == 1
    finally:
        for connection in connections:
            await connection.close()
    every_backend = {pid for seen in per_client for pid in seen}
    assert 1 <= len(every_backend) <= POOL_SIZE < CLIENTS
    database = make_url(direct_url).database
    clients = [c for c in admin_show(bouncer, "CLIENTS") if c["database"] == database]
    assert len(clients) >= CLIENTS


async def test_relay_delivers_every_event_through_pgbouncer(
    app: FastAPI, bouncer: PgBouncer, direct_url: str
) -> None:
    async with client_for(app) as client:
        await asyncio.gather(*(register_and_log_in(client) for _ in range(CLIENTS)))
    waiting = await unpublished_events(direct_url)
    assert waiting >= CLIENTS
    engine = create_engine(bouncer.url_for(direct_url), transaction_pooler=True)
    try:
        factory = create_session_factory(engine)
        transport = InMemoryTransport()
        # Two relays at once, as two relay processes would run: FOR UPDATE SKIP LOCKED is
        # transaction-scoped, so it holds through the pooler.
        relays = [OutboxRelay(factory, transport, batch_size=5) for _ in range(2)]

        async def drain(relay: OutboxRelay) -> None:
            while (await relay.run_once()).published:
                pass

        await asyncio.gather(*(drain(r) for r in relays))
    finally:
        await engine.dispose()
    assert await unpublished_events(direct_url) == 0
    delivered = [m.message_id for m in transport.published]
    assert len(delivered) == len(set(delivered)) == waiting


async def unpublished_events(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None))
            )
    finally:
        await engine.dispose()
    return int(count or 0)


async def test_relay_command_publishes_to_jetstream_through_pgbouncer(
    app: FastAPI, bouncer: PgBouncer, direct_url: str, tmp_path: Path
) -> None:
    """`learnhub events relay --once`, in its own process, configured as deployed: the
    database through PgBouncer with the pooler setting, a real NATS JetStream."""
    import nats

    broker = PrivateNats(tmp_path)
    broker.start()
    try:
        async with client_for(app) as client:
            await asyncio.gather(*(register_and_log_in(client) for _ in range(3)))
        waiting = await unpublished_events(direct_url)
        assert waiting >= 3
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNHUB_")}
        env.update(
            LEARNHUB_DATABASE_URL=bouncer.url_for(direct_url),
            LEARNHUB_DB_TRANSACTION_POOLER="true",
            LEARNHUB_NATS_URL=broker.url,
            LEARNHUB_LOG_LEVEL="warning",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "learnhub.cli", "events", "relay", "--once", "--batch-size", "2"),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, output.decode(errors="replace")
        assert f"{waiting} events published" in output.decode(), output.decode()
        assert await unpublished_events(direct_url) == 0
        client = await nats.connect(broker.url)
        try:
            stream = await client.jetstream().stream_info("LEARNHUB")
        finally:
            await client.close()
        assert stream.state.messages == waiting
    finally:
        broker.stop()


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    async with postgres_database("learnhub_pgbouncer_serve") as url:
        yield url


def test_serve_migrates_directly_and_serves_through_pgbouncer(
    bouncer: PgBouncer, empty_database: str, tmp_path: Path
) -> None:
    """`learnhub serve --workers 2` as the README deploys it: migrations through
    LEARNHUB_MIGRATION_DATABASE_URL (their startup settings would be refused by PgBouncer),
    the workers and the audit watcher through PgBouncer."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNHUB_")}
    env.update(
        LEARNHUB_DATABASE_URL=bouncer.url_for(empty_database),
        LEARNHUB_DB_TRANSACTION_POOLER="true",
        LEARNHUB_MIGRATION_DATABASE_URL=empty_database,
        LEARNHUB_JWT_SECRET="pgbouncer-test-signing-secret-" + "p" * 32,
        LEARNHUB_LOG_LEVEL="warning",
    )
    command = [sys.executable, "-m", "learnhub.cli", "serve", "--port", str(port), "--workers", "2"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(process, base_url, log, timeout=60)
        with httpx.Client(base_url=base_url, timeout=30) as client:
            email = unique_email("served")
            registered = client.post(
                f"{API}/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": "Served"},
            )
            assert registered.status_code == 201, registered.text
            login = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 200, login.text
            assert client.get(COURSES).status_code == 200
            assert client.get("/ready").status_code == 200
        database = make_url(empty_database).database
        clients = [c for c in admin_show(bouncer, "CLIENTS") if c["database"] == database]
        assert clients, "the served app did not connect through PgBouncer"
    finally:
        stop(process, 30)


async def test_without_the_pooler_setting_prepared_statements_break(
    bouncer: PgBouncer, direct_url: str
) -> None:
    """The same kind of load with the driver's defaults: statements prepared on one server
    connection are looked for on another (or collide there), so the setting is needed."""
    engine = create_engine(bouncer.url_for(direct_url), pool_size=CLIENTS)
    connections = [await engine.connect() for _ in range(CLIENTS)]
    try:

        async def work(connection: Any) -> None:
            for n in range(50):
                async with connection.begin():
                    await connection.execute(
                        select(OutboxMessage.position).where(OutboxMessage.position == n)
                    )
                    await connection.scalar(text("SELECT pg_backend_pid()"))
                await asyncio.sleep(0)

        results = await asyncio.gather(*(work(c) for c in connections), return_exceptions=True)
    finally:
        for connection in connections:
            await connection.invalidate()
            await connection.close()
        await engine.dispose()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors, "no client failed: the pooler setting would not be needed"
    assert all(isinstance(e, DBAPIError) for e in errors), errors
    assert any("prepared statement" in str(e) for e in errors), errors


def test_a_transaction_pooler_refuses_session_settings(direct_url: str) -> None:
    with pytest.raises(ValueError, match="session"):
        create_engine(direct_url, transaction_pooler=True, server_settings={"lock_timeout": "5s"})


async def test_commit_position_is_read_through_the_pooler(
    bouncer: PgBouncer, direct_url: str
) -> None:
    """The WAL position a writer is given (read-your-writes on replicas) is read through the
    pooler too. It used to be read in autocommit, where PgBouncer may run a statement's
    prepare and its execution on different server connections: every write then gave no
    position, and its writer read from the primary, not a replica, for five minutes."""
    engine = create_engine(bouncer.url_for(direct_url), transaction_pooler=True)
    replica_set = ReplicaSet(engine, [], max_lag_seconds=10, retry_seconds=5)
    try:
        positions = await asyncio.gather(
            *(replica_set.primary_position() for _ in range(CLIENTS * 4))
        )
    finally:
        await engine.dispose()
    assert all(0 < position < PRIMARY_ONLY for position in positions), positions
