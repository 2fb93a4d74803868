"""Alembic, driven from code: upgrade, downgrade, current revision and drift/validity checks."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from learnhub.db.engine import create_engine


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


async def _run(url: str, fn: Any) -> Any:
    engine = create_engine(url)
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


async def upgrade(url: str, revision: str = "head") -> None:
    await _run(url, _with_connection(url, lambda c: command.upgrade(c, revision)))


async def downgrade(url: str, revision: str) -> None:
    await _run(url, _with_connection(url, lambda c: command.downgrade(c, revision)))


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
        return _exists_on(obj, dialect)

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": compared}
    )
    with warnings.catch_warnings():
        # Expression indexes are compared by name below; Alembic's notice is expected.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        diffs: list[Any] = list(compare_metadata(context, Base.metadata))
    inspector = inspect(connection)
    for name, table in sorted(by_name_only.items()):
        if name not in {ix["name"] for ix in inspector.get_indexes(table)}:
            diffs.append(("missing_index", table, name))
    return diffs


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


async def check(url: str) -> dict[str, Any]:
    def inspect_db(connection: Connection) -> dict[str, Any]:
        return {
            "current": MigrationContext.configure(connection).get_current_revision(),
            "head": head_revision(),
            "drift": [repr(d) for d in drift(connection)],
            "invalid_indexes": invalid_indexes(connection),
        }

    return await _run(url, inspect_db)  # type: ignore[no-any-return]


def run_sync(coro: Any) -> Any:
    return asyncio.run(coro)
