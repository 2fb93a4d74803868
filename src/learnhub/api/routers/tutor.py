"""The AI tutor chat: enrolled learners' own conversations about a course."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from learnhub.api.deps import Caller, Limit, Uow
from learnhub.api.query_parameters import KnownQueryOnly
from learnhub.api.schemas.common import PROBLEM_RESPONSES, Cursor, PageOut, Problem
from learnhub.api.schemas.tutor import (
    ConversationCourse,
    ConversationIn,
    ConversationOut,
    ConversationSummaryOut,
    ExchangeOut,
    MessageIn,
    MessageOut,
)
from learnhub.db.uow import UnitOfWork
from learnhub.models.learning import TutorMessage
from learnhub.repositories.filters import CursorPagination
from learnhub.services.tutor import TutorService

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "the tutor provider cannot answer just now"}
}
router = APIRouter(tags=["tutor"], responses=PROBLEM_RESPONSES)


def tutor_service(request: Request, uow: UnitOfWork) -> TutorService:
    state = request.app.state
    return TutorService(uow, state.tutor_provider, state.tutor_policy)


def message_out(message: TutorMessage) -> MessageOut:
    return MessageOut.model_validate(message)


@router.post(
    "/courses/{course_id}/conversations",
    summary="Start a tutor conversation",
    status_code=status.HTTP_201_CREATED,
)
async def start_conversation(
    course_id: uuid.UUID, body: ConversationIn, caller: Caller, uow: Uow, request: Request
) -> ConversationOut:
    """Start a conversation with the tutor about a course (optionally one of its videos);
    enrolled learners only."""
    conversation = await tutor_service(request, uow).start(caller, course_id, body.video_id)
    return ConversationOut(
        id=conversation.id,
        course_id=conversation.course_id,
        video_id=conversation.video_id,
        created_at=conversation.created_at,
        last_message_at=None,
        messages=[],
    )


@router.get(
    "/users/me/conversations",
    summary="List my tutor conversations",
    dependencies=[KnownQueryOnly],
)
async def my_conversations(
    caller: Caller,
    uow: Uow,
    request: Request,
    course_id: Annotated[
        uuid.UUID | None, Query(description="only the conversations about this course")
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> PageOut[ConversationSummaryOut]:
    """The caller's own conversations with the tutor, latest activity (last message, else
    start) first, with each one's course and message count. Conversations about a deleted
    course are not listed."""
    page = await tutor_service(request, uow).mine(
        caller, course_id, CursorPagination(limit, cursor)
    )
    items = [
        ConversationSummaryOut(
            id=c.id,
            course=ConversationCourse(id=c.course_id, title=c.course_title),
            video_id=c.video_id,
            created_at=c.created_at,
            last_message_at=c.last_message_at,
            last_activity_at=c.last_activity_at,
            message_count=c.message_count,
        )
        for c in page.items
    ]
    return PageOut(items=items, next_cursor=page.next_cursor)


@router.get("/conversations/{conversation_id}", summary="Read a tutor conversation")
async def get_conversation(
    conversation_id: uuid.UUID, caller: Caller, uow: Uow, request: Request
) -> ConversationOut:
    """One of the caller's own conversations, every message in order with its citations."""
    conversation, messages = await tutor_service(request, uow).conversation(caller, conversation_id)
    return ConversationOut(
        id=conversation.id,
        course_id=conversation.course_id,
        video_id=conversation.video_id,
        created_at=conversation.created_at,
        last_message_at=conversation.last_message_at,
        messages=[message_out(m) for m in messages],
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    summary="Ask the tutor a question",
    status_code=status.HTTP_201_CREATED,
    responses=UNAVAILABLE,
)
async def ask(
    conversation_id: uuid.UUID, body: MessageIn, caller: Caller, uow: Uow, request: Request
) -> ExchangeOut:
    """Ask the tutor. The answer quotes the course's own material and cites the video and
    time each passage comes from; 429 once the daily limit of questions is reached."""
    exchange = await tutor_service(request, uow).ask(caller, conversation_id, body.content)
    return ExchangeOut(question=message_out(exchange.question), answer=message_out(exchange.answer))
