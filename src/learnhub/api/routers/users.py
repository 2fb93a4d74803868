"""The caller's own account, and account administration."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response, status

from learnhub.api.deps import (
    NO_STORE,
    Caller,
    IfMatch,
    Limit,
    MaybeCaller,
    Uow,
    credential_service,
    set_etag,
    versioned,
)
from learnhub.api.query_parameters import KnownQueryOnly
from learnhub.api.schemas.common import (
    NO_CONTROL_PATTERN,
    PROBLEM_RESPONSES,
    Cursor,
    Deleted,
    PageOut,
)
from learnhub.api.schemas.examples import EXPORT, json_example
from learnhub.api.schemas.privacy import export_document
from learnhub.api.schemas.users import (
    ActivityOut,
    AdminUserOut,
    AdminUserPatch,
    LearnerStatsOut,
    PasswordChangeIn,
    ProfilePatch,
    PublicProfileOut,
    RolesIn,
    UserOut,
)
from learnhub.domain.enums import UserStatus
from learnhub.repositories.filters import CursorPagination
from learnhub.services.credentials import CredentialService
from learnhub.services.privacy import PrivacyService
from learnhub.services.profiles import ProfileService
from learnhub.services.user import AccountService, UserAdminService, UserChanges, UserQuery

router = APIRouter(tags=["users"], responses=PROBLEM_RESPONSES)


# The services check the permission when made for the caller; made here, while the request
# is resolved, so a caller without it is answered 403 before its input is validated.
def account_service(caller: Caller, uow: Uow) -> AccountService:
    return AccountService(uow, caller)


def privacy_service(caller: Caller, uow: Uow) -> PrivacyService:
    return PrivacyService(uow, caller)


def user_admin_service(caller: Caller, uow: Uow) -> UserAdminService:
    return UserAdminService(uow, caller)


def own_credentials(caller: Caller, request: Request, uow: Uow) -> CredentialService:
    return credential_service(request, uow, owner=caller)


Account = Annotated[AccountService, Depends(account_service)]
OwnCredentials = Annotated[CredentialService, Depends(own_credentials)]
Privacy = Annotated[PrivacyService, Depends(privacy_service)]
UserAdmin = Annotated[UserAdminService, Depends(user_admin_service)]


@router.get("/users/me", summary="Read my account")
async def me(account: Account, response: Response) -> UserOut:
    user = await account.get()
    set_etag(response, user.version)
    return UserOut.of(user)


@router.patch("/users/me", summary="Change my display name")
async def update_me(
    body: ProfilePatch, account: Account, response: Response, if_match: IfMatch = None
) -> UserOut:
    changes = UserChanges(**body.model_dump(exclude_unset=True, exclude={"version"}))
    user = await versioned(if_match, body.version, lambda v: account.update(changes, v))
    set_etag(response, user.version)
    return UserOut.of(user)


@router.post(
    "/users/me/password",
    summary="Change my password",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def change_my_password(
    body: PasswordChangeIn, credentials: OwnCredentials, request: Request
) -> Response:
    """Change the password, giving the current one (a wrong one is a 403 `wrong_password`
    and counts towards the login throttle). Every other session of the account ends; the
    one making this request stays logged in."""
    await credentials.change_password(
        body.current_password,
        body.new_password,
        ip_address=request.client.host if request.client else None,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/me/activity", summary="List my recent activity", dependencies=[KnownQueryOnly])
async def my_activity(
    account: Account, limit: Limit = 20, cursor: Cursor = None
) -> PageOut[ActivityOut]:
    page = await account.activity(CursorPagination(limit, cursor))
    return PageOut(
        items=[ActivityOut.model_validate(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/users/me/stats", summary="Read my learning totals")
async def my_stats(account: Account) -> LearnerStatsOut:
    """The caller's own learning totals (zeros before any activity)."""
    return LearnerStatsOut.model_validate(await account.stats())


@router.get(
    "/users/me/export",
    summary="Export everything held about me (GDPR)",
    responses=json_example(EXPORT),
)
async def export_me(privacy: Privacy, response: Response) -> dict[str, Any]:
    """Everything LearnHub holds about the caller, as JSON (no cache keeps it)."""
    response.headers["Cache-Control"] = NO_STORE
    return export_document(await privacy.export())


@router.get("/users", summary="List accounts (admins)", dependencies=[KnownQueryOnly])
async def list_users(
    admin: UserAdmin,
    limit: Limit = 20,
    cursor: Cursor = None,
    status_: Annotated[UserStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=100, pattern=NO_CONTROL_PATTERN)] = None,
    sort: Annotated[str | None, Query(pattern="^(newest|email)$")] = None,
    role: Annotated[
        str | None,
        Query(pattern="^[a-z_]{1,50}$", description="Only accounts holding this role."),
    ] = None,
    deleted: Deleted = "exclude",
) -> PageOut[AdminUserOut]:
    """Accounts, newest first (or by email). `deleted=only` lists the soft-deleted accounts
    instead, with the other filters, to find one to restore."""
    query = UserQuery(status=status_, q=q, sort=sort, role=role, deleted_only=deleted == "only")
    page = await admin.search(query, CursorPagination(limit, cursor))
    return PageOut(items=[AdminUserOut.of(u) for u in page.items], next_cursor=page.next_cursor)


@router.get("/users/{user_id}", summary="Read an account (admins)")
async def get_user(
    user_id: uuid.UUID, admin: UserAdmin, response: Response, include_deleted: bool = False
) -> AdminUserOut:
    user = await admin.get(user_id, include_deleted=include_deleted)
    set_etag(response, user.version)
    return AdminUserOut.of(user)


@router.patch("/users/{user_id}", summary="Change an account's name or status (admins)")
async def update_user(
    user_id: uuid.UUID,
    body: AdminUserPatch,
    admin: UserAdmin,
    response: Response,
    if_match: IfMatch = None,
) -> AdminUserOut:
    changes = UserChanges(**body.model_dump(exclude_unset=True, exclude={"version"}))
    user = await versioned(if_match, body.version, lambda v: admin.update(user_id, changes, v))
    set_etag(response, user.version)
    return AdminUserOut.of(user)


@router.delete(
    "/users/{user_id}",
    summary="Delete an account: soft, or erase for good (admins)",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_user(
    user_id: uuid.UUID, admin: UserAdmin, hard: bool = False, if_match: IfMatch = None
) -> Response:
    """Soft delete (restorable); `?hard=true` erases the user for good (GDPR)."""
    if hard:
        await admin.erase(user_id)
    else:
        await versioned(if_match, None, lambda v: admin.delete(user_id, v))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/users/{user_id}/restore", summary="Restore a deleted account (admins)")
async def restore_user(user_id: uuid.UUID, admin: UserAdmin, response: Response) -> AdminUserOut:
    user = await admin.restore(user_id)
    set_etag(response, user.version)
    return AdminUserOut.of(user)


@router.post(
    "/users/{user_id}/unlock",
    summary="Clear an account's login throttle (admins)",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def unlock_user(user_id: uuid.UUID, admin: UserAdmin) -> Response:
    """Clear the login throttle for this account (its failed logins from every address)."""
    await admin.unlock(user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/users/{user_id}/roles", summary="Set an account's roles (admins)")
async def set_roles(
    user_id: uuid.UUID,
    body: RolesIn,
    admin: UserAdmin,
    response: Response,
    if_match: IfMatch = None,
) -> AdminUserOut:
    user = await versioned(
        if_match, body.version, lambda v: admin.set_roles(user_id, body.roles, v)
    )
    set_etag(response, user.version)
    return AdminUserOut.of(user)


@router.get("/users/{user_id}/profile", summary="Read a user's public profile")
async def public_profile(
    user_id: uuid.UUID, caller: MaybeCaller, uow: Uow, request: Request
) -> PublicProfileOut:
    """Public (no login needed): the display name, role badges and published courses. A
    deleted, suspended or unknown account is 404."""
    profile = await ProfileService(uow).profile(caller, user_id)
    courses_next = None
    if profile.courses.next_cursor is not None:
        query = urlencode({"instructor_id": str(user_id), "cursor": profile.courses.next_cursor})
        courses_next = f"{request.app.url_path_for('catalog')}?{query}"
    return PublicProfileOut.of(profile, courses_next)
