"""Alembic, driven from code: upgrade, downgrade, current revision and drift/validity checks."""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from learnhub.db.engine import create_engine, is_sqlite
from learnhub.db.errors import DbError, caused_by
from learnhub.db.partitions import is_partition

log = structlog.get_logger("learnhub.migrations")


@dataclass(frozen=True, slots=True)
class MigrationTimeouts:
    """How long a PostgreSQL migration may wait for a lock and run one statement, and how
    often a revision that gave up waiting for a lock is tried again.

    A revision that ALTERs a table needs an exclusive lock on it; waiting for that lock
    behind a long transaction also makes every later writer of the table queue behind the
    migration. With a lock_timeout the revision gives up instead (its transaction rolls back,
    releasing what it held), waits `backoff_seconds * attempt`, and tries again, `retries`
    times, then fails with `MigrationLockTimeout`. CREATE INDEX CONCURRENTLY revisions lift
    the statement_timeout themselves (a build takes as long as the table needs)."""

    lock_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 60.0
    retries: int = 3
    backoff_seconds: float = 1.0

    @classmethod
    def from_settings(cls) -> MigrationTimeouts:
        from learnhub.config import get_settings

        s = get_settings()
        return cls(
            lock_timeout_seconds=s.migration_lock_timeout_seconds,
            statement_timeout_seconds=s.migration_statement_timeout_seconds,
            retries=s.migration_lock_retries,
            backoff_seconds=s.migration_retry_backoff_seconds,
        )

    def server_settings(self) -> dict[str, str]:
        """Session defaults for the migration connection (0 means no limit)."""
        return {
            "lock_timeout": f"{round(self.lock_timeout_seconds * 1000)}ms",
            "statement_timeout": f"{round(self.statement_timeout_seconds * 1000)}ms",
        }


class MigrationLockTimeout(RuntimeError):
    """A revision could not take its locks within the lock timeout, on every attempt."""


def migrations_dir() -> Path:
    packaged = Path(__file__).resolve().parent.parent / "migrations"  # installed wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"  # source checkout


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def _run(url: str, fn: Any, timeouts: MigrationTimeouts | None = None) -> Any:
    settings = timeouts.server_settings() if timeouts else None
    engine = create_engine(url, server_settings=settings)
    try:
        async with engine.connect() as connection:
            result = await connection.run_sync(fn)
            await connection.commit()
            return result
    finally:
        await engine.dispose()


def _with_connection(url: str, action: Any) -> Any:
    def run(connection: Connection) -> Any:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        return action(config)

    return run


async def _migrate(url: str, action: Any, target: str, timeouts: MigrationTimeouts | None) -> None:
    """Run an upgrade or downgrade; on PostgreSQL under `timeouts` (the settings' by default),
    retrying a revision that hit its lock timeout. Each revision is its own transaction, so
    the revisions before the one that gave up stay applied and a retry resumes there."""
    if is_sqlite(url):
        await _run(url, _with_connection(url, action))
        return
    timeouts = timeouts or MigrationTimeouts.from_settings()
    attempt = 0
    while True:
        attempt += 1
        try:
            await _run(url, _with_connection(url, action), timeouts)
            return
        except Exception as exc:
            if not caused_by(exc, DbError.LOCK_TIMEOUT):
                raise
            at = await current(url)
            if attempt > timeouts.retries:
                raise MigrationLockTimeout(
                    f"migrating to {target} stopped at revision {at or 'base'}: the next "
                    f"revision could not take its locks within the lock timeout of "
                    f"{timeouts.lock_timeout_seconds:g} s in {attempt} attempts. A "
                    "long-running transaction holds a conflicting lock (see pg_stat_activity"
                    " for old xact_start); let it finish or end it, then run the upgrade again."
                ) from exc
            pause = timeouts.backoff_seconds * attempt
            log.warning(
                "migration_lock_timeout_retry",
                at_revision=at,
                target=target,
                attempt=attempt,
                retry_in_seconds=pause,
            )
            await asyncio.sleep(pause)


async def upgrade(
    url: str, revision: str = "head", *, timeouts: MigrationTimeouts | None = None
) -> None:
    await _migrate(url, lambda c: command.upgrade(c, revision), revision, timeouts)


async def downgrade(url: str, revision: str, *, timeouts: MigrationTimeouts | None = None) -> None:
    await _migrate(url, lambda c: command.downgrade(c, revision), revision, timeouts)


async def current(url: str) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    return await _run(url, read)  # type: ignore[no-any-return]


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def drift(connection: Connection) -> list[Any]:
    """Differences between the models and the migrated schema (empty when in step)."""
    from learnhub.models import Base

    dialect = connection.dialect.name
    by_name_only = {
        index.name: table.name
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if index.info.get("compare_by_name_only") and _exists_on(index, dialect)
    }

    def compared(obj: Any, name: Any, type_: str, _reflected: bool, _other: Any) -> bool:
        if type_ == "index" and name in by_name_only:
            return False  # checked by name below
        if _maintained_by_database(obj, name, type_):
            return False
        return _exists_on(obj, dialect)

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": compared}
    )
    with warnings.catch_warnings():
        # Expression indexes are compared by name below; Alembic's notice is expected.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        # A NOT VALID CHECK (revision 0019's step 1, left by an unfinished run, which
        # `unfinished_partitioning` reports) reflects with options SQLAlchemy cannot place.
        warnings.filterwarnings("ignore", message=".*argument 'dialect_options'")
        diffs: list[Any] = list(compare_metadata(context, Base.metadata))
    inspector = inspect(connection)
    for name, table in sorted(by_name_only.items()):
        if name not in {ix["name"] for ix in inspector.get_indexes(table)}:
            diffs.append(("missing_index", table, name))
    return diffs + _missing_search_index(connection)


# The catalog's search index (revision 0013) is kept by the database, not mapped by the
# models: PostgreSQL's generated column courses.search_document with its GIN index, SQLite's
# FTS5 table courses_fts with its shadow tables (courses_fts_data, _idx, _content, ...).
# Drift checks only that they exist.
SEARCH_FTS_INDEX = "ix_courses_search_fts"
SEARCH_FTS_TABLE = "courses_fts"


def _maintained_by_database(obj: Any, name: Any, type_: str) -> bool:
    # The monthly partitions of the history tables (revision 0019) are made by maintenance,
    # not mapped: the models describe their parents.
    if type_ == "table" and is_partition(str(name)):
        return True
    if type_ == "index" and is_partition(str(getattr(obj.table, "name", ""))):
        return True
    if type_ == "table":
        return str(name) == SEARCH_FTS_TABLE or str(name).startswith(SEARCH_FTS_TABLE + "_")
    if type_ == "column":
        return str(name) == "search_document" and getattr(obj.table, "name", None) == "courses"
    return type_ == "index" and str(name) == SEARCH_FTS_INDEX


def _missing_search_index(connection: Connection) -> list[Any]:
    inspector = inspect(connection)
    if connection.dialect.name == "postgresql":
        if SEARCH_FTS_INDEX in {ix["name"] for ix in inspector.get_indexes("courses")}:
            return []
        return [("missing_index", "courses", SEARCH_FTS_INDEX)]
    if SEARCH_FTS_TABLE in inspector.get_table_names():
        return []
    return [("missing_table", SEARCH_FTS_TABLE)]


def _exists_on(obj: Any, dialect: str) -> bool:
    # Objects declared `.ddl_if(dialect=...)` (PostgreSQL trigram indexes) exist only there;
    # elsewhere their absence is by design, not drift.
    condition = getattr(obj, "_ddl_if", None)
    return condition is None or condition.dialect in (None, dialect)


def invalid_indexes(connection: Connection) -> list[str]:
    """PostgreSQL: indexes left INVALID by a failed CREATE INDEX CONCURRENTLY (pitfall 7)."""
    if connection.dialect.name != "postgresql":
        return []
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT i.indisvalid AND n.nspname = current_schema() ORDER BY 1"
        )
    )
    return [r[0] for r in rows]


def unfinished_partitioning(connection: Connection) -> list[str]:
    """PostgreSQL: tables that revision 0019 prepared (a CHECK on their range added) but did
    not swap, because it failed and was not run again. That CHECK refuses rows from the end
    of its range on: rerun the upgrade (it resumes) before then."""
    if connection.dialect.name != "postgresql":
        return []
    rows = connection.execute(
        text(
            "SELECT conrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'c' AND conname LIKE 'ck\\_%\\_legacy\\_range' ORDER BY 1"
        )
    )
    return list(rows.scalars().all())


async def check(url: str) -> dict[str, Any]:
    def inspect_db(connection: Connection) -> dict[str, Any]:
        return {
            "current": MigrationContext.configure(connection).get_current_revision(),
            "head": head_revision(),
            "drift": [repr(d) for d in drift(connection)],
            "invalid_indexes": invalid_indexes(connection),
            "unfinished_partitioning": unfinished_partitioning(connection),
        }

    return await _run(url, inspect_db)  # type: ignore[no-any-return]


def run_sync(coro: Any) -> Any:
    return asyncio.run(coro)
