"""Migrations: the only source of the schema. They never drift from the models, run both ways
on both databases, and `db check` catches what a failed concurrent build leaves behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, text

from learnhub.db import migrations
from learnhub.db.engine import create_engine
from tests.support.databases import database


@pytest.fixture
async def fresh_url(backend: str, tmp_dir: Path):
    async with database(backend, tmp_dir, prefix="learnhub_migr") as url:
        yield url


async def run(url: str, fn):
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


async def test_models_and_migrations_do_not_drift(fresh_url):
    await migrations.upgrade(fresh_url)
    diffs = await run(fresh_url, migrations.drift)
    assert diffs == []


async def test_upgrade_downgrade_to_base_and_upgrade_again(fresh_url):
    await migrations.upgrade(fresh_url)
    assert await migrations.current(fresh_url) == migrations.head_revision()
    assert {"users", "roles", "permissions", "audit_log", "outbox"} <= await run(
        fresh_url, table_names
    )
    await migrations.downgrade(fresh_url, "base")
    assert await migrations.current(fresh_url) is None
    assert await run(fresh_url, table_names) == set()
    await migrations.upgrade(fresh_url)
    assert await migrations.current(fresh_url) == migrations.head_revision()
    assert await run(fresh_url, migrations.drift) == []


async def test_every_foreign_key_is_indexed(db_url):
    def unindexed(conn: Connection) -> list[str]:
        inspector = inspect(conn)
        missing = []
        for table in inspector.get_table_names():
            indexed = [tuple(ix["column_names"]) for ix in inspector.get_indexes(table)]
            pk = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
            indexed.append(pk)
            indexed += [tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)]
            for fk in inspector.get_foreign_keys(table):
                cols = tuple(fk["constrained_columns"])
                if not any(ix[: len(cols)] == cols for ix in indexed):
                    missing.append(f"{table}{cols}")
        return missing

    assert await run(db_url, unindexed) == []


async def test_seed_indexes_exist(db_url):
    def indexes(conn: Connection) -> dict[str, list[str | None]]:
        return {ix["name"]: ix["column_names"] for ix in inspect(conn).get_indexes("users")}

    found = await run(db_url, indexes)
    assert found["ix_users_email_status"] == ["email", "status"]
    assert "ix_users_created_at_desc" in found
    assert "uq_users_email_live" in found


@pytest.mark.postgres_only
async def test_db_check_reports_invalid_index_left_by_failed_concurrent_build(fresh_url):
    await migrations.upgrade(fresh_url)
    engine = create_engine(fresh_url)
    try:
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("CREATE TABLE dup (v int)"))
            await auto.execute(text("INSERT INTO dup VALUES (1), (1)"))
            with pytest.raises(Exception, match="could not create unique index"):
                await auto.execute(text("CREATE UNIQUE INDEX CONCURRENTLY ix_dup_v ON dup (v)"))
    finally:
        await engine.dispose()
    report = await migrations.check(fresh_url)
    assert report["invalid_indexes"] == ["ix_dup_v"]
    assert report["current"] == report["head"]


@pytest.mark.postgres_only
async def test_a_concurrent_index_build_waits_no_longer_than_its_lock_timeout_and_heals(
    fresh_url,
):
    """Pitfall 7 on a real revision (0008): CREATE INDEX CONCURRENTLY runs outside a
    transaction (inside one PostgreSQL refuses it), gives up after its lock_timeout instead of
    queueing behind a long transaction, and a rerun replaces what a failed build left."""
    await migrations.upgrade(fresh_url, "0007_event_handlers")
    engine = create_engine(fresh_url)
    try:
        async with engine.connect() as holder:
            await holder.execute(text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            with pytest.raises(Exception, match="lock timeout"):
                # One attempt: the retries are tested in test_migration_timeouts.py.
                await migrations.upgrade(
                    fresh_url,
                    "0008_outbox_unhandled_index",
                    timeouts=migrations.MigrationTimeouts(retries=0),
                )
            assert time.monotonic() - started < 30
            await holder.rollback()
        assert await migrations.current(fresh_url) == "0007_event_handlers"
        # A failed concurrent build of the same name leaves an INVALID index behind.
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(
                text(
                    "INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id,"
                    " payload, occurred_at) VALUES"
                    " (gen_random_uuid(), 'Same', 'a', gen_random_uuid(), '{}', now()),"
                    " (gen_random_uuid(), 'Same', 'a', gen_random_uuid(), '{}', now())"
                )
            )
            with pytest.raises(Exception, match="could not create unique index"):
                await auto.execute(
                    text(
                        "CREATE UNIQUE INDEX CONCURRENTLY ix_outbox_unhandled"
                        " ON outbox (event_type)"
                    )
                )
        assert (await migrations.check(fresh_url))["invalid_indexes"] == ["ix_outbox_unhandled"]
        await migrations.upgrade(fresh_url)
        async with engine.connect() as conn:
            valid, definition = (
                await conn.execute(
                    text(
                        "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                        " WHERE i.indexrelid = 'ix_outbox_unhandled'::regclass"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    assert valid and definition.endswith('("position") WHERE (handled_at IS NULL)')
    report = await migrations.check(fresh_url)
    assert report["invalid_indexes"] == [] and report["current"] == report["head"]


async def test_migration_files_are_dated_and_self_contained():
    versions = migrations.migrations_dir() / "versions"
    files = sorted(p.name for p in versions.glob("*.py"))
    assert files, "no migrations"
    for name in files:
        assert name[:16].replace("_", "").replace("-", "")[:12].isdigit(), name
        source = (versions / name).read_text()
        # A migration must not import the app's models: it would change when they change.
        assert "from learnhub" not in source and "import learnhub" not in source, name
