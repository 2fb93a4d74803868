"""Learning: enrollments, video progress and its watched segments.

Revision ID: 0003_learning
Revises: 0002_courses
Create Date: 2026-11-25 10:14:48.884844
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_learning"
down_revision: str | None = "0002_courses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollments",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "completed",
                "cancelled",
                "refunded",
                name="enrollment_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_videos", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("passed_quizzes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
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
            "status <> 'completed' OR completed_at IS NOT NULL",
            name=op.f("ck_enrollments_completed_has_date"),
        ),
        sa.CheckConstraint(
            "completed_videos >= 0 AND passed_quizzes >= 0",
            name=op.f("ck_enrollments_progress_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_enrollments_course_id_courses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_enrollments_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_enrollments_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_enrollments_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_enrollments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index("ix_enrollments_course_id", ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollments_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollments_deleted_by"), ["deleted_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollments_updated_by"), ["updated_by"], unique=False)
        batch_op.create_index("ix_enrollments_user_id", ["user_id"], unique=False)
        batch_op.create_index(
            "uq_enrollments_user_course_live",
            ["user_id", "course_id"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "video_progress",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("position_seconds", sa.Float(), nullable=False),
        sa.Column("watched_seconds", sa.Float(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
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
            "NOT completed OR completed_at IS NOT NULL",
            name=op.f("ck_video_progress_completed_has_date"),
        ),
        sa.CheckConstraint(
            "position_seconds >= 0 AND watched_seconds >= 0",
            name=op.f("ck_video_progress_progress_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_video_progress_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_video_progress_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_video_progress_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_video_progress_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_video_progress_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_progress_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_progress")),
    )
    with op.batch_alter_table("video_progress", schema=None) as batch_op:
        batch_op.create_index(
            "ix_video_progress_completed_user", ["completed", "user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_video_progress_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_video_progress_created_by"), ["created_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_video_progress_deleted_by"), ["deleted_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_video_progress_updated_by"), ["updated_by"], unique=False
        )
        batch_op.create_index(
            "ix_video_progress_user_course", ["user_id", "course_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_video_progress_video_id"), ["video_id"], unique=False)
        batch_op.create_index(
            "uq_video_progress_user_video_live",
            ["user_id", "video_id"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "video_progress_segments",
        sa.Column("progress_id", sa.Uuid(), nullable=False),
        sa.Column("start_seconds", sa.Float(), nullable=False),
        sa.Column("end_seconds", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "start_seconds >= 0 AND end_seconds > start_seconds",
            name=op.f("ck_video_progress_segments_segment_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["progress_id"],
            ["video_progress.id"],
            name=op.f("fk_video_progress_segments_progress_id_video_progress"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "progress_id", "start_seconds", name=op.f("pk_video_progress_segments")
        ),
    )


def downgrade() -> None:
    op.drop_table("video_progress_segments")
    with op.batch_alter_table("video_progress", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_video_progress_user_video_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_video_progress_video_id"))
        batch_op.drop_index("ix_video_progress_user_course")
        batch_op.drop_index(batch_op.f("ix_video_progress_updated_by"))
        batch_op.drop_index(batch_op.f("ix_video_progress_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_video_progress_created_by"))
        batch_op.drop_index(batch_op.f("ix_video_progress_course_id"))
        batch_op.drop_index("ix_video_progress_completed_user")

    op.drop_table("video_progress")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrollments_user_course_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index("ix_enrollments_user_id")
        batch_op.drop_index(batch_op.f("ix_enrollments_updated_by"))
        batch_op.drop_index(batch_op.f("ix_enrollments_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_enrollments_created_by"))
        batch_op.drop_index("ix_enrollments_course_id")

    op.drop_table("enrollments")
