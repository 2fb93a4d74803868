"""Quiz answers saved while an attempt is open, extra attempts, and explanations (issue 15,
items 2 and 3, branch i15-quizzes).

- `quiz_answers.correct` becomes nullable: an answer saved during an attempt is a row with
  `correct` NULL until the attempt closes (submitted, or overdue) and is graded.
- `quiz_questions.explanation`: the instructor's explanation, shown in the answer review.
- `quiz_attempt_grants`: extra attempts granted to one learner at one quiz,
  UNIQUE (quiz_id, user_id).

The column changes are metadata-only on PostgreSQL (a nullable column without a default,
dropping a NOT NULL); SQLite rebuilds `quiz_answers` through batch mode (foreign keys off
during migrations, so `quiz_answer_options` keeps its rows).

Revision ID: 0014_quiz_answers
Revises: 0013_catalog_search
Create Date: 2026-12-06 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_quiz_answers"
down_revision: str | None = "0013_catalog_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("explanation", sa.String(length=2000), nullable=True))
    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.alter_column("correct", existing_type=sa.Boolean(), nullable=True)

    op.create_table(
        "quiz_attempt_grants",
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("extra_attempts", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delete_batch_id", sa.Uuid(), nullable=True),
        sa.Column("deleted_by", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "extra_attempts >= 0",
            name=op.f("ck_quiz_attempt_grants_extra_attempts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_quiz_attempt_grants_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_quiz_attempt_grants_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes.id"],
            name=op.f("fk_quiz_attempt_grants_quiz_id_quizzes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_quiz_attempt_grants_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_quiz_attempt_grants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempt_grants")),
        sa.UniqueConstraint("quiz_id", "user_id", name="uq_quiz_attempt_grants_learner"),
    )
    with op.batch_alter_table("quiz_attempt_grants", schema=None) as batch_op:
        for column in ("created_by", "deleted_by", "updated_by", "user_id"):
            batch_op.create_index(
                batch_op.f(f"ix_quiz_attempt_grants_{column}"), [column], unique=False
            )


def downgrade() -> None:
    op.drop_table("quiz_attempt_grants")
    # Saved, ungraded answers have no place in the old schema (correct NOT NULL).
    op.execute("DELETE FROM quiz_answers WHERE correct IS NULL")
    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.alter_column("correct", existing_type=sa.Boolean(), nullable=False)
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.drop_column("explanation")
