"""In-process event handlers: when the outbox's handlers were done with an event, and the
learner_stats read model they keep fresh.

Rows already in the outbox start unhandled, so the first `learnhub events handle` run
computes learner_stats for every learner with history (events without a handler are just
marked). Adding a nullable column without a default is a catalogue-only change.

Revision ID: 0007_event_handlers
Revises: 0006_ai_tutor
Create Date: 2026-11-29 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_event_handlers"
down_revision: str | None = "0006_ai_tutor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learner_stats",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("enrolled_courses", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("completed_courses", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("completed_videos", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("passed_quizzes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "enrolled_courses >= 0 AND completed_courses >= 0 AND completed_videos >= 0"
            " AND passed_quizzes >= 0",
            name=op.f("ck_learner_stats_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_learner_stats_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner_stats")),
        sa.UniqueConstraint("user_id", name=op.f("uq_learner_stats_user_id")),
    )

    # Its partial index comes in 0008, built CONCURRENTLY (the outbox is written constantly).
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("handled_at")

    op.drop_table("learner_stats")
