from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from sqlalchemy import func, select

from learnhub.db.soft_delete import including_deleted
from learnhub.models.user import PasswordResetToken
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import Eq, IsNull, Sort


class PasswordResetRepository(BaseRepository[PasswordResetToken]):
    model = PasswordResetToken
    sorts: ClassVar[Mapping[str, Sort]] = {
        "newest": Sort("newest", PasswordResetToken.created_at, descending=True)
    }

    async def get_by_hash(self, token_hash: str) -> PasswordResetToken | None:
        result = await self.session.execute(
            select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash)
        )
        return result.scalar_one_or_none()

    async def count_since(self, user_id: uuid.UUID, since: datetime) -> int:
        """Tokens made for the user since `since` (ended ones included)."""
        result = await self.session.execute(
            select(func.count())
            .select_from(PasswordResetToken)
            .where(PasswordResetToken.user_id == user_id, PasswordResetToken.created_at >= since)
        )
        return int(result.scalar_one())

    async def end(self, token_id: uuid.UUID, reason: str, at: datetime) -> bool:
        """End one token if it is still pending: a conditional UPDATE (audited, version
        bumping) that the row lock orders, so of two racing callers exactly one gets True."""
        changed = await self.bulk_update(
            [Eq(PasswordResetToken.id, token_id), IsNull(PasswordResetToken.ended_at)],
            {"ended_at": at, "ended_reason": reason},
            bump_version=True,
        )
        return changed == 1

    async def end_pending_for_user(self, user_id: uuid.UUID, reason: str, at: datetime) -> int:
        """End every pending token of the user, like `end`; returns how many."""
        return await self.bulk_update(
            [Eq(PasswordResetToken.user_id, user_id), IsNull(PasswordResetToken.ended_at)],
            {"ended_at": at, "ended_reason": reason},
            bump_version=True,
        )

    async def for_user(self, user_id: uuid.UUID) -> list[PasswordResetToken]:
        result = await self.session.execute(
            select(PasswordResetToken)
            .where(PasswordResetToken.user_id == user_id)
            .order_by(PasswordResetToken.created_at, PasswordResetToken.id)
        )
        return list(result.scalars().all())

    async def ids_for_user(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        result = await self.session.execute(
            including_deleted(
                select(PasswordResetToken.id).where(PasswordResetToken.user_id == user_id)
            )
        )
        return list(result.scalars().all())
