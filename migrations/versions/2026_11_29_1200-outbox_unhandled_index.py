"""The handler retrier's index on the outbox, built without blocking writers (pitfall 7).

The outbox takes a row with every business write, so on PostgreSQL this index is built with
CREATE INDEX CONCURRENTLY, outside a transaction (Alembic's autocommit block), in a revision
of its own, under the migration connection's lock_timeout (set for every revision by
learnhub.db.migrations) so it never queues behind a long transaction while writers queue
behind it; the statement_timeout is lifted for the build, which takes as long as the table
needs. A concurrent build that fails leaves an INVALID index behind (`learnhub db
check` reports it); running the upgrade again drops that leftover first and rebuilds it.
SQLite has no concurrent builds and one writer at a time: a plain CREATE INDEX there.

Revision ID: 0008_outbox_unhandled_index
Revises: 0007_event_handlers
Create Date: 2026-11-29 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_outbox_unhandled_index"
down_revision: str | None = "0007_event_handlers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_outbox_unhandled"
UNHANDLED = sa.text("handled_at IS NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(INDEX, "outbox", ["position"], sqlite_where=UNHANDLED)
        return
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        try:
            # A leftover of an earlier, failed concurrent build is INVALID: drop it first.
            op.drop_index(INDEX, "outbox", postgresql_concurrently=True, if_exists=True)
            op.create_index(
                INDEX,
                "outbox",
                ["position"],
                postgresql_where=UNHANDLED,
                postgresql_concurrently=True,
            )
        finally:
            op.execute("RESET statement_timeout")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(INDEX, "outbox", sqlite_where=UNHANDLED)
        return
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        try:
            op.drop_index(INDEX, "outbox", postgresql_concurrently=True, if_exists=True)
        finally:
            op.execute("RESET statement_timeout")
