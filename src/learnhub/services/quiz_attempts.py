"""Quiz attempts: started within the attempt limit (plus extra attempts granted), answers
saved while open, graded on the server when submitted or closed at the deadline.

Answer keys never leave the server before an attempt is closed; the review after it is
`services/attempt_reads.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from learnhub.domain.clock import utc_now
from learnhub.domain.enums import AttemptState, CourseStatus, QuestionType
from learnhub.domain.errors import Conflict, DeadlinePassed, InvalidValue, NotFound
from learnhub.domain.principal import Principal
from learnhub.domain.progress import is_open
from learnhub.domain.quiz_rules import attempts_allowed, score_of
from learnhub.events.events import QuizAttemptSubmitted
from learnhub.models.course import Quiz, QuizQuestion
from learnhub.models.learning import QuizAnswer, QuizAttempt
from learnhub.repositories.attempts import AttemptRepository, GrantRepository, StoredAnswer
from learnhub.repositories.course import CourseRepository, QuizRepository
from learnhub.repositories.learning import EnrollmentRepository
from learnhub.services.activity import ActivityService
from learnhub.services.base import BaseService
from learnhub.services.learning import PARTICIPATE, EnrollmentService, ProgressService

# Network slack for a submission (or a save) sent just before the deadline.
GRACE = timedelta(seconds=5)
# Attempts the sweep closes per statement batch.
SWEEP_BATCH = 200


@dataclass(frozen=True, slots=True)
class AttemptAnswer:
    question_id: uuid.UUID
    option_ids: Sequence[uuid.UUID] = ()
    text: str | None = None

    @property
    def empty(self) -> bool:
        return not self.option_ids and not (self.text and self.text.strip())


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


def expired(attempt: QuizAttempt, now: datetime) -> bool:
    """An open attempt past its deadline and the grace after it."""
    return (
        attempt.state == AttemptState.IN_PROGRESS
        and attempt.deadline_at is not None
        and now > attempt.deadline_at + GRACE
    )


def as_answers(stored: Sequence[StoredAnswer]) -> list[AttemptAnswer]:
    return [AttemptAnswer(a.question_id, a.option_ids, a.text) for a in stored]


class QuizAttemptService(BaseService):
    async def visible_quiz(self, quiz_id: uuid.UUID, *, with_questions: bool = True) -> Quiz:
        """The quiz, if its course is live and not a draft (otherwise 404, as if absent)."""
        quizzes = self.uow.repo(QuizRepository)
        quiz = await (quizzes.get_with_questions if with_questions else quizzes.get_by_id)(quiz_id)
        if quiz is None:
            raise NotFound("Quiz", quiz_id)
        course = await self.uow.repo(CourseRepository).get_by_id(quiz.course_id)
        if course is None or course.status == CourseStatus.DRAFT:
            raise NotFound("Quiz", quiz_id)
        return quiz

    async def allowed_attempts(self, quiz: Quiz, user_id: uuid.UUID) -> int | None:
        """The attempts the learner may make at the quiz in all (None: no limit)."""
        if quiz.max_attempts is None:
            return None
        extra = await self.uow.repo(GrantRepository).extra_for(quiz.id, user_id)
        return attempts_allowed(quiz.max_attempts, extra)

    async def start(self, principal: Principal, quiz_id: uuid.UUID) -> tuple[QuizAttempt, Quiz]:
        principal.require(PARTICIPATE)
        # Refused (an open attempt, no attempts left): an expired attempt found on the way
        # was closed as overdue (and graded), and that closure stands.
        self.uow.keep_despite_error(Conflict)
        quiz = await self.visible_quiz(quiz_id)
        # Concurrent starts by one learner queue on the enrolment row, so each sees the
        # attempt the previous one opened (one open attempt, consecutive numbers).
        await EnrollmentService(self.uow).require(principal.user_id, quiz.course_id, lock=True)
        attempts = self.uow.repo(AttemptRepository)
        now = utc_now()
        open_attempt = await attempts.open_for(principal.user_id, quiz.id)
        if open_attempt is not None:
            if not expired(open_attempt, now):
                raise Conflict(
                    "an attempt at this quiz is in progress", attempt_id=str(open_attempt.id)
                )
            await self._close_overdue(open_attempt, quiz, now)  # closed on read
        used = await attempts.count_for(principal.user_id, quiz.id)
        allowed = await self.allowed_attempts(quiz, principal.user_id)
        if allowed is not None and used >= allowed:
            raise Conflict(f"no attempts left ({allowed} allowed)")
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

    async def _own_open(
        self, principal: Principal, attempt_id: uuid.UUID
    ) -> tuple[QuizAttempt, Quiz]:
        """The caller's own attempt, locked in the order starting takes its locks (the
        enrolment, then the attempt: a start, a save and a submit of one learner queue
        instead of deadlocking), and still open; past its deadline it is closed as overdue,
        graded on what was saved, and the call is refused (409 `deadline_passed`)."""
        attempts = self.uow.repo(AttemptRepository)
        owner = await attempts.owner_and_course(attempt_id)
        if owner is None or owner[0] != principal.user_id:
            raise NotFound("Attempt", attempt_id)
        await self.uow.repo(EnrollmentRepository).for_user_and_course(
            principal.user_id, owner[1], lock=True
        )
        attempt = await attempts.get_by_id(attempt_id, lock=True)
        if attempt is None:
            raise NotFound("Attempt", attempt_id)
        if attempt.state != AttemptState.IN_PROGRESS:
            raise Conflict(f"the attempt is already {attempt.state.value}")
        quiz = await self.visible_quiz(attempt.quiz_id)
        now = utc_now()
        if expired(attempt, now):
            await self._close_overdue(attempt, quiz, now)
            raise DeadlinePassed("the attempt's deadline has passed; it is closed as overdue")
        return attempt, quiz

    async def save_answers(
        self, principal: Principal, attempt_id: uuid.UUID, answers: Sequence[AttemptAnswer]
    ) -> tuple[QuizAttempt, list[StoredAnswer]]:
        """Save answers of an open attempt, question by question: each answer given replaces
        that question's saved one (an empty one clears it); the others stay. Saving the same
        answers again changes nothing."""
        principal.require(PARTICIPATE)
        # Too late: the attempt stays closed as overdue, graded on what was saved before.
        self.uow.keep_despite_error(DeadlinePassed)
        attempt, quiz = await self._own_open(principal, attempt_id)
        by_question = _validated(quiz, answers)
        attempts = self.uow.repo(AttemptRepository)
        await attempts.remove_answers(attempt.id, list(by_question))
        for answer in by_question.values():
            if not answer.empty:
                attempts.add_answer(
                    QuizAnswer(
                        attempt_id=attempt.id,
                        question_id=answer.question_id,
                        correct=None,
                        text=(answer.text or None),
                    ),
                    answer.option_ids,
                )
        await attempts.flush_answers()
        return attempt, await attempts.answers_of(attempt.id)

    async def submit(
        self,
        principal: Principal,
        attempt_id: uuid.UUID,
        answers: Sequence[AttemptAnswer] | None = None,
    ) -> AttemptGrading:
        """Grade the attempt on `answers` (which replace whatever was saved), or, without
        them, on the saved answers."""
        # A late submission is refused, but the attempt stays closed as overdue.
        self.uow.keep_despite_error(DeadlinePassed)
        attempt, quiz = await self._own_open(principal, attempt_id)
        if answers is None:
            answers = as_answers(await self.uow.repo(AttemptRepository).answers_of(attempt.id))
            answers = [a for a in answers if a.question_id in {q.id for q in quiz.questions}]
        by_question = _validated(quiz, answers)
        return await self._grade(attempt, quiz, by_question, AttemptState.SUBMITTED, utc_now())

    async def close_if_overdue(self, attempt: QuizAttempt, now: datetime | None = None) -> bool:
        """Close `attempt` as overdue (graded on its saved answers) if it is open past its
        deadline: what reading an attempt, and the sweep, do. True when this call closed it
        (the attempt object is then the closed one)."""
        now = now or utc_now()
        if not expired(attempt, now):
            return False
        await self.uow.repo(EnrollmentRepository).for_user_and_course(
            attempt.user_id, attempt.course_id, lock=True
        )
        locked = await self.uow.repo(AttemptRepository).get_by_id(attempt.id, lock=True)
        if locked is None or not expired(locked, now):
            return False  # closed meanwhile, by a submit, the sweep or another read
        quiz = await self.uow.repo(QuizRepository).get_with_questions(locked.quiz_id)
        if quiz is None:  # the quiz is gone: closed, with nothing to grade against
            locked.state = AttemptState.OVERDUE
            await self.uow.repo(AttemptRepository).flush(locked)
        else:
            await self._close_overdue(locked, quiz, now)
        return True

    async def _close_overdue(self, attempt: QuizAttempt, quiz: Quiz, now: datetime) -> None:
        saved = as_answers(await self.uow.repo(AttemptRepository).answers_of(attempt.id))
        live = {q.id for q in quiz.questions}
        by_question = {a.question_id: a for a in saved if a.question_id in live}
        await self._grade(attempt, quiz, by_question, AttemptState.OVERDUE, now)

    async def _grade(
        self,
        attempt: QuizAttempt,
        quiz: Quiz,
        by_question: dict[uuid.UUID, AttemptAnswer],
        state: AttemptState,
        now: datetime,
    ) -> AttemptGrading:
        """Close the attempt in `state`: its answers become one graded row per question of
        the quiz (replacing what was saved), its score and pass flag set; the event, the
        activity, and a first pass's progress follow."""
        attempts = self.uow.repo(AttemptRepository)
        results = [(q.id, is_correct(q, by_question.get(q.id))) for q in quiz.questions]
        await attempts.remove_answers(attempt.id)
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
        attempt.score = score_of([c for _, c in results])
        attempt.passed = attempt.score >= quiz.pass_mark
        attempt.state = state
        if state == AttemptState.SUBMITTED:
            attempt.submitted_at = now
        await attempts.flush(attempt)
        self.uow.record(
            QuizAttemptSubmitted(
                course_id=quiz.course_id,
                user_id=attempt.user_id,
                quiz_id=quiz.id,
                attempt_id=attempt.id,
                score=attempt.score,
                passed=attempt.passed,
            )
        )
        ActivityService(self.uow).record(
            attempt.user_id,
            "quiz_submitted" if state == AttemptState.SUBMITTED else "quiz_overdue",
            subject_type="quiz",
            subject_id=quiz.id,
            score=str(attempt.score),
            passed=attempt.passed,
        )
        if attempt.passed and not await attempts.passed_before(
            attempt.user_id, quiz.id, attempt.id
        ):
            enrollment = await self.uow.repo(EnrollmentRepository).for_user_and_course(
                attempt.user_id, quiz.course_id
            )
            if enrollment is not None and is_open(enrollment.status):
                await self.uow.repo(EnrollmentRepository).add_progress(enrollment.id, quizzes=1)
                await ProgressService(self.uow).complete_if_done(
                    attempt.user_id, quiz.course_id, enrollment.id
                )
        return AttemptGrading(attempt=attempt, results=results)

    async def sweep_overdue(self, now: datetime | None = None) -> int:
        """Close every open attempt whose deadline (plus grace) has passed, each graded on
        its saved answers (found SWEEP_BATCH at a time, each closed under its locks)."""
        now = now or utc_now()
        attempts = self.uow.repo(AttemptRepository)
        closed, seen = 0, set[uuid.UUID]()
        while True:
            found = await attempts.expired_open(now - GRACE, SWEEP_BATCH + len(seen))
            batch = [attempt_id for attempt_id in found if attempt_id not in seen]
            if not batch:
                return closed
            for attempt_id in batch:
                seen.add(attempt_id)
                attempt = await attempts.get_by_id(attempt_id)
                if attempt is not None and await self.close_if_overdue(attempt, now):
                    closed += 1


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
