from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.db.soft_delete import including_deleted
from learnhub.domain.enums import UserStatus
from learnhub.models.user import LoginFailure, Permission, Role, User, UserActivity, UserSession
from learnhub.models.user.role import role_permissions, user_roles
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import (
    CursorPagination,
    Eq,
    Filter,
    IsNull,
    NotEq,
    Page,
    Sort,
)
from learnhub.repositories.pages import keyset_page


class UserSessionRepository(BaseRepository[UserSession]):
    model = UserSession
    sorts: ClassVar[Mapping[str, Sort]] = {
        "newest": Sort("newest", UserSession.created_at, descending=True)
    }

    async def revoke(self, session_id: uuid.UUID, reason: str, at: datetime) -> bool:
        """End a session whatever its version: one conditional UPDATE (audited) that bumps
        the version. Racing revocations do not conflict (the later one finds it revoked), and
        a rotation racing it fails its version check instead of reviving the session.
        True when this call revoked it."""
        changed = await self.bulk_update(
            [Eq(UserSession.id, session_id), IsNull(UserSession.revoked_at)],
            {"revoked_at": at, "revoked_reason": reason},
            bump_version=True,
        )
        return changed == 1

    async def revoke_all_for_user(
        self,
        user_id: uuid.UUID,
        reason: str,
        at: datetime,
        *,
        except_session: uuid.UUID | None = None,
    ) -> int:
        """End every live session of a user (but `except_session`), like `revoke` (one
        conditional, audited, version-bumping UPDATE). Returns how many this call revoked."""
        filters: list[Filter] = [Eq(UserSession.user_id, user_id), IsNull(UserSession.revoked_at)]
        if except_session is not None:
            filters.append(NotEq(UserSession.id, except_session))
        return await self.bulk_update(
            filters,
            {"revoked_at": at, "revoked_reason": reason},
            bump_version=True,
        )

    async def last_login_from(self, user_id: uuid.UUID, ip_address: str | None) -> datetime | None:
        """When the user last logged in successfully from this client address."""
        address = (
            UserSession.ip_address.is_(None)
            if ip_address is None
            else UserSession.ip_address == ip_address
        )
        result = await self.session.execute(
            select(func.max(UserSession.created_at)).where(UserSession.user_id == user_id, address)
        )
        value: datetime | None = result.scalar_one()
        return value

    async def for_user(self, user_id: uuid.UUID) -> list[UserSession]:
        result = await self.session.execute(
            select(UserSession)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.created_at, UserSession.id)
        )
        return list(result.scalars().all())

    async def ids_for_user(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        result = await self.session.execute(
            including_deleted(select(UserSession.id).where(UserSession.user_id == user_id))
        )
        return list(result.scalars().all())

    async def principal_rows(
        self, user_id: uuid.UUID, session_id: uuid.UUID
    ) -> list[tuple[UserStatus, str | None, str | None]]:
        """(status, role, permission) rows for a live user holding a live, unrevoked session:
        everything a request needs to authorize, in one statement."""
        live_session = (
            select(UserSession.id)
            .where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
            )
            .exists()
        )
        stmt = (
            select(User.status, Role.name, Permission.code)
            .select_from(User)
            .outerjoin(user_roles, user_roles.c.user_id == User.id)
            .outerjoin(Role, Role.id == user_roles.c.role_id)
            .outerjoin(role_permissions, role_permissions.c.role_id == Role.id)
            .outerjoin(Permission, Permission.id == role_permissions.c.permission_id)
            .where(User.id == user_id, live_session)
        )
        result = await self.session.execute(stmt)
        return [(row[0], row[1], row[2]) for row in result.all()]


class LoginFailureRepository:
    """Failed logins (a log): written and counted, never edited."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def delete_for_email(self, email: str) -> int:
        result = await self.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
        return int(getattr(result, "rowcount", 0) or 0)

    def add(self, email: str, ip_address: str | None) -> None:
        self.session.add(LoginFailure(email=email, ip_address=ip_address))

    async def count_since(
        self, *, since: datetime, email: str | None = None, ip_address: str | None = None
    ) -> int:
        conditions = [LoginFailure.occurred_at >= since]
        if email is not None:
            conditions.append(LoginFailure.email == email)
        if ip_address is not None:
            conditions.append(LoginFailure.ip_address == ip_address)
        return await self._count(conditions)

    async def count_for_account_at(
        self, *, since: datetime, email: str, ip_address: str | None
    ) -> int:
        """Failures for one account from one client address (no address is its own bucket)."""
        address = (
            LoginFailure.ip_address.is_(None)
            if ip_address is None
            else LoginFailure.ip_address == ip_address
        )
        return await self._count(
            [LoginFailure.occurred_at >= since, LoginFailure.email == email, address]
        )

    async def _count(self, conditions: list[ColumnElement[bool]]) -> int:
        result = await self.session.execute(
            select(func.count()).select_from(LoginFailure).where(and_(*conditions))
        )
        return int(result.scalar_one())


ACTIVITY_SORT = Sort("newest", UserActivity.occurred_at, descending=True)


class ActivityRepository:
    """Append-only learner activity."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, activity: UserActivity) -> None:
        self.session.add(activity)

    async def all_for_user(self, user_id: uuid.UUID) -> list[UserActivity]:
        result = await self.session.execute(
            select(UserActivity)
            .where(UserActivity.user_id == user_id)
            .order_by(UserActivity.occurred_at, UserActivity.id)
        )
        return list(result.scalars().all())

    async def page_for_user(
        self, user_id: uuid.UUID, pagination: CursorPagination
    ) -> Page[UserActivity]:
        stmt = select(UserActivity).where(UserActivity.user_id == user_id)
        return await keyset_page(self.session, stmt, ACTIVITY_SORT, UserActivity.id, pagination)
