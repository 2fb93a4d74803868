"""Sections, videos and quizzes become versioned (optimistic locking, SPEC 7).

SPEC 7 lists them among the versioned resources whose PATCH and DELETE honour `If-Match` or a
body `version`; until now they had no version, so a stale `If-Match` could not be refused.
Adding a NOT NULL column with a constant default is a catalogue-only change on PostgreSQL
(>= 11: no table rewrite) and a plain ALTER TABLE ADD COLUMN on SQLite; existing rows start
at version 1, like new ones.

Revision ID: 0009_content_versions
Revises: 0008_outbox_unhandled_index
Create Date: 2026-12-05 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_content_versions"
down_revision: str | None = "0008_outbox_unhandled_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sections", "videos", "quizzes")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
