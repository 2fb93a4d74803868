"""The whole production topology under load: a PostgreSQL primary with a streaming standby,
PgBouncer in transaction pooling mode in front of the primary, `learnhub serve --workers N`
and `learnhub events relay`, all made for the run on free loopback ports and torn down after.

    python -m reliability.topology --users 60 --duration 40
    python -m reliability.topology --users 60 --duration 40 --stop-replica-at 15

The app reaches the primary through PgBouncer (LEARNHUB_DB_TRANSACTION_POOLER=true), runs its
migrations on the primary directly (LEARNHUB_MIGRATION_DATABASE_URL) and reads from the standby
(LEARNHUB_READ_REPLICA_URL); the relay publishes the outbox through the same PgBouncer to a
NATS JetStream server of the run's own, so its stream holds this run's events and nothing else.

The load and the checks are `reliability.load`'s (no 5xx, every acknowledged write present,
counters equal rows, `learnhub audit verify` clean), plus: every outbox event published and
the stream holding exactly as many messages as there are events. Reported besides throughput
and latency: the share of the read requests the standby served, measured on the database side:
the standby's committed and rolled-back transactions in the app's database during the window
(pg_stat_database, read before and after it) over the read requests sent. Each read the standby
serves is one transaction there; a read the router looked at there and then sent to the primary
(the learner's own write not replayed yet) is one too, so the figure is an upper bound.

With `--stop-replica-at S` the standby is stopped (`pg_ctl stop -m fast`) S seconds into the
window and stays down: reads must fall back to the primary without a single 5xx.
Exit status 1 on any failed check.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from reliability.clusters import PrivateNats, ReplicatedPair, running_pgbouncer
from reliability.harness import (
    Check,
    Database,
    LoadReport,
    Log,
    RunContext,
    RunHooks,
    Sample,
    install_sigterm,
    kill_group,
    learnhub_command,
    run,
    spawn,
    stderr_log,
    throwaway_database,
)
from reliability.load import add_load_arguments, config_from, work_directory, write_report

READS = ("catalog", "course_detail")
# PgBouncer's server connections per database and user: two workers' pools (and the relay's)
# share these, so the pooler really multiplexes.
POOL_SIZE = 10
# A backend publishes its statistics at most once a second, and an idle one within 10 s:
# reading pg_stat_database sooner would miss the last transactions.
STATS_SETTLE_SECONDS = 11.0
DRAIN_LIMIT_SECONDS = 90.0
RELAY_STOP_SECONDS = 15.0
STREAM = "LEARNHUB"  # learnhub.events.transport.NatsTransport.STREAM


# Per-statement call counts, updated as each statement ends (no flush delay).
STATEMENT_STATISTICS = "shared_preload_libraries = 'pg_stat_statements'\n"


async def _create_extension(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        await conn.close()


async def statement_calls(dsn: str, database: str) -> dict[str, int]:
    """Calls per statement text in `database`, from pg_stat_statements."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT s.query, sum(s.calls)::bigint AS calls FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 GROUP BY s.query",
            database,
        )
        return {r["query"]: int(r["calls"]) for r in rows}
    finally:
        await conn.close()


def _most(item: tuple[str, int]) -> int:
    return -item[1]


async def transactions(dsn: str, database: str) -> int:
    """Committed plus rolled-back transactions in `database` (read-only ones included)."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            database,
        )
        return int(value or 0)
    finally:
        await conn.close()


class Topology(RunHooks):
    def __init__(self, stop_replica_at: float | None, log: Log = stderr_log) -> None:
        self.stop_replica_at = stop_replica_at
        self.log = log
        self.pair: ReplicatedPair | None = None
        self.nats: PrivateNats | None = None
        self.bouncer_url = ""
        self.before: dict[str, int] = {}
        self.statements_before: dict[str, dict[str, int]] = {}
        self.workdir = Path()
        self.replica_stopped_at: float | None = None

    # --- the servers --------------------------------------------------------------------

    @asynccontextmanager
    async def _database(self, log: Log) -> AsyncIterator[Database]:
        with contextlib.ExitStack() as stack:
            root = Path(tempfile.mkdtemp(prefix="learnhub-replication-"))
            pair = ReplicatedPair(root, settings=STATEMENT_STATISTICS)
            stack.callback(pair.destroy)
            # Making the pair (initdb, pg_basebackup) blocks for seconds: not on the loop.
            await asyncio.to_thread(pair.create)
            self.pair = pair
            await _create_extension(pair.dsn(pair.primary, "postgres"))
            log(f"primary on {pair.primary.port}, streaming standby on {pair.standby.port}")
            bouncer = stack.enter_context(
                running_pgbouncer(pair.url(pair.primary, "postgres"), POOL_SIZE)
            )
            log(f"pgbouncer (transaction pooling, pool {POOL_SIZE}) on {bouncer.port}")
            store = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="learnhub-nats-")))
            self.nats = PrivateNats(store)
            self.nats.start()
            stack.callback(self.nats.stop)
            log(f"nats-server -js on {self.nats.port}")
            async with throwaway_database(pair.dsn(pair.primary, "postgres"), log=log) as database:
                self.bouncer_url = bouncer.url_for(database.url)
                yield database

    def database(
        self, admin_dsn: str, log: Log
    ) -> contextlib.AbstractAsyncContextManager[Database]:
        return self._database(log)  # the run's own primary, not the admin DSN's server

    def environment(self, database: Database) -> dict[str, str]:
        assert self.pair is not None and self.nats is not None
        return {
            "LEARNHUB_DATABASE_URL": self.bouncer_url,
            "LEARNHUB_DB_TRANSACTION_POOLER": "true",
            "LEARNHUB_MIGRATION_DATABASE_URL": database.url,
            "LEARNHUB_READ_REPLICA_URL": self.pair.url(self.pair.standby, database.name),
            "LEARNHUB_NATS_URL": self.nats.url,
        }

    @asynccontextmanager
    async def _relay(self, env: dict[str, str], workdir: Path) -> AsyncIterator[None]:
        process = spawn(learnhub_command("events", "relay"), env, workdir, workdir / "relay.log")
        self.log("learnhub events relay started")
        try:
            yield
        finally:
            # Its whole group: SIGTERM lets it finish the batch in hand; SIGKILL if it hangs.
            kill_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, RELAY_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                kill_group(process.pid, signal.SIGKILL)
                await asyncio.to_thread(process.wait, RELAY_STOP_SECONDS)
            self.log(f"relay stopped (exit status {process.poll()})")

    def beside_server(
        self, env: dict[str, str], workdir: Path
    ) -> contextlib.AbstractAsyncContextManager[object]:
        self.workdir = workdir
        return self._relay(env, workdir)

    # --- around the window ----------------------------------------------------------------

    def _stats_dsns(self) -> dict[str, str]:
        assert self.pair is not None
        return {
            "primary": self.pair.dsn(self.pair.primary, "postgres"),
            "replica": self.pair.dsn(self.pair.standby, "postgres"),
        }

    async def before_load(self, context: RunContext) -> None:
        # Let the setup's reads (catalog, logins) reach the statistics first.
        await asyncio.sleep(STATS_SETTLE_SECONDS)
        for name, dsn in self._stats_dsns().items():
            self.before[name] = await transactions(dsn, context.database.name)
            self.statements_before[name] = await statement_calls(dsn, context.database.name)

    async def inject(self, context: RunContext) -> dict[str, Any]:
        """Stops the standby `stop_replica_at` seconds into the window (fault run only)."""
        assert self.pair is not None and self.stop_replica_at is not None
        await asyncio.sleep(max(0.0, context.t0 + self.stop_replica_at - time.monotonic()))
        await asyncio.to_thread(self.pair.stop, self.pair.standby)
        self.replica_stopped_at = time.monotonic() - context.t0
        self.log(f"standby stopped (pg_ctl stop -m fast) at {self.replica_stopped_at:.1f} s")
        return {"replica_stopped_at_seconds": round(self.replica_stopped_at, 1)}

    async def after_load(
        self, context: RunContext, samples: list[Sample]
    ) -> tuple[dict[str, Any], list[Check]]:
        assert self.pair is not None
        if self.replica_stopped_at is not None:
            # A cleanly stopped standby keeps its statistics: start it again to read them.
            await asyncio.to_thread(self.pair.start, self.pair.standby)
        await asyncio.sleep(STATS_SETTLE_SECONDS)
        delta = {
            name: await transactions(dsn, context.database.name) - self.before[name]
            for name, dsn in self._stats_dsns().items()
        }
        reads = sum(1 for s in samples if s.op in READS)
        # An upper bound of the share the standby served: a read the router opened on the
        # standby and then sent to the primary (the learner's own write not replayed there
        # yet) is a standby transaction too.
        share = delta["replica"] / reads if reads else 0.0
        figures: dict[str, Any] = {
            "read_requests": reads,
            "replica_transactions": delta["replica"],
            "primary_transactions": delta["primary"],
            "replica_transactions_per_read": round(share, 3),
        }
        checks = [
            Check(
                "the standby served reads",
                delta["replica"] > 0,
                f"{delta['replica']} transactions on the standby for {reads} read requests "
                f"({share:.1%}); {delta['primary']} on the primary",
            )
        ]
        # Which statements each server ran in the window (pg_stat_statements), for a closer
        # look than the report's figures: statements.json beside the server's log.
        ran: dict[str, dict[str, int]] = {}
        for name, dsn in self._stats_dsns().items():
            calls = await statement_calls(dsn, context.database.name)
            before = self.statements_before.get(name, {})
            delta_calls = {q: n - before.get(q, 0) for q, n in calls.items()}
            ran[name] = dict(sorted(((q, n) for q, n in delta_calls.items() if n), key=_most))
        await asyncio.to_thread(
            (self.workdir / "statements.json").write_text, json.dumps(ran, indent=1) + "\n"
        )
        published, events, messages = await self._drain(context.database)
        figures.update(outbox_events=events, stream_messages=messages)
        checks.append(
            Check(
                "every outbox event published, the stream holds one message per event",
                published == events == messages,
                f"{events} events, {published} marked published, {messages} in stream {STREAM}",
            )
        )
        return figures, checks

    async def _drain(self, database: Database) -> tuple[int, int, int]:
        """Waits (bounded) for the relay to publish the whole outbox; returns the published
        and total outbox rows and the stream's message count."""
        import nats

        deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
        conn = await asyncpg.connect(database.dsn, timeout=10)
        try:
            while True:
                row = await conn.fetchrow(
                    "SELECT count(*) FILTER (WHERE published_at IS NOT NULL) AS published, "
                    "count(*) AS events FROM outbox"
                )
                assert row is not None
                if row["published"] == row["events"] or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
        self.log(f"outbox: {row['published']} of {row['events']} events published")
        assert self.nats is not None
        client = await nats.connect(self.nats.url, connect_timeout=5)
        try:
            info = await client.jetstream().stream_info(STREAM)
            messages = int(info.state.messages)
        finally:
            await client.close()
        return int(row["published"]), int(row["events"]), messages


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m reliability.topology", description=__doc__)
    add_load_arguments(parser)
    parser.add_argument(
        "--stop-replica-at",
        type=float,
        help="stop the standby this many seconds into the window (the fault run)",
    )
    parser.set_defaults(users=60, duration=40.0)
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> LoadReport:
    task = asyncio.current_task()
    assert task is not None
    install_sigterm(task)
    topology = Topology(args.stop_replica_at)
    inject = topology.inject if args.stop_replica_at is not None else None
    with work_directory(args.keep_logs, "learnhub-topology-") as workdir:
        return await run(
            config_from(args), args.admin_dsn, workdir=workdir, inject=inject, hooks=topology
        )


if __name__ == "__main__":
    arguments = parse_args()
    try:
        result = asyncio.run(main(arguments))
    except KeyboardInterrupt:
        print("interrupted: servers stopped, clusters removed", file=sys.stderr)
        sys.exit(130)
    write_report(result, "python -m reliability.topology " + " ".join(sys.argv[1:]), arguments.json)
    sys.exit(0 if result.ok else 1)
