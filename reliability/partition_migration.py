"""The partitioning migration (revision 0019, issue 19 item 3) on a populated database: how
long it holds ACCESS EXCLUSIVE locks, and how long a writer of the audit trail waits.

A throwaway database is migrated to the revision before (0018), filled with `--audit-rows`
audit entries and `--activity-rows` activity rows spread over the past months (plain SQL,
test data), and upgraded to head while, on connections of their own in threads of their
own:
  - a lock monitor polls pg_locks as fast as it can and records, for every ACCESS EXCLUSIVE
    relation lock granted in this database, the first and last time it saw it held: the
    longest such span is the figure (a lower bound within one poll interval, reported too);
  - a writer appends an audit entry every few milliseconds, as the application does, and
    records its slowest insert and any error.
Then it checks nothing was lost: every row before, plus every row the writer committed.

    python -m reliability.partition_migration [--audit-rows 200000] [--activity-rows 200000]

PostgreSQL on `$LEARNHUB_TEST_PG_ADMIN_DSN` or postgresql://postgres@127.0.0.1:5432/postgres,
loopback only. Figures in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg

from learnhub.db import migrations
from reliability.harness import ADMIN_DSN, stderr_log, throwaway_database

BEFORE = "0018_audit_request_index"


@dataclass
class LockSpan:
    """One lock held without a break: seen in consecutive polls."""

    relation: str
    oid: int
    pid: int
    first: float
    last: float
    last_poll: int

    @property
    def held_ms(self) -> float:
        return (self.last - self.first) * 1000


@dataclass
class MigrationReport:
    audit_rows: int
    activity_rows: int
    migration_seconds: float
    polls: int
    poll_interval_ms: float  # the mean time between two looks at pg_locks
    # The figure: the longest ACCESS EXCLUSIVE on a table the application was using (the
    # two history tables as they were, and users, whose foreign-key triggers move): what a
    # request may have waited on.
    longest_live_lock_ms: float
    longest_live_lock_relation: str
    # Any relation, the new tables being built included (nobody uses them yet).
    longest_lock_ms: float
    longest_lock_relation: str
    locks: dict[str, float]  # relation (named when first seen) -> longest span, ms
    writer_inserts: int
    writer_errors: list[str]
    writer_slowest_ms: float
    rows_before: int
    rows_after: int
    legacy_kept_its_file: bool  # the old table became a partition as it was (no copy)


async def populate(dsn: str, audit_rows: int, activity_rows: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        user = uuid.uuid4()
        await connection.execute(
            "INSERT INTO users (id, email, display_name, password_hash, status)"
            " VALUES ($1, 'load@example.com', 'Load', 'x', 'active')",
            user,
        )
        await connection.execute(
            "INSERT INTO audit_log (id, occurred_at, actor_id, transaction_id, entity_type,"
            " entity_id, action, changes) SELECT gen_random_uuid(),"
            " now() - (g % 150000) * interval '1 minute', $2, gen_random_uuid(), 'course',"
            ' gen_random_uuid(), \'update\', \'{"title": ["a", "b"]}\'::json'
            " FROM generate_series(1, $1) AS g",
            audit_rows,
            user,
        )
        await connection.execute(
            "INSERT INTO user_activity (id, user_id, type, occurred_at, metadata)"
            " SELECT gen_random_uuid(), $2, 'video_watched',"
            " now() - (g % 150000) * interval '1 minute', '{}'::json"
            " FROM generate_series(1, $1) AS g",
            activity_rows,
            user,
        )
        await connection.execute("VACUUM ANALYZE audit_log")
        await connection.execute("VACUUM ANALYZE user_activity")
    finally:
        await connection.close()


class LockMonitor(threading.Thread):
    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.open: dict[tuple[int, int], LockSpan] = {}
        self.spans: list[LockSpan] = []
        self.polls = 0
        self.seconds = 0.0

    def run(self) -> None:
        asyncio.run(self._watch())

    async def _watch(self) -> None:
        connection = await asyncpg.connect(self.dsn)
        query = (
            "SELECT l.pid, l.relation::int, coalesce(c.relname, l.relation::text)"
            " FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.granted"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.pid <> pg_backend_pid()"
        )
        started = time.perf_counter()
        self.ready.set()
        try:
            while not self.stop.is_set():
                rows = await connection.fetch(query)
                now = time.perf_counter()
                self.polls += 1
                for pid, relation, name in rows:
                    span = self.open.get((pid, relation))
                    if span is None or span.last_poll != self.polls - 1:
                        # Not held at the previous look: a new lock (the same backend may
                        # lock the same table again in a later transaction).
                        span = LockSpan(name, relation, pid, now, now, self.polls)
                        self.open[(pid, relation)] = span
                        self.spans.append(span)
                    else:
                        span.last, span.last_poll = now, self.polls
        finally:
            self.seconds = time.perf_counter() - started
            await connection.close()


class Writer(threading.Thread):
    """Appends an audit entry every few milliseconds, one autocommitted INSERT each."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.stop = threading.Event()
        self.inserted: list[uuid.UUID] = []
        self.errors: list[str] = []
        self.slowest = 0.0

    def run(self) -> None:
        asyncio.run(self._write())

    async def _write(self) -> None:
        # No statement cache: a cached plan would name the table as it was before the swap.
        connection = await asyncpg.connect(self.dsn, statement_cache_size=0)
        try:
            while not self.stop.is_set():
                entry = uuid.uuid4()
                started = time.perf_counter()
                try:
                    await connection.execute(
                        "INSERT INTO audit_log (id, occurred_at, transaction_id, entity_type,"
                        " entity_id, action, changes) VALUES ($1, now(), $1, 'writer', $1,"
                        " 'create', '{}'::json)",
                        entry,
                    )
                    self.inserted.append(entry)
                except asyncpg.PostgresError as error:
                    self.errors.append(repr(error))
                self.slowest = max(self.slowest, time.perf_counter() - started)
                await asyncio.sleep(0.005)
        finally:
            await connection.close()


async def scalar(dsn: str, sql: str) -> Any:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def measure(dsn: str, url: str, audit_rows: int, activity_rows: int) -> MigrationReport:
    await migrations.upgrade(url, BEFORE)
    await populate(dsn, audit_rows, activity_rows)
    rows_before = await scalar(dsn, "SELECT count(*) FROM audit_log")
    old_file = await scalar(dsn, "SELECT relfilenode FROM pg_class WHERE relname = 'audit_log'")
    live = {
        await scalar(dsn, f"SELECT '{name}'::regclass::oid::int")
        for name in ("audit_log", "user_activity", "users")
    }
    monitor, writer = LockMonitor(dsn), Writer(dsn)
    monitor.start()
    monitor.ready.wait()
    writer.start()
    started = time.perf_counter()
    try:
        await migrations.upgrade(url)
    finally:
        elapsed = time.perf_counter() - started
        writer.stop.set()
        writer.join()
        monitor.stop.set()
        monitor.join()
    rows_after = await scalar(dsn, "SELECT count(*) FROM audit_log")
    legacy_file = await scalar(
        dsn, "SELECT relfilenode FROM pg_class WHERE relname = 'audit_log_legacy'"
    )
    locks: dict[str, float] = {}
    for span in monitor.spans:
        locks[span.relation] = max(locks.get(span.relation, 0.0), round(span.held_ms, 2))
    longest = max(monitor.spans, key=lambda s: s.held_ms, default=None)
    longest_live = max(
        (s for s in monitor.spans if s.oid in live), key=lambda s: s.held_ms, default=None
    )
    return MigrationReport(
        audit_rows=audit_rows,
        activity_rows=activity_rows,
        migration_seconds=round(elapsed, 3),
        polls=monitor.polls,
        poll_interval_ms=round(monitor.seconds * 1000 / max(monitor.polls, 1), 3),
        longest_live_lock_ms=round(longest_live.held_ms, 2) if longest_live else 0.0,
        longest_live_lock_relation=longest_live.relation if longest_live else "",
        longest_lock_ms=round(longest.held_ms, 2) if longest else 0.0,
        longest_lock_relation=longest.relation if longest else "",
        locks=dict(sorted(locks.items(), key=lambda kv: -kv[1])),
        writer_inserts=len(writer.inserted),
        writer_errors=writer.errors,
        writer_slowest_ms=round(writer.slowest * 1000, 2),
        rows_before=int(rows_before),
        rows_after=int(rows_after),
        legacy_kept_its_file=old_file == legacy_file,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reliability.partition_migration", description=__doc__
    )
    parser.add_argument("--audit-rows", type=int, default=200_000)
    parser.add_argument("--activity-rows", type=int, default=200_000)
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> MigrationReport:
    async with throwaway_database(ADMIN_DSN, prefix="learnhub_partition_migration") as db:
        report = await measure(db.dsn, db.url, args.audit_rows, args.activity_rows)
    stderr_log(json.dumps(asdict(report), indent=2))
    return report


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
