from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.models.outbox import OutboxMessage

ERASED = "[erased]"


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def backlog(self) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
        )
        return int(result.scalar_one())

    async def erase_personal_payloads(
        self, aggregate_type: str, aggregate_id: uuid.UUID, keys: set[str]
    ) -> int:
        """Erasure: personal values leave stored event payloads too."""
        result = await self.session.execute(
            select(OutboxMessage.position, OutboxMessage.payload).where(
                OutboxMessage.aggregate_type == aggregate_type,
                OutboxMessage.aggregate_id == aggregate_id,
            )
        )
        changed = 0
        for position, payload in result.all():
            if keys & set(payload):
                erased = {k: (ERASED if k in keys else v) for k, v in payload.items()}
                await self.session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.position == position)
                    .values(payload=erased)
                )
                changed += 1
        return changed


class OutboxHandlingRepository:
    """The in-process handlers' view of the outbox: events whose handlers have not all
    succeeded yet (`handled_at` unset), and marking them handled."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unhandled(
        self, created_before: datetime, after_position: int, limit: int
    ) -> list[OutboxMessage]:
        """Unhandled rows older than `created_before`, in order, from `after_position` on
        (a keyset, so a pass goes through rows that fail again instead of looping on them)."""
        result = await self.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.handled_at.is_(None),
                OutboxMessage.position > after_position,
                OutboxMessage.created_at < created_before,
            )
            .order_by(OutboxMessage.position)
            .limit(limit)
        )
        return list(result.scalars().all())

    async def mark_handled(self, event_ids: list[uuid.UUID], at: datetime) -> int:
        """One statement for the lot; rows another worker marked first keep their time."""
        if not event_ids:
            return 0
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.event_id.in_(event_ids), OutboxMessage.handled_at.is_(None))
            .values(handled_at=at)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class OutboxRelayRepository:
    """The relay's view of the outbox: claim unpublished rows, mark them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, limit: int) -> list[OutboxMessage]:
        """Unpublished rows in position order, locked (FOR UPDATE SKIP LOCKED on PostgreSQL:
        a second relay takes other rows instead of waiting) — selected by the unpublished
        flag, never by a high-water mark, so a transaction that committed late is not skipped
        (pitfall 6). Rows of an aggregate whose earlier event another relay holds are left
        for later, so each aggregate's events go out in order."""
        result = await self.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.position)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = list(result.scalars().all())
        if not rows:
            return rows
        first_claimed: dict[tuple[str, uuid.UUID], int] = {}
        for row in rows:
            first_claimed.setdefault((row.aggregate_type, row.aggregate_id), row.position)
        heads = await self.session.execute(
            select(
                OutboxMessage.aggregate_type,
                OutboxMessage.aggregate_id,
                func.min(OutboxMessage.position),
            )
            .where(
                OutboxMessage.published_at.is_(None),
                OutboxMessage.aggregate_id.in_({k[1] for k in first_claimed}),
            )
            .group_by(OutboxMessage.aggregate_type, OutboxMessage.aggregate_id)
        )
        blocked = {
            (t, a)
            for t, a, head in heads.all()
            if (t, a) in first_claimed and head < first_claimed[(t, a)]
        }
        return [r for r in rows if (r.aggregate_type, r.aggregate_id) not in blocked]

    async def mark_published(self, positions: list[int], at: datetime) -> None:
        if positions:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.position.in_(positions))
                .values(published_at=at)
            )

    async def mark_failed(self, position: int, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.position == position)
            .values(attempts=OutboxMessage.attempts + 1, last_error=error[:1000])
        )
