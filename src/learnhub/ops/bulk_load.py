"""Writing generated rows in bulk, per dialect: binary COPY on PostgreSQL (asyncpg), multi-row
executemany on SQLite. Used by `learnhub seed`; rows arrive as plain tuples in the column order
the caller names, with ids as canonical UUID strings and timestamps as aware datetimes.

Everything happens on one connection inside one transaction that the caller commits, so a
failed load leaves nothing behind. On an empty database the caller may drop the seeded tables'
secondary indexes for the load and build them again at the end (`drop_secondary_indexes` /
`create_indexes`), which is much faster than maintaining them row by row."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import JSON, Table, Uuid, text
from sqlalchemy.ext.asyncio import AsyncConnection

from learnhub.db.soft_delete import including_deleted, live
from learnhub.models import Base

Row = tuple[Any, ...]


def _sqlite_converter(table: Table, column: str, dialect: Any) -> Callable[[Any], Any] | None:
    """The value as SQLAlchemy would bind it on SQLite, so seeded rows read back like ORM ones.
    Ids arrive as canonical strings (stored as 32 hex digits); JSON arrives serialised."""
    type_ = table.c[column].type
    if isinstance(type_, Uuid):
        return lambda v: (
            None if v is None else (v.hex if isinstance(v, uuid.UUID) else v.replace("-", ""))
        )
    if isinstance(type_, JSON):
        return None
    processor = type_.bind_processor(dialect)
    return cast(Callable[[Any], Any] | None, processor)


class BulkLoader:
    """Bulk writes on one open connection (the caller owns its transaction)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self._raw: Any = None
        self._sql: dict[tuple[str, tuple[str, ...]], tuple[str, list[Any]]] = {}

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    async def start(self) -> None:
        """Begin the load's transaction (and session settings that make it faster)."""
        if self.is_postgresql:
            # One transaction holds the whole load, so only its single commit waits for the
            # WAL flush; asynchronous commit costs nothing here and helps nothing else.
            await self.connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            await self.connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            raw = await self.connection.get_raw_connection()
            self._raw = raw.driver_connection
        else:
            await self.connection.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: the writer lock

    async def count_rows(self, tables: Iterable[str]) -> dict[str, bool]:
        """Which of `tables` hold any row at all (deleted ones included)."""
        found = {}
        for name in tables:
            result = await self.connection.execute(
                including_deleted(text(f"SELECT 1 FROM {name} LIMIT 1"))
            )
            found[name] = result.first() is not None
        return found

    async def ids_by_name(self, table: str, names: Sequence[str]) -> dict[str, str]:
        """Live rows of a `name`-keyed vocabulary table (roles, tags): name -> id string."""
        model = Base.metadata.tables[table]
        result = await self.connection.execute(
            model.select()
            .with_only_columns(model.c.name, model.c.id)
            .where(model.c.name.in_(list(names)), live(model))
        )
        return {name: str(id_) for name, id_ in result.all()}

    async def write(self, table: str, columns: tuple[str, ...], rows: list[Row]) -> None:
        if not rows:
            return
        if self.is_postgresql:
            await self._raw.copy_records_to_table(table, records=rows, columns=columns)
            return
        sql, converters = self._sqlite_statement(table, columns)
        if any(converters):
            rows = [
                tuple(v if f is None else f(v) for f, v in zip(converters, row, strict=True))
                for row in rows
            ]
        await self.connection.exec_driver_sql(sql, rows)

    def _sqlite_statement(self, table: str, columns: tuple[str, ...]) -> tuple[str, list[Any]]:
        key = (table, columns)
        if key not in self._sql:
            model = Base.metadata.tables[table]
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            dialect = self.connection.dialect
            self._sql[key] = (sql, [_sqlite_converter(model, c, dialect) for c in columns])
        return self._sql[key]

    async def drop_secondary_indexes(self, tables: Sequence[str]) -> list[str]:
        """PostgreSQL: drop the primary keys and indexes of `tables` and every foreign key from
        or to them, and return the statements that put them back, in order (keys, indexes,
        then foreign keys, each validated over the loaded rows by one join instead of a lookup
        per row). A load then appends to bare heaps, and each index is built once, by sorting.
        Inside the load's transaction, so a failure puts everything back too. Only for tables
        that were empty: never on live data."""
        if not self.is_postgresql:
            return []
        params = {"tables": list(tables)}
        indexes = await self.connection.execute(
            text(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relname = ANY(:tables) AND t.relnamespace = 'public'::regnamespace "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY 1"
            ),
            params,
        )
        constraints = await self.connection.execute(
            text(
                "SELECT c.contype::text, c.conrelid::regclass::text, c.conname, "
                "pg_get_constraintdef(c.oid) FROM pg_constraint c "
                # A partition's copy of a key (conparentid) goes and comes back with its
                # parent's: the history tables are partitioned (revision 0019).
                "WHERE c.connamespace = 'public'::regnamespace AND c.conparentid = 0 AND ("
                " (c.contype = 'p' AND c.conrelid = ANY(SELECT oid FROM pg_class "
                "   WHERE relname = ANY(:tables) AND relnamespace = 'public'::regnamespace))"
                " OR (c.contype = 'f' AND (c.conrelid = ANY(SELECT oid FROM pg_class "
                "   WHERE relname = ANY(:tables) AND relnamespace = 'public'::regnamespace)"
                "  OR c.confrelid = ANY(SELECT oid FROM pg_class "
                "   WHERE relname = ANY(:tables) AND relnamespace = 'public'::regnamespace))))"
                "ORDER BY c.contype, 2, 3"  # foreign keys ('f') go before the keys ('p')
            ),
            params,
        )
        keys: list[str] = []
        foreign_keys: list[str] = []
        for kind, table, name, definition in constraints.all():
            await self.connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            statement = f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            (keys if kind == "p" else foreign_keys).append(statement)
        definitions = []
        for name, definition in indexes.all():
            await self.connection.exec_driver_sql(f"DROP INDEX {name}")
            # A partitioned table's index reads "ON ONLY t": built again on every partition.
            definitions.append(definition.replace(" ON ONLY ", " ON ", 1))
        return [*keys, *definitions, *foreign_keys, *await self._pause_catalog_generation(tables)]

    async def _pause_catalog_generation(self, tables: Sequence[str]) -> list[str]:
        """Disable the catalog generation's triggers (migration 0017) on `tables` for the load,
        and return the statements that enable them again and move the generation once. Their
        deferred events would queue one per loaded row until COMMIT, and a table with pending
        trigger events refuses the ALTER TABLE that puts its keys back."""
        triggers = await self.connection.execute(
            text(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = ANY(:tables) AND c.relnamespace = 'public'::regnamespace "
                "AND t.tgname LIKE 'catalog\\_generation\\_%' AND t.tgenabled <> 'D' "
                "ORDER BY 1, 2"
            ),
            {"tables": list(tables)},
        )
        enable = []
        for table, name in triggers.all():
            await self.connection.exec_driver_sql(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"')
            enable.append(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"')
        if not enable:
            return []
        return [*enable, "UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1"]

    async def create_index(self, statement: str) -> None:
        """Run one statement returned by `drop_secondary_indexes`."""
        await self.connection.exec_driver_sql(statement)

    async def set_course_counters(self, rows: list[Row]) -> None:
        """Set each course's derived counters: rows of (id, enrollment_count, rating,
        rating_count, rating_1_count .. rating_5_count)."""
        if not rows:
            return
        columns = (
            "enrollment_count",
            "rating",
            "rating_count",
            *(f"rating_{n}_count" for n in range(1, 6)),
        )
        if self.is_postgresql:
            await self.connection.exec_driver_sql(
                "CREATE TEMP TABLE seed_course_counters (id uuid PRIMARY KEY, "
                "enrollment_count int, rating numeric(3,2), rating_count int, rating_1_count int,"
                " rating_2_count int, rating_3_count int, rating_4_count int, rating_5_count int)"
                " ON COMMIT DROP"
            )
            await self._raw.copy_records_to_table(
                "seed_course_counters", records=rows, columns=("id", *columns)
            )
            assignments = ", ".join(f"{c} = s.{c}" for c in columns)
            await self.connection.exec_driver_sql(
                f"UPDATE courses SET {assignments} FROM seed_course_counters s "
                "WHERE courses.id = s.id"
            )
            return
        assignments = ", ".join(f"{c} = ?" for c in columns)
        converted = [
            (*(float(v) if isinstance(v, Decimal) else v for v in row[1:]), row[0].replace("-", ""))
            for row in rows
        ]
        await self.connection.exec_driver_sql(
            f"UPDATE courses SET {assignments} WHERE id = ?", converted
        )

    async def analyze(self, tables: Sequence[str]) -> None:
        """Fresh planner statistics for the loaded tables."""
        if self.is_postgresql:
            await self.connection.exec_driver_sql(f"ANALYZE {', '.join(tables)}")
        else:
            await self.connection.exec_driver_sql("ANALYZE")
