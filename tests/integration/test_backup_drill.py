"""The backup-and-restore drill (`learnhub db backup-drill`), on both engines: a database
with the demo data is backed up and restored into a fresh one, whose row counts, schema and
audit trail check out; on PostgreSQL the counts stay exact while writers keep committing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from learnhub.ops.backup_drill import run_drill
from tests.support.databases import database


def learnhub(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEARNHUB_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "learnhub.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_the_drill_restores_the_demo_data_whole(backend: str, tmp_dir: Path):
    async with database(backend, tmp_dir, prefix="learnhub_drill") as url:
        seeded = await asyncio.to_thread(learnhub, url, "seed", "--demo")
        assert seeded.returncode == 0, seeded.stderr
        drill = await asyncio.to_thread(learnhub, url, "db", "backup-drill")
        assert drill.returncode == 0, drill.stdout + drill.stderr
        lines = drill.stdout.splitlines()
        assert lines[-1] == "drill passed"
        rows = {line.split()[0]: line.split()[1:] for line in lines[:-2]}
        for table in ("users", "courses", "videos", "audit_log", "outbox"):
            source, restored, mark = rows[table]
            assert source == restored and int(source) > 0 and mark == "ok", (table, rows)
        assert ", 0 gaps" in lines[-2] and "0 invalid indexes" in lines[-2]


@pytest.mark.postgres_only  # SQLite has one writer: nothing commits during its backup
async def test_counts_come_from_the_snapshot_the_backup_read(backend: str, tmp_dir: Path):
    async with database(backend, tmp_dir, prefix="learnhub_drill") as url:
        seeded = await asyncio.to_thread(learnhub, url, "seed", "--demo")
        assert seeded.returncode == 0, seeded.stderr
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        writer = await asyncpg.connect(dsn)
        stop = asyncio.Event()
        written = 0

        async def keep_writing() -> None:
            nonlocal written
            while not stop.is_set():
                await writer.execute(
                    "INSERT INTO login_failures (id, email, occurred_at) VALUES ($1, $2, now())",
                    uuid.uuid4(),
                    f"{uuid.uuid4().hex}@example.com",
                )
                written += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(keep_writing())
        try:
            report = await run_drill(url)
        finally:
            stop.set()
            await task
            await writer.close()
        assert written > 0
        assert report.ok, report
        assert report.source_counts == report.restored_counts
