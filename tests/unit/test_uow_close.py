"""A connection that broke mid-request must not fail the request at close (found by
reliability/faults.py: the rollback in close() raised after the response had started, and
uvicorn dropped the connection, so the client never got an answer it was owed)."""

from __future__ import annotations

from typing import Any

from learnhub.db.uow import UnitOfWork


class BrokenSession:
    def __init__(self) -> None:
        self.invalidated = False

    async def close(self) -> None:
        raise ConnectionResetError("cannot switch to state 15; another operation is in progress")

    async def invalidate(self) -> None:
        self.invalidated = True


async def test_a_close_that_fails_invalidates_instead_of_raising() -> None:
    session = BrokenSession()
    factory: Any = lambda: session  # noqa: E731 - a session factory stand-in
    uow = UnitOfWork(factory)
    async with uow:
        pass
    assert session.invalidated


async def test_the_work_s_own_error_still_propagates() -> None:
    session = BrokenSession()
    factory: Any = lambda: session  # noqa: E731
    uow = UnitOfWork(factory)
    try:
        async with uow:
            raise ValueError("the work failed")
    except ValueError as exc:
        assert str(exc) == "the work failed"
    else:
        raise AssertionError("the work's error was swallowed")
    assert session.invalidated
