"""Domain events and their in-process bus (SPEC 4)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from learnhub.events.bus import EventBus
from learnhub.events.events import (
    CourseArchived,
    CourseCompleted,
    CourseEvent,
    CoursePublished,
    DomainEvent,
    EnrollmentCancelled,
    QuizAttemptSubmitted,
    ReviewPosted,
    UserEnrolled,
    UserEvent,
    UserRegistered,
    VideoCompleted,
)

USER, COURSE, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def sample_events() -> list[DomainEvent]:
    """One of each event the SPEC requires."""
    return [
        UserRegistered(user_id=USER, email="alice@example.com"),
        CoursePublished(course_id=COURSE, instructor_id=OTHER),
        CourseArchived(course_id=COURSE),
        UserEnrolled(course_id=COURSE, user_id=USER, enrollment_id=uuid.uuid4()),
        EnrollmentCancelled(course_id=COURSE, user_id=USER, enrollment_id=uuid.uuid4()),
        VideoCompleted(course_id=COURSE, user_id=USER, video_id=uuid.uuid4()),
        CourseCompleted(course_id=COURSE, user_id=USER, enrollment_id=uuid.uuid4()),
        QuizAttemptSubmitted(
            course_id=COURSE,
            user_id=USER,
            quiz_id=uuid.uuid4(),
            attempt_id=uuid.uuid4(),
            score=Decimal("87.50"),
            passed=True,
        ),
        ReviewPosted(course_id=COURSE, user_id=USER, review_id=uuid.uuid4(), rating=4),
    ]


class Recorder:
    """An async handler that remembers what it saw, in the shared call log."""

    def __init__(self, name: str, log: list[tuple[str, DomainEvent]]) -> None:
        self.name = name
        self.log = log
        self.seen: list[DomainEvent] = []

    async def __call__(self, event: DomainEvent) -> None:
        self.seen.append(event)
        self.log.append((self.name, event))


# ---- the bus -----------------------------------------------------------------------------


class TestDispatch:
    async def test_handler_receives_events_in_order(self) -> None:
        bus, log = EventBus(), []
        handler = Recorder("h", log)
        bus.subscribe(DomainEvent, handler)
        events = sample_events()
        failures = await bus.dispatch(events)
        assert failures == []
        assert handler.seen == events
        assert [e.event_id for e in handler.seen] == [e.event_id for e in events]

    async def test_each_event_is_handled_completely_before_the_next(self) -> None:
        bus, log = EventBus(), []
        bus.subscribe(UserRegistered, Recorder("a", log))
        bus.subscribe(UserRegistered, Recorder("b", log))
        first = UserRegistered(user_id=uuid.uuid4(), email="one@example.com")
        second = UserRegistered(user_id=uuid.uuid4(), email="two@example.com")
        await bus.dispatch([first, second])
        assert log == [("a", first), ("b", first), ("a", second), ("b", second)]

    async def test_handlers_of_one_type_run_in_subscription_order(self) -> None:
        bus, log = EventBus(), []
        for name in ("first", "second", "third"):
            bus.subscribe(CourseArchived, Recorder(name, log))
        event = CourseArchived(course_id=COURSE)
        await bus.dispatch([event])
        assert [name for name, _ in log] == ["first", "second", "third"]

    async def test_dispatch_accepts_any_iterable(self) -> None:
        bus, log = EventBus(), []
        handler = Recorder("h", log)
        bus.subscribe(DomainEvent, handler)
        events = sample_events()
        await bus.dispatch(e for e in events)
        assert handler.seen == events

    async def test_no_handlers_is_fine(self) -> None:
        assert await EventBus().dispatch(sample_events()) == []
        assert await EventBus().dispatch([]) == []

    async def test_handler_only_sees_its_own_type(self) -> None:
        bus, log = EventBus(), []
        published = Recorder("published", log)
        bus.subscribe(CoursePublished, published)
        events = sample_events()
        await bus.dispatch(events)
        assert published.seen == [e for e in events if isinstance(e, CoursePublished)]
        assert len(published.seen) == 1


class TestBaseClassSubscriptions:
    async def test_subscriber_to_user_event_receives_subclasses(self) -> None:
        bus, log = EventBus(), []
        handler = Recorder("users", log)
        bus.subscribe(UserEvent, handler)
        events = sample_events()
        await bus.dispatch(events)
        assert handler.seen == [e for e in events if isinstance(e, UserEvent)]
        assert [type(e) for e in handler.seen] == [UserRegistered]

    async def test_subscriber_to_course_event_receives_every_course_event(self) -> None:
        bus, log = EventBus(), []
        handler = Recorder("courses", log)
        bus.subscribe(CourseEvent, handler)
        events = sample_events()
        await bus.dispatch(events)
        assert handler.seen == events[1:]
        assert all(isinstance(e, CourseEvent) for e in handler.seen)

    async def test_subscriber_to_domain_event_receives_everything(self) -> None:
        bus, log = EventBus(), []
        handler = Recorder("all", log)
        bus.subscribe(DomainEvent, handler)
        events = sample_events()
        await bus.dispatch(events)
        assert handler.seen == events

    async def test_specific_and_base_subscribers_both_run_specific_first(self) -> None:
        bus, log = EventBus(), []
        bus.subscribe(DomainEvent, Recorder("domain", log))
        bus.subscribe(UserEvent, Recorder("user", log))
        bus.subscribe(UserRegistered, Recorder("registered", log))
        bus.subscribe(CourseEvent, Recorder("course", log))
        event = UserRegistered(user_id=USER, email="alice@example.com")
        await bus.dispatch([event])
        assert log == [("registered", event), ("user", event), ("domain", event)]

    def test_handlers_for_follows_the_class_hierarchy(self) -> None:
        bus, log = EventBus(), []
        specific, base = Recorder("specific", log), Recorder("base", log)
        bus.subscribe(UserRegistered, specific)
        bus.subscribe(DomainEvent, base)
        assert bus.handlers_for(UserRegistered(user_id=USER, email="a@example.com")) == [
            specific,
            base,
        ]
        assert bus.handlers_for(CourseArchived(course_id=COURSE)) == [base]


class TestFailingHandlers:
    async def test_failure_does_not_stop_other_handlers_and_is_returned(self) -> None:
        bus, log = EventBus(), []
        boom = RuntimeError("handler exploded")

        async def failing(event: DomainEvent) -> None:
            log.append(("failing", event))
            raise boom

        before, after = Recorder("before", log), Recorder("after", log)
        bus.subscribe(UserRegistered, before)
        bus.subscribe(UserRegistered, failing)
        bus.subscribe(DomainEvent, after)
        event = UserRegistered(user_id=USER, email="alice@example.com")

        failures = await bus.dispatch([event])

        assert failures == [(event, boom)]
        assert failures[0][1] is boom
        assert log == [("before", event), ("failing", event), ("after", event)]

    async def test_failure_on_one_event_does_not_stop_later_events(self) -> None:
        bus, log = EventBus(), []

        async def fails_on_archive(event: DomainEvent) -> None:
            if isinstance(event, CourseArchived):
                raise ValueError("no archives today")
            log.append(("ok", event))

        bus.subscribe(DomainEvent, fails_on_archive)
        events = sample_events()
        failures = await bus.dispatch(events)

        assert [(type(e), type(x)) for e, x in failures] == [(CourseArchived, ValueError)]
        assert [e for _, e in log] == [e for e in events if not isinstance(e, CourseArchived)]

    async def test_every_failure_is_reported_in_order(self) -> None:
        bus = EventBus()
        errors: list[Exception] = []

        async def always_fails(event: DomainEvent) -> None:
            exc = KeyError(event.event_type)
            errors.append(exc)
            raise exc

        bus.subscribe(UserEvent, always_fails)
        bus.subscribe(DomainEvent, always_fails)
        events = [
            UserRegistered(user_id=uuid.uuid4(), email="a@example.com"),
            CourseArchived(course_id=COURSE),
        ]
        failures = await bus.dispatch(events)
        assert [e for e, _ in failures] == [events[0], events[0], events[1]]
        assert [x for _, x in failures] == errors


# ---- the events --------------------------------------------------------------------------


class TestEvents:
    @pytest.mark.parametrize("event", sample_events(), ids=lambda e: e.event_type)
    def test_payload_is_json_serialisable_with_id_and_time(self, event: DomainEvent) -> None:
        payload = event.payload()
        text = json.dumps(payload)
        assert json.loads(text) == payload
        assert payload["event_id"] == str(event.event_id)
        assert uuid.UUID(payload["event_id"]) == event.event_id
        assert datetime.fromisoformat(payload["occurred_at"]) == event.occurred_at
        # Every field is carried, nothing else (the aggregate type is a class constant).
        assert set(payload) == {f.name for f in dataclasses.fields(event)}
        assert "aggregate_type" not in payload

    @pytest.mark.parametrize("event", sample_events(), ids=lambda e: e.event_type)
    def test_events_are_frozen(self, event: DomainEvent) -> None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.event_id = uuid.uuid4()  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.occurred_at = event.occurred_at + timedelta(days=1)  # type: ignore[misc]
        field = next(
            f.name for f in dataclasses.fields(event) if f.name not in ("event_id", "occurred_at")
        )
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(event, field, None)

    @pytest.mark.parametrize("event", sample_events(), ids=lambda e: e.event_type)
    def test_identity_type_and_aggregate(self, event: DomainEvent) -> None:
        assert isinstance(event.event_id, uuid.UUID)
        assert event.event_id.version == 7
        assert event.occurred_at.utcoffset() == timedelta(0)
        assert event.event_type == type(event).__name__
        if isinstance(event, UserEvent):
            assert (event.aggregate_type, event.aggregate_id) == ("user", USER)
        else:
            assert isinstance(event, CourseEvent)
            assert (event.aggregate_type, event.aggregate_id) == ("course", COURSE)

    def test_each_event_gets_its_own_id(self) -> None:
        events = [CourseArchived(course_id=COURSE) for _ in range(50)]
        assert len({e.event_id for e in events}) == 50
        assert [e.event_id for e in events] == sorted(e.event_id for e in events)

    def test_payload_converts_uuids_decimals_and_times_to_text(self) -> None:
        event = QuizAttemptSubmitted(
            course_id=COURSE,
            user_id=USER,
            quiz_id=OTHER,
            attempt_id=OTHER,
            score=Decimal("87.50"),
            passed=False,
        )
        payload = event.payload()
        assert payload["score"] == "87.50"
        assert payload["passed"] is False
        assert payload["course_id"] == str(COURSE)
        assert payload["user_id"] == str(USER)
        assert payload["occurred_at"] == event.occurred_at.isoformat()

    def test_events_with_equal_fields_are_equal_values(self) -> None:
        event = UserRegistered(user_id=USER, email="alice@example.com")
        assert dataclasses.replace(event) == event
        assert dataclasses.replace(event, email="bob@example.com") != event

    def test_fields_are_keyword_only(self) -> None:
        with pytest.raises(TypeError):
            UserRegistered(USER, "alice@example.com")  # type: ignore[misc]
