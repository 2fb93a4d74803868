"""Unit of work: one transaction, outbox rows in it, handlers only after commit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from learnhub.events.events import UserEvent, UserRegistered
from learnhub.models import OutboxMessage
from learnhub.services.user import UserService
from tests.integration.helpers import unique_email


async def outbox_for(session, aggregate_id):
    rows = await session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.aggregate_id == aggregate_id)
        .order_by(OutboxMessage.position)
    )
    return list(rows.scalars())


async def test_commit_writes_outbox_in_the_same_transaction_then_dispatches(uow, bus, session):
    seen: list[tuple[str, bool]] = []

    async def handler(event):
        # By the time a handler runs, the change is committed and visible elsewhere.
        found = await outbox_for(session, event.aggregate_id)
        seen.append((event.event_type, len(found) == 1))

    bus.subscribe(UserRegistered, handler)
    async with uow:
        user = await UserService(uow).register(unique_email(), "password-1", "A")
        assert seen == []  # nothing dispatched before commit
        await uow.commit()
    assert seen == [("UserRegistered", True)]
    (message,) = await outbox_for(session, user.id)
    assert message.event_type == "UserRegistered"
    assert message.aggregate_type == "user"
    assert message.payload["email"] == user.email
    assert message.published_at is None


async def test_rollback_discards_outbox_and_never_dispatches(uow, bus, session):
    seen = []

    async def handler(event):
        seen.append(event)

    bus.subscribe(UserEvent, handler)
    async with uow:
        user = await UserService(uow).register(unique_email(), "password-1", "A")
    assert seen == []
    assert await outbox_for(session, user.id) == []

    with pytest.raises(RuntimeError):
        async with uow:
            await UserService(uow).register(unique_email(), "password-1", "B")
            raise RuntimeError("boom")
    assert seen == []


async def test_failing_handler_does_not_undo_the_commit(uow, bus, session):
    async def broken(event):
        raise ValueError("handler bug")

    delivered = []

    async def working(event):
        delivered.append(event.event_id)

    bus.subscribe(UserRegistered, broken)
    bus.subscribe(UserRegistered, working)
    async with uow:
        user = await UserService(uow).register(unique_email(), "password-1", "A")
        await uow.commit()
    assert len(delivered) == 1
    assert len(await outbox_for(session, user.id)) == 1
