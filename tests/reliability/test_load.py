"""reliability/load.py, small: 20 virtual users for about 5 s against `learnhub serve
--workers 2` on PostgreSQL. Zero 5xx, and every acknowledged write is in the database with
counters equal to the rows and `learnhub audit verify` clean. Afterwards the server's
process group is gone and the database dropped, also when the run fails or is cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from reliability.harness import LoadConfig, RunContext, run

from tests.reliability.conftest import database_exists, process_group_gone, require_postgres

SMALL = LoadConfig(users=20, workers=2, duration=5.0, max_requests=5_000, request_timeout=30.0)


def quiet(_message: str) -> None:
    pass


async def test_small_load_loses_nothing(tmp_path: Path, admin_dsn: str) -> None:
    await require_postgres()
    report = await run(SMALL, admin_dsn, workdir=tmp_path, log=quiet)
    assert report.ok, report.format()
    overall = report.summary["overall"]
    assert overall["5xx"] == 0 and not overall["transport_errors"], report.format()
    writes = report.summary["acknowledged_writes"]
    assert writes["enrollments"] > 0 and writes["heartbeats"] > 0, report.format()
    assert {c.name for c in report.checks} >= {
        "no 5xx",
        "acknowledged enrolments are in the database",
        "courses.enrollment_count = live active+completed enrolments",
        "rating, rating_count and the 1..5 histogram = published reviews",
        "learnhub audit verify passes",
    }
    # Cleaned up: the server's process group and the database are gone.
    assert process_group_gone(report.server_pid)
    assert not await database_exists(admin_dsn, report.database_name)


async def test_a_cancelled_run_still_stops_the_server_and_drops_the_database(
    tmp_path: Path, admin_dsn: str
) -> None:
    """Ctrl-C cancels the main task: the cleanup in `finally` must still run."""
    await require_postgres()
    seen: dict[str, Any] = {}

    async def interrupt(context: RunContext) -> dict[str, Any]:
        seen.update(database=context.database.name, pid=context.server.process.pid)
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(5)
        return {}

    config = LoadConfig(users=2, workers=2, duration=5.0, max_requests=100)
    with pytest.raises(asyncio.CancelledError):
        await run(config, admin_dsn, workdir=tmp_path, inject=interrupt, log=quiet)
    assert seen, "the run reached the load window"
    assert process_group_gone(seen["pid"])
    assert not await database_exists(admin_dsn, seen["database"])
