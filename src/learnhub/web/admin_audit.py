"""The administrator's console (issue 17, item 4): the audit trail and the deleted rows. The
trail is the API's (`AuditService.search`, `audit:read`), with the same filters and keyset
pages, and the request id too; deleted rows are the API's `?deleted=only` lists, each
restored by the API's services after a preview of its delete batch (what comes back)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.audit import AuditEntryOut
from learnhub.api.schemas.courses import CourseDetailOut
from learnhub.domain.enums import AuditAction
from learnhub.domain.errors import InvalidValue
from learnhub.repositories.filters import CursorPagination
from learnhub.services.audit import AuditQuery, AuditService
from learnhub.services.course import CourseService
from learnhub.services.user import UserAdminService, UserQuery
from learnhub.web.admin import Field, cleaned, id_or_404, version_of
from learnhub.web.base import (
    SignedIn,
    expect_form_failure,
    redirect,
    render,
    require_csrf,
    templates,
)
from learnhub.web.errors import WEB_TAG

router = APIRouter(
    prefix="/admin",
    tags=[WEB_TAG],
    include_in_schema=False,
    dependencies=[Depends(require_csrf)],
)
PAGE_SIZE = 20
ACTIONS = [a.value for a in AuditAction]
FILTERS = (
    "entity_type",
    "entity_id",
    "actor_id",
    "action",
    "request_id",
    "occurred_after",
    "occurred_before",
)
# The browser's datetime-local field: minutes, or seconds too; read as UTC.
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


def shown(value: Any) -> str:
    """An audited value as the diff shows it: absent is empty, text as is, the rest JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


templates.env.filters["audit_value"] = shown


def instant(label: str, raw: str) -> datetime | None:
    if not raw:
        return None
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise InvalidValue(f"{label} must be a date and time such as 2026-12-06T09:30")


def optional_id(label: str, raw: str) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidValue(f"{label} must be an id such as {uuid.UUID(int=0)}") from None


def audit_query(form: dict[str, str]) -> AuditQuery:
    entity_type = form["entity_type"]
    if entity_type and not (entity_type.replace("_", "").isalpha() and entity_type.islower()):
        raise InvalidValue("the entity type is a lower-case name such as course or user")
    return AuditQuery(
        entity_type=entity_type or None,
        entity_id=optional_id("the entity id", form["entity_id"]),
        actor_id=optional_id("the actor id", form["actor_id"]),
        action=AuditAction(form["action"]) if form["action"] else None,
        request_id=form["request_id"] or None,
        occurred_after=instant("the start", form["occurred_after"]),
        occurred_before=instant("the end", form["occurred_before"]),
    )


@router.get("/audit", name="web_admin_audit")
async def audit(request: Request, uow: Uow, caller: SignedIn) -> Response:
    service = AuditService(uow)
    service.check_reader(caller)
    params = request.query_params
    form = {name: cleaned(params.get(name), 64) for name in FILTERS}
    if form["action"] not in ACTIONS:
        form["action"] = ""
    context: dict[str, Any] = {
        "form": form,
        "actions": ACTIONS,
        "entries": [],
        "more_url": None,
        "continued": bool(params.get("cursor")),
        "notice": params.get("restored") == "1" and "Restored, with everything its delete took.",
    }
    # A filter that is not one (a malformed id or time, a stale cursor): the page says so.
    expect_form_failure(request, "admin/audit.html", **context)
    pagination = CursorPagination(PAGE_SIZE, params.get("cursor") or None)
    page = await service.search(caller, audit_query(form), pagination)
    if page.next_cursor:
        kept = {k: v for k, v in form.items() if v}
        context["more_url"] = "/admin/audit?" + urlencode({**kept, "cursor": page.next_cursor})
    context["entries"] = [AuditEntryOut.of(e) for e in page.items]
    return render(request, "admin/audit.html", caller, **context)


@router.get("/deleted", name="web_admin_deleted")
async def deleted(request: Request, uow: Uow, caller: SignedIn) -> Response:
    params = request.query_params
    accounts = UserAdminService(uow, caller)  # refused first unless it may manage accounts
    context: dict[str, Any] = {"courses": [], "users": [], "courses_more": None, "users_more": None}
    expect_form_failure(request, "admin/deleted.html", **context)  # a stale cursor
    courses = await CourseService(uow).deleted(
        caller, CursorPagination(PAGE_SIZE, params.get("courses_cursor") or None)
    )
    users = await accounts.search(
        UserQuery(deleted_only=True),
        CursorPagination(PAGE_SIZE, params.get("users_cursor") or None),
    )
    if courses.next_cursor:
        context["courses_more"] = "/admin/deleted?" + urlencode(
            {"courses_cursor": courses.next_cursor}
        )
    if users.next_cursor:
        context["users_more"] = "/admin/deleted?" + urlencode({"users_cursor": users.next_cursor})
    context.update(courses=courses.items, users=users.items)
    return render(request, "admin/deleted.html", caller, **context)


@router.get("/courses/{key}/restore", name="web_admin_course_restore_preview")
async def course_restore_preview(
    key: str, request: Request, uow: Uow, caller: SignedIn
) -> Response:
    batch = await CourseService(uow).restore_preview(caller, id_or_404("course", key))
    return render(
        request,
        "admin/restore.html",
        caller,
        batch=batch,
        kind="course",
        name=batch.entity.title,
        action=f"/admin/courses/{batch.entity.id}/restore",
    )


@router.post("/courses/{key}/restore", name="web_admin_course_restore")
async def course_restore(key: str, request: Request, uow: Uow, caller: SignedIn) -> Response:
    course_id = id_or_404("course", key)
    # A slug taken meanwhile, or the course gone for good: the error page says why.
    expect_form_failure(request, "error.html", message="", back_url="/admin/deleted")
    await CourseService(uow).restore(caller, course_id)
    query = urlencode({"entity_type": "course", "entity_id": str(course_id), "restored": "1"})
    return redirect(request, f"/admin/audit?{query}")


@router.get("/courses/{key}/delete", name="web_admin_course_delete_confirm")
async def course_delete_confirm(key: str, request: Request, uow: Uow, caller: SignedIn) -> Response:
    course = CourseDetailOut.of(
        await CourseService(uow).for_editor(caller, id_or_404("course", key)), full=True
    )
    return render(request, "admin/course_delete.html", caller, course=course)


@router.post("/courses/{key}/delete", name="web_admin_course_delete")
async def course_delete(
    key: str, request: Request, uow: Uow, caller: SignedIn, version: Field = ""
) -> Response:
    course_id = id_or_404("course", key)
    # Changed or deleted meanwhile: the error page says so, with the way back.
    back = f"/admin/courses/{course_id}/delete"
    expect_form_failure(request, "error.html", message="", back_url=back)
    await CourseService(uow).delete(caller, course_id, version_of(version))
    return redirect(request, "/admin/deleted?course_deleted=1")
