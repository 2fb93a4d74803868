"""Quiz authoring: a section's quizzes, written, replaced, reordered, deleted and restored by
the course's editors; and reading one as far as the caller may see it (answer keys for
editors only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal

from learnhub.domain import course_rules
from learnhub.domain.errors import NotFound
from learnhub.domain.principal import Principal
from learnhub.domain.quiz_rules import QuestionSpec, QuizSpec, validate_quiz
from learnhub.models.course import Quiz, QuizOption, QuizQuestion
from learnhub.repositories.course import QuestionRepository, QuizRepository
from learnhub.repositories.filters import Eq
from learnhub.services.base import BaseService
from learnhub.services.course_access import ContentAccess, CourseAccessService
from learnhub.services.course_content import move, reorder


class _Keep(Enum):
    KEEP = "keep"


# A nullable setting left out of a patch stays as it is (None would mean "no limit").
KEEP: Final = _Keep.KEEP


@dataclass(frozen=True, slots=True)
class QuizChanges:
    """A partial update of a quiz. None leaves the title, pass mark and questions as they are;
    the two limits are kept unless given, and None for them means "no limit". Questions, when
    given, replace the quiz's questions as a whole."""

    title: str | None = None
    pass_mark: int | None = None
    max_attempts: int | Literal[_Keep.KEEP] | None = KEEP
    time_limit_seconds: int | Literal[_Keep.KEEP] | None = KEEP
    questions: Sequence[QuestionSpec] | None = None

    def applied_to(self, quiz: Quiz) -> QuizSpec:
        return QuizSpec(
            title=self.title if self.title is not None else quiz.title,
            pass_mark=self.pass_mark if self.pass_mark is not None else quiz.pass_mark,
            max_attempts=quiz.max_attempts if self.max_attempts is KEEP else self.max_attempts,
            time_limit_seconds=quiz.time_limit_seconds
            if self.time_limit_seconds is KEEP
            else self.time_limit_seconds,
            questions=self.questions or (),
        )


class QuizAuthoringService(BaseService):
    """`principal` is the caller; None for the anonymous public."""

    @property
    def _access(self) -> CourseAccessService:
        return CourseAccessService(self.uow)

    async def add_quiz(
        self,
        principal: Principal,
        section_id: uuid.UUID,
        spec: QuizSpec,
        position: int | None = None,
    ) -> Quiz:
        validate_quiz(spec)
        section, course = await self._access.section(principal, section_id)
        quizzes = self.uow.repo(QuizRepository)
        if position is None:  # appending always works: max + 1, past the chosen-position limit
            position = await quizzes.next_position(section.id)
        else:
            position = course_rules.position(position)
        quiz = await quizzes.create(
            Quiz(
                course_id=course.id,
                section_id=section.id,
                title=course_rules.title(spec.title),
                position=position,
                pass_mark=spec.pass_mark,
                max_attempts=spec.max_attempts,
                time_limit_seconds=spec.time_limit_seconds,
                questions=_questions(spec.questions),
            )
        )
        return quiz

    async def get_quiz(
        self, principal: Principal | None, quiz_id: uuid.UUID
    ) -> tuple[Quiz, ContentAccess]:
        """The quiz with its questions, and how much the caller may see of them: nothing but
        the outline, the questions (enrolled learners), or the answer keys too (editors)."""
        quiz = await self.uow.repo(QuizRepository).get_with_questions(quiz_id)
        if quiz is None:
            raise NotFound("Quiz", quiz_id)
        return quiz, await self._access.visible(principal, quiz.course_id)

    async def update_quiz(
        self,
        principal: Principal,
        quiz_id: uuid.UUID,
        changes: QuizChanges,
        expected_version: int | None = None,
    ) -> Quiz:
        """Settings change in place; questions, when given, are replaced as a whole (the old
        ones are soft-deleted, so attempts that answered them keep their meaning)."""
        quiz, _ = await self._access.quiz(principal, quiz_id)
        spec = changes.applied_to(quiz)
        validate_quiz(spec)
        replace_questions = changes.questions is not None
        repo = self.uow.repo(QuizRepository)
        await repo.update(
            quiz.id,
            {
                "title": course_rules.title(spec.title),
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
        quiz, _ = await self._access.quiz(principal, quiz_id)
        await self.uow.repo(QuizRepository).delete(quiz.id, expected_version)

    async def restore_quiz(self, principal: Principal, quiz_id: uuid.UUID) -> Quiz:
        quiz, _ = await self._access.quiz(principal, quiz_id, include_deleted=True)
        await self.uow.repo(QuizRepository).restore(quiz.id)
        fresh = await self.uow.repo(QuizRepository).get_with_questions(quiz.id)
        assert fresh is not None
        return fresh

    async def reorder_quizzes(
        self, principal: Principal, section_id: uuid.UUID, ordered_ids: Sequence[uuid.UUID]
    ) -> list[Quiz]:
        section, _ = await self._access.section(principal, section_id)
        return await reorder(self.uow.repo(QuizRepository), section.id, ordered_ids)

    async def move_quiz(self, principal: Principal, quiz_id: uuid.UUID, offset: int) -> list[Quiz]:
        """One step up (-1) or down (+1) among its section's quizzes."""
        quiz, _ = await self._access.quiz(principal, quiz_id)
        return await move(self.uow.repo(QuizRepository), quiz.section_id, quiz.id, offset)

    async def editable_quiz(self, principal: Principal, quiz_id: uuid.UUID) -> Quiz:
        """A quiz with its questions and answer keys, for its course's editors only."""
        quiz, _ = await self._access.quiz(principal, quiz_id)
        fresh = await self.uow.repo(QuizRepository).get_with_questions(quiz.id)
        if fresh is None:
            raise NotFound("Quiz", quiz_id)
        return fresh


def _questions(specs: Sequence[QuestionSpec]) -> list[QuizQuestion]:
    return [
        QuizQuestion(
            position=i,
            text=q.text.strip(),
            type=q.type,
            answer_text=q.answer_text.strip() if q.answer_text else None,
            explanation=q.explanation.strip() if q.explanation and q.explanation.strip() else None,
            options=[
                QuizOption(position=j, text=o.text.strip(), is_correct=o.is_correct)
                for j, o in enumerate(q.options)
            ],
        )
        for i, q in enumerate(specs)
    ]
