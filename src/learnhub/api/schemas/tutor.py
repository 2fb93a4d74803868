from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.common import Input, Output, Words
from learnhub.api.schemas.examples import example
from learnhub.domain.enums import ChatRole
from learnhub.services.tutor import MAX_QUESTION_CHARS


class ConversationIn(Input):
    model_config = example({"video_id": ex.VIDEO_ID})

    video_id: uuid.UUID | None = None


class MessageIn(Input):
    model_config = example({"content": "Why label both axes?"})

    content: Words = Field(min_length=1, max_length=MAX_QUESTION_CHARS)


class CitationOut(Output):
    model_config = example(ex.MESSAGES[1]["citations"][0])

    video_id: uuid.UUID | None
    start_seconds: float
    end_seconds: float


class MessageOut(Output):
    model_config = example(ex.MESSAGES[1])

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
    model_config = example({"question": ex.MESSAGES[0], "answer": ex.MESSAGES[1]})

    question: MessageOut
    answer: MessageOut


class ConversationOut(Output):
    model_config = example(
        {
            "id": ex.CONVERSATION_ID,
            "course_id": ex.COURSE_ID,
            "video_id": ex.VIDEO_ID,
            "created_at": ex.UPDATED,
            "last_message_at": ex.UPDATED,
            "messages": ex.MESSAGES,
        }
    )

    id: uuid.UUID
    course_id: uuid.UUID
    video_id: uuid.UUID | None
    created_at: datetime
    last_message_at: datetime | None
    messages: list[MessageOut]


class ConversationCourse(Output):
    model_config = example({"id": ex.COURSE_ID, "title": "Data visualisation"})

    id: uuid.UUID
    title: str


class ConversationSummaryOut(Output):
    """One of the caller's conversations in their list (the messages are read with
    `GET /conversations/{id}`)."""

    model_config = example(
        {
            "id": ex.CONVERSATION_ID,
            "course": {"id": ex.COURSE_ID, "title": "Data visualisation"},
            "video_id": ex.VIDEO_ID,
            "created_at": ex.UPDATED,
            "last_message_at": ex.UPDATED,
            "last_activity_at": ex.UPDATED,
            "message_count": 2,
        }
    )

    id: uuid.UUID
    course: ConversationCourse
    video_id: uuid.UUID | None
    created_at: datetime
    # null before the first question
    last_message_at: datetime | None
    # the last message's time, or the start's: the list's order, newest first
    last_activity_at: datetime
    message_count: int
