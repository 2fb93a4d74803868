"""Reviews, and the per-star histogram on courses.

Revision ID: 0004_reviews
Revises: 0003_learning
Create Date: 2026-11-25 10:30:01.419847
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reviews"
down_revision: str | None = "0003_learning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "published",
                "hidden",
                name="review_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
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
        sa.CheckConstraint("rating >= 1 AND rating <= 5", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_reviews_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_reviews_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"],
            ["users.id"],
            name=op.f("fk_reviews_deleted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_reviews_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reviews_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reviews_course_status_created", ["course_id", "status", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reviews_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_deleted_by"), ["deleted_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_updated_by"), ["updated_by"], unique=False)
        batch_op.create_index(
            "uq_reviews_user_course_live",
            ["user_id", "course_id"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "rating_1_count",
                sa.Integer(),
                sa.CheckConstraint(
                    "rating_1_count >= 0", name=op.f("ck_courses_rating_1_count_not_negative")
                ),
                server_default=sa.text("0"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "rating_2_count",
                sa.Integer(),
                sa.CheckConstraint(
                    "rating_2_count >= 0", name=op.f("ck_courses_rating_2_count_not_negative")
                ),
                server_default=sa.text("0"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "rating_3_count",
                sa.Integer(),
                sa.CheckConstraint(
                    "rating_3_count >= 0", name=op.f("ck_courses_rating_3_count_not_negative")
                ),
                server_default=sa.text("0"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "rating_4_count",
                sa.Integer(),
                sa.CheckConstraint(
                    "rating_4_count >= 0", name=op.f("ck_courses_rating_4_count_not_negative")
                ),
                server_default=sa.text("0"),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "rating_5_count",
                sa.Integer(),
                sa.CheckConstraint(
                    "rating_5_count >= 0", name=op.f("ck_courses_rating_5_count_not_negative")
                ),
                server_default=sa.text("0"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("courses", schema=None) as batch_op:
        for stars in range(1, 6):
            batch_op.drop_constraint(
                op.f(f"ck_courses_rating_{stars}_count_not_negative"), type_="check"
            )
        batch_op.drop_column("rating_5_count")
        batch_op.drop_column("rating_4_count")
        batch_op.drop_column("rating_3_count")
        batch_op.drop_column("rating_2_count")
        batch_op.drop_column("rating_1_count")

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_reviews_user_course_live",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_reviews_updated_by"))
        batch_op.drop_index(batch_op.f("ix_reviews_deleted_by"))
        batch_op.drop_index(batch_op.f("ix_reviews_created_by"))
        batch_op.drop_index("ix_reviews_course_status_created")

    op.drop_table("reviews")
