"""The public course page's fast path: what an anonymous caller sees of a course, from the
one-statement read model (repositories/course_outline.py)."""

from __future__ import annotations

from learnhub.domain import course_rules
from learnhub.domain.errors import NotFound
from learnhub.domain.ids import parse_id
from learnhub.repositories.course_outline import CourseOutline, CourseOutlineRepository
from learnhub.services.base import BaseService


class CoursePageService(BaseService):
    async def public_outline(self, key: str) -> CourseOutline | None:
        """`CourseService.view_by_key` for no principal, by id or slug: a published course
        only, as `CourseAccess.access` says for no principal (the read model states it with
        the catalog's `Listed`). None when the database has no such read model (SQLite):
        `view_by_key` serves the page then."""
        repo = self.uow.repo(CourseOutlineRepository)
        if not repo.available:
            return None
        course_id = parse_id(key)
        if course_id is None and not course_rules.is_slug(key):
            raise NotFound("Course", key)
        outline = await repo.published(course_id if course_id is not None else key)
        if outline is None:
            raise NotFound("Course", key)
        return outline
