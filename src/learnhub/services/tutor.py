"""The AI tutor chat: enrolled learners ask questions about a course and get answers drawn
from its own material, with the passages cited.

Asking (`ask`) is three steps so that no database transaction stays open while a provider
thinks (seconds, for a remote model): `prepare` reads and checks everything, the transaction
is released, `answer` runs the provider, and `record` stores the exchange in one short write that
also takes the question from the learner's daily allowance (exactly, by one conditional
upsert: a race past the first check still cannot exceed the limit).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.domain.enums import ChatRole, CourseStatus
from learnhub.domain.errors import (
    InvalidValue,
    NotFound,
    TooManyRequests,
    TutorDisabled,
    TutorUnavailable,
)
from learnhub.domain.ids import new_id
from learnhub.domain.principal import Principal
from learnhub.models.course import Course
from learnhub.models.learning import TutorCitation, TutorConversation, TutorMessage
from learnhub.repositories.course import CourseRepository, VideoRepository
from learnhub.repositories.filters import CursorPagination, Page
from learnhub.repositories.tutor import (
    ConversationRepository,
    ConversationSummary,
    CourseMaterialRepository,
    MessageRepository,
    TutorUsageRepository,
)
from learnhub.services.activity import ActivityService
from learnhub.services.base import BaseService
from learnhub.services.learning import PARTICIPATE, EnrollmentService
from learnhub.tutor_providers import (
    Passage,
    Turn,
    TutorAnswer,
    TutorProvider,
    TutorProviderError,
    TutorQuestion,
)
from learnhub.tutor_providers.retrieval import transcript_passages

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True, slots=True)
class TutorPolicy:
    daily_message_limit: int = 50
    retention_days: int = 90
    history_turns: int = 6


@dataclass(frozen=True, slots=True)
class PreparedQuestion:
    conversation_id: uuid.UUID
    user_id: uuid.UUID
    asked_at: datetime
    question: TutorQuestion
    # The course of a conversation this question opens: the conversation is stored with
    # the exchange, so a question the provider could not answer leaves no empty one behind.
    opens_in_course: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    question: TutorMessage
    answer: TutorMessage


@dataclass(frozen=True, slots=True)
class CourseChat:
    """A learner's tutor chat about one course (the web page's read): their conversations
    about it, latest activity first, and the one open with its messages (None: a new one)."""

    course: Course
    conversations: list[ConversationSummary]
    conversation: TutorConversation | None
    messages: list[TutorMessage]


@dataclass(frozen=True, slots=True)
class PurgeReport:
    messages: int
    conversations: int
    usage_days: int


def seconds_until_next_utc_day(now: datetime) -> int:
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return max(1, int((tomorrow - now).total_seconds()))


def _question_text(content: str) -> str:
    text = content.strip()
    if not text:
        raise InvalidValue("ask a question: the message is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidValue(f"a question has at most {MAX_QUESTION_CHARS} characters")
    return text


class TutorService(BaseService):
    def __init__(
        self,
        uow: AbstractUnitOfWork,
        provider: TutorProvider,
        policy: TutorPolicy | None = None,
    ) -> None:
        super().__init__(uow)
        self.provider = provider
        self.policy = policy or TutorPolicy()

    async def start(
        self, principal: Principal, course_id: uuid.UUID, video_id: uuid.UUID | None
    ) -> TutorConversation:
        principal.require(PARTICIPATE)
        course = await self._tutored_course(principal, course_id)
        if video_id is not None:
            video = await self.uow.repo(VideoRepository).get_by_id(video_id)
            if video is None or video.course_id != course.id:
                raise NotFound("Video", video_id)
        return await self._open(principal.user_id, course.id, new_id(), video_id)

    async def conversation(
        self, principal: Principal, conversation_id: uuid.UUID
    ) -> tuple[TutorConversation, list[TutorMessage]]:
        conversation = await self._own(principal, conversation_id)
        messages = await self.uow.repo(MessageRepository).in_conversation(conversation.id)
        return conversation, messages

    async def mine(
        self, principal: Principal, course_id: uuid.UUID | None, pagination: CursorPagination
    ) -> Page[ConversationSummary]:
        """The caller's own conversations, latest activity first (optionally about one
        course). Every signed-in account may list its own; conversations about a deleted
        course are left out, as that course is unavailable to its learners."""
        return await self.uow.repo(ConversationRepository).page_of_user(
            principal.user_id, course_id, pagination
        )

    async def course_chat(
        self,
        principal: Principal,
        course_id: uuid.UUID,
        conversation_id: uuid.UUID | None,
        *,
        latest: bool = False,
        limit: int = 20,
    ) -> CourseChat:
        """An enrolled learner's chat about a course: their conversations about it and the
        one asked for (`latest`: the most recent one when none is named). Another learner's
        conversation, or one about another course, does not exist here (404)."""
        principal.require(PARTICIPATE)
        course = await self._tutored_course(principal, course_id)
        page = await self.mine(principal, course.id, CursorPagination(limit))
        if conversation_id is None and latest and page.items:
            conversation_id = page.items[0].id
        if conversation_id is None:
            return CourseChat(course, page.items, None, [])
        conversation = await self._own(principal, conversation_id)
        if conversation.course_id != course.id:
            raise NotFound("Conversation", conversation_id)
        messages = await self.uow.repo(MessageRepository).in_conversation(conversation.id)
        return CourseChat(course, page.items, conversation, messages)

    async def ask_new(self, principal: Principal, course_id: uuid.UUID, content: str) -> Exchange:
        """Open a conversation about a course with its first question (the web chat's first
        question, with no separate step to start one); the exchange names the new
        conversation. Like `ask`, no transaction stays open while the provider works."""
        principal.require(PARTICIPATE)
        text = _question_text(content)
        course = await self._tutored_course(principal, course_id)
        asked_at = utc_now()
        await self._check_allowance(principal.user_id, asked_at)
        prepared = PreparedQuestion(
            conversation_id=new_id(),
            user_id=principal.user_id,
            asked_at=asked_at,
            question=TutorQuestion(
                course_title=course.title,
                passages=tuple(await self._material(course)),
                question=text,
                history=(),
                focus_video_id=None,
            ),
            opens_in_course=course.id,
        )
        await self.uow.release_transaction()
        reply, latency_ms = await self.answer(prepared)
        return await self.record(prepared, reply, latency_ms)

    async def ask(self, principal: Principal, conversation_id: uuid.UUID, content: str) -> Exchange:
        """Ask the tutor: the question and its answer, stored."""
        prepared = await self.prepare(principal, conversation_id, content)
        # No transaction stays open while the provider works (seconds, for a remote model).
        await self.uow.release_transaction()
        reply, latency_ms = await self.answer(prepared)
        return await self.record(prepared, reply, latency_ms)

    async def prepare(
        self, principal: Principal, conversation_id: uuid.UUID, content: str
    ) -> PreparedQuestion:
        """Every check and read a question needs, before any provider runs."""
        principal.require(PARTICIPATE)
        text = _question_text(content)
        conversation = await self._own(principal, conversation_id)
        course = await self._tutored_course(principal, conversation.course_id)
        asked_at = utc_now()
        await self._check_allowance(principal.user_id, asked_at)
        history = await self.uow.repo(MessageRepository).latest(
            conversation.id, self.policy.history_turns
        )
        return PreparedQuestion(
            conversation_id=conversation.id,
            user_id=principal.user_id,
            asked_at=asked_at,
            question=TutorQuestion(
                course_title=course.title,
                passages=tuple(await self._material(course)),
                question=text,
                history=tuple(Turn(m.role.value, m.content) for m in history),
                focus_video_id=conversation.video_id,
            ),
        )

    async def answer(self, prepared: PreparedQuestion) -> tuple[TutorAnswer, int]:
        """The provider's answer and how long it took (ms). Touches no database."""
        started = time.perf_counter()
        try:
            reply = await self.provider.answer(prepared.question)
        except TutorProviderError as exc:
            raise TutorUnavailable(f"the tutor could not answer just now ({exc})") from exc
        return reply, round((time.perf_counter() - started) * 1000)

    async def record(
        self, prepared: PreparedQuestion, reply: TutorAnswer, latency_ms: int
    ) -> Exchange:
        """Store question and answer, counting the question against the daily limit."""
        usage = self.uow.repo(TutorUsageRepository)
        limit = self.policy.daily_message_limit
        if not await usage.take(prepared.user_id, prepared.asked_at.date(), limit):
            raise self._limit_reached(utc_now())
        if prepared.opens_in_course is not None:
            await self._open(prepared.user_id, prepared.opens_in_course, prepared.conversation_id)
        messages = self.uow.repo(MessageRepository)
        question = await messages.create(
            TutorMessage(
                conversation_id=prepared.conversation_id,
                role=ChatRole.USER,
                content=prepared.question.question,
                created_at=prepared.asked_at,
                citations=[],
            )
        )
        answer = await messages.create(
            TutorMessage(
                conversation_id=prepared.conversation_id,
                role=ChatRole.ASSISTANT,
                content=reply.content,
                model=reply.model[:100],
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                latency_ms=latency_ms,
                citations=[_citation(rank, p) for rank, p in enumerate(reply.citations, 1)],
            )
        )
        await self.uow.repo(ConversationRepository).update_system_fields(
            prepared.conversation_id, {"last_message_at": answer.created_at}
        )
        ActivityService(self.uow).record(
            prepared.user_id,
            "tutor_question",
            subject_type="tutor_conversation",
            subject_id=prepared.conversation_id,
        )
        return Exchange(question=question, answer=answer)

    async def purge_expired(self, now: datetime | None = None) -> PurgeReport:
        """Retention: messages older than the period go for good, then conversations idle
        that long, then usage days past it."""
        cutoff = (now or utc_now()) - timedelta(days=self.policy.retention_days)
        messages = self.uow.repo(MessageRepository)
        expired = await messages.created_before(cutoff)
        await messages.purge(expired)
        conversations = self.uow.repo(ConversationRepository)
        idle = await conversations.idle_since(cutoff)
        await conversations.purge(idle)
        days = await self.uow.repo(TutorUsageRepository).purge_before(cutoff.date())
        return PurgeReport(messages=len(expired), conversations=len(idle), usage_days=days)

    # ---- helpers ----------------------------------------------------------------------------

    async def _open(
        self,
        user_id: uuid.UUID,
        course_id: uuid.UUID,
        conversation_id: uuid.UUID,
        video_id: uuid.UUID | None = None,
    ) -> TutorConversation:
        conversation = await self.uow.repo(ConversationRepository).create(
            TutorConversation(
                id=conversation_id, user_id=user_id, course_id=course_id, video_id=video_id
            )
        )
        ActivityService(self.uow).record(
            user_id, "tutor_conversation_started", subject_type="course", subject_id=course_id
        )
        return conversation

    async def _check_allowance(self, user_id: uuid.UUID, asked_at: datetime) -> None:
        used = await self.uow.repo(TutorUsageRepository).used(user_id, asked_at.date())
        if used >= self.policy.daily_message_limit:
            raise self._limit_reached(asked_at)

    async def _own(self, principal: Principal, conversation_id: uuid.UUID) -> TutorConversation:
        conversation = await self.uow.repo(ConversationRepository).get_by_id(conversation_id)
        # Another learner's conversation does not exist for the caller, an admin included.
        if conversation is None or conversation.user_id != principal.user_id:
            raise NotFound("Conversation", conversation_id)
        return conversation

    async def _tutored_course(self, principal: Principal, course_id: uuid.UUID) -> Course:
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        if course is None or course.status == CourseStatus.DRAFT:
            raise NotFound("Course", course_id)
        await EnrollmentService(self.uow).require(principal.user_id, course.id)
        if not course.tutor_enabled:
            raise TutorDisabled("the AI tutor is switched off for this course")
        return course

    async def _material(self, course: Course) -> list[Passage]:
        passages = [Passage(text=course.description, source_title=course.title)]
        for video in await self.uow.repo(CourseMaterialRepository).videos(course.id):
            passages += transcript_passages(
                video.video_id, video.title, video.duration_seconds, video.transcript
            )
        return [p for p in passages if p.text.strip()]

    def _limit_reached(self, now: datetime) -> TooManyRequests:
        return TooManyRequests(
            f"the daily limit of {self.policy.daily_message_limit} tutor questions is reached; "
            "it resets at midnight UTC",
            retry_after_seconds=seconds_until_next_utc_day(now),
        )


def _citation(rank: int, passage: Passage) -> TutorCitation:
    return TutorCitation(
        rank=rank,
        video_id=passage.video_id,
        start_seconds=passage.start_seconds,
        end_seconds=max(passage.start_seconds, passage.end_seconds),
    )
