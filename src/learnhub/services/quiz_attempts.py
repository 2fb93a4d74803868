"""Quiz attempts: started within the attempt limit, graded on the server, late ones refused.

Answer keys never leave the server before submission; after it, the learner gets only
per-question correctness.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import AttemptState, CourseStatus, QuestionType
from learnhub.domain.errors import Conflict, DeadlinePassed, InvalidValue, NotFound
from learnhub.domain.principal import Principal
from learnhub.events.events import QuizAttemptSubmitted
from learnhub.models.course import Quiz, QuizQuestion
from learnhub.models.learning import QuizAnswer, QuizAttempt
from learnhub.repositories.course import CourseRepository, QuizRepository
from learnhub.repositories.filters import Eq, Range
from learnhub.repositories.learning import AttemptRepository, EnrollmentRepository
from learnhub.services.activity import ActivityService
from learnhub.services.base import BaseService
from learnhub.services.learning import PARTICIPATE, EnrollmentService, ProgressService

# Network slack for a submission sent just before the deadline.
GRACE = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class AttemptAnswer:
    question_id: uuid.UUID
    option_ids: Sequence[uuid.UUID] = ()
    text: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptGrading:
    attempt: QuizAttempt
    results: list[tuple[uuid.UUID, bool]]


def is_correct(question: QuizQuestion, answer: AttemptAnswer | None) -> bool:
    if answer is None:
        return False
    if question.type == QuestionType.SHORT_ANSWER:
        expected = (question.answer_text or "").strip().casefold()
        return bool(answer.text) and answer.text.strip().casefold() == expected  # type: ignore[union-attr]
    chosen = set(answer.option_ids)
    return chosen == {o.id for o in question.options if o.is_correct}


class QuizAttemptService(BaseService):
    async def _quiz(self, quiz_id: uuid.UUID) -> Quiz:
        quiz = await self.uow.repo(QuizRepository).get_with_questions(quiz_id)
        if quiz is None:
            raise NotFound("Quiz", quiz_id)
        course = await self.uow.repo(CourseRepository).get_by_id(quiz.course_id)
        if course is None or course.status == CourseStatus.DRAFT:
            raise NotFound("Quiz", quiz_id)
        return quiz

    async def start(self, principal: Principal, quiz_id: uuid.UUID) -> tuple[QuizAttempt, Quiz]:
        principal.require(PARTICIPATE)
        # Refused (an open attempt, no attempts left): an expired attempt found on the way
        # was closed as overdue, and that closure stands.
        self.uow.keep_despite_error(Conflict)
        quiz = await self._quiz(quiz_id)
        # Concurrent starts by one learner queue on the enrolment row, so each sees the
        # attempt the previous one opened (one open attempt, consecutive numbers).
        await EnrollmentService(self.uow).require(principal.user_id, quiz.course_id, lock=True)
        attempts = self.uow.repo(AttemptRepository)
        now = utc_now()
        open_attempt = await attempts.open_for(principal.user_id, quiz.id)
        if open_attempt is not None:
            if open_attempt.deadline_at is None or open_attempt.deadline_at + GRACE >= now:
                raise Conflict(
                    "an attempt at this quiz is in progress", attempt_id=str(open_attempt.id)
                )
            open_attempt.state = AttemptState.OVERDUE  # closed on read
            await attempts.flush(open_attempt)
        used = await attempts.count_for(principal.user_id, quiz.id)
        if quiz.max_attempts is not None and used >= quiz.max_attempts:
            raise Conflict(f"no attempts left ({quiz.max_attempts} allowed)")
        deadline = (
            now + timedelta(seconds=quiz.time_limit_seconds) if quiz.time_limit_seconds else None
        )
        attempt = await attempts.add_numbered(
            QuizAttempt(
                quiz_id=quiz.id,
                user_id=principal.user_id,
                course_id=quiz.course_id,
                attempt_no=used + 1,
                started_at=now,
                deadline_at=deadline,
            )
        )
        return attempt, quiz

    async def submit(
        self, principal: Principal, attempt_id: uuid.UUID, answers: Sequence[AttemptAnswer]
    ) -> AttemptGrading:
        # A late submission is refused, but the attempt stays closed as overdue.
        self.uow.keep_despite_error(DeadlinePassed)
        attempts = self.uow.repo(AttemptRepository)
        owner = await attempts.owner_and_course(attempt_id)
        if owner is None or owner[0] != principal.user_id:
            raise NotFound("Attempt", attempt_id)
        # Locks in the order starting takes them (the enrolment, then the attempt), so a
        # start and a submit of one learner queue instead of deadlocking.
        await self.uow.repo(EnrollmentRepository).for_user_and_course(
            principal.user_id, owner[1], lock=True
        )
        attempt = await attempts.get_by_id(attempt_id, lock=True)
        if attempt is None:
            raise NotFound("Attempt", attempt_id)
        if attempt.state != AttemptState.IN_PROGRESS:
            raise Conflict(f"the attempt is already {attempt.state.value}")
        now = utc_now()
        if attempt.deadline_at is not None and now > attempt.deadline_at + GRACE:
            attempt.state = AttemptState.OVERDUE
            await attempts.flush(attempt)
            raise DeadlinePassed("the attempt's deadline has passed; it is closed as overdue")
        quiz = await self._quiz(attempt.quiz_id)
        by_question = _validated(quiz, answers)
        results = [(q.id, is_correct(q, by_question.get(q.id))) for q in quiz.questions]
        for question_id, correct in results:
            given = by_question.get(question_id)
            attempts.add_answer(
                QuizAnswer(
                    attempt_id=attempt.id,
                    question_id=question_id,
                    correct=correct,
                    text=(given.text or None) if given else None,
                ),
                given.option_ids if given else (),
            )
        await attempts.flush_answers()
        total = len(results)
        score = Decimal(100 * sum(c for _, c in results)) / total if total else Decimal(0)
        attempt.score = score.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        attempt.passed = attempt.score >= quiz.pass_mark
        attempt.state, attempt.submitted_at = AttemptState.SUBMITTED, now
        await attempts.flush(attempt)
        self.uow.record(
            QuizAttemptSubmitted(
                course_id=quiz.course_id,
                user_id=principal.user_id,
                quiz_id=quiz.id,
                attempt_id=attempt.id,
                score=attempt.score,
                passed=attempt.passed,
            )
        )
        ActivityService(self.uow).record(
            principal.user_id,
            "quiz_submitted",
            subject_type="quiz",
            subject_id=quiz.id,
            score=str(attempt.score),
            passed=attempt.passed,
        )
        if attempt.passed and not await attempts.passed_before(
            principal.user_id, quiz.id, attempt.id
        ):
            enrollment = await EnrollmentService(self.uow).require(
                principal.user_id, quiz.course_id
            )
            await self.uow.repo(EnrollmentRepository).add_progress(enrollment.id, quizzes=1)
            await ProgressService(self.uow).complete_if_done(
                principal.user_id, quiz.course_id, enrollment.id
            )
        return AttemptGrading(attempt=attempt, results=results)

    async def sweep_overdue(self, now: datetime | None = None) -> int:
        """Close every open attempt whose deadline (plus grace) has passed."""
        cutoff = (now or utc_now()) - GRACE
        return await self.uow.repo(AttemptRepository).bulk_update(
            [
                Eq(QuizAttempt.state, AttemptState.IN_PROGRESS),
                Range(QuizAttempt.deadline_at, maximum=cutoff),
            ],
            {"state": AttemptState.OVERDUE},
        )


def _validated(quiz: Quiz, answers: Sequence[AttemptAnswer]) -> dict[uuid.UUID, AttemptAnswer]:
    questions = {q.id: q for q in quiz.questions}
    by_question: dict[uuid.UUID, AttemptAnswer] = {}
    for answer in answers:
        question = questions.get(answer.question_id)
        if question is None:
            raise InvalidValue(f"question {answer.question_id} is not part of this quiz")
        if answer.question_id in by_question:
            raise InvalidValue(f"question {answer.question_id} is answered twice")
        options = {o.id for o in question.options}
        if not set(answer.option_ids) <= options or len(set(answer.option_ids)) != len(
            answer.option_ids
        ):
            raise InvalidValue(f"unknown or repeated options for question {question.id}")
        if question.type == QuestionType.SHORT_ANSWER and answer.option_ids:
            raise InvalidValue("a short-answer question takes text, not options")
        by_question[answer.question_id] = answer
    return by_question
