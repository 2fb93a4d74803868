from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.db.uow import UnitOfWork
from learnhub.models import AuditLog, User
from learnhub.services.user import UserService


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.com"


async def register(uow: UnitOfWork, email: str | None = None, **kwargs: Any) -> User:
    async with uow:
        user = await UserService(uow).register(
            email or unique_email(),
            kwargs.pop("password", "correct horse battery"),
            kwargs.pop("display_name", "Ada Lovelace"),
            **kwargs,
        )
        await uow.commit()
    return user


async def audit_entries(session: AsyncSession, entity_id: uuid.UUID) -> list[AuditLog]:
    result = await session.execute(
        select(AuditLog)
        .where(AuditLog.entity_id == entity_id)
        .order_by(AuditLog.occurred_at, AuditLog.id)
    )
    return list(result.scalars().all())
