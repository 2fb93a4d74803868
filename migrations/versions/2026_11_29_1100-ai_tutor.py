"""The AI tutor: conversations, messages, cited passages, daily usage; the per-course switch.

A constant-default column on courses is a catalogue-only change on PostgreSQL >= 11 (no
table rewrite), so it needs no separate CONCURRENTLY-style revision.

Revision ID: 0006_ai_tutor
Revises: 0005_quiz_attempts
Create Date: 2026-11-29 10:53:29.102991
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_ai_tutor"
down_revision: str | None = "0005_quiz_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_usage",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.CheckConstraint("messages >= 0", name=op.f("ck_ai_usage_messages_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ai_usage_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_ai_usage")),
    )
    with op.batch_alter_table("ai_usage", schema=None) as batch_op:
        batch_op.create_index("ix_ai_usage_day", ["day"], unique=False)

    op.create_table(
        "ai_conversations",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_ai_conversations_course_id_courses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_ai_conversations_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_ai_conversations_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_ai_conversations_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ai_conversations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_ai_conversations_video_id_videos"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_conversations")),
    )
    with op.batch_alter_table("ai_conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_conversations_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ai_conversations_created_by"), ["created_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ai_conversations_deleted_by"), ["deleted_by"], unique=False
        )
        batch_op.create_index(
            "ix_ai_conversations_last_message_at", ["last_message_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ai_conversations_updated_by"), ["updated_by"], unique=False
        )
        batch_op.create_index(
            "ix_ai_conversations_user_course", ["user_id", "course_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ai_conversations_video_id"), ["video_id"], unique=False
        )

    op.create_table(
        "ai_messages",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "user",
                "assistant",
                name="chat_role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("latency_ms", sa.Integer(), server_default=sa.text("0"), nullable=False),
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
        sa.CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND latency_ms >= 0",
            name=op.f("ck_ai_messages_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["ai_conversations.id"],
            name=op.f("fk_ai_messages_conversation_id_ai_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_ai_messages_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_messages")),
    )
    with op.batch_alter_table("ai_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ai_messages_conversation_created", ["conversation_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_ai_messages_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ai_messages_deleted_by"), ["deleted_by"], unique=False)

    op.create_table(
        "ai_message_citations",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("video_id", sa.Uuid(), nullable=True),
        sa.Column("start_seconds", sa.Float(), nullable=False),
        sa.Column("end_seconds", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "rank >= 1 AND start_seconds >= 0 AND end_seconds >= start_seconds",
            name=op.f("ck_ai_message_citations_valid_span"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["ai_messages.id"],
            name=op.f("fk_ai_message_citations_message_id_ai_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_ai_message_citations_video_id_videos"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("message_id", "rank", name=op.f("pk_ai_message_citations")),
    )
    with op.batch_alter_table("ai_message_citations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_message_citations_video_id"), ["video_id"], unique=False
        )

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tutor_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("tutor_enabled")

    with op.batch_alter_table("ai_message_citations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_message_citations_video_id"))

    op.drop_table("ai_message_citations")
    with op.batch_alter_table("ai_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_messages_deleted_by"))
        batch_op.drop_index("ix_ai_messages_created_at")
        batch_op.drop_index("ix_ai_messages_conversation_created")

    op.drop_table("ai_messages")
    with op.batch_alter_table("ai_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_conversations_video_id"))
        batch_op.drop_index("ix_ai_conversations_user_course")
        batch_op.drop_index(batch_op.f("ix_ai_conversations_updated_by"))
        batch_op.drop_index("ix_ai_conversations_last_message_at")
        batch_op.drop_index(batch_op.f("ix_ai_conversations_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_ai_conversations_created_by"))
        batch_op.drop_index(batch_op.f("ix_ai_conversations_course_id"))

    op.drop_table("ai_conversations")
    with op.batch_alter_table("ai_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_usage_day")

    op.drop_table("ai_usage")
