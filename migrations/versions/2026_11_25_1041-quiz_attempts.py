"""Quiz attempts, their answers and the options each answer chose.

Revision ID: 0005_quiz_attempts
Revises: 0004_reviews
Create Date: 2026-11-25 10:41:02.382674
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_quiz_attempts"
down_revision: str | None = "0004_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quiz_attempts",
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "in_progress",
                "submitted",
                "overdue",
                name="attempt_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
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
        sa.CheckConstraint("attempt_no >= 1", name=op.f("ck_quiz_attempts_attempt_no_positive")),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 100)",
            name=op.f("ck_quiz_attempts_score_percent"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_quiz_attempts_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_quiz_attempts_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_quiz_attempts_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes.id"],
            name=op.f("fk_quiz_attempts_quiz_id_quizzes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_quiz_attempts_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_quiz_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
        sa.UniqueConstraint("quiz_id", "user_id", "attempt_no", name="uq_quiz_attempts_number"),
    )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_attempts_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quiz_attempts_created_by"), ["created_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quiz_attempts_deleted_by"), ["deleted_by"], unique=False
        )
        batch_op.create_index(
            "ix_quiz_attempts_state_deadline", ["state", "deadline_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quiz_attempts_updated_by"), ["updated_by"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quiz_attempts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("attempt_id", sa.Uuid(), nullable=False),
        sa.Column("question_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempts.id"],
            name=op.f("fk_quiz_answers_attempt_id_quiz_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_quiz_answers_question_id_quiz_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_answers")),
        sa.UniqueConstraint("attempt_id", "question_id", name="uq_quiz_answers_question"),
    )
    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quiz_answers_question_id"), ["question_id"], unique=False
        )

    op.create_table(
        "quiz_answer_options",
        sa.Column("answer_id", sa.Uuid(), nullable=False),
        sa.Column("option_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["quiz_answers.id"],
            name=op.f("fk_quiz_answer_options_answer_id_quiz_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["quiz_options.id"],
            name=op.f("fk_quiz_answer_options_option_id_quiz_options"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("answer_id", "option_id", name=op.f("pk_quiz_answer_options")),
    )
    with op.batch_alter_table("quiz_answer_options", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quiz_answer_options_option_id"), ["option_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("quiz_answer_options", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_answer_options_option_id"))

    op.drop_table("quiz_answer_options")
    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_answers_question_id"))

    op.drop_table("quiz_answers")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_user_id"))
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_updated_by"))
        batch_op.drop_index("ix_quiz_attempts_state_deadline")
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_created_by"))
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_course_id"))

    op.drop_table("quiz_attempts")
