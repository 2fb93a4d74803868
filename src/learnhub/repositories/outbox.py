from __future__ import annotations

import uuid

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
