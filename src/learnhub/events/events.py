"""Domain events: immutable facts that services record and the outbox carries."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, ClassVar

from pydantic import TypeAdapter

from learnhub.domain.clock import utc_now
from learnhub.domain.ids import new_id

# Every event class by its `event_type` (its class name), filled as the classes are defined:
# the outbox stores the type name and the payload, and `from_payload` rebuilds the event.
EVENT_TYPES: dict[str, type[DomainEvent]] = {}


class UnknownEventType(LookupError):
    """An outbox row names an event type this code does not define."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    aggregate_type: ClassVar[str] = ""

    event_id: uuid.UUID = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=utc_now)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EVENT_TYPES[cls.__name__] = cls

    @property
    def event_type(self) -> str:
        return type(self).__name__

    @property
    def aggregate_id(self) -> uuid.UUID:
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True, kw_only=True)
class UserEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "user"
    user_id: uuid.UUID

    @property
    def aggregate_id(self) -> uuid.UUID:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class CourseEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "course"
    course_id: uuid.UUID

    @property
    def aggregate_id(self) -> uuid.UUID:
        return self.course_id


@dataclass(frozen=True, kw_only=True)
class UserRegistered(UserEvent):
    email: str


@dataclass(frozen=True, kw_only=True)
class PasswordResetRequested(UserEvent):
    """A reset token was made for the user: the mail handler sends its link. The event names
    the token's row, never the token (the outbox holds no secret): the handler derives the
    token again from the row's id (`services.tokens.reset_token`)."""

    token_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(UserEvent):
    """The user's password changed (`reason`: "changed" by its owner, or "reset")."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class CoursePublished(CourseEvent):
    instructor_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class CourseArchived(CourseEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class UserEnrolled(CourseEvent):
    user_id: uuid.UUID
    enrollment_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class EnrollmentCancelled(CourseEvent):
    user_id: uuid.UUID
    enrollment_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class VideoCompleted(CourseEvent):
    user_id: uuid.UUID
    video_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class CourseCompleted(CourseEvent):
    user_id: uuid.UUID
    enrollment_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class QuizAttemptSubmitted(CourseEvent):
    user_id: uuid.UUID
    quiz_id: uuid.UUID
    attempt_id: uuid.UUID
    score: Decimal
    passed: bool


@dataclass(frozen=True, kw_only=True)
class ReviewPosted(CourseEvent):
    user_id: uuid.UUID
    review_id: uuid.UUID
    rating: int


@cache
def _adapter(event_type: str) -> TypeAdapter[DomainEvent]:
    return TypeAdapter(EVENT_TYPES[event_type])


def from_payload(event_type: str, payload: Mapping[str, Any]) -> DomainEvent:
    """The event an outbox row carries, rebuilt from its type name and JSON payload (ids,
    times and decimals parsed back from text): the inverse of `DomainEvent.payload()`."""
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(event_type)
    event = _adapter(event_type).validate_python(dict(payload))
    # The same UTC tzinfo as freshly made events (the parser brings its own).
    return dataclasses.replace(event, occurred_at=event.occurred_at.astimezone(UTC))
