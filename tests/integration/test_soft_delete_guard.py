"""The runtime soft-delete guard (tests/support/soft_delete_guard.py) on real application
reads: it reports a raw read that lost its `live()` criterion or its `including_deleted()`
marker, and leaves the tests' own SQL alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text, true

from learnhub.repositories import course_catalog, stats
from learnhub.repositories.catalog import CatalogRepository
from learnhub.repositories.filters import CursorPagination
from learnhub.repositories.session import UserSessionRepository
from learnhub.repositories.stats import LearnerStatsRepository
from tests.integration.helpers import register
from tests.support.soft_delete_guard import GUARD


@pytest.fixture
def fresh_catalog_statement() -> Iterator[None]:
    """The catalog statement is built once per dialect (and its hot pages' templates once per
    shape): build them again around the test."""
    built_once = (
        course_catalog.catalog_select,
        course_catalog.listed_page_template,
        course_catalog.listed_page_read,
    )
    for cached in built_once:
        cached.cache_clear()
    yield
    for cached in built_once:
        cached.cache_clear()


@pytest.mark.usefixtures("fresh_catalog_statement")
async def test_a_raw_read_that_lost_its_criterion_is_reported(session, monkeypatch):
    """The catalog runs as Core on the session's connection, so the ORM's global filter never
    sees it: without its `live()` the guard reports it, naming the application line."""
    catalog = CatalogRepository(session)
    GUARD.take()
    await catalog.catalog_page([], CursorPagination(), None)
    assert GUARD.take() == []

    monkeypatch.setattr(course_catalog, "live", lambda _source: true())  # a forgotten live()
    for cached in (course_catalog.listed_page_template, course_catalog.listed_page_read):
        cached.cache_clear()
    course_catalog.catalog_select.cache_clear()
    await catalog.catalog_page([], CursorPagination(), None)
    found = GUARD.take()  # taken here, so this test itself does not fail on them
    # The page is empty, so it is read twice (its generation first, then the page again:
    # repositories/catalog.py catalog_page): each read is reported.
    assert found and {v.caller.split(":")[0] for v in found} == {"learnhub/repositories/catalog.py"}
    for violation in found:
        assert sorted(violation.tables) == ["course_objectives", "courses", "tags", "users"]


async def test_a_read_of_deleted_rows_on_purpose_needs_the_marker(uow, session, monkeypatch):
    """The learner stats' insert-from-select reads `users` deleted or not (an ORM INSERT gets
    no global filter): without its `including_deleted()` the guard reports it."""
    user = await register(uow)
    GUARD.take()

    def unmarked(statement: Any) -> Any:
        return statement

    monkeypatch.setattr(stats, "including_deleted", unmarked)
    await LearnerStatsRepository(session).refresh(user.id)
    found = GUARD.take()
    assert [v.tables for v in found] == [("users",)]


async def test_marked_reads_and_the_tests_own_sql_pass(session):
    GUARD.take()
    # An ORM read with the marker: the global filter steps aside and the guard accepts it.
    assert await UserSessionRepository(session).ids_for_user(uuid.uuid4()) == []
    await session.execute(text("SELECT id FROM courses"))  # a test, not the application
    assert GUARD.take() == []
