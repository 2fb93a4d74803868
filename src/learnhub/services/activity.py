"""Learner activity: recorded by services as things happen, read back by the learner."""

from __future__ import annotations

import uuid
from typing import Any

from learnhub.domain.errors import InvalidValue
from learnhub.models.user import UserActivity
from learnhub.repositories.filters import CursorPagination, Page
from learnhub.repositories.session import ActivityRepository
from learnhub.services.base import BaseService

MAX_DETAIL_KEYS, MAX_DETAIL_VALUE = 10, 200


class ActivityService(BaseService):
    def record(
        self,
        user_id: uuid.UUID,
        type_: str,
        *,
        subject_type: str | None = None,
        subject_id: uuid.UUID | None = None,
        **details: Any,
    ) -> None:
        if len(details) > MAX_DETAIL_KEYS:
            raise InvalidValue("too many activity details")
        small = {
            k: (v if isinstance(v, int | float | bool) or v is None else str(v)[:MAX_DETAIL_VALUE])
            for k, v in details.items()
        }
        self.uow.repo(ActivityRepository).add(
            UserActivity(
                user_id=user_id,
                type=type_,
                subject_type=subject_type,
                subject_id=subject_id,
                details=small,
            )
        )

    async def page(self, user_id: uuid.UUID, pagination: CursorPagination) -> Page[UserActivity]:
        return await self.uow.repo(ActivityRepository).page_for_user(user_id, pagination)
