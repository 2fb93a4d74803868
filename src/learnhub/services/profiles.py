"""Public profiles: what anyone may see of a user (SPEC 7 "for real clients"), nothing
private: the display name, role badges and the published courses they teach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learnhub.domain.enums import UserStatus
from learnhub.domain.errors import NotFound
from learnhub.domain.permissions import PUBLIC_ROLES, USERS_READ_PROFILES
from learnhub.domain.principal import Principal, require_open
from learnhub.repositories.course_catalog import CatalogCard
from learnhub.repositories.filters import CursorPagination, Page
from learnhub.repositories.user import UserRepository
from learnhub.services.base import BaseService
from learnhub.services.catalog import CatalogQuery, CatalogService

# A profile shows this many of the user's published courses; the rest are the catalog's
# (`GET /courses?instructor_id=...`), from the cursor the profile gives.
PROFILE_COURSES = 12


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: uuid.UUID
    display_name: str
    badges: list[str]
    # The first catalog page of the user's published courses, in the catalog's default order.
    courses: Page[CatalogCard]


class ProfileService(BaseService):
    async def profile(self, principal: Principal | None, user_id: uuid.UUID) -> Profile:
        """An active, live account's public profile; a deleted, suspended, pending or unknown
        one is not found (nothing tells them apart)."""
        require_open(principal, USERS_READ_PROFILES)
        user = await self.uow.repo(UserRepository).get_by_id(user_id)
        if user is None or user.status != UserStatus.ACTIVE:
            raise NotFound("User", user_id)
        roles = {role.name for role in user.roles}
        courses = await CatalogService(self.uow).catalog(
            CatalogQuery(instructor_id=user.id), CursorPagination(PROFILE_COURSES), None
        )
        return Profile(
            user_id=user.id,
            display_name=user.display_name,
            badges=[name for name in PUBLIC_ROLES if name in roles],
            courses=courses,
        )
