"""The monthly partitions of the history tables on PostgreSQL (revision 0019): naming, the
maintenance that creates months ahead, and the listing `learnhub audit archive` works from.

Partitions are named `<table>_yYYYYmMM` (one month, UTC), `<table>_legacy` (the table as it
was before partitioning: from its first row's month to the month after the migration) and
`<table>_default` (the safety net: a row no month takes lands there instead of failing).
Models do not map partitions; the drift check leaves them out by these names.

`ensure_partitions` runs every round of the audit watcher (`learnhub serve` starts one) and
from `learnhub audit partitions`: nobody has to remember a month. SQLite has no partitions:
every function here is a no-op there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

PARTITIONED_TABLES = ("audit_log", "user_activity")
# The current month and this many after it always exist.
MONTHS_AHEAD = 3
APPEND_ONLY_TABLE = "audit_log"
# Attaching a month locks the DEFAULT partition, detaching one (archive) the parent, ACCESS
# EXCLUSIVE for a moment: never queue long behind a running transaction (the reads and
# writes that come next would queue behind us); give up, try again next round.
LOCK_TIMEOUT = "SET LOCAL lock_timeout = '1s'"
PARTITION_NAME = re.compile(
    r"^(?P<table>" + "|".join(PARTITIONED_TABLES) + r")_(legacy|default|y\d{4}m\d{2})$"
)


def is_partition(name: str) -> bool:
    return PARTITION_NAME.match(name) is not None


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return month_start(start + timedelta(days=32))


def month_partition_name(table: str, start: datetime) -> str:
    return f"{table}_y{start.year:04d}m{start.month:02d}"


def truncate_guard(partition: str) -> str:
    """The row guard of the partitioned audit_log is cloned onto each partition by
    PostgreSQL; a statement (TRUNCATE) trigger is not, so each partition gets its own."""
    return (
        f"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {partition} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


@dataclass(frozen=True, slots=True)
class Partition:
    table: str
    name: str
    # None for DEFAULT; `lower` None also for a range that starts at MINVALUE.
    lower: datetime | None
    upper: datetime | None
    is_default: bool


_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


async def partitions(connection: AsyncConnection, table: str) -> list[Partition]:
    """The table's partitions, oldest first (DEFAULT last). Empty on SQLite."""
    if connection.dialect.name != "postgresql":
        return []
    rows = await connection.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:table)"
        ),
        {"table": table},
    )
    found = []
    for name, bound in rows.all():
        if bound == "DEFAULT":
            found.append(Partition(table, name, None, None, True))
            continue
        match = _BOUND.search(bound)
        if match is None:  # MINVALUE/MAXVALUE: not made by LearnHub, left alone
            continue
        lower, upper = (datetime.fromisoformat(v).astimezone(UTC) for v in match.groups())
        found.append(Partition(table, name, lower, upper, False))
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda p: (p.is_default, p.lower or far))


async def is_partitioned(connection: AsyncConnection, table: str) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    kind = await connection.execute(
        text("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(:table)"), {"table": table}
    )
    return kind.scalar_one_or_none() == "p"


@dataclass(frozen=True, slots=True)
class MaintenanceResult:
    created: list[str]
    # Months that could not be created because the DEFAULT partition already holds rows of
    # them (maintenance did not run for months): those rows stay readable there.
    blocked: list[str]


async def ensure_partitions(
    engine: AsyncEngine, now: datetime, months_ahead: int = MONTHS_AHEAD
) -> MaintenanceResult:
    """Create the missing months after the newest partition, through `months_ahead` months
    past `now`'s, and give any audit partition without its TRUNCATE guard one (a partition
    someone made by hand). Each partition is created in its own short transaction, under the
    lock_timeout above; an empty DEFAULT is all PostgreSQL has to check."""
    created: list[str] = []
    blocked: list[str] = []
    if engine.dialect.name != "postgresql":
        return MaintenanceResult(created, blocked)
    horizon = month_start(now)
    for _ in range(months_ahead + 1):
        horizon = next_month(horizon)
    for table in PARTITIONED_TABLES:
        async with engine.connect() as connection:
            if not await is_partitioned(connection, table):
                continue
            ranges = [p for p in await partitions(connection, table) if not p.is_default]
        start = max((p.upper for p in ranges if p.upper), default=month_start(now))
        while start < horizon:
            end = next_month(start)
            name = month_partition_name(table, start)
            try:
                async with engine.begin() as connection:
                    await connection.execute(text(LOCK_TIMEOUT))
                    # Made apart, then ATTACHed: that locks the parent SHARE UPDATE
                    # EXCLUSIVE (reads and writes go on), where CREATE TABLE .. PARTITION
                    # OF would lock it ACCESS EXCLUSIVE. The indexes, key, foreign key and
                    # row trigger of the parent are cloned onto it by the ATTACH; only the
                    # empty DEFAULT is locked exclusively, for the look that it holds no
                    # row of this month.
                    await connection.execute(
                        text(
                            f"CREATE TABLE {name} (LIKE {table}"
                            " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                        )
                    )
                    await connection.execute(
                        text(
                            f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES"
                            f" FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                        )
                    )
                    if table == APPEND_ONLY_TABLE:
                        await connection.execute(text(truncate_guard(name)))
            except Exception as error:
                if "would be violated by some row" not in str(error):
                    raise
                blocked.append(name)
                break  # the months after it would leave a hole: wait for an operator
            created.append(name)
            start = end
    async with engine.begin() as connection:
        for name in await unguarded_partitions(connection):
            await connection.execute(text(truncate_guard(name)))
    return MaintenanceResult(created, blocked)


async def unguarded_partitions(connection: AsyncConnection) -> list[str]:
    """Partitions of audit_log without the TRUNCATE guard."""
    rows = await connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass(:table) AND NOT EXISTS (SELECT 1 FROM pg_trigger t"
            " WHERE t.tgrelid = c.oid AND t.tgname = 'audit_log_no_truncate') ORDER BY 1"
        ),
        {"table": APPEND_ONLY_TABLE},
    )
    return list(rows.scalars().all())
