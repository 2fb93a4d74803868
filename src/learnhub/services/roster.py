"""A course's roster (issue 15, item 2): its instructor and admins see who is enrolled and how
far each learner got, page by page or as one CSV export (SPEC 5, 7, 13)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.domain.errors import NotFound, PermissionDenied
from learnhub.domain.permissions import USERS_MANAGE
from learnhub.domain.principal import Principal
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.filters import CursorPagination, Page
from learnhub.repositories.learning import CourseCounterRepository
from learnhub.repositories.roster import RosterRepository, RosterRow
from learnhub.services.base import BaseService
from learnhub.services.course_access import CourseAccessService, can_edit

# Rows per statement while exporting the whole roster.
EXPORT_CHUNK = 100


@dataclass(frozen=True, slots=True)
class RosterEntry:
    row: RosterRow
    percent: float
    # Only administrators (users:manage) see learners' email addresses; a course's
    # instructor sees names (docs/decisions.md, "Roster").
    email: str | None


class RosterService(BaseService):
    async def _course_total(self, principal: Principal, course_id: uuid.UUID) -> int:
        """The course's item total, after checking the caller may read its roster: its
        instructor and admins; 404 when the course does not exist for the caller, 403 when
        they may see it but not its learners."""
        course = await self.uow.repo(CourseRepository).get_by_id(course_id)
        if course is None:
            raise NotFound("Course", course_id)
        if not can_edit(principal, course):
            if await CourseAccessService(self.uow).access(principal, course) is None:
                raise NotFound("Course", course_id)
            raise PermissionDenied("only the course's instructor or an admin may see its learners")
        return (await self.uow.repo(CourseCounterRepository).item_totals([course_id]))[course_id]

    async def page(
        self, principal: Principal, course_id: uuid.UUID, pagination: CursorPagination
    ) -> Page[RosterEntry]:
        total = await self._course_total(principal, course_id)
        page = await self.uow.repo(RosterRepository).page(course_id, pagination)
        return Page(
            items=[self._entry(principal, row, total) for row in page.items],
            next_cursor=page.next_cursor,
        )

    async def export(self, principal: Principal, course_id: uuid.UUID) -> list[RosterEntry]:
        """Every row of the roster, read in keyset chunks of EXPORT_CHUNK rows (one statement
        each). Read whole before the response starts: the unit of work ends with the
        endpoint, so the CSV is written from these rows, not from an open cursor."""
        total = await self._course_total(principal, course_id)
        roster, cursor, entries = self.uow.repo(RosterRepository), None, []
        while True:
            page = await roster.page(course_id, CursorPagination(EXPORT_CHUNK, cursor))
            entries += [self._entry(principal, row, total) for row in page.items]
            cursor = page.next_cursor
            if cursor is None:
                return entries

    @staticmethod
    def _entry(principal: Principal, row: RosterRow, total: int) -> RosterEntry:
        percent = round(100.0 * min(row.done_items, total) / total, 1) if total else 0.0
        email = row.email if principal.can(USERS_MANAGE) else None
        return RosterEntry(row=row, percent=percent, email=email)
