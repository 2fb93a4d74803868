"""Per-learner totals (the learner_stats read model), kept fresh by an event handler."""

from __future__ import annotations

import uuid

from learnhub.repositories.stats import LearnerStatsRepository, StatsRow
from learnhub.services.base import BaseService


class LearnerStatsService(BaseService):
    async def get(self, user_id: uuid.UUID) -> StatsRow:
        """The learner's stats as last refreshed; zeros before any activity."""
        return await self.uow.repo(LearnerStatsRepository).get(user_id)

    async def refresh(self, user_id: uuid.UUID) -> bool:
        """Recompute the learner's stats from the source tables (idempotent)."""
        return await self.uow.repo(LearnerStatsRepository).refresh(user_id)
