"""In-process handlers and their retrier on fakes (SPEC 4): events rebuilt from the outbox,
the failure counter, the stats handler's subscriptions, and one retry pass marking exactly
the events whose handlers all succeeded."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from learnhub.domain.clock import utc_now
from learnhub.events.bus import EventBus
from learnhub.events.events import (
    EVENT_TYPES,
    CourseArchived,
    DomainEvent,
    PasswordChanged,
    PasswordResetRequested,
    UnknownEventType,
    UserEnrolled,
    UserRegistered,
    from_payload,
)
from learnhub.metrics import EVENT_HANDLER_FAILURES
from learnhub.repositories.outbox import OutboxHandlingRepository
from learnhub.repositories.stats import LearnerStatsRepository
from learnhub.workers.handlers import (
    STATS_EVENTS,
    HandlerRetrier,
    RefreshLearnerStats,
    register_handlers,
)
from tests.unit.test_event_bus import USER, sample_events


def failures_of(event_type: str) -> float:
    return EVENT_HANDLER_FAILURES.labels(event_type=event_type)._value.get()


# ---- fakes -----------------------------------------------------------------------------------


@dataclass
class Row:
    position: int
    event_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    created_at: datetime
    handled_at: datetime | None = None


class FakeOutbox:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.mark_calls = 0

    def add(self, event: DomainEvent, age: timedelta = timedelta(minutes=5)) -> Row:
        row = Row(
            position=len(self.rows) + 1,
            event_id=event.event_id,
            event_type=event.event_type,
            payload=json.loads(json.dumps(event.payload())),  # as stored: JSON
            created_at=utc_now() - age,
        )
        self.rows.append(row)
        return row

    async def unhandled(self, created_before: datetime, after_position: int, limit: int):
        found = [
            r
            for r in self.rows
            if r.handled_at is None
            and r.position > after_position
            and r.created_at < created_before
        ]
        return found[:limit]

    async def mark_handled(self, event_ids: list[uuid.UUID], at: datetime) -> int:
        self.mark_calls += 1
        marked = 0
        for row in self.rows:
            if row.event_id in event_ids and row.handled_at is None:
                row.handled_at, marked = at, marked + 1
        return marked


class FakeStats:
    def __init__(self) -> None:
        self.refreshed: list[uuid.UUID] = []

    async def refresh(self, user_id: uuid.UUID) -> bool:
        self.refreshed.append(user_id)
        return True


class FakeUow:
    """A unit of work as the handlers use it: a context, repositories, commit."""

    def __init__(self, outbox: FakeOutbox, stats: FakeStats, log: list[str]) -> None:
        self._repos = {OutboxHandlingRepository: outbox, LearnerStatsRepository: stats}
        self.log = log

    async def __aenter__(self) -> FakeUow:
        self.log.append("begin")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.log.append("end")

    def repo(self, factory: type) -> Any:
        return self._repos[factory]

    async def commit(self) -> None:
        self.log.append("commit")


@pytest.fixture
def world() -> tuple[FakeOutbox, FakeStats, list[str], Any]:
    outbox, stats, log = FakeOutbox(), FakeStats(), []
    return outbox, stats, log, lambda: FakeUow(outbox, stats, log)


# ---- events rebuilt from the outbox ----------------------------------------------------------


@pytest.mark.parametrize("event", sample_events(), ids=lambda e: e.event_type)
def test_an_event_is_rebuilt_from_its_stored_type_and_payload(event: DomainEvent) -> None:
    stored = json.loads(json.dumps(event.payload()))
    rebuilt = from_payload(event.event_type, stored)
    assert type(rebuilt) is type(event)
    assert rebuilt == event
    assert rebuilt.occurred_at.tzinfo is event.occurred_at.tzinfo


def test_every_event_class_is_registered_by_its_type_name() -> None:
    for event in sample_events():
        assert EVENT_TYPES[event.event_type] is type(event)


def test_an_unknown_type_or_a_broken_payload_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        from_payload("NoSuchEvent", {})
    payload = UserRegistered(user_id=USER, email="a@example.com").payload()
    with pytest.raises(ValueError):
        from_payload("UserRegistered", {**payload, "user_id": "[erased]"})


# ---- the bus counts failures -----------------------------------------------------------------


async def test_a_failing_handler_is_counted_by_event_type() -> None:
    bus = EventBus()

    async def fails(event: DomainEvent) -> None:
        raise RuntimeError("down")

    bus.subscribe(CourseArchived, fails)
    before = failures_of("CourseArchived")
    await bus.dispatch([CourseArchived(course_id=uuid.uuid4()) for _ in range(3)])
    assert failures_of("CourseArchived") == before + 3


# ---- the stats handler -----------------------------------------------------------------------


def test_the_stats_handler_listens_to_exactly_the_learning_events(world) -> None:
    *_, factory = world
    bus = EventBus()
    register_handlers(bus, factory)
    for event in sample_events():
        assert bool(bus.handlers_for(event)) == isinstance(event, STATS_EVENTS), event.event_type
    assert {t.__name__ for t in STATS_EVENTS} == {
        "UserEnrolled",
        "EnrollmentCancelled",
        "VideoCompleted",
        "CourseCompleted",
        "QuizAttemptSubmitted",
    }


def test_the_mail_handler_listens_to_password_reset_requests_only(world) -> None:
    *_, factory = world
    bus = EventBus()
    register_handlers(bus, factory)
    requested = PasswordResetRequested(user_id=USER, token_id=uuid.uuid4())
    assert [repr(h) for h in bus.handlers_for(requested)] == ["SendPasswordResetMail(LogMailer())"]
    assert from_payload(requested.event_type, requested.payload()) == requested
    assert not bus.handlers_for(PasswordChanged(user_id=USER, reason="reset"))


async def test_the_stats_handler_refreshes_the_events_learner_in_its_own_unit_of_work(
    world,
) -> None:
    _, stats, log, factory = world
    handler = RefreshLearnerStats(factory)
    learning = [e for e in sample_events() if isinstance(e, STATS_EVENTS)]
    for event in learning:
        await handler(event)
    assert stats.refreshed == [USER] * len(learning)
    assert log == ["begin", "commit", "end"] * len(learning)
    await handler(UserRegistered(user_id=USER, email="a@example.com"))  # not its business
    assert len(stats.refreshed) == len(learning)


# ---- the retrier -----------------------------------------------------------------------------


class Switch:
    """A handler that fails while `broken`, recording what it was given."""

    def __init__(self, broken: bool) -> None:
        self.broken = broken
        self.seen: list[DomainEvent] = []

    async def __call__(self, event: DomainEvent) -> None:
        self.seen.append(event)
        if self.broken:
            raise RuntimeError("handler broken")


def enrolled() -> UserEnrolled:
    return UserEnrolled(course_id=uuid.uuid4(), user_id=USER, enrollment_id=uuid.uuid4())


async def test_a_pass_marks_what_succeeds_and_leaves_failures_for_the_next(world) -> None:
    outbox, _, _, factory = world
    bus, handler = EventBus(), Switch(broken=True)
    bus.subscribe(UserEnrolled, handler)
    events = [enrolled() for _ in range(5)]
    for event in events:
        outbox.add(event)
    retrier = HandlerRetrier(factory, bus, grace=timedelta(seconds=30), batch_size=2)

    before = failures_of("UserEnrolled")
    result = await retrier.run_once()
    # Each row was tried exactly once (no looping on failures), none marked.
    assert (result.handled, result.failed) == (0, 5)
    assert [e.event_id for e in handler.seen] == [e.event_id for e in events]
    assert all(r.handled_at is None for r in outbox.rows)
    assert failures_of("UserEnrolled") == before + 5

    handler.broken = False  # fixed
    handler.seen.clear()
    result = await retrier.run_once()
    assert (result.handled, result.failed) == (5, 0)
    assert handler.seen == events  # rebuilt equal to what was recorded
    assert all(r.handled_at is not None for r in outbox.rows)
    assert outbox.mark_calls == 3 + 3  # one statement per batch of 2 (2 + 2 + 1), per pass
    assert await retrier.run_once() == type(result)(handled=0, failed=0)


async def test_young_events_are_left_to_the_request_that_is_handling_them(world) -> None:
    outbox, _, _, factory = world
    bus, handler = EventBus(), Switch(broken=False)
    bus.subscribe(UserEnrolled, handler)
    old, young = enrolled(), enrolled()
    outbox.add(old, age=timedelta(minutes=1))
    outbox.add(young, age=timedelta(seconds=1))
    result = await HandlerRetrier(factory, bus, grace=timedelta(seconds=30)).run_once()
    assert result.handled == 1 and handler.seen == [old]
    assert outbox.rows[1].handled_at is None


async def test_unknown_types_are_marked_and_broken_payloads_kept(world) -> None:
    outbox, _, _, factory = world
    unknown = outbox.add(CourseArchived(course_id=uuid.uuid4()))
    unknown.event_type = "RetiredEvent"
    broken = outbox.add(enrolled())
    broken.payload["user_id"] = "[erased]"
    no_handler = outbox.add(UserRegistered(user_id=USER, email="a@example.com"))
    result = await HandlerRetrier(factory, EventBus(), grace=timedelta(0)).run_once()
    assert (result.handled, result.failed) == (2, 1)
    assert unknown.handled_at is not None and no_handler.handled_at is not None
    assert broken.handled_at is None
