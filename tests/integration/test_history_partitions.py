"""The history tables partitioned by month on PostgreSQL (issue 19, item 3): the partitions
the migration and the maintenance make, append-only on every one of them, archiving old
months to files that `audit verify` replays, and the trail's queries (by entity, actor and
time) still reading indexes, pruned to the months they ask for.

Each test module works on a database of its own (archiving drops partitions)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from learnhub.db import migrations
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.partitions import (
    ensure_partitions,
    month_start,
    next_month,
    partitions,
    truncate_guard,
)
from learnhub.db.session import LearnHubSession
from learnhub.db.uow import UnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.domain.enums import AuditAction
from learnhub.models import AuditLog
from learnhub.ops.audit_archive import ArchiveError, archive_before, read_archives
from learnhub.repositories.audit import AuditLogRepository
from learnhub.repositories.filters import CursorPagination, Eq, LessThan, Range
from learnhub.services.audit import AuditService
from learnhub.services.user import RoleService, UserService
from learnhub.workers.audit_watch import audit_watch_loop
from tests.integration.helpers import unique_email
from tests.support.databases import postgres_database

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
async def history_engine() -> AsyncIterator[AsyncEngine]:
    async with postgres_database("learnhub_partitions") as url:
        await migrations.upgrade(url)
        engine = create_engine(url)
        try:
            async with UnitOfWork(create_session_factory(engine)) as uow:
                await RoleService(uow).ensure_builtin_roles()
                await uow.commit()
            yield engine
        finally:
            await engine.dispose()


async def names(engine: AsyncEngine, table: str) -> list[str]:
    async with engine.connect() as connection:
        return [p.name for p in await partitions(connection, table)]


async def register(engine: AsyncEngine) -> uuid.UUID:
    async with UnitOfWork(create_session_factory(engine)) as uow:
        user = await UserService(uow).register(unique_email(), "correct horse battery", "Ada")
        await uow.commit()
        return user.id


async def test_both_history_tables_are_partitioned_by_month_with_a_default(history_engine):
    this_month = month_start(utc_now())
    for table in ("audit_log", "user_activity"):
        found = await names(history_engine, table)
        # The table the migration found is the first partition; the default catches the rest.
        assert found[0] == f"{table}_legacy" and found[-1] == f"{table}_default"
        async with history_engine.connect() as connection:
            ranges = [p for p in await partitions(connection, table) if not p.is_default]
        assert ranges[0].lower <= this_month < ranges[0].upper
        # Contiguous months, the current one and three after it covered.
        for earlier, later in itertools.pairwise(ranges):
            assert earlier.upper == later.lower
        horizon = this_month
        for _ in range(4):
            horizon = next_month(horizon)
        assert ranges[-1].upper >= horizon


async def refused(engine: AsyncEngine, statement: str) -> str:
    async with engine.connect() as connection:
        with pytest.raises(DBAPIError) as caught:
            await connection.execute(text(statement))
        await connection.rollback()
    return str(caught.value)


def entry(occurred_at: datetime, entity_type: str = "course") -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "occurred_at": occurred_at,
        "transaction_id": uuid.uuid4(),
        "entity_type": entity_type,
        "entity_id": uuid.uuid4(),
        "action": AuditAction.CREATE,
        "changes": {},
    }


async def test_every_audit_partition_refuses_update_delete_and_truncate(history_engine):
    now = utc_now()
    far_ahead = await ensure_partitions(history_engine, now + timedelta(days=200))
    assert far_ahead.created and not far_ahead.blocked
    async with history_engine.connect() as connection:
        found = {p.name: p for p in await partitions(connection, "audit_log")}
    made_by_maintenance = found[[n for n in far_ahead.created if n.startswith("audit_log")][-1]]
    made_by_migration = found[(await names(history_engine, "audit_log"))[1]]
    # A month the maintenance attached got the parent's key and indexes, as the others.
    async with history_engine.connect() as connection:
        for made in (made_by_migration, made_by_maintenance):
            definitions = await connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE tablename = :t"), {"t": made.name}
            )
            columns = sorted(d.split(" USING btree ")[1] for d in definitions.scalars())
            assert columns == sorted(
                [
                    "(id, occurred_at)",
                    "(entity_type, entity_id, occurred_at)",
                    "(actor_id, occurred_at)",
                    "(occurred_at)",
                    "(transaction_id)",
                    "(request_id, occurred_at)",
                ]
            ), made.name
    targets = {
        "audit_log_legacy": now,
        made_by_migration.name: made_by_migration.lower,
        made_by_maintenance.name: made_by_maintenance.lower,
        "audit_log_default": datetime(2100, 1, 1, tzinfo=UTC),  # no month holds it
    }
    async with history_engine.begin() as connection:  # appending is what the table is for
        await connection.execute(insert(AuditLog), [entry(at) for at in targets.values()])
        count = text("SELECT count(*) FROM audit_log")
        before = (await connection.execute(count)).scalar_one()
    for partition in targets:
        async with history_engine.connect() as connection:
            held = await connection.execute(text(f"SELECT count(*) FROM {partition}"))
            assert held.scalar_one() >= 1, partition
        for statement in (
            f"UPDATE {partition} SET entity_type = 'x'",
            f"DELETE FROM {partition}",
            f"TRUNCATE {partition}",
        ):
            assert "append-only" in await refused(history_engine, statement), statement
    async with history_engine.connect() as connection:
        assert (await connection.execute(count)).scalar_one() == before


async def test_maintenance_makes_each_month_once_and_reports_one_the_default_holds(
    history_engine,
):
    now = utc_now()
    assert (await ensure_partitions(history_engine, now)).created == []
    later = now + timedelta(days=130)
    created = (await ensure_partitions(history_engine, later)).created
    assert created  # the months up to `later` + 3
    assert (await ensure_partitions(history_engine, later)).created == []
    # A row of a month nobody made lands in the default partition, instead of failing...
    stray = month_start(later + timedelta(days=200)) + timedelta(days=3)
    async with history_engine.begin() as connection:
        await connection.execute(insert(AuditLog), [entry(stray, "stray")])
        where = await connection.execute(
            text("SELECT tableoid::regclass::text FROM audit_log WHERE entity_type = 'stray'")
        )
        assert where.scalar_one() == "audit_log_default"
    # ...and the maintenance says that month cannot be made, keeping the row where it is.
    result = await ensure_partitions(history_engine, stray)
    assert result.blocked == [f"audit_log_y{stray.year:04d}m{stray.month:02d}"]
    async with history_engine.connect() as connection:
        kept = await connection.execute(
            text("SELECT count(*) FROM audit_log WHERE entity_type = 'stray'")
        )
        assert kept.scalar_one() == 1


async def test_archive_detaches_old_months_to_files_that_verify_replays(
    history_engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A database whose history starts before the partitioned months: its January 2025 has
    a partition of its own. A user registered then, renamed now: the trail of one entity
    spans the archived month and the live table."""
    january = datetime(2025, 1, 1, tzinfo=UTC)
    async with history_engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE audit_log_y2025m01 PARTITION OF audit_log FOR VALUES"
                " FROM ('2025-01-01T00:00:00+00:00') TO ('2025-02-01T00:00:00+00:00')"
            )
        )
        await connection.execute(text(truncate_guard("audit_log_y2025m01")))
    monkeypatch.setattr("learnhub.db.audit.utc_now", lambda: january + timedelta(days=14))
    early = await register(history_engine)
    monkeypatch.undo()
    async with UnitOfWork(create_session_factory(history_engine)) as uow:
        await UserService(uow).update_profile(early, "Ada, renamed")
        await uow.commit()
    await register(history_engine)

    with pytest.raises(ArchiveError, match="future"):
        await archive_before(history_engine, utc_now() + timedelta(days=40), tmp_path, utc_now())
    done = await archive_before(history_engine, next_month(january), tmp_path, utc_now())
    assert [a.name for a in done] == ["audit_log_y2025m01"]
    assert done[0].rows >= 1 and done[0].path.exists()
    assert "audit_log_y2025m01" not in await names(history_engine, "audit_log")
    async with history_engine.connect() as connection:
        gone = await connection.execute(text("SELECT to_regclass('audit_log_y2025m01')"))
        assert gone.scalar_one() is None
    # Nothing older left: archiving again does nothing.
    assert await archive_before(history_engine, next_month(january), tmp_path, utc_now()) == []

    async def verify(archived: Any = ()) -> Any:
        async with UnitOfWork(create_session_factory(history_engine)) as uow:
            return await AuditService(uow).verify(archived)

    without = await verify()
    assert {gap.entity_id for gap in without.gaps} == {early}
    archived = read_archives([tmp_path])
    assert len(archived) == done[0].rows
    assert (await verify(archived)).gaps == []


def test_a_file_that_is_not_an_archive_is_refused(tmp_path: Path):
    import gzip

    bogus = tmp_path / "audit_log_y2025m01.jsonl.gz"
    with gzip.open(bogus, "wt") as out:
        out.write(json.dumps({"format": "something else"}) + "\n")
    with pytest.raises(ArchiveError, match="not a LearnHub audit archive"):
        read_archives([tmp_path])
    with pytest.raises(ArchiveError, match="no such"):
        read_archives([tmp_path / "missing"])


# --- Plans: the trail's reads on a partitioned table ----------------------------------------

ROWS = 40_000
ACTORS = 400
ENTITIES = 8_000


async def seed_trail(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, datetime]:
    """Bulk rows (test data, not audited writes) across the months that exist, ANALYZEd."""
    rng = random.Random(20261207)
    start = month_start(utc_now())
    actors = [uuid.uuid4() for _ in range(ACTORS)]
    entities = [uuid.uuid4() for _ in range(ENTITIES)]
    rows = [
        {
            "id": uuid.uuid4(),
            "occurred_at": start + timedelta(minutes=rng.randrange(0, 60 * 24 * 110)),
            "actor_id": rng.choice(actors),
            "transaction_id": uuid.uuid4(),
            "entity_type": "course",
            "entity_id": rng.choice(entities),
            "action": AuditAction.UPDATE,
            "changes": {"title": ["a", "b"]},
        }
        for _ in range(ROWS)
    ]
    async with engine.begin() as connection:
        for first in range(0, ROWS, 5000):
            await connection.execute(insert(AuditLog), rows[first : first + 5000])
        await connection.exec_driver_sql("ANALYZE audit_log")
    return actors[0], entities[0], start


class Capture:
    def __init__(self, connection: AsyncConnection) -> None:
        self.sync = connection.sync_connection
        self.issued: list[tuple[str, Any]] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.issued.append((statement, parameters))

    def __enter__(self) -> Capture:
        event.listen(self.sync, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.sync, "before_cursor_execute", self._record)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


async def plan_of(engine: AsyncEngine, read: Any) -> list[dict[str, Any]]:
    """The plan nodes of the one statement `read(repository)` issues."""
    async with engine.connect() as connection:
        session = AsyncSession(bind=connection, sync_session_class=LearnHubSession)
        with Capture(connection) as capture:
            await read(AuditLogRepository(session))
        await session.close()
        (statement, parameters), *_ = capture.issued
        result = await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        raw = result.scalar_one()
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return list(nodes(plan[0]["Plan"]))


def scanned(plan: list[dict[str, Any]], empty: set[str]) -> tuple[set[str], set[str]]:
    """(partitions read through an index, partitions holding rows read whole). The empty
    DEFAULT partition has no page to read: the planner rightly scans it, at no cost."""
    by_index = {
        n["Relation Name"] for n in plan if "Index" in n["Node Type"] and "Relation Name" in n
    }
    whole = {n["Relation Name"] for n in plan if n["Node Type"] == "Seq Scan"}
    return by_index, whole - empty


async def test_trail_reads_by_entity_actor_and_time_use_indexes_on_the_partitions(
    history_engine,
):
    actor, entity, start = await seed_trail(history_engine)
    page = CursorPagination(limit=50)

    by_entity = await plan_of(history_engine, lambda repo: repo.for_entity("course", entity))
    by_actor = await plan_of(
        history_engine, lambda repo: repo.search([Eq(AuditLog.actor_id, actor)], page)
    )
    month_after = next_month(start)
    window = [
        Range(AuditLog.occurred_at, minimum=month_after + timedelta(days=3)),
        LessThan(AuditLog.occurred_at, month_after + timedelta(days=10)),
    ]
    by_time = await plan_of(history_engine, lambda repo: repo.search(window, page))
    async with history_engine.connect() as connection:
        empty = set(
            (
                await connection.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c"
                        " ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_log'::regclass"
                        " AND c.relpages = 0"
                    )
                )
            ).scalars()
        )
    assert empty == {"audit_log_default"}  # every month of the seed holds rows

    for plan in (by_entity, by_actor, by_time):
        indexed, whole = scanned(plan, empty)
        assert indexed and whole == set(), json.dumps(plan, indent=1, default=str)
    # A window inside one month reads the one partition holding that month (pruned at
    # planning): the legacy partition's range spans the months around the migration.
    async with history_engine.connect() as connection:
        (holding,) = [
            p.name
            for p in await partitions(connection, "audit_log")
            if not p.is_default and p.lower <= month_after + timedelta(days=3) < p.upper
        ]
    indexed, _ = scanned(by_time, empty)
    assert indexed == {holding}


async def test_the_audit_watcher_makes_the_months_ahead_without_anyone_asking(history_engine):
    """`learnhub serve` runs the audit watch next to the API: each round makes the months
    that are missing (here the newest one, dropped), so no month waits for an operator."""
    newest = [n for n in await names(history_engine, "audit_log") if "_y" in n][-1]
    async with history_engine.begin() as connection:
        await connection.execute(text(f"DROP TABLE {newest}"))
    stop = asyncio.Event()
    task = asyncio.create_task(audit_watch_loop(history_engine, 3600, stop))
    try:
        for _ in range(500):
            if newest in await names(history_engine, "audit_log") or task.done():
                break
            await asyncio.sleep(0.02)
        assert newest in await names(history_engine, "audit_log")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    # The month it made is guarded like the others.
    assert "append-only" in await refused(history_engine, f"TRUNCATE {newest}")


def test_the_audit_commands_archive_and_verify_with_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`learnhub audit partitions | archive | verify --archive` as an operator runs them."""
    from typer.testing import CliRunner

    from learnhub.cli.app import app
    from learnhub.config import get_settings

    with asyncio.Runner() as runner:
        database = postgres_database("learnhub_partitions_cli")
        url = runner.run(database.__aenter__())
        try:

            async def prepare() -> None:
                await migrations.upgrade(url)
                engine = create_engine(url)
                try:
                    async with UnitOfWork(create_session_factory(engine)) as uow:
                        await RoleService(uow).ensure_builtin_roles()
                        await uow.commit()
                    async with engine.begin() as connection:
                        await connection.execute(
                            text(
                                "CREATE TABLE audit_log_y2025m01 PARTITION OF audit_log FOR"
                                " VALUES FROM ('2025-01-01T00:00:00+00:00')"
                                " TO ('2025-02-01T00:00:00+00:00')"
                            )
                        )
                    with monkeypatch.context() as patched:
                        patched.setattr(
                            "learnhub.db.audit.utc_now", lambda: datetime(2025, 1, 20, tzinfo=UTC)
                        )
                        await register(engine)
                finally:
                    await engine.dispose()

            runner.run(prepare())
            monkeypatch.setenv("LEARNHUB_DATABASE_URL", url)
            get_settings.cache_clear()
            cli = CliRunner()

            def run(*args: str) -> Any:
                return cli.invoke(app, ["audit", *args])

            made = run("partitions")
            # Nothing missing: the migration made the months ahead.
            assert made.exit_code == 0 and "nothing" in made.stdout, made.output
            future = run("archive", "--before", "2999-01-01", "--to", str(tmp_path))
            assert future.exit_code == 2 and "future" in future.stdout
            archived = run("archive", "--before", "2025-02-01", "--to", str(tmp_path))
            assert archived.exit_code == 0, archived.output
            assert "audit_log_y2025m01" in archived.stdout
            assert "1 partitions archived" in archived.stdout
            alone = run("verify")
            assert alone.exit_code == 1 and "1 gaps" in alone.stdout  # its create is archived
            both = run("verify", "--archive", str(tmp_path))
            assert both.exit_code == 0 and "0 gaps" in both.stdout, both.output
            missing = run("verify", "--archive", str(tmp_path / "elsewhere"))
            assert missing.exit_code == 2
        finally:
            get_settings.cache_clear()
            runner.run(database.__aexit__(None, None, None))
