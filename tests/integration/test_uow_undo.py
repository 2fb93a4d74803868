"""Work outside the database (a stored upload) is undone when the unit of work ends
without committing: an error in the use case, or a commit the database refuses at the
boundary after the use case returned."""

from __future__ import annotations

import pytest

from learnhub.db.uow import UnitOfWork
from learnhub.models import User
from learnhub.services.user import UserService
from tests.integration.helpers import unique_email


def recorder(log: list[str], name: str):  # type: ignore[no-untyped-def]
    async def undo() -> None:
        log.append(name)

    return undo


async def test_an_error_in_the_work_runs_the_undo_actions_last_first(uow: UnitOfWork) -> None:
    undone: list[str] = []
    with pytest.raises(LookupError):
        async with uow:
            uow.undo_unless_committed(recorder(undone, "first"))
            uow.undo_unless_committed(recorder(undone, "second"))
            raise LookupError("the use case failed")
    assert undone == ["second", "first"]


async def test_a_commit_keeps_the_outside_work(uow: UnitOfWork) -> None:
    undone: list[str] = []
    async with uow:
        await UserService(uow).register(unique_email(), "password-1", "Kept")
        uow.undo_unless_committed(recorder(undone, "file"))
        await uow.commit()
    assert undone == []


async def test_a_commit_the_database_refuses_runs_the_undo(uow: UnitOfWork) -> None:
    email = unique_email()
    async with uow:
        await UserService(uow).register(email, "password-1", "First")
        await uow.commit()
    undone: list[str] = []
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with uow:
            # Refused only when the commit flushes it: the use case itself had returned.
            uow.session.add(User(email=email, password_hash="x", display_name="Second"))
            uow.undo_unless_committed(recorder(undone, "file"))
            await uow.commit()
    assert undone == ["file"]


async def test_a_failing_undo_does_not_hide_the_original_error(uow: UnitOfWork) -> None:
    undone: list[str] = []

    async def broken() -> None:
        raise OSError("the storage is gone")

    with pytest.raises(LookupError):
        async with uow:
            uow.undo_unless_committed(recorder(undone, "after the broken one"))
            uow.undo_unless_committed(broken)
            raise LookupError("the use case failed")
    assert undone == ["after the broken one"]
