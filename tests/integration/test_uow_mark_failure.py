"""The database failing right after a commit must not cost the caller its answer
(found by reliability/faults.py: enrolments committed, then answered 500).

After the commit the unit of work marks the handled events in a short transaction of its
own. When that mark failed, it used to roll back the work's own session, which expires every
object in it: the router could no longer read the enrolment it had just committed and
answered 500 for an acknowledged write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.events.events import DomainEvent, UserRegistered
from learnhub.models import OutboxMessage
from learnhub.services.user import UserService
from tests.integration.helpers import unique_email


@pytest.fixture
def failing_mark(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every `UPDATE outbox SET handled_at` fails, as if the database had just gone away."""
    failed: list[str] = []

    def before(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE OUTBOX SET HANDLED_AT"):
            failed.append(statement)
            raise RuntimeError("the database went away")

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield failed
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def test_a_failed_mark_leaves_the_committed_objects_readable(uow, bus, session, failing_mark):
    handled: list[DomainEvent] = []

    async def handler(e: DomainEvent) -> None:
        handled.append(e)

    bus.subscribe(UserRegistered, handler)
    email = unique_email()
    async with uow:
        user = await UserService(uow).register(email, "password-1", "Marked")
        await uow.commit()
        # What a router does next: read the committed object to answer.
        assert user.email == email and user.display_name == "Marked"
    assert failing_mark, "the mark was attempted (and failed)"
    assert [e.event_type for e in handled] == ["UserRegistered"]
    assert user.id is not None and user.version >= 1
    # The change stays committed; the event stays unhandled for the retrier.
    row = await session.scalar(
        select(OutboxMessage.handled_at).where(OutboxMessage.aggregate_id == user.id)
    )
    assert row is None
