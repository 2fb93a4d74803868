"""Quiz attempts, their answers (saved while open, graded when closed) and the extra
attempts granted to a learner."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from learnhub.db.errors import translate_integrity_error
from learnhub.db.soft_delete import INCLUDE_DELETED
from learnhub.domain.enums import AttemptState
from learnhub.domain.ids import new_id
from learnhub.models.course import QuizOption, QuizQuestion
from learnhub.models.learning import QuizAnswer, QuizAttempt, QuizAttemptGrant, answer_options
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import Sort


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """One answer row of an attempt with its chosen options (in the order they were stored)."""

    question_id: uuid.UUID
    text: str | None
    correct: bool | None
    option_ids: list[uuid.UUID] = field(default_factory=list)


class AttemptRepository(BaseRepository[QuizAttempt]):
    model = QuizAttempt
    sorts: ClassVar[Mapping[str, Sort]] = {
        "newest": Sort("newest", QuizAttempt.attempt_no, descending=True)
    }

    async def owner_and_course(self, attempt_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID] | None:
        """(user_id, course_id) of a live attempt, read without loading or locking it."""
        result = await self.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.course_id).where(QuizAttempt.id == attempt_id)
        )
        row = result.one_or_none()
        return None if row is None else (row[0], row[1])

    async def add_numbered(self, attempt: QuizAttempt) -> QuizAttempt:
        """Insert inside a SAVEPOINT: when a racing start took the same attempt number, this
        insert alone fails (a `Conflict`), and the caller's transaction stays usable, so what
        it did on the way (closing an overdue attempt) can still be committed."""
        try:
            async with self.session.begin_nested():
                self.session.add(attempt)
        except IntegrityError as exc:
            raise translate_integrity_error(exc, self.entity_name) from exc
        return attempt

    async def count_for(self, user_id: uuid.UUID, quiz_id: uuid.UUID) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(QuizAttempt)
            .where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz_id)
        )
        return int(result.scalar_one())

    async def open_for(
        self, user_id: uuid.UUID, quiz_id: uuid.UUID, *, lock: bool = True
    ) -> QuizAttempt | None:
        stmt = select(QuizAttempt).where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_id == quiz_id,
            QuizAttempt.state == AttemptState.IN_PROGRESS,
        )
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        result = await self.session.execute(stmt)
        return result.scalars().first()

    async def expired_open(self, cutoff: datetime, limit: int) -> list[uuid.UUID]:
        """Open attempts whose deadline is before `cutoff` (the `(state, deadline_at)`
        index), oldest deadline first."""
        result = await self.session.execute(
            select(QuizAttempt.id)
            .where(
                QuizAttempt.state == AttemptState.IN_PROGRESS,
                QuizAttempt.deadline_at < cutoff,
            )
            .order_by(QuizAttempt.deadline_at, QuizAttempt.id)
            .limit(limit)
        )
        return list(result.scalars().all())

    async def passed_before(
        self, user_id: uuid.UUID, quiz_id: uuid.UUID, other_than: uuid.UUID
    ) -> bool:
        result = await self.session.execute(
            select(QuizAttempt.id)
            .where(
                QuizAttempt.user_id == user_id,
                QuizAttempt.quiz_id == quiz_id,
                QuizAttempt.passed.is_(True),
                QuizAttempt.id != other_than,
            )
            .limit(1)
        )
        return result.first() is not None

    def add_answer(self, answer: QuizAnswer, option_ids: Sequence[uuid.UUID]) -> None:
        if answer.id is None:
            answer.id = new_id()  # the chosen options refer to it before the flush
        self.session.add(answer)
        self._pending_options.extend({"answer_id": answer.id, "option_id": o} for o in option_ids)

    @property
    def _pending_options(self) -> list[dict[str, uuid.UUID]]:
        pending: list[dict[str, uuid.UUID]] = self.session.info.setdefault(
            "pending_answer_options", []
        )
        return pending

    async def flush_answers(self) -> None:
        await self.session.flush()
        rows, self.session.info["pending_answer_options"] = self._pending_options, []
        if rows:
            await self.session.execute(insert(answer_options), rows)

    async def answers_of(self, attempt_id: uuid.UUID) -> list[StoredAnswer]:
        """The attempt's answer rows with their options: two statements, whatever the count."""
        rows = (
            await self.session.execute(
                select(QuizAnswer.id, QuizAnswer.question_id, QuizAnswer.text, QuizAnswer.correct)
                .where(QuizAnswer.attempt_id == attempt_id)
                .order_by(QuizAnswer.question_id)
            )
        ).all()
        if not rows:
            return []
        chosen: dict[uuid.UUID, list[uuid.UUID]] = {}
        options = await self.session.execute(
            select(answer_options.c.answer_id, answer_options.c.option_id)
            .join(QuizAnswer, QuizAnswer.id == answer_options.c.answer_id)
            .where(QuizAnswer.attempt_id == attempt_id)
        )
        for answer_id, option_id in options.all():
            chosen.setdefault(answer_id, []).append(option_id)
        return [
            StoredAnswer(question_id, text, correct, sorted(chosen.get(answer_id, [])))
            for answer_id, question_id, text, correct in rows
        ]

    async def remove_answers(
        self, attempt_id: uuid.UUID, question_ids: Sequence[uuid.UUID] | None = None
    ) -> None:
        """Delete the attempt's answers (to these questions only, when given); their chosen
        options go with them (ON DELETE CASCADE, and explicitly for clarity)."""
        answers = select(QuizAnswer.id).where(QuizAnswer.attempt_id == attempt_id)
        if question_ids is not None:
            answers = answers.where(QuizAnswer.question_id.in_(list(question_ids)))
        await self.session.execute(
            delete(answer_options).where(answer_options.c.answer_id.in_(answers))
        )
        stmt = delete(QuizAnswer).where(QuizAnswer.attempt_id == attempt_id)
        if question_ids is not None:
            stmt = stmt.where(QuizAnswer.question_id.in_(list(question_ids)))
        await self.session.execute(stmt.execution_options(synchronize_session=False))

    async def questions_for_review(
        self, question_ids: Sequence[uuid.UUID]
    ) -> list[tuple[QuizQuestion, list[QuizOption]]]:
        """The questions an attempt answered, deleted ones included (a quiz whose questions
        were replaced since keeps the meaning of its old attempts), in position order, each
        with its options: two statements."""
        if not question_ids:
            return []
        deleted_too = {INCLUDE_DELETED: True}
        questions = (
            (
                await self.session.execute(
                    select(QuizQuestion)
                    .where(QuizQuestion.id.in_(list(question_ids)))
                    .order_by(QuizQuestion.position, QuizQuestion.id)
                    .execution_options(**deleted_too)
                )
            )
            .scalars()
            .all()
        )
        options: dict[uuid.UUID, list[QuizOption]] = {}
        found = await self.session.execute(
            select(QuizOption)
            .where(QuizOption.question_id.in_(list(question_ids)))
            .order_by(QuizOption.position, QuizOption.id)
            .execution_options(**deleted_too)
        )
        for option in found.scalars().all():
            options.setdefault(option.question_id, []).append(option)
        return [(q, options.get(q.id, [])) for q in questions]


class GrantRepository(BaseRepository[QuizAttemptGrant]):
    model = QuizAttemptGrant

    async def for_learner(
        self, quiz_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool = False
    ) -> QuizAttemptGrant | None:
        stmt = select(QuizAttemptGrant).where(
            QuizAttemptGrant.quiz_id == quiz_id, QuizAttemptGrant.user_id == user_id
        )
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def extra_for(self, quiz_id: uuid.UUID, user_id: uuid.UUID) -> int:
        result = await self.session.execute(
            select(QuizAttemptGrant.extra_attempts).where(
                QuizAttemptGrant.quiz_id == quiz_id, QuizAttemptGrant.user_id == user_id
            )
        )
        return int(result.scalar_one_or_none() or 0)

    async def add_first(self, grant: QuizAttemptGrant) -> bool:
        """Insert inside a SAVEPOINT; False when a racing grant inserted the row first (the
        caller then locks and updates that row)."""
        try:
            async with self.session.begin_nested():
                self.session.add(grant)
        except IntegrityError:
            return False
        return True
