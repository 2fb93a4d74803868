"""Courses: tags, objectives, sections, videos, quizzes with questions and options.

Revision ID: 0002_courses
Revises: 0001_initial
Create Date: 2026-11-25 09:51:16.595066
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_courses"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Trigram matching for the catalog's text search (PostgreSQL only).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "courses",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=220), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("instructor_id", sa.Uuid(), nullable=False),
        sa.Column("price_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("price_currency", sa.String(length=3), nullable=False),
        sa.Column(
            "difficulty",
            sa.Enum(
                "beginner",
                "intermediate",
                "advanced",
                "expert",
                name="difficulty_level",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "archived",
                name="course_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "rating", sa.Numeric(precision=3, scale=2), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("rating_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("enrollment_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
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
            "status <> 'published' OR published_at IS NOT NULL",
            name=op.f("ck_courses_published_has_date"),
        ),
        sa.CheckConstraint("length(price_currency) = 3", name=op.f("ck_courses_currency_code")),
        sa.CheckConstraint(
            "length(title) > 0 AND length(slug) > 0", name=op.f("ck_courses_title_slug_not_empty")
        ),
        sa.CheckConstraint("price_amount >= 0", name=op.f("ck_courses_price_not_negative")),
        sa.CheckConstraint("rating >= 0 AND rating <= 5", name=op.f("ck_courses_rating_range")),
        sa.CheckConstraint(
            "rating_count >= 0 AND enrollment_count >= 0",
            name=op.f("ck_courses_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_courses_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_courses_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["users.id"],
            name=op.f("fk_courses_instructor_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_courses_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_courses_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_courses_deleted_by"), ["deleted_by"], unique=False)
        batch_op.create_index(
            "ix_courses_enrollment_count_desc",
            [sa.literal_column("enrollment_count DESC"), sa.literal_column("id DESC")],
            unique=False,
            postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'published' AND deleted_at IS NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_courses_instructor_id"), ["instructor_id"], unique=False
        )
        batch_op.create_index(
            "ix_courses_price",
            ["price_amount", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'published' AND deleted_at IS NULL"),
        )
        batch_op.create_index(
            "ix_courses_published_at_desc",
            [sa.literal_column("published_at DESC"), sa.literal_column("id DESC")],
            unique=False,
            postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'published' AND deleted_at IS NULL"),
        )
        batch_op.create_index(
            "ix_courses_rating_desc",
            [sa.literal_column("rating DESC"), sa.literal_column("id DESC")],
            unique=False,
            postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'published' AND deleted_at IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_courses_updated_by"), ["updated_by"], unique=False)
        batch_op.create_index(
            "uq_courses_slug_live",
            ["slug"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "tags",
        sa.Column("name", sa.String(length=50), nullable=False),
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
            "name = lower(name) AND length(name) > 0", name=op.f("ck_tags_name_lower_case")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"], ["users.id"], name=op.f("fk_tags_deleted_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tags_deleted_by"), ["deleted_by"], unique=False)
        batch_op.create_index(
            "uq_tags_name_live",
            ["name"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "course_objectives",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
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
            "position >= 0", name=op.f("ck_course_objectives_position_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_objectives_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_course_objectives_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_objectives")),
    )
    with op.batch_alter_table("course_objectives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_objectives_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_course_objectives_deleted_by"), ["deleted_by"], unique=False
        )

    op.create_table(
        "course_tags",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_tags_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_course_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", "tag_id", name=op.f("pk_course_tags")),
    )
    with op.batch_alter_table("course_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_tags_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "sections",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
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
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_sections_title_not_empty")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_sections_position_not_negative")),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_sections_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_sections_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_sections_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_sections_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sections")),
    )
    with op.batch_alter_table("sections", schema=None) as batch_op:
        batch_op.create_index("ix_sections_course_id", ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sections_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_sections_deleted_by"), ["deleted_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_sections_updated_by"), ["updated_by"], unique=False)
        batch_op.create_index(
            "uq_sections_course_position_live",
            ["course_id", "position"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "quizzes",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("section_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=True),
        sa.Column("time_limit_seconds", sa.Integer(), nullable=True),
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
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_quizzes_title_not_empty")),
        sa.CheckConstraint(
            "max_attempts IS NULL OR max_attempts >= 1",
            name=op.f("ck_quizzes_max_attempts_positive"),
        ),
        sa.CheckConstraint(
            "pass_mark >= 0 AND pass_mark <= 100", name=op.f("ck_quizzes_pass_mark_percent")
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_quizzes_position_not_negative")),
        sa.CheckConstraint(
            "time_limit_seconds IS NULL OR time_limit_seconds > 0",
            name=op.f("ck_quizzes_time_limit_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_quizzes_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_quizzes_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_quizzes_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["sections.id"],
            name=op.f("fk_quizzes_section_id_sections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_quizzes_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes")),
    )
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quizzes_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quizzes_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_quizzes_deleted_by"), ["deleted_by"], unique=False)
        batch_op.create_index("ix_quizzes_section_id", ["section_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quizzes_updated_by"), ["updated_by"], unique=False)
        batch_op.create_index(
            "uq_quizzes_section_position_live",
            ["section_id", "position"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "videos",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("section_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=False),
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
        sa.CheckConstraint("duration_seconds > 0", name=op.f("ck_videos_duration_positive")),
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_videos_title_not_empty")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_videos_position_not_negative")),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_videos_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_videos_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_videos_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["sections.id"],
            name=op.f("fk_videos_section_id_sections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_videos_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videos")),
    )
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_videos_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_videos_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_videos_deleted_by"), ["deleted_by"], unique=False)
        batch_op.create_index("ix_videos_section_id", ["section_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_videos_updated_by"), ["updated_by"], unique=False)
        batch_op.create_index(
            "uq_videos_section_position_live",
            ["section_id", "position"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "quiz_questions",
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "single_choice",
                "multiple_choice",
                "true_false",
                "short_answer",
                name="question_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("answer_text", sa.String(length=500), nullable=True),
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
            "type <> 'short_answer' OR answer_text IS NOT NULL",
            name=op.f("ck_quiz_questions_short_answer_has_key"),
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_quiz_questions_position_not_negative")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_quiz_questions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_quiz_questions_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes.id"],
            name=op.f("fk_quiz_questions_quiz_id_quizzes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_quiz_questions_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_questions")),
    )
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quiz_questions_created_by"), ["created_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quiz_questions_deleted_by"), ["deleted_by"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quiz_questions_quiz_id"), ["quiz_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quiz_questions_updated_by"), ["updated_by"], unique=False
        )

    op.create_table(
        "quiz_options",
        sa.Column("question_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("is_correct", sa.Boolean(), nullable=False),
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
        sa.CheckConstraint("position >= 0", name=op.f("ck_quiz_options_position_not_negative")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_quiz_options_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_quiz_options_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_questions.id"],
            name=op.f("fk_quiz_options_question_id_quiz_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_quiz_options_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_options")),
    )
    with op.batch_alter_table("quiz_options", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quiz_options_created_by"), ["created_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quiz_options_deleted_by"), ["deleted_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quiz_options_question_id"), ["question_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quiz_options_updated_by"), ["updated_by"], unique=False
        )

    if postgres:
        # One trigram index over the searched text of listed courses (the catalog's `q`).
        op.execute(
            "CREATE INDEX ix_courses_search_trgm ON courses USING gin "
            "((title || ' ' || description) gin_trgm_ops) "
            "WHERE status = 'published' AND deleted_at IS NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_courses_search_trgm", table_name="courses")
    with op.batch_alter_table("quiz_options", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_options_updated_by"))
        batch_op.drop_index(batch_op.f("ix_quiz_options_question_id"))
        batch_op.drop_index(batch_op.f("ix_quiz_options_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_quiz_options_created_by"))

    op.drop_table("quiz_options")
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_questions_updated_by"))
        batch_op.drop_index(batch_op.f("ix_quiz_questions_quiz_id"))
        batch_op.drop_index(batch_op.f("ix_quiz_questions_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_quiz_questions_created_by"))

    op.drop_table("quiz_questions")
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_videos_section_position_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_videos_updated_by"))
        batch_op.drop_index("ix_videos_section_id")
        batch_op.drop_index(batch_op.f("ix_videos_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_videos_created_by"))
        batch_op.drop_index(batch_op.f("ix_videos_course_id"))

    op.drop_table("videos")
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_quizzes_section_position_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_quizzes_updated_by"))
        batch_op.drop_index("ix_quizzes_section_id")
        batch_op.drop_index(batch_op.f("ix_quizzes_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_quizzes_created_by"))
        batch_op.drop_index(batch_op.f("ix_quizzes_course_id"))

    op.drop_table("quizzes")
    with op.batch_alter_table("sections", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sections_course_position_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_sections_updated_by"))
        batch_op.drop_index(batch_op.f("ix_sections_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_sections_created_by"))
        batch_op.drop_index("ix_sections_course_id")

    op.drop_table("sections")
    with op.batch_alter_table("course_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_tags_tag_id"))

    op.drop_table("course_tags")
    with op.batch_alter_table("course_objectives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_objectives_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_course_objectives_course_id"))

    op.drop_table("course_objectives")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_tags_name_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_tags_deleted_by"))

    op.drop_table("tags")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_courses_slug_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_courses_updated_by"))
        batch_op.drop_index(
            "ix_courses_rating_desc",
            postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'published' AND deleted_at IS NULL"),
        )
        batch_op.drop_index(
            "ix_courses_published_at_desc",
            postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'published' AND deleted_at IS NULL"),
        )
        batch_op.drop_index(
            "ix_courses_price",
            postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'published' AND deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_courses_instructor_id"))
        batch_op.drop_index(
            "ix_courses_enrollment_count_desc",
            postgresql_where=sa.text("status = 'published' AND deleted_at IS NULL"),
            sqlite_where=sa.text("status = 'published' AND deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_courses_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_courses_created_by"))

    op.drop_table("courses")
