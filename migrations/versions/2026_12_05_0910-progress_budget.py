"""Progress credit bounded by one real-time budget per (learner, video) (issue 13, item 6).

`first_heartbeat_at` is where a row's budget starts; rows written before it keep NULL and
the service uses their `created_at` (the time of their first heartbeat), so no backfill
rewrites the table. `claimed_seconds` is the length of the stored union of played
segments, credited or not yet; older rows start at 0, their union having been credited in
full. Both are catalogue-only changes on PostgreSQL (a nullable column; a constant
default), plain ADD COLUMNs on SQLite.

Revision ID: 0010_progress_budget
Revises: 0009_content_versions
Create Date: 2026-12-05 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_progress_budget"
down_revision: str | None = "0009_content_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("video_progress", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_seconds", sa.Float(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("first_heartbeat_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("video_progress", schema=None) as batch_op:
        batch_op.drop_column("first_heartbeat_at")
        batch_op.drop_column("claimed_seconds")
