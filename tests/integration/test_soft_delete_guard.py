"""The runtime soft-delete guard (tests/support/soft_delete_guard.py) on real application
reads: it reports a raw read that lost its `live()` criterion or its `including_deleted()`
marker, and leaves the tests' own SQL alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text, true

from learnhub.ops import bulk_load
from learnhub.ops.bulk_load import BulkLoader
from learnhub.repositories import stats
from learnhub.repositories.stats import LearnerStatsRepository
from tests.integration.helpers import register
from tests.support.soft_delete_guard import GUARD


async def test_a_raw_read_that_lost_its_criterion_is_reported(connection, monkeypatch):
    """A Core read on a connection gets nothing from the ORM's global filter: without its
    `live()` the guard reports it, naming the application line that ran it."""
    loader = BulkLoader(connection)
    GUARD.take()
    assert await loader.ids_by_name("tags", ["python"]) == {}
    assert GUARD.take() == []

    monkeypatch.setattr(bulk_load, "live", lambda _source: true())  # a forgotten live()
    assert await loader.ids_by_name("tags", ["python"]) == {}
    found = GUARD.take()  # taken here, so this test itself does not fail on them
    assert [(v.caller.split(":")[0], v.tables) for v in found] == [
        ("learnhub/ops/bulk_load.py", ("tags",))
    ]


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


async def test_marked_reads_and_the_tests_own_sql_pass(connection):
    GUARD.take()
    assert (await BulkLoader(connection).count_rows(["courses"])) == {"courses": False}
    await connection.execute(text("SELECT id FROM courses"))  # a test, not the application
    assert GUARD.take() == []
