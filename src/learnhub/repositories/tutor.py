"""The AI tutor's conversations, messages, daily usage, and the course material it reads."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from learnhub.db.session import AUDITED_BULK
from learnhub.db.soft_delete import INCLUDE_DELETED, including_deleted, live
from learnhub.models.course import Course, Section, Video
from learnhub.models.learning import TutorConversation, TutorMessage, TutorUsage
from learnhub.models.types import UTCDateTime
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import CursorPagination, Page, Sort
from learnhub.repositories.pages import keyset_page

# A conversation's latest activity: its last message, or its start when it has none.
LAST_ACTIVITY = func.coalesce(
    TutorConversation.last_message_at, TutorConversation.created_at, type_=UTCDateTime()
).label("last_activity_at")
RECENT = Sort("recent", LAST_ACTIVITY, descending=True, value_type=datetime)


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One of a learner's conversations as their list shows it."""

    id: uuid.UUID
    course_id: uuid.UUID
    course_title: str
    video_id: uuid.UUID | None
    created_at: datetime
    last_message_at: datetime | None
    message_count: int
    last_activity_at: datetime


class ConversationRepository(BaseRepository[TutorConversation]):
    model = TutorConversation
    sorts: ClassVar[Mapping[str, Sort]] = {
        "newest": Sort("newest", TutorConversation.created_at, descending=True)
    }

    async def page_of_user(
        self, user_id: uuid.UUID, course_id: uuid.UUID | None, pagination: CursorPagination
    ) -> Page[ConversationSummary]:
        """A learner's live conversations on live courses, latest activity first, in one
        statement: the course's title by a join, the message count by a correlated count on
        the messages' (conversation_id, created_at) index."""
        count = (
            select(func.count())
            .where(TutorMessage.conversation_id == TutorConversation.id, live(TutorMessage))
            .scalar_subquery()
        )
        stmt = (
            select(
                TutorConversation.id,
                TutorConversation.course_id,
                Course.title,
                TutorConversation.video_id,
                TutorConversation.created_at,
                TutorConversation.last_message_at,
                count,
                LAST_ACTIVITY,
            )
            .join(Course, (Course.id == TutorConversation.course_id) & live(Course))
            .where(TutorConversation.user_id == user_id, live(TutorConversation))
        )
        if course_id is not None:
            stmt = stmt.where(TutorConversation.course_id == course_id)
        page = await keyset_page(
            self.session, stmt, RECENT, TutorConversation.id, pagination, rows=True
        )
        items = [ConversationSummary(*row) for row in page.items]
        return Page(items=items, next_cursor=page.next_cursor)

    async def idle_since(self, cutoff: datetime) -> list[uuid.UUID]:
        """Conversations with no message since `cutoff` (or none at all, created before it)."""
        last = func.coalesce(TutorConversation.last_message_at, TutorConversation.created_at)
        result = await self.session.execute(
            including_deleted(select(TutorConversation.id).where(last < cutoff))
        )
        return list(result.scalars().all())

    async def purge(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete conversations (their messages and citations go by ON DELETE CASCADE,
        audited first)."""
        for conversation_id in ids:
            await self.hard_delete(conversation_id)


class MessageRepository(BaseRepository[TutorMessage]):
    model = TutorMessage

    async def in_conversation(self, conversation_id: uuid.UUID) -> list[TutorMessage]:
        """The whole conversation in order, citations loaded (two statements)."""
        return (await self.in_conversations([conversation_id])).get(conversation_id, [])

    async def in_conversations(
        self, conversation_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[TutorMessage]]:
        """Several conversations' messages in order, citations loaded (two statements)."""
        found: dict[uuid.UUID, list[TutorMessage]] = {}
        if not conversation_ids:
            return found
        result = await self.session.execute(
            select(TutorMessage)
            .where(TutorMessage.conversation_id.in_(list(conversation_ids)))
            .order_by(TutorMessage.created_at, TutorMessage.id)
            .options(selectinload(TutorMessage.citations))
        )
        for message in result.scalars():
            found.setdefault(message.conversation_id, []).append(message)
        return found

    async def latest(self, conversation_id: uuid.UUID, limit: int) -> list[TutorMessage]:
        """The last `limit` messages, oldest first (the context of the next question)."""
        if limit <= 0:
            return []
        result = await self.session.execute(
            select(TutorMessage)
            .where(TutorMessage.conversation_id == conversation_id)
            .order_by(TutorMessage.created_at.desc(), TutorMessage.id.desc())
            .limit(limit)
        )
        return list(reversed(result.scalars().all()))

    async def created_before(self, cutoff: datetime) -> list[uuid.UUID]:
        result = await self.session.execute(
            including_deleted(select(TutorMessage.id).where(TutorMessage.created_at < cutoff))
        )
        return list(result.scalars().all())

    async def purge(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete messages past retention, audited as `hard_delete` first (their text
        never entered the trail); citations go with them by ON DELETE CASCADE."""
        if not ids:
            return
        await self.audit_removal(ids)
        await self.session.execute(
            delete(TutorMessage)
            .where(TutorMessage.id.in_(ids))
            .execution_options(**{AUDITED_BULK: True, INCLUDE_DELETED: True})
        )


class TutorUsageRepository:
    """Questions per learner and UTC day. Taking one is a single conditional upsert, so the
    daily limit holds exactly under concurrent requests on both engines."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def used(self, user_id: uuid.UUID, day: date) -> int:
        result = await self.session.execute(
            select(TutorUsage.messages).where(TutorUsage.user_id == user_id, TutorUsage.day == day)
        )
        return int(result.scalar_one_or_none() or 0)

    async def take(self, user_id: uuid.UUID, day: date, limit: int) -> bool:
        """Count one more question unless `limit` are used already; False when they are."""
        if limit <= 0:
            return False
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        upsert = insert(TutorUsage).values(user_id=user_id, day=day, messages=1)
        stmt = upsert.on_conflict_do_update(
            index_elements=[TutorUsage.user_id, TutorUsage.day],
            set_={"messages": TutorUsage.messages + 1},
            where=TutorUsage.messages < limit,
        ).returning(TutorUsage.messages)
        result = await self.session.execute(stmt)
        return result.first() is not None

    async def purge_before(self, day: date) -> int:
        result: Any = await self.session.execute(delete(TutorUsage).where(TutorUsage.day < day))
        return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class VideoMaterial:
    video_id: uuid.UUID
    title: str
    duration_seconds: int
    transcript: str


class CourseMaterialRepository:
    """What the tutor may read of a course: its live videos in course order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def videos(self, course_id: uuid.UUID) -> list[VideoMaterial]:
        result = await self.session.execute(
            select(Video.id, Video.title, Video.duration_seconds, Video.transcript)
            .join(Section, Section.id == Video.section_id)
            .where(Video.course_id == course_id)
            .order_by(Section.position, Video.position)
        )
        return [VideoMaterial(*row) for row in result.all()]
