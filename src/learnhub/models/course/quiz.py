from __future__ import annotations

import uuid
from typing import ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from learnhub.domain.enums import QuestionType
from learnhub.models.base import AuditableModel, VersionedModel, col_info
from learnhub.models.types import enum_column

NOT_DELETED = text("deleted_at IS NULL")


class Quiz(VersionedModel):
    __tablename__ = "quizzes"
    __soft_delete_cascade__: ClassVar[tuple[str, ...]] = ("questions",)

    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="CASCADE"), index=True, info=col_info()
    )
    section_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sections.id", ondelete="CASCADE"), info=col_info()
    )
    title: Mapped[str] = mapped_column(String(200), info=col_info())
    position: Mapped[int] = mapped_column(Integer, info=col_info())
    pass_mark: Mapped[int] = mapped_column(Integer, default=70, info=col_info())  # percent
    max_attempts: Mapped[int | None] = mapped_column(Integer, info=col_info())
    time_limit_seconds: Mapped[int | None] = mapped_column(Integer, info=col_info())
    # How many live questions the quiz has (the course outline shows it): not a column, a
    # correlated count that a query fills in with `with_expression` (None where none did).
    question_count: Mapped[int | None] = query_expression()

    questions: Mapped[list[QuizQuestion]] = relationship(
        lazy="raise",
        order_by="QuizQuestion.position",
        passive_deletes=True,
        foreign_keys="QuizQuestion.quiz_id",
    )

    __table_args__ = (
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 100", name="pass_mark_percent"),
        CheckConstraint("max_attempts IS NULL OR max_attempts >= 1", name="max_attempts_positive"),
        CheckConstraint(
            "time_limit_seconds IS NULL OR time_limit_seconds > 0", name="time_limit_positive"
        ),
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        Index(
            "uq_quizzes_section_position_live",
            "section_id",
            "position",
            unique=True,
            postgresql_where=NOT_DELETED,
            sqlite_where=NOT_DELETED,
        ),
        Index("ix_quizzes_section_id", "section_id"),
    )


class QuizQuestion(AuditableModel):
    __tablename__ = "quiz_questions"
    __soft_delete_cascade__: ClassVar[tuple[str, ...]] = ("options",)

    quiz_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("quizzes.id", ondelete="CASCADE"), index=True, info=col_info()
    )
    position: Mapped[int] = mapped_column(Integer, info=col_info())
    text: Mapped[str] = mapped_column(String(2000), info=col_info())
    type: Mapped[QuestionType] = mapped_column(
        enum_column(QuestionType, "question_type"), info=col_info()
    )
    # The expected answer of a short-answer question: an answer key, never sent to learners.
    answer_text: Mapped[str | None] = mapped_column(String(500), info=col_info())
    # Why the answer is what it is, shown to the learner with the review after submission
    # (never before: it would give the answer away).
    explanation: Mapped[str | None] = mapped_column(String(2000), info=col_info())

    options: Mapped[list[QuizOption]] = relationship(
        lazy="raise",
        order_by="QuizOption.position",
        passive_deletes=True,
        foreign_keys="QuizOption.question_id",
    )

    __table_args__ = (
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint(
            "type <> 'short_answer' OR answer_text IS NOT NULL", name="short_answer_has_key"
        ),
    )


class QuizOption(AuditableModel):
    __tablename__ = "quiz_options"

    question_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True, info=col_info()
    )
    position: Mapped[int] = mapped_column(Integer, info=col_info())
    text: Mapped[str] = mapped_column(String(500), info=col_info())
    is_correct: Mapped[bool] = mapped_column(Boolean, default=False, info=col_info())

    __table_args__ = (CheckConstraint("position >= 0", name="position_not_negative"),)
