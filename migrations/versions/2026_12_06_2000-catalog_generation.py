"""The catalog's generation (issue 18, item 3): one row whose number the database moves, in
the same transaction, whenever anything a catalog card shows may have changed, so catalog
pages carry an exact validator and `If-None-Match` is answered without the listing query.

What a card reads: courses (every column is shown, filtered or sorted on), course_tags and
tags (a tag's rename or soft delete), course_objectives, and the users columns a card shows
(the instructor's display name, and deleted_at, which hides the name). Triggers on exactly
those, so no write path can forget.

PostgreSQL: deferred constraint triggers (they run at COMMIT), and the function moves the
number once per transaction (a transaction-local setting remembers it did). Taking the row's
lock at commit, last, keeps it out of any lock-order cycle with the course rows a
transaction updates (an immediate bump between two course updates could deadlock against an
enrolment), and holds it only for the commit itself. SQLite has one writer at a time:
plain row triggers.

Revision ID: 0017_catalog_generation
Revises: 0016_roster_index
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_catalog_generation"
down_revision: str | None = "0016_roster_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1"
USER_SHOWN = (
    "old.display_name IS DISTINCT FROM new.display_name "
    "OR old.deleted_at IS DISTINCT FROM new.deleted_at"
)
# SQLite's spelling (IS DISTINCT FROM came only in 3.39).
USER_SHOWN_SQLITE = (
    "old.display_name IS NOT new.display_name OR old.deleted_at IS NOT new.deleted_at"
)
# (trigger name suffix, events, table, WHEN condition or None)
POSTGRES_TRIGGERS = [
    ("courses", "INSERT OR UPDATE OR DELETE", "courses", None),
    ("course_tags", "INSERT OR UPDATE OR DELETE", "course_tags", None),
    ("tags", "UPDATE OR DELETE", "tags", None),
    ("course_objectives", "INSERT OR UPDATE OR DELETE", "course_objectives", None),
    ("users_shown", "UPDATE OF display_name, deleted_at", "users", USER_SHOWN),
    ("users_delete", "DELETE", "users", None),
]
FUNCTION = f"""
CREATE FUNCTION catalog_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Once per transaction: the first of its deferred events moves the number.
    IF current_setting('learnhub.catalog_bumped', true) IS DISTINCT FROM 'on' THEN
        {BUMP};
        PERFORM set_config('learnhub.catalog_bumped', 'on', true);
    END IF;
    RETURN NULL;
END
$$
"""
# SQLite: one trigger per event.
SQLITE_TRIGGERS = [
    ("courses_insert", "INSERT ON courses", None),
    ("courses_update", "UPDATE ON courses", None),
    ("courses_delete", "DELETE ON courses", None),
    ("course_tags_insert", "INSERT ON course_tags", None),
    ("course_tags_update", "UPDATE ON course_tags", None),
    ("course_tags_delete", "DELETE ON course_tags", None),
    ("tags_update", "UPDATE ON tags", None),
    ("tags_delete", "DELETE ON tags", None),
    ("course_objectives_insert", "INSERT ON course_objectives", None),
    ("course_objectives_update", "UPDATE ON course_objectives", None),
    ("course_objectives_delete", "DELETE ON course_objectives", None),
    ("users_shown", "UPDATE OF display_name, deleted_at ON users", USER_SHOWN_SQLITE),
    ("users_delete", "DELETE ON users", None),
]


def upgrade() -> None:
    op.create_table(
        "catalog_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalog_generation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_generation")),
    )
    op.execute("INSERT INTO catalog_generation (id, generation) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        for name, events, table, when in POSTGRES_TRIGGERS:
            condition = f" WHEN ({when})" if when else ""
            op.execute(
                f"CREATE CONSTRAINT TRIGGER catalog_generation_{name} AFTER {events} "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{condition} "
                "EXECUTE FUNCTION catalog_generation_bump()"
            )
        return
    for name, event, when in SQLITE_TRIGGERS:
        condition = f" WHEN {when}" if when else ""
        op.execute(
            f"CREATE TRIGGER catalog_generation_{name} AFTER {event}{condition} BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _events, table, _when in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER catalog_generation_{name} ON {table}")
        op.execute("DROP FUNCTION catalog_generation_bump()")
    else:
        for name, _event, _when in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER catalog_generation_{name}")
    op.drop_table("catalog_generation")
