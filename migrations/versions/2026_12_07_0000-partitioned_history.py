"""History that stays cheap (issue 19, item 3, branch i19-partitions): on PostgreSQL the
audit trail and the learner activity log become tables partitioned by month on occurred_at,
so old months can be detached and archived (`learnhub audit archive`) and every query by
time prunes to the months it asks for.

No long lock on a populated database. The existing table is not copied: it becomes the first
partition ("legacy", its rows' months up to the month after the latest row or now):
  1. outside a transaction, with no lock that blocks writes: a unique index (id, occurred_at)
     is built CONCURRENTLY (the partitioned key must hold the partition key), and a CHECK
     constraint with the legacy range is added NOT VALID and then VALIDATEd (a scan under
     SHARE UPDATE EXCLUSIVE, which writers do not wait on);
     Still there, the partitioned table is built under a name of its own, with its indexes,
     a DEFAULT partition (the safety net for a row no month takes), the months ahead and
     their guards;
  2. one short transaction per table renames the old table and its indexes, swaps its key
     to the new index, renames the partitioned table into place and ATTACHes the old one:
     the validated CHECK proves the range, so ATTACH does not scan, and the existing
     indexes are adopted as the partitions of the new ones, so nothing is built. Only
     these transactions hold ACCESS EXCLUSIVE, and nothing they do grows with the rows
     (measured: docs/reliability.md, `python -m reliability.partition_migration`).

Append-only: the row trigger on the partitioned audit_log is cloned by PostgreSQL onto every
partition, present and future; statement triggers are not, so each partition gets its own
TRUNCATE guard (here, and in `learnhub.db.partitions` for the months it creates).

Later months are created ahead by `learnhub.db.partitions.ensure_partitions` (the audit
watcher that `learnhub serve` runs calls it every round; `learnhub audit partitions` too).

SQLite keeps its plain tables (its key stays `id`; nothing there grows to need partitions).

Downgrade: back to one plain table, rows copied (a long lock: a downgrade is an emergency,
not a routine).

Revision ID: 0019_partitioned_history
Revises: 0018_audit_request_index
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from alembic import op
from sqlalchemy import text

revision: str = "0019_partitioned_history"
down_revision: str | None = "0018_audit_request_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# How many months past the current one exist ahead (as in learnhub.db.partitions).
MONTHS_AHEAD = 3

COLUMNS = {
    "audit_log": """
    id uuid NOT NULL,
    occurred_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    actor_id uuid,
    request_id character varying(64),
    transaction_id uuid NOT NULL,
    entity_type character varying(64) NOT NULL,
    entity_id uuid NOT NULL,
    action character varying(20) NOT NULL,
    changes json NOT NULL,
    CONSTRAINT ck_audit_log_audit_action CHECK (action IN
        ('create', 'update', 'soft_delete', 'restore', 'hard_delete')),
    CONSTRAINT pk_audit_log PRIMARY KEY (id, occurred_at)""",
    "user_activity": """
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    type character varying(64) NOT NULL,
    subject_type character varying(64),
    subject_id uuid,
    occurred_at timestamp with time zone NOT NULL,
    metadata json NOT NULL,
    CONSTRAINT pk_user_activity PRIMARY KEY (id, occurred_at),
    CONSTRAINT fk_user_activity_user_id_users FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE""",
}
INDEXES = {
    "audit_log": {
        "ix_audit_log_entity": "entity_type, entity_id, occurred_at",
        "ix_audit_log_actor": "actor_id, occurred_at",
        "ix_audit_log_occurred_at": "occurred_at",
        "ix_audit_log_transaction": "transaction_id",
        "ix_audit_log_request": "request_id, occurred_at",
    },
    "user_activity": {"ix_user_activity_user_occurred": "user_id, occurred_at DESC"},
}
GUARDED = "audit_log"
ROW_GUARD = (
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
)


def truncate_guard(table: str) -> str:
    return (
        f"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return month_start(start + timedelta(days=32))


def literal(moment: datetime) -> str:
    return f"'{moment.isoformat()}'"


def legacy_range(table: str) -> tuple[datetime, datetime]:
    """[first month of the table's rows, the month after both its latest row and a month
    from now): rows written while the migration runs fall inside it too. The month of slack:
    the CHECK added in step 1 refuses rows past the end until the swap drops it, so a
    migration abandoned between the two steps leaves a month to notice (`db check` says)."""
    low, high, now = (
        op.get_bind()
        .execute(text(f"SELECT min(occurred_at), max(occurred_at), now() FROM {table}"))
        .one()
    )
    latest = max(high or now, now + timedelta(days=31))
    return month_start(low or now), next_month(month_start(latest))


def prepare_without_blocking(table: str, low: datetime, high: datetime) -> None:
    """Step 1: what scans the table, under locks that writers do not wait on."""
    bind = op.get_bind()
    key = f"{table}_legacy_key"
    valid = bind.execute(
        text("SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(:name)"),
        {"name": key},
    ).scalar_one_or_none()
    if valid is False:  # left INVALID by a failed earlier attempt
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {key}")
    op.execute(f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {key} ON {table} (id, occurred_at)")
    check = f"ck_{table}_legacy_range"
    op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}")
    op.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK (occurred_at >= {literal(low)}"
        f" AND occurred_at < {literal(high)}) NOT VALID"
    )
    op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}")


def partition_name(table: str, start: datetime) -> str:
    return f"{table}_y{start.year:04d}m{start.month:02d}"


def is_partitioned(table: str) -> bool:
    kind = (
        op.get_bind()
        .execute(
            text("SELECT relkind::text FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
        )
        .scalar_one()
    )
    return kind == "p"


def build_partitioned(table: str, high: datetime, horizon: datetime) -> None:
    """Also step 1: the partitioned table under a name of its own, with its indexes, DEFAULT
    partition, months from the legacy range's end and guards, all before any lock is taken
    on the live table. Remade from scratch when a failed attempt left one."""
    new = f"{table}_partitioned"
    op.execute(f"DROP TABLE IF EXISTS {new} CASCADE")
    columns = COLUMNS[table].replace(f"CONSTRAINT pk_{table} ", f"CONSTRAINT pk_{new} ")
    op.execute(f"CREATE TABLE {new} ({columns}\n) PARTITION BY RANGE (occurred_at)")
    for index, indexed in INDEXES[table].items():
        op.execute(f"CREATE INDEX {index}_partitioned ON {new} ({indexed})")
    partitions = [f"{table}_default"]
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {new} DEFAULT")
    start = high
    while start < horizon:
        end = next_month(start)
        name = partition_name(table, start)
        op.execute(
            f"CREATE TABLE {name} PARTITION OF {new}"
            f" FOR VALUES FROM ({literal(start)}) TO ({literal(end)})"
        )
        partitions.append(name)
        start = end
    if table == GUARDED:
        op.execute(ROW_GUARD.replace(" ON audit_log ", f" ON {new} "))
        for guarded in (new, *partitions):
            op.execute(truncate_guard(guarded))


def swap(table: str, low: datetime, high: datetime) -> None:
    """Step 2, in a transaction of its own: renames, a key swapped to an index that exists,
    and an ATTACH that the validated CHECK spares its scan. No statement reads the rows."""
    legacy, new = f"{table}_legacy", f"{table}_partitioned"
    op.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    op.execute(f"ALTER TABLE {table} RENAME TO {legacy}")
    for index in INDEXES[table]:
        op.execute(f"ALTER INDEX {index} RENAME TO {index}_legacy")
    if table == GUARDED:
        # The partitioned table's row trigger is cloned onto it when it is attached.
        op.execute(f"DROP TRIGGER audit_log_append_only ON {legacy}")
    op.execute(f"ALTER TABLE {legacy} DROP CONSTRAINT pk_{table}")
    op.execute(
        f"ALTER TABLE {legacy} ADD CONSTRAINT {legacy}_pkey"
        f" PRIMARY KEY USING INDEX {table}_legacy_key"
    )
    op.execute(f"ALTER TABLE {new} RENAME TO {table}")
    op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT pk_{new} TO pk_{table}")
    for index in INDEXES[table]:
        op.execute(f"ALTER INDEX {index}_partitioned RENAME TO {index}")
    op.execute(
        f"ALTER TABLE {table} ATTACH PARTITION {legacy}"
        f" FOR VALUES FROM ({literal(low)}) TO ({literal(high)})"
    )
    op.execute(f"ALTER TABLE {legacy} DROP CONSTRAINT ck_{table}_legacy_range")


# user_activity first: attaching it adopts its foreign key, which briefly locks `users`; its
# transaction commits before audit_log's begins, so neither lock waits on the other swap.
ORDER = ("user_activity", "audit_log")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    ranges = {}
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        try:
            now = op.get_bind().execute(text("SELECT now()")).scalar_one()
            horizon = month_start(now)
            for _ in range(MONTHS_AHEAD + 1):
                horizon = next_month(horizon)
            for table in ORDER:
                if is_partitioned(table):  # swapped by an earlier attempt
                    continue
                ranges[table] = legacy_range(table)
                prepare_without_blocking(table, *ranges[table])
                build_partitioned(table, ranges[table][1], horizon)
        finally:
            op.execute("RESET statement_timeout")
    for position, (table, (low, high)) in enumerate(ranges.items()):
        if position:
            with op.get_context().autocommit_block():
                pass  # commits the previous swap: one short transaction per table
        swap(table, low, high)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in COLUMNS:
        plain = f"{table}_plain"
        op.execute(f"CREATE TABLE {plain} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        op.execute(f"INSERT INTO {plain} SELECT * FROM {table}")
        op.execute(f"DROP TABLE {table} CASCADE")
        op.execute(f"ALTER TABLE {plain} RENAME TO {table}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
        for index, columns in INDEXES[table].items():
            op.execute(f"CREATE INDEX {index} ON {table} ({columns})")
        if table == "user_activity":
            op.execute(
                "ALTER TABLE user_activity ADD CONSTRAINT fk_user_activity_user_id_users"
                " FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE"
            )
        else:
            op.execute(ROW_GUARD)
            op.execute(truncate_guard(table))
