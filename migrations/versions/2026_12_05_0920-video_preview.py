"""Free preview videos: `videos.is_preview` (false for every existing video).

A NOT NULL column with a constant server default: PostgreSQL (11+) stores the default in
the catalogue without rewriting the table; SQLite goes through batch mode.

Revision ID: 0011_video_preview
Revises: 0010_progress_budget
Create Date: 2026-12-05 09:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_video_preview"
down_revision: str | None = "0010_progress_budget"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_preview", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_column("is_preview")
