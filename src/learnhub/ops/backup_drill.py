"""The backup-and-restore drill: back the database up, restore it into a fresh database,
and prove the copy whole: every table's row count equals the source's at the moment of the
backup, the schema is at head with no invalid index, and the audit trail explains every row.

PostgreSQL: `pg_dump -Fc` of an exported snapshot, so the counts are taken in the very
snapshot the dump reads, exact while the service keeps writing; `pg_restore` into a new
database on the same server, dropped afterwards. SQLite: the online backup API into a new
file. An operations procedure like the CLI, so it sits above the services it uses.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from learnhub.db import migrations
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.services.audit import AuditService


class DrillError(Exception):
    """The drill could not run (a tool missing, a backup or restore that failed)."""


@dataclass
class DrillReport:
    source_counts: dict[str, int] = field(default_factory=dict)
    restored_counts: dict[str, int] = field(default_factory=dict)
    backup_bytes: int = 0
    backup_seconds: float = 0.0
    restore_seconds: float = 0.0
    revision: str | None = None
    head: str | None = None
    invalid_indexes: list[str] = field(default_factory=list)
    audit_rows_checked: int = 0
    audit_gaps: int = 0

    @property
    def mismatched_tables(self) -> list[str]:
        names = set(self.source_counts) | set(self.restored_counts)
        return sorted(n for n in names if self.source_counts.get(n) != self.restored_counts.get(n))

    @property
    def ok(self) -> bool:
        return (
            bool(self.source_counts)
            and not self.mismatched_tables
            and self.revision == self.head
            and not self.invalid_indexes
            and self.audit_gaps == 0
        )


async def run_drill(url: str, keep: bool = False) -> DrillReport:
    report = DrillReport()
    with tempfile.TemporaryDirectory(prefix="learnhub-drill-") as work:
        backup = Path(work) / "backup"
        if make_url(url).get_backend_name() == "postgresql":
            restored = _postgres_drill(url, backup, report, keep)
        else:
            restored = _sqlite_drill(url, backup, report, keep)
        async with restored as restored_url:
            report.restored_counts = await _counts(restored_url)
            state = await migrations.check(restored_url)
            report.revision, report.head = state["current"], state["head"]
            report.invalid_indexes = list(state["invalid_indexes"])
            engine = create_engine(restored_url)
            try:
                async with UnitOfWork(create_session_factory(engine)) as uow:
                    audit = await AuditService(uow).verify()
            finally:
                await engine.dispose()
            report.audit_rows_checked, report.audit_gaps = audit.rows_checked, len(audit.gaps)
    return report


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string, for pg_dump / pg_restore / asyncpg."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DrillError(f"{name} is not installed (the PostgreSQL client tools)")
    return found


async def _run_tool(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise DrillError(f"{Path(args[0]).name} failed: {stderr.decode(errors='replace')[-2000:]}")


@asynccontextmanager
async def _postgres_drill(
    url: str, backup: Path, report: DrillReport, keep: bool
) -> AsyncIterator[str]:
    source = _libpq(url)
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    holder = await asyncpg.connect(source)
    try:
        # The dump and the counts read one snapshot, held open by this transaction.
        await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = await holder.fetchval("SELECT pg_export_snapshot()")
        started = time.perf_counter()
        await _run_tool(pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(backup), source)
        report.backup_seconds = time.perf_counter() - started
        report.source_counts = await _postgres_counts(holder)
        await holder.execute("ROLLBACK")
    finally:
        await holder.close()
    report.backup_bytes = await asyncio.to_thread(lambda: backup.stat().st_size)
    target_name = f"{make_url(url).database}_drill_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_libpq(str(make_url(url).set(database="postgres"))))
    try:
        await admin.execute(f'CREATE DATABASE "{target_name}"')
    finally:
        await admin.close()
    target = make_url(url).set(database=target_name)
    try:
        started = time.perf_counter()
        await _run_tool(
            pg_restore, "--no-owner", "--exit-on-error", "-d", _libpq(str(target)), str(backup)
        )
        report.restore_seconds = time.perf_counter() - started
        yield target.render_as_string(hide_password=False)
    finally:
        if not keep:
            admin = await asyncpg.connect(_libpq(str(make_url(url).set(database="postgres"))))
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
            finally:
                await admin.close()


async def _postgres_counts(connection: asyncpg.Connection) -> dict[str, int]:
    tables = await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    counts = {}
    for row in tables:
        name = row["tablename"]
        counts[name] = int(await connection.fetchval(f'SELECT count(*) FROM public."{name}"'))
    return counts


@asynccontextmanager
async def _sqlite_drill(
    url: str, backup: Path, report: DrillReport, keep: bool
) -> AsyncIterator[str]:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DrillError("the SQLite drill needs a database file")
    restored = await asyncio.to_thread(_sqlite_backup_and_restore, Path(database), backup, report)
    try:
        yield str(make_url(url).set(database=str(restored)))
    finally:
        if not keep:
            await asyncio.to_thread(_remove_sqlite_files, restored)


def _sqlite_backup_and_restore(database: Path, backup: Path, report: DrillReport) -> Path:
    started = time.perf_counter()
    source = sqlite3.connect(database)
    try:
        # The online backup copies one consistent state; count that state, in the same read
        # transaction, before anything else can commit.
        source.execute("BEGIN")
        report.source_counts = _sqlite_counts(source)
        target = sqlite3.connect(backup)
        try:
            source.backup(target)
        finally:
            target.close()
        source.execute("COMMIT")
    finally:
        source.close()
    report.backup_seconds = time.perf_counter() - started
    report.backup_bytes = backup.stat().st_size
    restored = database.with_name(f"{database.stem}-drill-{uuid.uuid4().hex[:8]}.db")
    started = time.perf_counter()
    shutil.copyfile(backup, restored)
    report.restore_seconds = time.perf_counter() - started
    return restored


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: int(connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}


async def _counts(url: str) -> dict[str, int]:
    if make_url(url).get_backend_name() == "postgresql":
        connection = await asyncpg.connect(_libpq(url))
        try:
            return await _postgres_counts(connection)
        finally:
            await connection.close()
    database = make_url(url).database
    assert database is not None
    connection = sqlite3.connect(database)
    try:
        return _sqlite_counts(connection)
    finally:
        connection.close()
