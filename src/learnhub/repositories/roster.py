"""A course's roster for its instructor: every learner's enrolment with their name and how
far they got, a keyset page in one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.db.soft_delete import live
from learnhub.domain.enums import EnrollmentStatus
from learnhub.models.learning import Enrollment, VideoProgress
from learnhub.models.user import User
from learnhub.repositories.filters import CursorPagination, Page, Sort
from learnhub.repositories.pages import keyset_statement, page_of

# Newest enrolments first; the (course_id, enrolled_at, id) index serves it.
ROSTER_ORDER = Sort("newest", Enrollment.enrolled_at, descending=True)


@dataclass(frozen=True, slots=True)
class RosterRow:
    id: uuid.UUID
    user_id: uuid.UUID
    display_name: str
    email: str
    status: EnrollmentStatus
    enrolled_at: datetime
    completed_at: datetime | None
    done_items: int
    last_heartbeat_at: datetime | None

    @property
    def last_activity_at(self) -> datetime:
        """The learner's last heartbeat in the course, or their enrolment if later."""
        if self.last_heartbeat_at is None:
            return self.enrolled_at
        return max(self.enrolled_at, self.last_heartbeat_at)


class RosterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, course_id: uuid.UUID, pagination: CursorPagination) -> Page[RosterRow]:
        """One page of the course's live enrolments of live accounts, newest first, in one
        statement: the account by a join, the last heartbeat by a correlated MAX on the
        learner's progress rows (their (user_id, video_id) index)."""
        last_heartbeat = (
            select(func.max(VideoProgress.last_heartbeat_at))
            .where(
                VideoProgress.user_id == Enrollment.user_id,
                VideoProgress.course_id == Enrollment.course_id,
                live(VideoProgress),
            )
            .scalar_subquery()
        )
        stmt = (
            select(
                Enrollment.id,
                Enrollment.user_id,
                User.display_name,
                User.email,
                Enrollment.status,
                Enrollment.enrolled_at,
                Enrollment.completed_at,
                (Enrollment.completed_videos + Enrollment.passed_quizzes).label("done"),
                last_heartbeat.label("last_heartbeat_at"),
            )
            .join(User, (User.id == Enrollment.user_id) & live(User))
            .where(Enrollment.course_id == course_id, live(Enrollment))
        )
        paged = keyset_statement(cast(Select[Any], stmt), ROSTER_ORDER, Enrollment.id, pagination)
        rows = (await self.session.execute(paged)).all()
        found = [RosterRow(*row) for row in rows]
        return page_of(found, ROSTER_ORDER, Enrollment.id, pagination)
