"""The outbox relay: publishes committed domain events to the broker, at least once, in
order per aggregate, and marks them published.

It is a boundary like a CLI command: each batch is its own unit of work, committed here.
A crash between publishing and committing republishes the batch; the broker drops the
duplicates by message id (the event id), and consumers de-duplicate by event id too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learnhub.db.uow import UnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.events.transport import Message, Transport, TransportError
from learnhub.metrics import OUTBOX_BACKLOG
from learnhub.models.outbox import OutboxMessage
from learnhub.repositories.outbox import OutboxRelayRepository, OutboxRepository

log = structlog.get_logger("learnhub.relay")
SUBJECT_PREFIX = "learnhub.events."


@dataclass(frozen=True, slots=True)
class BatchResult:
    published: int
    failed: bool


def to_message(row: OutboxMessage) -> Message:
    envelope = {
        "event_id": str(row.event_id),
        "event_type": row.event_type,
        "aggregate_type": row.aggregate_type,
        "aggregate_id": str(row.aggregate_id),
        "occurred_at": row.occurred_at.isoformat(),
        "position": row.position,
        "payload": row.payload,
    }
    return Message(
        subject=SUBJECT_PREFIX + row.event_type,
        data=json.dumps(envelope, separators=(",", ":")).encode(),
        message_id=str(row.event_id),
    )


class OutboxRelay:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        transport: Transport,
        batch_size: int = 100,
    ) -> None:
        self.session_factory = session_factory
        self.transport = transport
        self.batch_size = batch_size

    async def run_once(self) -> BatchResult:
        async with UnitOfWork(self.session_factory) as uow:
            relay = uow.repo(OutboxRelayRepository)
            rows = await relay.claim(self.batch_size)
            published: list[int] = []
            failed = False
            for row in rows:
                try:
                    await self.transport.publish(to_message(row))
                except TransportError as exc:
                    # Stop here: publishing later rows now could overtake this one.
                    await relay.mark_failed(row.position, str(exc))
                    log.warning("relay_publish_failed", position=row.position, error=str(exc))
                    failed = True
                    break
                published.append(row.position)
            await relay.mark_published(published, utc_now())
            backlog = await uow.repo(OutboxRepository).backlog()
            await uow.commit()
        OUTBOX_BACKLOG.set(backlog)
        return BatchResult(published=len(published), failed=failed)

    async def run(self, stop: asyncio.Event, idle_seconds: float = 0.5) -> None:
        """Relay until `stop` is set: busy while there is work, idle when there is none,
        backing off exponentially while the broker is down."""
        failures = 0
        while not stop.is_set():
            try:
                result = await self.run_once()
            except Exception:  # the database may be down too: log, back off, go on
                log.exception("relay_batch_failed")
                result = BatchResult(published=0, failed=True)
            if result.failed:
                failures += 1
                delay = backoff_seconds(failures)
            else:
                failures = 0
                delay = 0.0 if result.published else idle_seconds
            if delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)


def backoff_seconds(failures: int) -> float:
    """Waits between failed batches: 0.5 s doubling up to 30 s."""
    return float(min(30.0, 0.5 * 2 ** min(failures - 1, 10)))
