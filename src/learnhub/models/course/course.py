from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.enums import CourseStatus, DifficultyLevel
from learnhub.models.base import Base, BaseModel, VersionedModel, col_info
from learnhub.models.types import UTCDateTime, enum_column

if TYPE_CHECKING:
    from learnhub.models.course.quiz import Quiz
    from learnhub.models.course.section import Section
    from learnhub.models.course.video import Video
    from learnhub.models.user.user import User

NOT_DELETED = text("deleted_at IS NULL")
LISTED = text("status = 'published' AND deleted_at IS NULL")

course_tags = Table(
    "course_tags",
    Base.metadata,
    Column(
        "course_id",
        Uuid,
        ForeignKey("courses.id", ondelete="CASCADE"),
        primary_key=True,
        info=col_info(),
    ),
    Column(
        "tag_id",
        Uuid,
        ForeignKey("tags.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
        info=col_info(),
    ),
)


class Tag(BaseModel):
    """A catalog keyword, shared between courses (stored lower-case)."""

    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(50), info=col_info())

    __table_args__ = (
        CheckConstraint("name = lower(name) AND length(name) > 0", name="name_lower_case"),
        Index(
            "uq_tags_name_live",
            "name",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
    )


class Course(VersionedModel):
    __tablename__ = "courses"
    __soft_delete_cascade__: ClassVar[tuple[str, ...]] = ("sections",)

    title: Mapped[str] = mapped_column(String(200), info=col_info())
    slug: Mapped[str] = mapped_column(String(220), info=col_info())
    description: Mapped[str] = mapped_column(Text, default="", info=col_info())
    # RESTRICT: an instructor with courses cannot vanish silently; erasure hands courses over.
    instructor_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="RESTRICT"), index=True, info=col_info()
    )
    price_amount: Mapped[Decimal] = mapped_column(
        Numeric(12, 2), default=Decimal("0.00"), info=col_info()
    )
    price_currency: Mapped[str] = mapped_column(String(3), default="USD", info=col_info())
    difficulty: Mapped[DifficultyLevel] = mapped_column(
        enum_column(DifficultyLevel, "difficulty_level"),
        default=DifficultyLevel.BEGINNER,
        info=col_info(),
    )
    status: Mapped[CourseStatus] = mapped_column(
        enum_column(CourseStatus, "course_status"), default=CourseStatus.DRAFT, info=col_info()
    )
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    # The per-course switch for the AI tutor (on by default; the course's editors turn it off).
    tutor_enabled: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), info=col_info()
    )
    # Maintained by the system with atomic updates (reviews, enrollments): not versioned edits.
    rating: Mapped[Decimal] = mapped_column(
        Numeric(3, 2),
        default=Decimal("0.00"),
        server_default=text("0"),
        info=col_info(audited=False),
    )
    rating_count: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info(audited=False)
    )
    enrollment_count: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info(audited=False)
    )
    # Published reviews per star (1..5): the histogram behind rating and rating_count.
    rating_1_count: Mapped[int] = mapped_column(
        Integer,
        CheckConstraint("rating_1_count >= 0", name="rating_1_count_not_negative"),
        default=0,
        server_default=text("0"),
        info=col_info(audited=False),
    )
    rating_2_count: Mapped[int] = mapped_column(
        Integer,
        CheckConstraint("rating_2_count >= 0", name="rating_2_count_not_negative"),
        default=0,
        server_default=text("0"),
        info=col_info(audited=False),
    )
    rating_3_count: Mapped[int] = mapped_column(
        Integer,
        CheckConstraint("rating_3_count >= 0", name="rating_3_count_not_negative"),
        default=0,
        server_default=text("0"),
        info=col_info(audited=False),
    )
    rating_4_count: Mapped[int] = mapped_column(
        Integer,
        CheckConstraint("rating_4_count >= 0", name="rating_4_count_not_negative"),
        default=0,
        server_default=text("0"),
        info=col_info(audited=False),
    )
    rating_5_count: Mapped[int] = mapped_column(
        Integer,
        CheckConstraint("rating_5_count >= 0", name="rating_5_count_not_negative"),
        default=0,
        server_default=text("0"),
        info=col_info(audited=False),
    )

    # Read only, for showing the instructor's name: loaded by a join where it is shown
    # (repositories.course); a soft-deleted instructor is filtered out of the join (None).
    instructor: Mapped[User | None] = relationship(
        "User", lazy="raise", viewonly=True, foreign_keys=[instructor_id]
    )
    tags: Mapped[list[Tag]] = relationship(secondary=course_tags, lazy="raise", order_by=Tag.name)
    objectives: Mapped[list[CourseObjective]] = relationship(
        lazy="raise",
        order_by="CourseObjective.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
        foreign_keys="CourseObjective.course_id",
    )
    sections: Mapped[list[Section]] = relationship(
        lazy="raise",
        order_by="Section.position",
        passive_deletes=True,
        foreign_keys="Section.course_id",
    )
    videos: Mapped[list[Video]] = relationship(
        lazy="raise", viewonly=True, foreign_keys="Video.course_id"
    )
    quizzes: Mapped[list[Quiz]] = relationship(
        lazy="raise", viewonly=True, foreign_keys="Quiz.course_id"
    )

    __table_args__ = (
        CheckConstraint("rating >= 0 AND rating <= 5", name="rating_range"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
        CheckConstraint("length(price_currency) = 3", name="currency_code"),
        CheckConstraint("rating_count >= 0 AND enrollment_count >= 0", name="counts_not_negative"),
        CheckConstraint("length(title) > 0 AND length(slug) > 0", name="title_slug_not_empty"),
        CheckConstraint(
            "status <> 'published' OR published_at IS NOT NULL", name="published_has_date"
        ),
        Index(
            "uq_courses_slug_live",
            "slug",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
    )


class CourseObjective(BaseModel):
    """One learning objective of a course, in order."""

    __tablename__ = "course_objectives"

    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="CASCADE"), index=True, info=col_info()
    )
    position: Mapped[int] = mapped_column(Integer, info=col_info())
    text: Mapped[str] = mapped_column(String(300), info=col_info())

    __table_args__ = (CheckConstraint("position >= 0", name="position_not_negative"),)


# The catalog's hot paths: each public sort is an index scan over listed courses only,
# ending in the id so keyset pages resume exactly (SPEC 6: courses(rating DESC),
# courses(enrollment_count DESC)).
Index(
    "ix_courses_rating_desc",
    Course.rating.desc(),
    Course.id.desc(),
    postgresql_where=LISTED,
    sqlite_where=LISTED,
)
Index(
    "ix_courses_enrollment_count_desc",
    Course.enrollment_count.desc(),
    Course.id.desc(),
    postgresql_where=LISTED,
    sqlite_where=LISTED,
)
Index(
    "ix_courses_published_at_desc",
    Course.published_at.desc(),
    Course.id.desc(),
    postgresql_where=LISTED,
    sqlite_where=LISTED,
)
# Prices compare within one currency (the catalog filters by it whenever a price filter or
# sort is used), so the currency leads: a price page is one range of this index, and the
# lowest and highest listed currency are its two ends.
Index(
    "ix_courses_price",
    Course.price_currency,
    Course.price_amount,
    Course.id,
    postgresql_where=LISTED,
    sqlite_where=LISTED,
)

# The catalog search's typo fallback on PostgreSQL (repositories.course_search): word
# similarity to the titles of listed courses, one lookup in this trigram index. Titles only:
# rechecking the similarity against whole descriptions cost seconds at 100k courses.
# (Full-text search has its own GIN index on a generated column the models do not map, see
# db.migrations.drift.)
Index(
    "ix_courses_title_trgm",
    Course.title,
    postgresql_using="gin",
    postgresql_ops={"title": "gin_trgm_ops"},
    postgresql_where=LISTED,
).ddl_if(dialect="postgresql")
