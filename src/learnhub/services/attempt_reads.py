"""Reading quiz attempts: one attempt (its learner's; the course's instructor and admins may
read it too), and a learner's attempts at a quiz. Reading an open attempt past its deadline
closes it as overdue, graded on what was saved (SPEC 5: an attempt past its deadline is closed
on read). Answer keys and explanations appear only in the review of a closed attempt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.domain.enums import AttemptState
from learnhub.domain.errors import NotFound
from learnhub.domain.principal import Principal
from learnhub.models.course import QuizOption, QuizQuestion
from learnhub.models.learning import QuizAttempt
from learnhub.repositories.attempts import AttemptRepository, StoredAnswer
from learnhub.repositories.course import CourseRepository, QuizRepository
from learnhub.repositories.filters import CursorPagination, Eq, Page
from learnhub.services.base import BaseService
from learnhub.services.course_access import can_edit
from learnhub.services.learning import PARTICIPATE
from learnhub.services.quiz_attempts import QuizAttemptService


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One question of a closed attempt: the question as it was answered (deleted since or
    not), its options with the key, and the learner's graded answer."""

    question: QuizQuestion
    options: list[QuizOption]
    answer: StoredAnswer | None


@dataclass(frozen=True, slots=True)
class AttemptView:
    attempt: QuizAttempt
    answers: list[StoredAnswer]
    # While open: the quiz's questions, without keys (to resume the attempt).
    questions: list[QuizQuestion] | None
    # Once closed (submitted or overdue): the answer review.
    review: list[ReviewItem] | None


@dataclass(frozen=True, slots=True)
class AttemptList:
    page: Page[QuizAttempt]
    # None when the quiz has no attempt limit.
    remaining: int | None


class AttemptReadService(BaseService):
    async def read(self, principal: Principal, attempt_id: uuid.UUID) -> AttemptView:
        """The caller's own attempt, or one in a course the caller may edit (its instructor,
        an admin); any other attempt does not exist for the caller (404, never 403)."""
        attempts = self.uow.repo(AttemptRepository)
        attempt = await attempts.get_by_id(attempt_id)
        if attempt is None:
            raise NotFound("Attempt", attempt_id)
        if attempt.user_id != principal.user_id:
            course = await self.uow.repo(CourseRepository).get_by_id(attempt.course_id)
            if course is None or not can_edit(principal, course):
                raise NotFound("Attempt", attempt_id)
        await QuizAttemptService(self.uow).close_if_overdue(attempt)
        answers = await attempts.answers_of(attempt.id)
        if attempt.state == AttemptState.IN_PROGRESS:
            quiz = await self.uow.repo(QuizRepository).get_with_questions(attempt.quiz_id)
            questions = list(quiz.questions) if quiz is not None else []
            return AttemptView(attempt, answers, questions, None)
        by_question = {a.question_id: a for a in answers}
        reviewed = await attempts.questions_for_review(list(by_question))
        review = [ReviewItem(q, options, by_question.get(q.id)) for q, options in reviewed]
        return AttemptView(attempt, answers, None, review)

    async def mine(
        self, principal: Principal, quiz_id: uuid.UUID, pagination: CursorPagination
    ) -> AttemptList:
        """The caller's attempts at a quiz, newest first, and how many are left (the quiz's
        limit plus extra attempts granted, minus every attempt made). An open attempt past its
        deadline is closed first, as on any read."""
        principal.require(PARTICIPATE)
        taking = QuizAttemptService(self.uow)
        quiz = await taking.visible_quiz(quiz_id, with_questions=False)
        attempts = self.uow.repo(AttemptRepository)
        open_attempt = await attempts.open_for(principal.user_id, quiz.id, lock=False)
        if open_attempt is not None:
            await taking.close_if_overdue(open_attempt)
        page = await attempts.get_all(
            [Eq(QuizAttempt.user_id, principal.user_id), Eq(QuizAttempt.quiz_id, quiz.id)],
            pagination,
            "newest",
        )
        remaining = None
        allowed = await taking.allowed_attempts(quiz, principal.user_id)
        if allowed is not None:
            remaining = max(0, allowed - await attempts.count_for(principal.user_id, quiz.id))
        return AttemptList(page, remaining)
