"""In-process handlers after commit, on a real database (both engines): events nobody
handles are written handled; handled ones are marked once their handlers succeed; a failing
handler keeps the committed change, leaves its event unhandled and counted, and the retrier
handles it later; `learnhub events handle --once` does the same from the command line."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from learnhub.db.uow import UnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.events.events import DomainEvent, UserRegistered
from learnhub.metrics import EVENT_HANDLER_FAILURES
from learnhub.models import OutboxMessage, User
from learnhub.repositories.stats import LearnerStatsRepository, StatsRow
from learnhub.services.user import UserService
from learnhub.workers.handlers import HandlerRetrier
from tests.integration.helpers import unique_email


async def handled_at(session, aggregate_id: uuid.UUID) -> datetime | None:
    rows = await session.execute(
        select(OutboxMessage.handled_at).where(OutboxMessage.aggregate_id == aggregate_id)
    )
    (value,) = rows.scalars().all()
    return value


class Switch:
    def __init__(self, broken: bool) -> None:
        self.broken = broken
        self.seen: list[DomainEvent] = []

    async def __call__(self, event: DomainEvent) -> None:
        self.seen.append(event)
        if self.broken:
            raise RuntimeError("handler broken")


async def register(uow) -> User:
    async with uow:
        user = await UserService(uow).register(unique_email(), "password-1", "A")
        await uow.commit()
    return user


async def test_an_event_no_handler_wants_is_written_already_handled(uow, session):
    before = utc_now()
    user = await register(uow)
    stamp = await handled_at(session, user.id)
    assert stamp is not None and before <= stamp <= utc_now()


async def test_an_event_is_marked_handled_once_its_handlers_succeeded(uow, bus, session):
    during: list[datetime | None] = []

    async def handler(event: DomainEvent) -> None:
        during.append(await handled_at(session, event.aggregate_id))

    bus.subscribe(UserRegistered, handler)
    user = await register(uow)
    assert during == [None]  # unhandled while its handler runs
    assert await handled_at(session, user.id) is not None


async def test_a_failing_handler_keeps_the_change_and_the_retrier_handles_it_later(
    uow, bus, session, session_factory
):
    handler = Switch(broken=True)
    bus.subscribe(UserRegistered, handler)
    failures = EVENT_HANDLER_FAILURES.labels(event_type="UserRegistered")
    before = failures._value.get()

    user = await register(uow)  # no error reaches the caller

    assert (await session.execute(select(User.id).where(User.id == user.id))).scalar_one()
    assert await handled_at(session, user.id) is None
    assert failures._value.get() == before + 1

    def retrier(grace: timedelta) -> HandlerRetrier:
        return HandlerRetrier(lambda: UnitOfWork(session_factory), bus, grace=grace)

    # Within the grace period the event is left alone (its request may still be at it).
    assert (await retrier(timedelta(minutes=1)).run_once()).handled == 0
    still_broken = await retrier(timedelta(0)).run_once()
    assert (still_broken.handled, still_broken.failed) == (0, 1)
    assert await handled_at(session, user.id) is None

    handler.broken = False  # fixed
    handler.seen.clear()
    result = await retrier(timedelta(0)).run_once()
    assert (result.handled, result.failed) == (1, 0)
    (event,) = handler.seen
    assert isinstance(event, UserRegistered) and event.user_id == user.id
    assert await handled_at(session, user.id) is not None
    assert (await retrier(timedelta(0)).run_once()).handled == 0  # nothing twice


async def test_stats_of_a_learner_with_no_row_are_zeros_and_a_missing_user_is_skipped(uow):
    async with uow:
        stats = uow.repo(LearnerStatsRepository)
        assert await stats.get(uuid.uuid4()) == StatsRow()
        assert await stats.refresh(uuid.uuid4()) is False  # erased since the event: no row


async def test_stats_refresh_of_an_idle_learner_writes_zeros(uow):
    user = await register(uow)
    async with uow:
        assert await uow.repo(LearnerStatsRepository).refresh(user.id) is True
        await uow.commit()
    async with uow:
        row = await uow.repo(LearnerStatsRepository).get(user.id)
    assert (row.enrolled_courses, row.completed_courses, row.completed_videos) == (0, 0, 0)
    assert row.passed_quizzes == 0 and row.last_activity_at is None
    assert row.refreshed_at is not None


@pytest.mark.sqlite_only
def test_cli_events_handle_once_handles_what_was_left_unhandled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
):
    from learnhub.cli.app import app
    from learnhub.config import get_settings

    path = tmp_path / "handle.db"
    monkeypatch.setenv("LEARNHUB_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(
            app,
            ["users", "create", "handle@example.com", "--password-stdin"],
            input="a-long-password\n",
        )
        assert created.exit_code == 0, created.output
        with sqlite3.connect(path) as raw:  # as if the process died before marking
            raw.execute("UPDATE outbox SET handled_at = NULL")
        handled = runner.invoke(app, ["events", "handle", "--once", "--grace-seconds", "0"])
        assert handled.exit_code == 0, handled.output
        assert "1 events handled, 0 failed" in handled.stdout
        with sqlite3.connect(path) as raw:
            assert (
                raw.execute("SELECT count(*) FROM outbox WHERE handled_at IS NULL").fetchone()[0]
                == 0
            )
        again = runner.invoke(app, ["events", "handle", "--once", "--grace-seconds", "0"])
        assert "0 events handled" in again.stdout
    finally:
        get_settings.cache_clear()
