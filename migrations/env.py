"""Alembic environment: runs on the connection the caller hands over (learnhub.db.migrations),
or opens its own from `sqlalchemy.url` when Alembic's own CLI is used."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import Connection

from learnhub.db.engine import create_engine, is_sqlite
from learnhub.db.migrations import MigrationTimeouts
from learnhub.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=sqlite,  # pitfall 8: ALTER via batch
        transaction_per_migration=True,
    )
    if not sqlite:
        with context.begin_transaction():
            context.run_migrations()
        return
    # A batch ALTER on SQLite recreates the table (copy, drop, rename); with foreign keys
    # enforced, dropping a table other rows reference fails. SQLite's documented procedure:
    # foreign keys off outside any transaction, then check them all before turning them on.
    if connection.in_transaction():
        connection.commit()
    _sqlite_pragma(connection, "foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            connection.commit()
        broken = _sqlite_pragma(connection, "foreign_key_check")
        if broken:
            raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    finally:
        _sqlite_pragma(connection, "foreign_keys=ON")


def _sqlite_pragma(connection: Connection, pragma: str) -> list[Any]:
    # On the driver connection: through SQLAlchemy it would open a transaction first, inside
    # which SQLite ignores `foreign_keys`.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA {pragma}")
        return list(cursor.fetchall())
    finally:
        cursor.close()


async def run_async() -> None:
    # Alembic's own CLI: the same lock and statement timeouts as `learnhub db upgrade` (which
    # opens the connection itself, see learnhub.db.migrations), without the retries.
    url = config.get_main_option("sqlalchemy.url") or ""
    timeouts = None if is_sqlite(url) else MigrationTimeouts.from_settings().server_settings()
    engine = create_engine(url, server_settings=timeouts)
    async with engine.connect() as connection:
        await connection.run_sync(run_on)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported; run against a database")

connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_async())
