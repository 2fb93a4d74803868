from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

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
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import AttemptState, PersonalData
from learnhub.domain.ids import new_id
from learnhub.models.base import AuditableModel, Base, col_info
from learnhub.models.types import UTCDateTime, enum_column

answer_options = Table(
    "quiz_answer_options",
    Base.metadata,
    Column(
        "answer_id",
        Uuid,
        ForeignKey("quiz_answers.id", ondelete="CASCADE"),
        primary_key=True,
        info=col_info(PersonalData.DELETE),
    ),
    Column(
        "option_id",
        Uuid,
        ForeignKey("quiz_options.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
        info=col_info(PersonalData.DELETE),
    ),
)


class QuizAttempt(AuditableModel):
    """One try at a quiz. The deadline is set by the server from the quiz's time limit."""

    __tablename__ = "quiz_attempts"

    quiz_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("quizzes.id", ondelete="CASCADE"), info=col_info()
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=col_info(PersonalData.DELETE),
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="CASCADE"), index=True, info=col_info()
    )
    attempt_no: Mapped[int] = mapped_column(Integer, info=col_info())
    state: Mapped[AttemptState] = mapped_column(
        enum_column(AttemptState, "attempt_state"),
        default=AttemptState.IN_PROGRESS,
        info=col_info(),
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, info=col_info())
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=col_info())
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), info=col_info(PersonalData.DELETE))
    passed: Mapped[bool | None] = mapped_column(Boolean, info=col_info(PersonalData.DELETE))

    answers: Mapped[list[QuizAnswer]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "attempt_no", name="uq_quiz_attempts_number"),
        CheckConstraint("attempt_no >= 1", name="attempt_no_positive"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_percent"),
        # The overdue sweep: open attempts by deadline.
        Index("ix_quiz_attempts_state_deadline", "state", "deadline_at"),
    )


class QuizAnswer(Base):
    """A learner's answer to one question of an attempt, with the server's grading."""

    __tablename__ = "quiz_answers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id, info=col_info())
    attempt_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("quiz_attempts.id", ondelete="CASCADE"),
        info=col_info(PersonalData.DELETE),
    )
    question_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("quiz_questions.id", ondelete="CASCADE"),
        index=True,
        info=col_info(PersonalData.DELETE),
    )
    text: Mapped[str | None] = mapped_column(String(500), info=col_info(PersonalData.DELETE))
    # None while the attempt is open (an answer saved, not graded yet); set when it closes.
    correct: Mapped[bool | None] = mapped_column(Boolean, info=col_info(PersonalData.DELETE))

    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id", name="uq_quiz_answers_question"),
    )


class QuizAttemptGrant(AuditableModel):
    """Extra attempts at a quiz granted to one learner by the course's instructor or an
    admin: the start rule allows `max_attempts + extra_attempts`. One row per (quiz,
    learner), set (not added to) by each grant."""

    __tablename__ = "quiz_attempt_grants"

    quiz_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("quizzes.id", ondelete="CASCADE"), info=col_info()
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
        info=col_info(PersonalData.DELETE),
    )
    extra_attempts: Mapped[int] = mapped_column(Integer, default=0, info=col_info())

    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", name="uq_quiz_attempt_grants_learner"),
        CheckConstraint("extra_attempts >= 0", name="extra_attempts_not_negative"),
    )
