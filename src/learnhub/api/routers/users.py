"""The caller's own account, and account administration."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status

from learnhub.api.deps import Uow, etag, require, versioned
from learnhub.api.schemas.common import NO_CONTROL_PATTERN, PROBLEM_RESPONSES, Cursor, PageOut
from learnhub.api.schemas.learning import EnrollmentOut
from learnhub.api.schemas.reviews import ReviewOut
from learnhub.api.schemas.tutor import MessageOut
from learnhub.api.schemas.users import (
    ActivityOut,
    AdminUserOut,
    AdminUserPatch,
    LearnerStatsOut,
    ProfilePatch,
    RolesIn,
    UserOut,
)
from learnhub.db.audit import audit_value
from learnhub.domain.enums import UserStatus
from learnhub.domain.principal import Principal
from learnhub.models import User
from learnhub.repositories.filters import CursorPagination, Eq, Filter, Search
from learnhub.services.activity import ActivityService
from learnhub.services.privacy import PrivacyService
from learnhub.services.stats import LearnerStatsService
from learnhub.services.user import UserAdminService, UserChanges, UserService

router = APIRouter(tags=["users"], responses=PROBLEM_RESPONSES)
Self = Annotated[Principal, Depends(require("users:read_self"))]
Admin = Annotated[Principal, Depends(require("users:manage"))]
IfMatch = Annotated[str | None, Header(description='W/"<version>" from the ETag')]
Limit = Annotated[int, Query(ge=1, le=100)]


def with_etag(response: Response, user: User) -> None:
    response.headers["ETag"] = etag(user.version)


@router.get("/users/me")
async def me(principal: Self, uow: Uow, response: Response) -> UserOut:
    user = await UserService(uow).get(principal.user_id)
    with_etag(response, user)
    return UserOut.of(user)


@router.patch("/users/me")
async def update_me(
    body: ProfilePatch, principal: Self, uow: Uow, response: Response, if_match: IfMatch = None
) -> UserOut:
    service = UserService(uow)

    async def act(expected: int | None) -> User:
        if body.display_name is None:
            return await service.get(principal.user_id)
        return await service.update_profile(principal.user_id, body.display_name, expected)

    user = await versioned(if_match, body.version, act)
    with_etag(response, user)
    return UserOut.of(user)


@router.get("/users/me/activity")
async def my_activity(
    principal: Self, uow: Uow, limit: Limit = 20, cursor: Cursor = None
) -> PageOut[ActivityOut]:
    page = await ActivityService(uow).page(principal.user_id, CursorPagination(limit, cursor))
    return PageOut(
        items=[ActivityOut.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/users/me/stats")
async def my_stats(principal: Self, uow: Uow) -> LearnerStatsOut:
    """The caller's own learning totals (zeros before any activity)."""
    stats = await LearnerStatsService(uow).get(principal.user_id)
    return LearnerStatsOut.model_validate(stats)


@router.get("/users/me/export")
async def export_me(principal: Self, uow: Uow) -> dict[str, Any]:
    """Everything LearnHub holds about the caller, as JSON."""
    bundle = await PrivacyService(uow).export(principal.user_id)
    stats = await LearnerStatsService(uow).get(principal.user_id)
    return {
        "user": UserOut.of(bundle.user).model_dump(mode="json"),
        "stats": LearnerStatsOut.model_validate(stats).model_dump(mode="json"),
        "sessions": [
            {
                "id": str(s.id),
                "created_at": audit_value(s.created_at),
                "user_agent": s.user_agent,
                "ip_address": s.ip_address,
                "expires_at": audit_value(s.expires_at),
                "revoked_at": audit_value(s.revoked_at),
            }
            for s in bundle.sessions
        ],
        "activity": [
            ActivityOut.model_validate(a).model_dump(mode="json") for a in bundle.activity
        ],
        "history": [
            {
                "occurred_at": audit_value(e.occurred_at),
                "action": e.action.value,
                "actor_id": audit_value(e.actor_id),
                "changes": e.changes,
            }
            for e in bundle.history
        ],
        "enrollments": [
            EnrollmentOut.model_validate(e).model_dump(mode="json") for e in bundle.enrollments
        ],
        "video_progress": [
            {
                "video_id": str(p.video_id),
                "course_id": str(p.course_id),
                "position_seconds": p.position_seconds,
                "watched_seconds": p.watched_seconds,
                "completed": p.completed,
                "completed_at": audit_value(p.completed_at),
                "updated_at": audit_value(p.updated_at),
            }
            for p in bundle.progress
        ],
        "quiz_attempts": [
            {
                "id": str(a.id),
                "quiz_id": str(a.quiz_id),
                "attempt_no": a.attempt_no,
                "state": a.state.value,
                "started_at": audit_value(a.started_at),
                "submitted_at": audit_value(a.submitted_at),
                "score": None if a.score is None else float(a.score),
                "passed": a.passed,
            }
            for a in bundle.attempts
        ],
        "reviews": [ReviewOut.model_validate(r).model_dump(mode="json") for r in bundle.reviews],
        "tutor_conversations": [
            {
                "id": str(c.id),
                "course_id": str(c.course_id),
                "video_id": audit_value(c.video_id),
                "created_at": audit_value(c.created_at),
                "messages": [MessageOut.model_validate(m).model_dump(mode="json") for m in ms],
            }
            for c, ms in bundle.conversations
        ],
    }


@router.get("/users")
async def list_users(
    _admin: Admin,
    uow: Uow,
    limit: Limit = 20,
    cursor: Cursor = None,
    status_: Annotated[UserStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=100, pattern=NO_CONTROL_PATTERN)] = None,
    sort: Annotated[str | None, Query(pattern="^(newest|email)$")] = None,
) -> PageOut[AdminUserOut]:
    filters: list[Filter] = []
    if status_ is not None:
        filters.append(Eq(User.status, status_))
    if q:
        filters.append(Search([User.email, User.display_name], q))
    page = await UserAdminService(uow).search(filters, CursorPagination(limit, cursor), sort)
    return PageOut(items=[AdminUserOut.of(u) for u in page.items], next_cursor=page.next_cursor)


@router.get("/users/{user_id}")
async def get_user(
    user_id: uuid.UUID, _admin: Admin, uow: Uow, response: Response, include_deleted: bool = False
) -> AdminUserOut:
    user = await UserAdminService(uow).get(user_id, include_deleted=include_deleted)
    with_etag(response, user)
    return AdminUserOut.of(user)


@router.patch("/users/{user_id}")
async def update_user(
    user_id: uuid.UUID,
    body: AdminUserPatch,
    admin: Admin,
    uow: Uow,
    response: Response,
    if_match: IfMatch = None,
) -> AdminUserOut:
    changes = UserChanges(display_name=body.display_name, status=body.status)
    service = UserAdminService(uow)
    user = await versioned(
        if_match, body.version, lambda v: service.update(admin.user_id, user_id, changes, v)
    )
    with_etag(response, user)
    return AdminUserOut.of(user)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(
    user_id: uuid.UUID, admin: Admin, uow: Uow, hard: bool = False, if_match: IfMatch = None
) -> Response:
    """Soft delete (restorable); `?hard=true` erases the user for good (GDPR)."""
    service = UserAdminService(uow)
    if hard:
        await service.erase(admin.user_id, user_id)
    else:
        await versioned(if_match, None, lambda v: service.delete(admin.user_id, user_id, v))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/users/{user_id}/restore")
async def restore_user(
    user_id: uuid.UUID, _admin: Admin, uow: Uow, response: Response
) -> AdminUserOut:
    service = UserAdminService(uow)
    await service.restore(user_id)
    user = await service.get(user_id)  # reload with roles
    with_etag(response, user)
    return AdminUserOut.of(user)


@router.post("/users/{user_id}/unlock", status_code=status.HTTP_204_NO_CONTENT)
async def unlock_user(user_id: uuid.UUID, _admin: Admin, uow: Uow) -> Response:
    """Clear the login throttle for this account (its failed logins from every address)."""
    await UserAdminService(uow).unlock(user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/users/{user_id}/roles")
async def set_roles(
    user_id: uuid.UUID,
    body: RolesIn,
    admin: Admin,
    uow: Uow,
    response: Response,
    if_match: IfMatch = None,
) -> AdminUserOut:
    service = UserAdminService(uow)
    user = await versioned(
        if_match, body.version, lambda v: service.set_roles(admin.user_id, user_id, body.roles, v)
    )
    with_etag(response, user)
    return AdminUserOut.of(user)
