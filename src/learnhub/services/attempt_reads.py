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
from learnhub.domain.progress import is_open
from learnhub.models.course import Course, Quiz, QuizOption, QuizQuestion
from learnhub.models.learning import QuizAttempt
from learnhub.repositories.attempts import AttemptRepository, StoredAnswer
from learnhub.repositories.course import CourseRepository, QuizRepository
from learnhub.repositories.filters import CursorPagination, Eq, Page
from learnhub.repositories.learning import EnrollmentRepository
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


@dataclass(frozen=True, slots=True)
class QuizOverview:
    """A quiz as its learner sees it before starting (the web app's quiz page): the quiz
    (its questions only counted, never shown), its course, whether the learner may take it,
    the attempts made (newest first), used and allowed (None: no limit), and the open one."""

    quiz: Quiz
    course: Course
    enrolled: bool
    attempts: list[QuizAttempt]
    used: int
    allowed: int | None
    open_attempt: QuizAttempt | None

    @property
    def remaining(self) -> int | None:
        return None if self.allowed is None else max(0, self.allowed - self.used)


@dataclass(frozen=True, slots=True)
class AttemptPage:
    """`read`'s view, with what a page names around it: the quiz (None once deleted), its
    course, and whether the reader is the attempt's own learner (who alone may answer)."""

    view: AttemptView
    quiz: Quiz | None
    course: Course | None
    own: bool


class AttemptReadService(BaseService):
    async def overview(
        self, principal: Principal, quiz_id: uuid.UUID, limit: int = 20
    ) -> QuizOverview:
        """The quiz page: `mine` (closing an overdue open attempt first) plus the quiz, its
        course, the learner's enrolment and the attempt still open, if any."""
        listing = await self.mine(principal, quiz_id, CursorPagination(limit, None))
        quiz = await QuizAttemptService(self.uow).visible_quiz(quiz_id)
        course = await self.uow.repo(CourseRepository).get_by_id(quiz.course_id)
        if course is None:
            raise NotFound("Quiz", quiz_id)
        enrollment = await self.uow.repo(EnrollmentRepository).for_user_and_course(
            principal.user_id, course.id
        )
        attempts = self.uow.repo(AttemptRepository)
        used = await attempts.count_for(principal.user_id, quiz.id)
        return QuizOverview(
            quiz=quiz,
            course=course,
            enrolled=enrollment is not None and is_open(enrollment.status),
            attempts=list(listing.page.items),
            used=used,
            allowed=await QuizAttemptService(self.uow).allowed_attempts(quiz, principal.user_id),
            open_attempt=await attempts.open_for(principal.user_id, quiz.id, lock=False),
        )

    async def page(self, principal: Principal, attempt_id: uuid.UUID) -> AttemptPage:
        """`read`, with the quiz and course the attempt belongs to (the web app's attempt and
        results page)."""
        view = await self.read(principal, attempt_id)
        quiz = await self.uow.repo(QuizRepository).get_by_id(view.attempt.quiz_id)
        course = await self.uow.repo(CourseRepository).get_by_id(view.attempt.course_id)
        return AttemptPage(view, quiz, course, own=view.attempt.user_id == principal.user_id)

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
