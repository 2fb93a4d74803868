"""The administrator's console (issue 17, item 4): its home and the accounts. Every page and
action is one call of the services behind the API's users routes (`UserAdminService`, made
for the caller, checks `users:manage` first: a student or an instructor gets the 403 page),
so each change is audited as the API's is. Forms carry the version they were loaded with; a
stale one, or a refusal (an admin deleting themselves), is the account's page again with the
service's reason."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.users import AdminUserOut
from learnhub.domain.enums import UserStatus
from learnhub.domain.errors import InvalidValue, NotFound
from learnhub.domain.ids import parse_id
from learnhub.domain.permissions import BUILTIN_ROLES
from learnhub.domain.principal import Principal
from learnhub.repositories.filters import CursorPagination
from learnhub.services.health import QueryPlans, SystemHealthService
from learnhub.services.user import ERASURE_STEPS, UserAdminService, UserChanges, UserQuery
from learnhub.web.base import SignedIn, expect_form_failure, redirect, render, require_csrf
from learnhub.web.errors import WEB_TAG

router = APIRouter(
    prefix="/admin",
    tags=[WEB_TAG],
    include_in_schema=False,
    dependencies=[Depends(require_csrf)],
)
PAGE_SIZE = 20
ROLES = sorted(BUILTIN_ROLES)
DELETED = "deleted"
# The status filter: an account's status, or soft-deleted (whatever its status was).
STATUSES = [s.value for s in UserStatus] + [DELETED]
SORTS = {"": "Newest first", "email": "By e-mail"}
# What a successful action says on the account's page (`?done=`).
DONE = {
    "roles": "Roles saved.",
    "suspended": "Account suspended: its sessions have ended.",
    "active": "Account reactivated.",
    "unlocked": "Login throttle cleared.",
    "deleted": "Account deleted. It can be restored from Deleted rows.",
    "restored": "Account restored. Its sessions stay ended: the person logs in again.",
}
Field = Annotated[str, Form()]


def cleaned(value: str | None, limit: int) -> str:
    """A filter as typed, without control characters, at most `limit` long."""
    return "".join(c for c in (value or "") if c.isprintable()).strip()[:limit]


def id_or_404(kind: str, key: str) -> uuid.UUID:
    """A path's id; anything else names nothing (the not-found page, not a 422)."""
    found = parse_id(key)
    if found is None:
        raise NotFound(kind, key)
    return found


def version_of(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidValue("this form has no valid version: reload the page and try again")
    return int(raw)


def admin(caller: Principal, uow: Uow) -> UserAdminService:
    return UserAdminService(uow, caller)


@router.get("", name="web_admin")
async def home(request: Request, uow: Uow, caller: SignedIn) -> Response:
    admin(caller, uow)  # made for the caller: refused unless it may manage accounts
    return render(request, "admin/home.html", caller)


@router.get("/users", name="web_admin_users")
async def users(request: Request, uow: Uow, caller: SignedIn) -> Response:
    service = admin(caller, uow)
    params = request.query_params
    form = {
        "q": cleaned(params.get("q"), 100),
        "role": role if (role := params.get("role", "")) in ROLES else "",
        "status": status if (status := params.get("status", "")) in STATUSES else "",
        "sort": sort if (sort := params.get("sort", "")) in SORTS else "",
    }
    context: dict[str, Any] = {
        "form": form,
        "roles": ROLES,
        "statuses": STATUSES,
        "sorts": SORTS,
        "accounts": [],
        "more_url": None,
        "continued": bool(params.get("cursor")),
    }
    expect_form_failure(request, "admin/users.html", **context)  # e.g. a stale cursor
    deleted = form["status"] == DELETED
    query = UserQuery(
        status=UserStatus(form["status"]) if form["status"] and not deleted else None,
        q=form["q"] or None,
        sort=form["sort"] or None,
        role=form["role"] or None,
        deleted_only=deleted,
    )
    page = await service.search(query, CursorPagination(PAGE_SIZE, params.get("cursor") or None))
    if page.next_cursor:
        kept = {k: v for k, v in form.items() if v}
        context["more_url"] = "/admin/users?" + urlencode({**kept, "cursor": page.next_cursor})
    context["accounts"] = [AdminUserOut.of(u) for u in page.items]
    return render(request, "admin/users.html", caller, **context)


async def account_page(
    request: Request, service: UserAdminService, user_id: uuid.UUID
) -> dict[str, Any]:
    """The account's page as loaded now (plain values: a refused action renders it after the
    rollback), and the page to show again if the action about to run is refused."""
    account = AdminUserOut.of(await service.get(user_id, include_deleted=True))
    context = {"account": account, "roles": ROLES, "is_self": user_id == service.admin.user_id}
    expect_form_failure(request, "admin/user.html", **context)
    return context


def account_url(user_id: uuid.UUID, done: str) -> str:
    return f"/admin/users/{user_id}?done={quote(done)}"


@router.get("/users/{key}", name="web_admin_user")
async def user_page(key: str, request: Request, uow: Uow, caller: SignedIn) -> Response:
    service = admin(caller, uow)
    context = await account_page(request, service, id_or_404("user", key))
    notice = DONE.get(request.query_params.get("done", ""))
    return render(request, "admin/user.html", caller, notice=notice, **context)


@router.post("/users/{key}/roles", name="web_admin_user_roles")
async def set_roles(
    key: str,
    request: Request,
    uow: Uow,
    caller: SignedIn,
    roles: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies the default)
    version: Field = "",
) -> Response:
    service, user_id = admin(caller, uow), id_or_404("user", key)
    await account_page(request, service, user_id)
    await service.set_roles(user_id, roles[:10], version_of(version))
    return redirect(request, account_url(user_id, "roles"))


@router.post("/users/{key}/status", name="web_admin_user_status")
async def set_status(
    key: str, request: Request, uow: Uow, caller: SignedIn, status: Field = "", version: Field = ""
) -> Response:
    service, user_id = admin(caller, uow), id_or_404("user", key)
    await account_page(request, service, user_id)
    if status not in (UserStatus.ACTIVE, UserStatus.SUSPENDED):
        raise InvalidValue("choose to suspend or to reactivate the account")
    changes = UserChanges(status=UserStatus(status))
    await service.update(user_id, changes, version_of(version))
    return redirect(request, account_url(user_id, status))


@router.post("/users/{key}/unlock", name="web_admin_user_unlock")
async def unlock(key: str, request: Request, uow: Uow, caller: SignedIn) -> Response:
    service, user_id = admin(caller, uow), id_or_404("user", key)
    await account_page(request, service, user_id)
    await service.unlock(user_id)
    return redirect(request, account_url(user_id, "unlocked"))


@router.post("/users/{key}/delete", name="web_admin_user_delete")
async def delete(
    key: str, request: Request, uow: Uow, caller: SignedIn, version: Field = ""
) -> Response:
    service, user_id = admin(caller, uow), id_or_404("user", key)
    await account_page(request, service, user_id)
    await service.delete(user_id, version_of(version))
    return redirect(request, account_url(user_id, "deleted"))


@router.get("/users/{key}/restore", name="web_admin_user_restore_preview")
async def restore_preview(key: str, request: Request, uow: Uow, caller: SignedIn) -> Response:
    service = admin(caller, uow)
    batch = await service.restore_preview(id_or_404("user", key))
    return render(
        request,
        "admin/restore.html",
        caller,
        batch=batch,
        kind="account",
        name=f"{batch.entity.display_name} ({batch.entity.email})",
        action=f"/admin/users/{batch.entity.id}/restore",
    )


@router.post("/users/{key}/restore", name="web_admin_user_restore")
async def restore(key: str, request: Request, uow: Uow, caller: SignedIn) -> Response:
    service, user_id = admin(caller, uow), id_or_404("user", key)
    await account_page(request, service, user_id)
    await service.restore(user_id)
    return redirect(request, account_url(user_id, "restored"))


@router.get("/users/{key}/erase", name="web_admin_user_erase_confirm")
async def erase_confirm(key: str, request: Request, uow: Uow, caller: SignedIn) -> Response:
    service = admin(caller, uow)
    context = await account_page(request, service, id_or_404("user", key))
    return render(request, "admin/erase.html", caller, steps=ERASURE_STEPS, **context)


@router.post("/users/{key}/erase", name="web_admin_user_erase")
async def erase(
    key: str, request: Request, uow: Uow, caller: SignedIn, confirm_email: Field = ""
) -> Response:
    service, user_id = admin(caller, uow), id_or_404("user", key)
    context = await account_page(request, service, user_id)
    expect_form_failure(request, "admin/erase.html", steps=ERASURE_STEPS, **context)
    # Erasure cannot be undone: the administrator types the address to say which account.
    if confirm_email.strip().lower() != context["account"].email.lower():
        raise InvalidValue("type the account's e-mail address exactly to confirm the erasure")
    await service.erase(user_id)
    return redirect(request, "/admin/users?erased=1")


@router.get("/health", name="web_admin_health")
async def health(request: Request, uow: Uow, caller: SignedIn) -> Response:
    service = SystemHealthService(uow)
    service.check_operator(caller)  # before anything runs: a non-admin gets the 403 page
    # The plans come from operations code a composition root may hand in (`learnhub serve`
    # does); they run only when asked for: EXPLAIN ANALYZE of every hot query takes a while.
    plans: QueryPlans | None = getattr(request.app.state, "query_plans", None)
    wanted = request.query_params.get("plans") == "1"
    report = await service.health(caller, plans if wanted else None)
    return render(
        request, "admin/health.html", caller, health=report, plans_configured=plans is not None
    )
