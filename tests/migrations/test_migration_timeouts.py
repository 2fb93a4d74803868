"""PostgreSQL migrations never wait forever for a lock (issue 13, item 10).

A revision that ALTERs a table needs an ACCESS EXCLUSIVE lock on it. Queued behind a long
transaction, it used to wait as long as that transaction lasted while holding the locks it had
already taken (and making every later writer of the table queue behind its own request): one
20 s SELECT on `outbox` stalled every business write for 20 s. Now every revision runs under a
lock_timeout and a statement_timeout, gives up, retries a bounded number of times, and fails
with a clear message; writers wait at most about one lock_timeout."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from structlog.testing import capture_logs

from learnhub.db import migrations
from learnhub.db.migrations import MigrationLockTimeout, MigrationTimeouts
from tests.support.databases import database

pytestmark = pytest.mark.postgres_only

FAST = MigrationTimeouts(
    lock_timeout_seconds=1.0, statement_timeout_seconds=30, retries=2, backoff_seconds=0.2
)
WRITES = {
    # 0006 adds a column to courses; 0007 creates learner_stats (a foreign key to users: a
    # SHARE ROW EXCLUSIVE lock on users) and adds a column to outbox.
    "courses": "UPDATE courses SET updated_at = updated_at WHERE id = gen_random_uuid()",
    "users": "UPDATE users SET updated_at = updated_at WHERE id = gen_random_uuid()",
    "outbox": (
        "INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id, payload,"
        " occurred_at) VALUES (gen_random_uuid(), 'Probe', 'a', gen_random_uuid(), '{}', now())"
    ),
}


@pytest.fixture
async def url(tmp_dir: Path) -> AsyncIterator[str]:
    async with database("postgresql", tmp_dir, prefix="learnhub_lockto") as created:
        await migrations.upgrade(created, "0005_quiz_attempts")
        yield created


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@contextlib.asynccontextmanager
async def long_reader(url: str, hold_seconds: float) -> AsyncIterator[asyncpg.Connection]:
    """A transaction that has read `outbox` and stays open for `hold_seconds` (like a long
    report): it holds ACCESS SHARE on the table until it ends."""
    conn = await asyncpg.connect(dsn(url))
    tx = conn.transaction()
    await tx.start()
    await conn.execute("LOCK TABLE outbox IN ACCESS SHARE MODE")

    async def end_later() -> None:
        await asyncio.sleep(hold_seconds)
        await tx.rollback()

    ender = asyncio.create_task(end_later())
    try:
        yield conn
    finally:
        if not ender.done():
            ender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ender
            with contextlib.suppress(Exception):
                await tx.rollback()
        await conn.close()


async def writers(url: str, stop: asyncio.Event) -> dict[str, float]:
    """Business writes to every table the upgrade touches, back to back until `stop`; returns
    the longest time each one waited."""
    conn = await asyncpg.connect(dsn(url))
    longest = dict.fromkeys(WRITES, 0.0)
    try:
        while not stop.is_set():
            for table, sql in WRITES.items():
                started = time.monotonic()
                await conn.execute(sql)
                longest[table] = max(longest[table], time.monotonic() - started)
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return longest


async def upgrade_while_writing(
    url: str, timeouts: MigrationTimeouts
) -> tuple[Exception | None, float, dict[str, float]]:
    stop = asyncio.Event()
    writing = asyncio.create_task(writers(url, stop))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    error: Exception | None = None
    try:
        await migrations.upgrade(url, timeouts=timeouts)
    except Exception as exc:
        error = exc
    elapsed = time.monotonic() - started
    await asyncio.sleep(0.2)
    stop.set()
    return error, elapsed, await writing


async def test_a_long_transaction_makes_the_upgrade_give_up_not_the_writers_wait(url: str) -> None:
    async with long_reader(url, hold_seconds=20):
        error, elapsed, longest = await upgrade_while_writing(url, FAST)

    # The upgrade gave up after its attempts (3 x 1 s lock timeout + backoff), long before
    # the 20 s transaction ended, with a message saying what to do.
    assert isinstance(error, MigrationLockTimeout), error
    assert "lock timeout" in str(error) and "3 attempts" in str(error)
    assert "stopped at revision 0006_ai_tutor" in str(error)
    assert elapsed < 10
    # 0006 (courses) went through; 0007 (outbox) rolled back entirely.
    assert await migrations.current(url) == "0006_ai_tutor"
    # No business write waited much longer than one lock timeout.
    assert max(longest.values()) < FAST.lock_timeout_seconds + 1.0, longest

    # Once the long transaction is over, the same upgrade completes.
    await migrations.upgrade(url, timeouts=FAST)
    assert await migrations.current(url) == migrations.head_revision()


async def test_a_lock_timeout_is_retried_and_the_upgrade_completes(url: str) -> None:
    patient = MigrationTimeouts(
        lock_timeout_seconds=0.5, statement_timeout_seconds=30, retries=5, backoff_seconds=0.3
    )
    with capture_logs() as logs:
        async with long_reader(url, hold_seconds=1.5):
            error, _elapsed, longest = await upgrade_while_writing(url, patient)
    assert error is None
    assert await migrations.current(url) == migrations.head_revision()
    retries = [e for e in logs if e["event"] == "migration_lock_timeout_retry"]
    assert retries and retries[0]["at_revision"] == "0006_ai_tutor"
    assert max(longest.values()) < patient.lock_timeout_seconds + 1.0, longest


async def test_every_revision_runs_under_the_timeouts(url: str) -> None:
    """The settings reach the migration connection as session defaults: a statement that
    runs longer than the statement_timeout is cancelled (and is not retried)."""
    short = MigrationTimeouts(lock_timeout_seconds=2, statement_timeout_seconds=0.5, retries=3)

    def sleepy(connection: object) -> None:
        connection.exec_driver_sql("SELECT pg_sleep(2)")  # type: ignore[attr-defined]

    started = time.monotonic()
    with pytest.raises(Exception, match="statement timeout"):
        await migrations._run(url, sleepy, short)
    assert time.monotonic() - started < 1.9

    def settings(connection: object) -> tuple[str, str]:
        row = connection.exec_driver_sql(  # type: ignore[attr-defined]
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
        ).one()
        return row[0], row[1]

    assert await migrations._run(url, settings, MigrationTimeouts()) == ("5s", "1min")


def test_learnhub_db_upgrade_fails_with_a_clear_message(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What the operator sees: exit status 1 and what to do, no traceback; the settings
    (environment) set the timeouts."""
    from typer.testing import CliRunner

    from learnhub.cli.app import app
    from learnhub.config import get_settings

    for name, value in {
        "DATABASE_URL": url,
        "MIGRATION_LOCK_TIMEOUT_SECONDS": "0.5",
        "MIGRATION_LOCK_RETRIES": "1",
        "MIGRATION_RETRY_BACKOFF_SECONDS": "0.1",
    }.items():
        monkeypatch.setenv(f"LEARNHUB_{name}", value)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    holder = asyncio.new_event_loop()
    try:
        conn = holder.run_until_complete(asyncpg.connect(dsn(url)))
        holder.run_until_complete(conn.execute("BEGIN; LOCK TABLE outbox IN ACCESS SHARE MODE"))
        started = time.monotonic()
        result = CliRunner().invoke(app, ["db", "upgrade"])
        elapsed = time.monotonic() - started
        holder.run_until_complete(conn.close())
    finally:
        holder.close()
        get_settings.cache_clear()
    output = " ".join(result.output.split())  # Rich wraps long lines
    assert result.exit_code == 1, output
    assert "migration stopped" in output and "2 attempts" in output
    assert "stopped at revision 0006_ai_tutor" in output and "Traceback" not in output
    assert elapsed < 10
