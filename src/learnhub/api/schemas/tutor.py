from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from learnhub.api.schemas.common import Input, Output, Words
from learnhub.domain.enums import ChatRole
from learnhub.services.tutor import MAX_QUESTION_CHARS


class ConversationIn(Input):
    video_id: uuid.UUID | None = None


class MessageIn(Input):
    content: Words = Field(min_length=1, max_length=MAX_QUESTION_CHARS)


class CitationOut(Output):
    video_id: uuid.UUID | None
    start_seconds: float
    end_seconds: float


class MessageOut(Output):
    id: uuid.UUID
    role: ChatRole
    content: str
    citations: list[CitationOut]
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    created_at: datetime


class ExchangeOut(Output):
    question: MessageOut
    answer: MessageOut


class ConversationOut(Output):
    id: uuid.UUID
    course_id: uuid.UUID
    video_id: uuid.UUID | None
    created_at: datetime
    last_message_at: datetime | None
    messages: list[MessageOut]
