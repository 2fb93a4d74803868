"""Authoring, publishing and the catalog."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import inspect

from learnhub.db.audit import entity_type_of
from learnhub.domain.enums import CourseStatus, DifficultyLevel, QuestionType
from learnhub.domain.errors import (
    Conflict,
    InvalidValue,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from learnhub.domain.permissions import COURSES_AUTHOR, COURSES_MANAGE
from learnhub.domain.principal import Principal
from learnhub.domain.value_objects import Duration, Price
from learnhub.events.events import CourseArchived, CoursePublished
from learnhub.models.audit import AuditLog
from learnhub.models.course import (
    Course,
    CourseObjective,
    Quiz,
    QuizOption,
    QuizQuestion,
    Section,
    Video,
)
from learnhub.models.types import utc_now
from learnhub.repositories.audit import AuditLogRepository
from learnhub.repositories.course import (
    CatalogCard,
    CourseRepository,
    CourseText,
    HasTag,
    Listed,
    QuestionRepository,
    QuizRepository,
    SectionRepository,
    TagRepository,
    VideoRepository,
)
from learnhub.repositories.filters import CursorPagination, Eq, Filter, NotEq, Page, Range
from learnhub.repositories.learning import EnrollmentRepository
from learnhub.services.base import BaseService

AUTHOR, MANAGE = COURSES_AUTHOR, COURSES_MANAGE
MAX_TAGS, MAX_OBJECTIVES, MAX_QUESTIONS, MAX_OPTIONS = 10, 20, 100, 10


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:200] or "course"


def _title(raw: str, what: str = "title") -> str:
    value = raw.strip()
    if not 1 <= len(value) <= 200:
        raise InvalidValue(f"{what} must be 1 to 200 characters")
    return value


def _tags(raw: Sequence[str]) -> list[str]:
    names = list(dict.fromkeys(t.strip().lower() for t in raw if t.strip()))
    if len(names) > MAX_TAGS or any(len(n) > 50 for n in names):
        raise InvalidValue(f"at most {MAX_TAGS} tags of up to 50 characters")
    return names


def _objectives(raw: Sequence[str]) -> list[str]:
    texts = [o.strip() for o in raw if o.strip()]
    if len(texts) > MAX_OBJECTIVES or any(len(t) > 300 for t in texts):
        raise InvalidValue(f"at most {MAX_OBJECTIVES} objectives of up to 300 characters")
    return texts


@dataclass(frozen=True, slots=True)
class CourseDraft:
    title: str
    description: str = ""
    price: Price = field(default_factory=lambda: Price(Decimal("0"), "USD"))
    difficulty: DifficultyLevel = DifficultyLevel.BEGINNER
    tags: Sequence[str] = ()
    objectives: Sequence[str] = ()
    slug: str | None = None


@dataclass(frozen=True, slots=True)
class CourseChanges:
    title: str | None = None
    description: str | None = None
    price: Price | None = None
    difficulty: DifficultyLevel | None = None
    tags: Sequence[str] | None = None
    objectives: Sequence[str] | None = None
    tutor_enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class SectionChanges:
    """A partial update of a section: None leaves a field as it is."""

    title: str | None = None
    position: int | None = None


@dataclass(frozen=True, slots=True)
class VideoChanges:
    """A partial update of a video: None leaves a field as it is."""

    title: str | None = None
    url: str | None = None
    duration_seconds: float | None = None
    position: int | None = None
    transcript: str | None = None
    is_preview: bool | None = None


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    q: str | None = None
    difficulty: DifficultyLevel | None = None
    min_price: Any = None
    max_price: Any = None
    tag: str | None = None
    instructor_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class OptionSpec:
    text: str
    is_correct: bool = False


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    text: str
    type: QuestionType
    options: Sequence[OptionSpec] = ()
    answer_text: str | None = None


@dataclass(frozen=True, slots=True)
class QuizSpec:
    title: str
    pass_mark: int = 70
    max_attempts: int | None = None
    time_limit_seconds: int | None = None
    questions: Sequence[QuestionSpec] = ()


def validate_question(spec: QuestionSpec) -> None:
    if not 1 <= len(spec.text.strip()) <= 2000:
        raise InvalidValue("question text must be 1 to 2000 characters")
    correct = sum(1 for o in spec.options if o.is_correct)
    count = len(spec.options)
    if count > MAX_OPTIONS or any(not 1 <= len(o.text.strip()) <= 500 for o in spec.options):
        raise InvalidValue(f"a question has at most {MAX_OPTIONS} options of 1-500 characters")
    if spec.type == QuestionType.SHORT_ANSWER:
        if count or not (spec.answer_text and spec.answer_text.strip()):
            raise InvalidValue("a short-answer question has an answer_text and no options")
    elif spec.type == QuestionType.SINGLE_CHOICE:
        if count < 2 or correct != 1:
            raise InvalidValue("a single-choice question has 2+ options, exactly one correct")
    elif spec.type == QuestionType.MULTIPLE_CHOICE:
        if count < 2 or correct < 1:
            raise InvalidValue("a multiple-choice question has 2+ options, at least one correct")
    elif spec.type == QuestionType.TRUE_FALSE and (count != 2 or correct != 1):
        raise InvalidValue("a true/false question has exactly two options, one correct")


def validate_quiz(spec: QuizSpec) -> None:
    _title(spec.title)
    if not 0 <= spec.pass_mark <= 100:
        raise InvalidValue("pass_mark is a percentage (0-100)")
    if spec.max_attempts is not None and spec.max_attempts < 1:
        raise InvalidValue("max_attempts must be at least 1")
    if spec.time_limit_seconds is not None:
        Duration(spec.time_limit_seconds)
        if spec.time_limit_seconds < 1:
            raise InvalidValue("time_limit_seconds must be positive")
    if len(spec.questions) > MAX_QUESTIONS:
        raise InvalidValue(f"a quiz has at most {MAX_QUESTIONS} questions")
    for question in spec.questions:
        validate_question(question)


class ContentAccess(StrEnum):
    """How much of a course's content a caller may see (SPEC 5, access to content)."""

    OUTLINE = "outline"  # titles, durations, positions, question counts; previews in full
    LEARNER = "learner"  # an enrolled learner: urls, transcripts, questions (no answer keys)
    EDITOR = "editor"  # the course's instructor and admins: everything, answer keys included

    @property
    def full(self) -> bool:
        return self is not ContentAccess.OUTLINE


@dataclass(frozen=True, slots=True)
class CourseView:
    course: Course
    access: ContentAccess


class CourseService(BaseService):
    """`principal` is the caller; None for the anonymous public."""

    # ---- access ---------------------------------------------------------------------------

    @staticmethod
    def can_edit(principal: Principal | None, course: Course) -> bool:
        if principal is None:
            return False
        if principal.can(MANAGE):
            return True
        return principal.can(AUTHOR) and course.instructor_id == principal.user_id

    def _require_edit(self, principal: Principal, course: Course) -> None:
        if not self.can_edit(principal, course):
            if course.status != CourseStatus.PUBLISHED:
                raise NotFound("Course", course.id)  # drafts of others do not exist for you
            raise PermissionDenied("only the course's instructor or an admin may change it")

    async def _editable(self, principal: Principal, course_id: uuid.UUID) -> Course:
        course = await self.uow.repo(CourseRepository).get(course_id)
        self._require_edit(principal, course)
        return course

    # ---- reading --------------------------------------------------------------------------

    async def catalog(
        self, query: CatalogQuery, pagination: CursorPagination, sort: str | None
    ) -> Page[CatalogCard]:
        filters: list[Filter] = [Listed()]
        if query.q:
            filters.append(CourseText(query.q))
        if query.difficulty is not None:
            filters.append(Eq(Course.difficulty, query.difficulty))
        if query.min_price is not None or query.max_price is not None:
            filters.append(Range(Course.price_amount, query.min_price, query.max_price))
        if query.tag:
            filters.append(HasTag(query.tag.strip().lower()))
        if query.instructor_id is not None:
            filters.append(Eq(Course.instructor_id, query.instructor_id))
        if sort == "created":
            raise InvalidValue("unknown sort 'created'")
        return await self.uow.repo(CourseRepository).catalog_page(filters, pagination, sort)

    async def mine(self, principal: Principal | None, pagination: CursorPagination) -> Page[Course]:
        if principal is None:
            raise NotAuthenticated("log in to list your own courses")
        principal.require(AUTHOR)
        return await self.uow.repo(CourseRepository).get_all(
            [Eq(Course.instructor_id, principal.user_id)], pagination, "created"
        )

    async def access(self, principal: Principal | None, course: Course) -> ContentAccess | None:
        """What the caller may see of `course`; None when it does not exist for them.

        A draft exists for its editors only; a published course's outline is public; an
        archived one is out of the catalog but stays open to the learners enrolled in it.
        Enrolment costs one indexed lookup, and only for a logged-in caller who is not an
        editor of the course."""
        if self.can_edit(principal, course):
            return ContentAccess.EDITOR
        if course.status == CourseStatus.DRAFT:
            return None
        if principal is not None and await self.uow.repo(EnrollmentRepository).is_open(
            principal.user_id, course.id
        ):
            return ContentAccess.LEARNER
        return ContentAccess.OUTLINE if course.status == CourseStatus.PUBLISHED else None

    async def view(self, principal: Principal | None, course_id: uuid.UUID) -> CourseView:
        """The course page and how much of it the caller may see."""
        course = await self.uow.repo(CourseRepository).get_detail(course_id)
        access = None if course is None else await self.access(principal, course)
        if course is None or access is None:
            raise NotFound("Course", course_id)
        return CourseView(course, access)

    async def _visible(self, principal: Principal | None, course_id: uuid.UUID) -> ContentAccess:
        """The caller's access to a course whose content they read (404 when they may not)."""
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        access = None if course is None else await self.access(principal, course)
        if access is None:
            raise NotFound("Course", course_id)
        return access

    async def detail(self, principal: Principal | None, course_id: uuid.UUID) -> Course:
        """The course page, for callers who may see the course at all."""
        return (await self.view(principal, course_id)).course

    async def history(
        self,
        principal: Principal,
        course_id: uuid.UUID,
        limit: int,
        before: tuple[Any, uuid.UUID] | None = None,
    ) -> list[AuditLog]:
        course = await self.uow.repo(CourseRepository).get(course_id, include_deleted=True)
        self._require_edit(principal, course)
        # The course's own entries and those of its content, deleted content included.
        ids = [course.id]
        ids += await self.uow.repo(SectionRepository).ids_where(
            [Eq(Section.course_id, course.id)], include_deleted=True
        )
        ids += await self.uow.repo(VideoRepository).ids_where(
            [Eq(Video.course_id, course.id)], include_deleted=True
        )
        ids += await self.uow.repo(QuizRepository).ids_where(
            [Eq(Quiz.course_id, course.id)], include_deleted=True
        )
        types = [entity_type_of(inspect(m)) for m in (Course, Section, Video, Quiz)]
        return await self.uow.repo(AuditLogRepository).for_entities(types, ids, limit, before)

    # ---- course lifecycle -------------------------------------------------------------------

    async def create(self, principal: Principal, draft: CourseDraft) -> Course:
        principal.require(AUTHOR)
        repo = self.uow.repo(CourseRepository)
        slug = slugify(draft.slug or draft.title)
        if draft.slug is not None:
            if await repo.slug_taken(slug):
                raise Conflict(f"slug {slug!r} is taken", field="slug")
        else:
            taken = await repo.slugs_like(slug)
            base, n = slug, 2
            while slug in taken:
                slug, n = f"{base}-{n}", n + 1
        course = Course(
            title=_title(draft.title),
            slug=slug,
            description=draft.description.strip(),
            instructor_id=principal.user_id,
            price_amount=draft.price.amount,
            price_currency=draft.price.currency,
            difficulty=draft.difficulty,
            tags=await self.uow.repo(TagRepository).get_or_create(_tags(draft.tags)),
            objectives=[
                CourseObjective(position=i, text=t)
                for i, t in enumerate(_objectives(draft.objectives))
            ],
        )
        return await repo.create(course)

    async def update(
        self,
        principal: Principal,
        course_id: uuid.UUID,
        changes: CourseChanges,
        expected_version: int | None,
    ) -> Course:
        repo = self.uow.repo(CourseRepository)
        course = await repo.get_detail(course_id)
        if course is None:
            raise NotFound("Course", course_id)
        self._require_edit(principal, course)
        repo.check_version(course, expected_version)
        if changes.title is not None:
            course.title = _title(changes.title)
        if changes.description is not None:
            course.description = changes.description.strip()
        if changes.price is not None:
            course.price_amount, course.price_currency = (
                changes.price.amount,
                changes.price.currency,
            )
        if changes.difficulty is not None:
            course.difficulty = changes.difficulty
        if changes.tutor_enabled is not None:
            course.tutor_enabled = changes.tutor_enabled
        if changes.tags is not None:
            course.tags = await self.uow.repo(TagRepository).get_or_create(_tags(changes.tags))
            course.updated_at = utc_now()  # membership changes move the version too
        if changes.objectives is not None:
            texts = _objectives(changes.objectives)
            if texts != [o.text for o in course.objectives]:
                course.objectives = [
                    CourseObjective(position=i, text=t) for i, t in enumerate(texts)
                ]
                course.updated_at = utc_now()
        await repo.flush(course)
        return course

    async def publish(
        self, principal: Principal, course_id: uuid.UUID, expected_version: int | None = None
    ) -> Course:
        repo = self.uow.repo(CourseRepository)
        course = await self._editable(principal, course_id)
        repo.check_version(course, expected_version)
        if course.status == CourseStatus.PUBLISHED:
            return course
        if await repo.live_video_count(course.id) < 1:
            raise Conflict("a course needs at least one video to be published")
        Price(course.price_amount, course.price_currency)  # still a valid price
        course.status = CourseStatus.PUBLISHED
        course.published_at = utc_now()
        await repo.flush(course)
        self.uow.record(CoursePublished(course_id=course.id, instructor_id=course.instructor_id))
        return course

    async def archive(
        self, principal: Principal, course_id: uuid.UUID, expected_version: int | None = None
    ) -> Course:
        repo = self.uow.repo(CourseRepository)
        course = await self._editable(principal, course_id)
        repo.check_version(course, expected_version)
        if course.status != CourseStatus.PUBLISHED:
            raise Conflict(f"only a published course can be archived (it is {course.status})")
        course.status = CourseStatus.ARCHIVED
        await repo.flush(course)
        self.uow.record(CourseArchived(course_id=course.id))
        return course

    async def delete(
        self, principal: Principal, course_id: uuid.UUID, expected_version: int | None = None
    ) -> None:
        await self._editable(principal, course_id)
        await self.uow.repo(CourseRepository).delete(course_id, expected_version)

    async def restore(self, principal: Principal, course_id: uuid.UUID) -> Course:
        repo = self.uow.repo(CourseRepository)
        course = await repo.get(course_id, include_deleted=True)
        self._require_edit(principal, course)
        await repo.restore(course_id)
        return await self.detail(principal, course_id)

    async def hard_delete(self, principal: Principal, course_id: uuid.UUID) -> None:
        principal.require(MANAGE)
        await self.uow.repo(CourseRepository).hard_delete(course_id)

    # ---- sections ---------------------------------------------------------------------------

    async def add_section(
        self, principal: Principal, course_id: uuid.UUID, title: str, position: int | None = None
    ) -> Section:
        course = await self._editable(principal, course_id)
        sections = self.uow.repo(SectionRepository)
        if position is None:  # appending always works: max + 1, past the chosen-position limit
            position = await sections.next_position(course.id)
        else:
            position = _position(position)
        return await sections.create(
            Section(course_id=course.id, title=_title(title), position=position)
        )

    async def _section(
        self, principal: Principal, section_id: uuid.UUID, *, include_deleted: bool = False
    ) -> tuple[Section, Course]:
        section = await self.uow.repo(SectionRepository).get(
            section_id, include_deleted=include_deleted
        )
        course = await self.uow.repo(CourseRepository).get(section.course_id)
        self._require_edit(principal, course)
        return section, course

    async def get_section(self, principal: Principal | None, section_id: uuid.UUID) -> Section:
        section = await self.uow.repo(SectionRepository).get(section_id)
        await self._visible(principal, section.course_id)  # visible iff its course is
        return section

    async def update_section(
        self,
        principal: Principal,
        section_id: uuid.UUID,
        changes: SectionChanges,
        expected_version: int | None = None,
    ) -> Section:
        section, _ = await self._section(principal, section_id)
        data: dict[str, Any] = {}
        if changes.title is not None:
            data["title"] = _title(changes.title)
        if changes.position is not None:
            data["position"] = _position(changes.position)
        return await self.uow.repo(SectionRepository).update(section.id, data, expected_version)

    async def delete_section(
        self, principal: Principal, section_id: uuid.UUID, expected_version: int | None = None
    ) -> None:
        section, course = await self._section(principal, section_id)
        self.uow.repo(SectionRepository).check_version(section, expected_version)
        await self._keep_a_video(course, NotEq(Video.section_id, section.id))
        await self.uow.repo(SectionRepository).delete(section.id, expected_version)

    async def restore_section(self, principal: Principal, section_id: uuid.UUID) -> Section:
        section, _ = await self._section(principal, section_id, include_deleted=True)
        return await self.uow.repo(SectionRepository).restore(section.id)

    async def reorder_sections(
        self, principal: Principal, course_id: uuid.UUID, ordered_ids: Sequence[uuid.UUID]
    ) -> list[Section]:
        course = await self._editable(principal, course_id)
        repo = self.uow.repo(SectionRepository)
        return await _reorder(repo, course.id, ordered_ids)

    # ---- videos -----------------------------------------------------------------------------

    async def add_video(
        self,
        principal: Principal,
        section_id: uuid.UUID,
        *,
        title: str,
        url: str,
        duration_seconds: int,
        position: int | None = None,
        transcript: str = "",
        is_preview: bool = False,
    ) -> Video:
        section, course = await self._section(principal, section_id)
        videos = self.uow.repo(VideoRepository)
        if position is None:  # appending always works: max + 1, past the chosen-position limit
            position = await videos.next_position(section.id)
        else:
            position = _position(position)
        return await videos.create(
            Video(
                course_id=course.id,
                section_id=section.id,
                title=_title(title),
                url=_url(url),
                duration_seconds=_duration(duration_seconds),
                position=position,
                transcript=transcript,
                is_preview=is_preview,
            )
        )

    async def _video(
        self, principal: Principal, video_id: uuid.UUID, *, include_deleted: bool = False
    ) -> tuple[Video, Course]:
        video = await self.uow.repo(VideoRepository).get(video_id, include_deleted=include_deleted)
        course = await self.uow.repo(CourseRepository).get(video.course_id)
        self._require_edit(principal, course)
        return video, course

    async def get_video(
        self, principal: Principal | None, video_id: uuid.UUID
    ) -> tuple[Video, ContentAccess]:
        """The video, and how much of the course the caller may see (a locked video shows
        no url or transcript unless it is a free preview)."""
        video = await self.uow.repo(VideoRepository).get(video_id)
        return video, await self._visible(principal, video.course_id)

    async def update_video(
        self,
        principal: Principal,
        video_id: uuid.UUID,
        changes: VideoChanges,
        expected_version: int | None = None,
    ) -> Video:
        video, _ = await self._video(principal, video_id)
        checks: dict[str, Callable[[Any], Any]] = {
            "title": _title,
            "url": _url,
            "duration_seconds": _duration,
            "position": _position,
            "transcript": str,
            "is_preview": bool,
        }
        clean = {
            key: check(value)
            for key, check in checks.items()
            if (value := getattr(changes, key)) is not None
        }
        return await self.uow.repo(VideoRepository).update(video.id, clean, expected_version)

    async def delete_video(
        self, principal: Principal, video_id: uuid.UUID, expected_version: int | None = None
    ) -> None:
        video, course = await self._video(principal, video_id)
        self.uow.repo(VideoRepository).check_version(video, expected_version)
        await self._keep_a_video(course, NotEq(Video.id, video.id))
        await self.uow.repo(VideoRepository).delete(video.id, expected_version)

    async def restore_video(self, principal: Principal, video_id: uuid.UUID) -> Video:
        video, _ = await self._video(principal, video_id, include_deleted=True)
        return await self.uow.repo(VideoRepository).restore(video.id)

    async def reorder_videos(
        self, principal: Principal, section_id: uuid.UUID, ordered_ids: Sequence[uuid.UUID]
    ) -> list[Video]:
        section, _ = await self._section(principal, section_id)
        return await _reorder(self.uow.repo(VideoRepository), section.id, ordered_ids)

    async def _keep_a_video(self, course: Course, removing: Filter) -> None:
        """A published course keeps at least one video (its publishing rule stays true).
        `removing` is NotEq(...) describing what stays."""
        if course.status != CourseStatus.PUBLISHED:
            return
        left = await self.uow.repo(VideoRepository).count(
            [Eq(Video.course_id, course.id), removing]
        )
        if left == 0:
            raise Conflict("a published course must keep at least one video")

    # ---- quizzes ----------------------------------------------------------------------------

    async def add_quiz(
        self,
        principal: Principal,
        section_id: uuid.UUID,
        spec: QuizSpec,
        position: int | None = None,
    ) -> Quiz:
        validate_quiz(spec)
        section, course = await self._section(principal, section_id)
        quizzes = self.uow.repo(QuizRepository)
        if position is None:  # appending always works: max + 1, past the chosen-position limit
            position = await quizzes.next_position(section.id)
        else:
            position = _position(position)
        quiz = await quizzes.create(
            Quiz(
                course_id=course.id,
                section_id=section.id,
                title=_title(spec.title),
                position=position,
                pass_mark=spec.pass_mark,
                max_attempts=spec.max_attempts,
                time_limit_seconds=spec.time_limit_seconds,
                questions=_questions(spec.questions),
            )
        )
        return quiz

    async def _quiz(
        self, principal: Principal, quiz_id: uuid.UUID, *, include_deleted: bool = False
    ) -> tuple[Quiz, Course]:
        quiz = await self.uow.repo(QuizRepository).get(quiz_id, include_deleted=include_deleted)
        course = await self.uow.repo(CourseRepository).get(quiz.course_id)
        self._require_edit(principal, course)
        return quiz, course

    async def get_quiz(
        self, principal: Principal | None, quiz_id: uuid.UUID
    ) -> tuple[Quiz, ContentAccess]:
        """The quiz with its questions, and how much the caller may see of them: nothing but
        the outline, the questions (enrolled learners), or the answer keys too (editors)."""
        quiz = await self.uow.repo(QuizRepository).get_with_questions(quiz_id)
        if quiz is None:
            raise NotFound("Quiz", quiz_id)
        return quiz, await self._visible(principal, quiz.course_id)

    async def update_quiz(
        self,
        principal: Principal,
        quiz_id: uuid.UUID,
        spec: QuizSpec,
        replace_questions: bool,
        expected_version: int | None = None,
    ) -> Quiz:
        """Settings change in place; questions, when given, are replaced as a whole (the old
        ones are soft-deleted, so attempts that answered them keep their meaning)."""
        validate_quiz(spec)
        quiz, _ = await self._quiz(principal, quiz_id)
        repo = self.uow.repo(QuizRepository)
        await repo.update(
            quiz.id,
            {
                "title": _title(spec.title),
                "pass_mark": spec.pass_mark,
                "max_attempts": spec.max_attempts,
                "time_limit_seconds": spec.time_limit_seconds,
            },
            expected_version,
        )
        if replace_questions:
            questions = self.uow.repo(QuestionRepository)
            await questions.bulk_delete([Eq(QuizQuestion.quiz_id, quiz.id)])
            for question in _questions(spec.questions):
                question.quiz_id = quiz.id
                await questions.create(question)
            # New questions are a new quiz: its version (and so its ETag) moves.
            await repo.touch(quiz.id)
        fresh = await repo.get_with_questions(quiz.id)
        assert fresh is not None
        return fresh

    async def delete_quiz(
        self, principal: Principal, quiz_id: uuid.UUID, expected_version: int | None = None
    ) -> None:
        quiz, _ = await self._quiz(principal, quiz_id)
        await self.uow.repo(QuizRepository).delete(quiz.id, expected_version)

    async def restore_quiz(self, principal: Principal, quiz_id: uuid.UUID) -> Quiz:
        quiz, _ = await self._quiz(principal, quiz_id, include_deleted=True)
        await self.uow.repo(QuizRepository).restore(quiz.id)
        fresh = await self.uow.repo(QuizRepository).get_with_questions(quiz.id)
        assert fresh is not None
        return fresh

    async def reorder_quizzes(
        self, principal: Principal, section_id: uuid.UUID, ordered_ids: Sequence[uuid.UUID]
    ) -> list[Quiz]:
        section, _ = await self._section(principal, section_id)
        return await _reorder(self.uow.repo(QuizRepository), section.id, ordered_ids)


def _questions(specs: Sequence[QuestionSpec]) -> list[QuizQuestion]:
    return [
        QuizQuestion(
            position=i,
            text=q.text.strip(),
            type=q.type,
            answer_text=q.answer_text.strip() if q.answer_text else None,
            options=[
                QuizOption(position=j, text=o.text.strip(), is_correct=o.is_correct)
                for j, o in enumerate(q.options)
            ],
        )
        for i, q in enumerate(specs)
    ]


def _position(value: int) -> int:
    if not 0 <= value <= 10_000:
        raise InvalidValue("position must be between 0 and 10000")
    return value


def _duration(value: int) -> int:
    Duration(value)
    if value < 1:
        raise InvalidValue("duration_seconds must be positive")
    return value


def _url(value: str) -> str:
    url = value.strip()
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", url) or len(url) > 2000:
        raise InvalidValue("url must be an http(s) URL")
    return url


async def _reorder(repo: Any, parent_id: uuid.UUID, ordered_ids: Sequence[uuid.UUID]) -> list[Any]:
    items = await repo.children(parent_id)
    if sorted(ordered_ids) != sorted(item.id for item in items) or len(set(ordered_ids)) != len(
        ordered_ids
    ):
        raise InvalidValue("the new order must list every item exactly once")
    await repo.reorder(items, ordered_ids)
    return sorted(items, key=lambda item: item.position)
