"""Extra attempts at a quiz, granted to one learner by the course's instructor or an admin:
the start rule then allows `max_attempts + extra_attempts`. A grant sets the learner's extra
attempts (it does not add to them), so repeating it changes nothing; 0 withdraws it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.domain.errors import InvalidValue, NotFound
from learnhub.domain.principal import Principal
from learnhub.domain.quiz_rules import attempts_allowed
from learnhub.models.course import Quiz
from learnhub.models.learning import QuizAttemptGrant
from learnhub.repositories.attempts import AttemptRepository, GrantRepository
from learnhub.repositories.learning import EnrollmentRepository
from learnhub.services.base import BaseService
from learnhub.services.course_access import CourseAccessService

MAX_EXTRA_ATTEMPTS = 1000


@dataclass(frozen=True, slots=True)
class GrantView:
    grant: QuizAttemptGrant
    quiz: Quiz
    used: int

    @property
    def allowed(self) -> int | None:
        """Attempts the learner may make in all; None when the quiz has no limit."""
        return attempts_allowed(self.quiz.max_attempts, self.grant.extra_attempts)


class AttemptGrantService(BaseService):
    async def grant(
        self, principal: Principal, quiz_id: uuid.UUID, user_id: uuid.UUID, extra: int
    ) -> GrantView:
        """Set a learner's extra attempts at a quiz (the course's editors only; the learner
        must hold an enrolment in the course, in any status). Concurrent grants for one
        learner meet on the UNIQUE (quiz_id, user_id) row: the last one wins."""
        if not 0 <= extra <= MAX_EXTRA_ATTEMPTS:
            raise InvalidValue(f"extra_attempts must be 0 to {MAX_EXTRA_ATTEMPTS}")
        quiz, _course = await CourseAccessService(self.uow).quiz(principal, quiz_id)
        enrollment = await self.uow.repo(EnrollmentRepository).for_user_and_course(
            user_id, quiz.course_id
        )
        if enrollment is None:
            raise NotFound("Enrollment", user_id)
        grants = self.uow.repo(GrantRepository)
        grant = await grants.for_learner(quiz.id, user_id, lock=True)
        if grant is None:
            fresh = QuizAttemptGrant(quiz_id=quiz.id, user_id=user_id, extra_attempts=extra)
            if await grants.add_first(fresh):
                grant = fresh
            else:  # a racing grant inserted the row first: update it instead
                grant = await grants.for_learner(quiz.id, user_id, lock=True)
                assert grant is not None
        if grant.extra_attempts != extra:
            grant.extra_attempts = extra
            await grants.flush(grant)
        used = await self.uow.repo(AttemptRepository).count_for(user_id, quiz.id)
        return GrantView(grant, quiz, used)
