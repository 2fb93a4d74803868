"""Audit completeness off the API workers: the checkpoint and result of `learnhub audit
watch`, and the gaps it knows of, which `/metrics` reads at scrape time.

Two new, small tables: nothing existing is locked.

Revision ID: 0012_audit_checkpoint
Revises: 0011_video_preview
Create Date: 2026-12-05 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_audit_checkpoint"
down_revision: str | None = "0011_video_preview"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.Column("rows_checked", sa.BigInteger(), nullable=False),
        sa.Column("gap_entities", sa.Integer(), nullable=False),
        sa.Column("completeness_ratio", sa.Float(), nullable=False),
        sa.Column("rows_replayed", sa.BigInteger(), nullable=False),
        sa.Column("entities_rechecked", sa.BigInteger(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_check_gaps",
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("problem", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "entity_id", name=op.f("pk_audit_check_gaps")),
    )


def downgrade() -> None:
    op.drop_table("audit_check_gaps")
    op.drop_table("audit_checkpoints")
