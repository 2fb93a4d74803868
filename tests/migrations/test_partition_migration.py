"""Revision 0019 on a populated database (issue 19, item 3): the audit trail and the activity
log become partitioned while a writer keeps appending to the trail, and nothing is copied,
lost or refused. The lock durations it measures are figures for docs/reliability.md
(`python -m reliability.partition_migration`), not assertions here."""

from __future__ import annotations

import pytest
from reliability.partition_migration import measure
from sqlalchemy import text

from learnhub.db import migrations
from learnhub.db.engine import create_engine
from tests.support.databases import postgres_database

pytestmark = pytest.mark.postgres_only


async def test_partitioning_a_populated_trail_copies_nothing_and_loses_no_write():
    async with postgres_database("learnhub_partition_migration") as url:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        report = await measure(dsn, url, audit_rows=20_000, activity_rows=5_000)
        # The old table is the first partition, its file untouched: the rows were not copied.
        assert report.legacy_kept_its_file
        # Every row that was there, and every entry the writer appended meanwhile, is there.
        assert report.writer_errors == []
        assert report.writer_inserts > 0
        assert report.rows_after == report.rows_before + report.writer_inserts
        # The monitor saw the swap's exclusive lock on the live table (it measured something).
        assert report.longest_live_lock_relation in {"audit_log", "user_activity", "users"}
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                assert await connection.run_sync(migrations.drift) == []
        finally:
            await engine.dispose()
        assert await migrations.current(url) == migrations.head_revision()


async def test_db_check_reports_a_partitioning_begun_and_not_finished_and_a_rerun_finishes_it():
    """Step 1 of revision 0019 commits a CHECK on the live table's range before the swap;
    should the swap fail for good, `db check` says so (the CHECK would refuse rows once its
    range ends), and upgrading again resumes."""
    async with postgres_database("learnhub_partition_unfinished") as url:
        await migrations.upgrade(url, "0018_audit_request_index")
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "ALTER TABLE audit_log ADD CONSTRAINT ck_audit_log_legacy_range"
                        " CHECK (occurred_at < '2030-01-01T00:00:00+00:00') NOT VALID"
                    )
                )
        finally:
            await engine.dispose()
        assert (await migrations.check(url))["unfinished_partitioning"] == ["audit_log"]
        await migrations.upgrade(url)
        report = await migrations.check(url)
        assert report["unfinished_partitioning"] == [] and report["drift"] == []
        assert report["current"] == report["head"]
