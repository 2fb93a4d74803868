"""In-process dispatch of domain events after commit.

A handler's failure is logged and counted and never undoes the committed change: the event
is also in the outbox, where it stays unhandled until a retry succeeds (the unit of work
marks it handled; `learnhub events handle` retries), and the relay delivers it to
out-of-process consumers regardless. Handlers must therefore be idempotent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable

import structlog

from learnhub.events.events import DomainEvent
from learnhub.metrics import EVENT_HANDLER_FAILURES

Handler = Callable[[DomainEvent], Awaitable[None]]
log = structlog.get_logger(__name__)


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[DomainEvent], handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def handlers_for(self, event: DomainEvent) -> list[Handler]:
        found: list[Handler] = []
        for cls in type(event).__mro__:
            found.extend(self._handlers.get(cls, ()))
        return found

    async def dispatch(self, events: Iterable[DomainEvent]) -> list[tuple[DomainEvent, Exception]]:
        failures: list[tuple[DomainEvent, Exception]] = []
        for event in events:
            for handler in self.handlers_for(event):
                try:
                    await handler(event)
                except Exception as exc:  # a handler must never break the caller
                    log.exception(
                        "event_handler_failed",
                        event_type=event.event_type,
                        event_id=str(event.event_id),
                        handler=repr(handler),
                    )
                    EVENT_HANDLER_FAILURES.labels(event_type=event.event_type).inc()
                    failures.append((event, exc))
        return failures
