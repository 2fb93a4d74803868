"""The connection pool keeps its connections under any concurrency (issue 13, item 12).

With overflow connections (pool_size + max_overflow), every burst above pool_size opened new
connections and closed them again on return: under uvicorn 100-288 new connections in 20 s.
Now the pool holds at most pool_size connections and keeps them; requests beyond it wait for
one. Counted two ways: the engine's connect events and the learnhub_db_connections_opened_total
counter on /metrics; the hot reads' own pool (db/driver_pool.py) keeps its connections too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from learnhub.api.app import create_app
from tests.api.conftest import test_settings as settings_for
from tests.api.test_metrics import scrape
from tests.conftest import prepare
from tests.support.databases import database

POOL_SIZE = 2
CONCURRENT = 12
BURSTS = 4


@pytest.fixture
async def fresh_url(backend: str, tmp_dir: Path) -> AsyncIterator[str]:
    async with database(backend, tmp_dir, prefix="learnhub_pool") as url:
        await prepare(url)
        yield url


async def test_bursts_above_the_pool_size_open_no_more_than_pool_size_connections(
    fresh_url: str,
) -> None:
    application = create_app(settings_for(fresh_url, db_pool_size=POOL_SIZE))
    async with application.router.lifespan_context(application):
        opened: list[object] = []

        @event.listens_for(application.state.engine.sync_engine, "connect")
        def connected(dbapi_connection: Any, _record: Any) -> None:
            opened.append(dbapi_connection)

        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            counter = "learnhub_db_connections_opened_total"
            before = (await scrape(client)).value(counter)
            opened.clear()
            for _ in range(BURSTS):
                responses = await asyncio.gather(
                    *(client.get("/api/v1/courses?limit=5") for _ in range(CONCURRENT)),
                    *(client.get("/ready") for _ in range(CONCURRENT)),
                )
                assert [r.status_code for r in responses] == [200] * (2 * CONCURRENT)
            assert application.state.engine.pool.checkedout() == 0
            total = (await scrape(client)).value(counter)
            # The catalog's hot reads have a pool of their own on PostgreSQL, of the same size.
            hot = application.state.driver_pool
            hot_connections = hot.connections() if hot is not None else 0
    # At most pool_size connections over all bursts (the first scrape may have opened one),
    # however many requests ran at once, in each pool.
    assert len(opened) <= POOL_SIZE, len(opened)
    assert hot_connections <= POOL_SIZE, hot_connections
    assert total - before == len(opened) + hot_connections
