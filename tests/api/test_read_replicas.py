"""Read replicas on a real streaming replica (issue 19, item 1): a primary and a standby made
by `pg_basebackup -R`, both started by the test setup. Reads go to the replica, a writer
reads its own writes while replay is paused, a replica beyond the lag bound or stopped is
passed over, and nothing answers 5xx."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import event

from learnhub.api.app import create_app
from learnhub.api.deps import POSITION_COOKIE, POSITION_HEADER
from learnhub.db.engine import create_session_factory
from learnhub.db.replicas import parse_lsn
from tests.api import conftest as api_setup
from tests.api.conftest import create_account, login
from tests.conftest import prepare
from tests.support.live_server import free_port
from tests.support.replication import ReplicatedPair, replicated_pair

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

API = "/api/v1"
ME = f"{API}/users/me"
# Waiting for replication to reach a point is bounded, so a broken pair fails, never hangs.
REPLICATION_WAIT_SECONDS = 30.0


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicatedPair]:
    with replicated_pair() as made:
        yield made


@pytest.fixture(scope="module")
async def migrated(pair: ReplicatedPair) -> ReplicatedPair:
    admin = await asyncpg.connect(pair.dsn(pair.primary, "postgres"))
    try:
        await admin.execute("CREATE DATABASE learnhub")
    finally:
        await admin.close()
    await prepare(pair.url(pair.primary))
    await replayed_up_to(pair, await primary_position(pair))
    return pair


@asynccontextmanager
async def serving(pair: ReplicatedPair, **overrides: Any) -> AsyncIterator[FastAPI]:
    settings = api_setup.test_settings(
        pair.url(pair.primary), read_replica_url=pair.url(pair.standby), **overrides
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def client_for(app: FastAPI, **options: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", **options)


async def fetch(pair: ReplicatedPair, cluster: str, query: str) -> Any:
    connection = await asyncpg.connect(pair.dsn(getattr(pair, cluster)))
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def primary_position(pair: ReplicatedPair) -> int:
    """What the primary has written out (after a flushed commit: at or past its end)."""
    return int(await fetch(pair, "primary", "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))


async def _wait_for_standby(pair: ReplicatedPair, function: str, position: int) -> None:
    query = f"SELECT {function}() - '0/0'::pg_lsn"
    async with asyncio.timeout(REPLICATION_WAIT_SECONDS):
        while True:
            if int(await fetch(pair, "standby", query) or 0) >= position:
                return
            await asyncio.sleep(0.05)


async def replayed_up_to(pair: ReplicatedPair, position: int) -> None:
    await _wait_for_standby(pair, "pg_last_wal_replay_lsn", position)


async def received_up_to(pair: ReplicatedPair, position: int) -> None:
    await _wait_for_standby(pair, "pg_last_wal_receive_lsn", position)


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Routing:
    """The routed-reads and fallback counters, as differences since the last look."""

    def __init__(self, pair: ReplicatedPair) -> None:
        self.replica = f"127.0.0.1:{pair.standby.port}"
        self.before = self._now()

    def _now(self) -> dict[str, float]:
        return {
            "replica": counted("learnhub_db_reads_routed_total", target=self.replica),
            "primary": counted("learnhub_db_reads_routed_total", target="primary"),
            **{
                reason: counted(
                    "learnhub_db_replica_fallbacks_total", replica=self.replica, reason=reason
                )
                for reason in ("down", "failed", "lagging", "behind_client", "not_standby")
            },
        }

    def since(self) -> dict[str, float]:
        now = self._now()
        changed = {key: now[key] - self.before[key] for key in now if now[key] != self.before[key]}
        self.before = now
        return changed


@asynccontextmanager
async def replay_paused(pair: ReplicatedPair) -> AsyncIterator[None]:
    # Everything so far replayed first, so the pause starts from a recent commit.
    await replayed_up_to(pair, await primary_position(pair))
    await fetch(pair, "standby", "SELECT pg_wal_replay_pause()")
    # Asked is not yet paused: a record arriving meanwhile could still be replayed.
    async with asyncio.timeout(REPLICATION_WAIT_SECONDS):
        while True:
            if await fetch(pair, "standby", "SELECT pg_get_wal_replay_pause_state()") == "paused":
                break
            await asyncio.sleep(0.05)
    try:
        yield
    finally:
        await fetch(pair, "standby", "SELECT pg_wal_replay_resume()")


async def test_reads_use_the_replica_and_a_writer_reads_its_own_writes(
    migrated: ReplicatedPair,
) -> None:
    pair = migrated
    routing = Routing(pair)
    async with serving(pair, read_replica_max_lag_seconds=60) as app:
        factory = create_session_factory(app.state.engine)
        async with client_for(app) as writer, client_for(app) as anonymous:
            catalog = await anonymous.get(f"{API}/courses")
            assert catalog.status_code == 200, catalog.text
            assert routing.since() == {"replica": 1}
            assert POSITION_HEADER not in catalog.headers
            search = await anonymous.get(f"{API}/courses", params={"q": "python"})
            page = await anonymous.get("/")  # the web app's catalog page
            assert search.status_code == 200 and page.status_code == 200, page.text
            assert routing.since() == {"replica": 2}

            me = await login(writer, await create_account(factory, "student"))
            await replayed_up_to(pair, await primary_position(pair))
            async with replay_paused(pair):
                routing.since()
                renamed = await writer.patch(
                    ME, headers=me.headers, json={"display_name": "Renamed while replay paused"}
                )
                assert renamed.status_code == 200, renamed.text
                position = parse_lsn(renamed.headers[POSITION_HEADER])
                assert position is not None
                assert writer.cookies[POSITION_COOKIE] == renamed.headers[POSITION_HEADER]
                await received_up_to(pair, position)  # on the standby, not replayed

                # The writer (its cookie) reads from the primary and sees its write.
                own = await writer.get(ME, headers=me.headers)
                assert own.status_code == 200, own.text
                assert own.json()["display_name"] == "Renamed while replay paused"
                assert routing.since() == {"primary": 1, "behind_client": 1}

                # The same account on a client that does not carry the position (no cookie)
                # reads the replica, which has not replayed the write: the read is there.
                async with client_for(app) as elsewhere:
                    stale = await elsewhere.get(ME, headers=me.headers)
                assert stale.status_code == 200, stale.text
                assert stale.json()["display_name"] == "Student User"
                assert routing.since() == {"replica": 1}

                # A client that keeps no cookies sends the header instead.
                async with client_for(app) as by_header:
                    headers = {**me.headers, POSITION_HEADER: renamed.headers[POSITION_HEADER]}
                    sent = await by_header.get(ME, headers=headers)
                assert sent.json()["display_name"] == "Renamed while replay paused"
                assert routing.since() == {"primary": 1, "behind_client": 1}

            # Once the replica has replayed past the writer's position, it serves the writer.
            await replayed_up_to(pair, position)
            caught_up = await writer.get(ME, headers=me.headers)
            assert caught_up.json()["display_name"] == "Renamed while replay paused"
            assert routing.since() == {"replica": 1}


async def test_a_position_that_cannot_be_read_sends_the_read_to_the_primary(
    migrated: ReplicatedPair,
) -> None:
    routing = Routing(migrated)
    async with serving(migrated) as app, client_for(app) as client:
        response = await client.get(f"{API}/courses", headers={POSITION_HEADER: "not-a-position"})
        assert response.status_code == 200, response.text
    assert routing.since() == {"primary": 1, "behind_client": 1}


async def test_a_replica_lagging_beyond_the_bound_is_passed_over(migrated: ReplicatedPair) -> None:
    pair = migrated
    routing = Routing(pair)
    strict = serving(pair, read_replica_max_lag_seconds=0)
    async with strict as app, client_for(app) as client, replay_paused(pair):
        # A commit it cannot replay (one that writes: a commit that wrote nothing else is
        # not flushed at once, and the replica would not even receive it now).
        await fetch(pair, "primary", "CREATE TABLE lag_probe (n int)")
        position = await primary_position(pair)
        await received_up_to(pair, position)
        routing.since()
        response = await client.get(f"{API}/courses")
        assert response.status_code == 200, response.text
        replayed = await fetch(pair, "standby", "SELECT pg_last_wal_replay_lsn() - '0/0'")
        assert replayed < position, "replay went on although paused"
        assert routing.since() == {"primary": 1, "lagging": 1}
        assert counted("learnhub_db_replica_lag_seconds", replica=routing.replica) > 0
    # Caught up again, it serves reads (under a bound that background WAL, such as a
    # checkpoint's, cannot exceed while it is being replayed: the last commit is recent).
    await replayed_up_to(pair, await primary_position(pair))
    async with serving(pair) as app, client_for(app) as client:
        response = await client.get(f"{API}/courses")
        assert response.status_code == 200, response.text
        assert routing.since() == {"replica": 1}


async def test_a_stopped_replica_degrades_to_the_primary_without_errors(
    migrated: ReplicatedPair,
) -> None:
    pair = migrated
    routing = Routing(pair)
    async with serving(pair) as app, client_for(app) as client:
        factory = create_session_factory(app.state.engine)
        me = await login(client, await create_account(factory, "student"))
        warm = await client.get(f"{API}/courses")  # a pooled connection to the replica
        assert warm.status_code == 200
        routing.since()
        pair.stop(pair.standby)
        try:
            for _ in range(3):
                catalog = await client.get(f"{API}/courses")
                assert catalog.status_code == 200, catalog.text
            own = await client.get(ME, headers=me.headers)
            assert own.status_code == 200, own.text
            # The first read finds it down; the next ones skip it until the retry delay.
            assert routing.since() == {"primary": 4, "down": 4}
            renamed = await client.patch(ME, headers=me.headers, json={"display_name": "Still"})
            assert renamed.status_code == 200, renamed.text
        finally:
            pair.start(pair.standby)


async def test_a_replica_failing_mid_read_is_read_again_on_the_primary(
    migrated: ReplicatedPair,
) -> None:
    """The replica's sessions are cut after the check that chose it and before the read's own
    query, as when it stops under load (found by `python -m reliability.topology`, which
    answered one such read 503): the read is run again on the primary and answers 200, and
    the replica is passed over until its retry delay ends."""
    pair = migrated
    routing = Routing(pair)
    async with serving(pair) as app, client_for(app) as client:
        warm = await client.get(f"{API}/courses")
        assert warm.status_code == 200
        routing.since()
        cut: list[str] = []
        terminate = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'learnhub' AND pid <> pg_backend_pid()"
        )

        def cut_after_the_check(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if not cut and "pg_is_in_recovery" not in statement:
                cut.append(statement)
                dsn = pair.dsn(pair.standby, "postgres")
                subprocess.run(
                    ["psql", dsn, "-qAt", "-c", terminate],
                    check=True,
                    timeout=30,
                    capture_output=True,
                )

        replica_engine = app.state.replicas.replicas[0].engine.sync_engine
        event.listen(replica_engine, "before_cursor_execute", cut_after_the_check)
        try:
            catalog = await client.get(f"{API}/courses")
        finally:
            event.remove(replica_engine, "before_cursor_execute", cut_after_the_check)
        assert cut, "the read never reached the replica"
        assert catalog.status_code == 200, catalog.text
        # Chosen, failed, then passed over as down on the second run, which read the primary.
        assert routing.since() == {"replica": 1, "failed": 1, "down": 1, "primary": 1}
        again = await client.get(f"{API}/courses")
        assert again.status_code == 200
        assert routing.since() == {"down": 1, "primary": 1}


async def test_sqlite_ignores_the_replica_setting(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'replica-setting.db'}"
    await prepare(database)
    settings = api_setup.test_settings(database, read_replica_url="postgresql+asyncpg://h:5432/x")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert app.state.replicas is None
        async with client_for(app) as client:
            # A refused login is still committed (the failure is counted): no position.
            refused = await client.post(
                f"{API}/auth/login", json={"email": "nobody@example.com", "password": "x" * 12}
            )
            assert refused.status_code == 401, refused.text
            assert POSITION_HEADER not in refused.headers
            assert (await client.get(f"{API}/courses")).status_code == 200


async def test_several_replicas_an_unreachable_one_is_passed_over(
    migrated: ReplicatedPair,
) -> None:
    pair = migrated
    routing = Routing(pair)
    unreachable = f"127.0.0.1:{free_port()}"
    urls = f"postgresql+asyncpg://postgres@{unreachable}/learnhub, {pair.url(pair.standby)}"
    settings = api_setup.test_settings(pair.url(pair.primary), read_replica_url=urls)
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_for(app) as client:
        assert [r.name for r in app.state.replicas.replicas] == [unreachable, routing.replica]
        for _ in range(4):
            response = await client.get(f"{API}/courses")
            assert response.status_code == 200, response.text
    assert routing.since() == {"replica": 4}
    assert counted(
        "learnhub_db_replica_fallbacks_total", replica=unreachable, reason="down"
    ) == pytest.approx(2)  # tried first every other read: found down, then skipped
