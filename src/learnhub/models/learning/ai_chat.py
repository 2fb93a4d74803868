"""The AI tutor chat: a learner's conversations about a course, their messages, the passages
each answer cites, and the per-day message count that enforces the daily limit."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnhub.domain.enums import ChatRole, PersonalData
from learnhub.models.base import AuditableModel, Base, BaseModel, col_info
from learnhub.models.types import UTCDateTime, enum_column


class TutorConversation(AuditableModel):
    """One learner's conversation with the tutor about one course (optionally one video)."""

    __tablename__ = "ai_conversations"
    __soft_delete_cascade__: ClassVar[tuple[str, ...]] = ("messages",)

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), info=col_info(PersonalData.DELETE)
    )
    # RESTRICT, as for enrolments: a course with learners is archived, never erased.
    course_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("courses.id", ondelete="RESTRICT"), index=True, info=col_info()
    )
    video_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("videos.id", ondelete="SET NULL"), index=True, info=col_info()
    )
    # Moves with every exchange; the system's bookkeeping, not an edit.
    last_message_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info=col_info(PersonalData.DELETE, audited=False)
    )

    messages: Mapped[list[TutorMessage]] = relationship(
        lazy="raise",
        order_by="TutorMessage.created_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        # "My conversations about this course", newest first (and the user_id foreign key).
        Index("ix_ai_conversations_user_course", "user_id", "course_id", "created_at"),
        # The retention sweep: conversations idle since before the cut-off.
        Index("ix_ai_conversations_last_message_at", "last_message_at"),
    )


class TutorMessage(BaseModel):
    """A question or an answer. The text is personal data kept only for the retention period,
    so it stays out of the audit trail (which keeps that a message existed, not what it said)."""

    __tablename__ = "ai_messages"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("ai_conversations.id", ondelete="CASCADE"),
        info=col_info(PersonalData.DELETE),
    )
    role: Mapped[ChatRole] = mapped_column(enum_column(ChatRole, "chat_role"), info=col_info())
    content: Mapped[str] = mapped_column(Text, info=col_info(PersonalData.DELETE, audited=False))
    # Which provider and model answered, with its token counts and latency (answers only).
    model: Mapped[str | None] = mapped_column(String(100), info=col_info())
    prompt_tokens: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info()
    )
    completion_tokens: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info()
    )
    latency_ms: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), info=col_info()
    )

    citations: Mapped[list[TutorCitation]] = relationship(
        lazy="raise",
        order_by="TutorCitation.rank",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND latency_ms >= 0",
            name="counts_not_negative",
        ),
        # A conversation's messages in order (and the conversation_id foreign key).
        Index("ix_ai_messages_conversation_created", "conversation_id", "created_at"),
        # The retention sweep: messages older than the cut-off.
        Index("ix_ai_messages_created_at", "created_at"),
    )


class TutorCitation(Base):
    """A passage of course material an answer quoted: which video, and where in it."""

    __tablename__ = "ai_message_citations"

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("ai_messages.id", ondelete="CASCADE"),
        primary_key=True,
        info=col_info(PersonalData.DELETE),
    )
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True, info=col_info())
    video_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("videos.id", ondelete="SET NULL"), index=True, info=col_info()
    )
    start_seconds: Mapped[float] = mapped_column(Float, info=col_info())
    end_seconds: Mapped[float] = mapped_column(Float, info=col_info())

    __table_args__ = (
        CheckConstraint(
            "rank >= 1 AND start_seconds >= 0 AND end_seconds >= start_seconds",
            name="valid_span",
        ),
    )


class TutorUsage(Base):
    """Questions a learner asked the tutor on one UTC day: the daily limit is enforced by one
    conditional upsert on this row, exact under concurrent requests."""

    __tablename__ = "ai_usage"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        info=col_info(PersonalData.DELETE),
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, info=col_info())
    messages: Mapped[int] = mapped_column(Integer, info=col_info(PersonalData.DELETE))

    __table_args__ = (
        CheckConstraint("messages >= 0", name="messages_not_negative"),
        # The retention sweep drops old days.
        Index("ix_ai_usage_day", "day"),
    )
