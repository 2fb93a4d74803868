"""`GET /api/v1/audit` (SPEC 7, 11): the audit trail for administrators, on both databases.

Every filter narrows to exactly the entries the database holds for it; keyset pages cover the
whole trail once each, newest first (ties by id); callers without `audit:read` are refused;
malformed input is a 4xx problem, never a 500."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from learnhub.models import AuditLog
from tests.api.conftest import Account, assert_problem
from tests.api.test_courses import API, add_section, add_video, course_url, create_course

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

AUDIT = f"{API}/audit"
ENTRY_FIELDS = {
    "id",
    "occurred_at",
    "actor_id",
    "request_id",
    "entity_type",
    "entity_id",
    "action",
    "changes",
}


async def pages(
    client: httpx.AsyncClient, account: Account, limit: int, **params: Any
) -> list[dict]:
    """Every entry the filters select, page by page, checking each page's envelope."""
    items: list[dict] = []
    cursor = None
    for _ in range(1000):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(AUDIT, params=query, headers=account.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


async def stored(session: Any, *where: Any) -> list[str]:
    """Ids of the entries matching `where`, in the API's order: newest first, ties by id."""
    rows = await session.execute(
        select(AuditLog.id).where(*where).order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc())
    )
    return [str(i) for i in rows.scalars().all()]


async def some_history(client: httpx.AsyncClient, instructor: Account, admin: Account) -> dict:
    """A course with content, edited by its instructor, then soft-deleted and restored by an
    admin: entries of several types, actions and actors."""
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    await add_video(client, instructor, section["id"])
    edited = await client.patch(
        course_url(course["id"]), headers=instructor.headers, json={"title": "Renamed Course"}
    )
    assert edited.status_code == 200, edited.text
    deleted = await client.delete(course_url(course["id"]), headers=admin.headers)
    assert deleted.status_code == 204, deleted.text
    restored = await client.post(course_url(course["id"], "/restore"), headers=admin.headers)
    assert restored.status_code == 200, restored.text
    return course


async def test_entries_have_the_documented_shape_and_changes(client, login_as, session):
    admin, instructor = await login_as("admin"), await login_as("instructor")
    course = await some_history(client, instructor, admin)

    response = await client.get(AUDIT, params={"entity_id": course["id"]}, headers=admin.headers)
    assert response.status_code == 200, response.text
    entries = response.json()["items"]
    assert all(set(e) == ENTRY_FIELDS for e in entries)
    # Newest first: restore, soft delete, the edit, the creation.
    assert [e["action"] for e in entries] == ["restore", "soft_delete", "update", "create"]
    assert {e["entity_type"] for e in entries} == {"course"}
    restore, delete, edit, create = entries
    assert edit["changes"]["title"][1] == "Renamed Course"
    assert edit["actor_id"] == instructor.id
    assert delete["actor_id"] == restore["actor_id"] == admin.id
    assert delete["changes"]["deleted_by"] == [None, admin.id]
    assert restore["changes"]["deleted_at"][1] is None
    assert create["changes"]["title"] == [None, course["title"]]
    assert all(e["request_id"] for e in entries)


async def test_each_filter_narrows_to_exactly_the_matching_entries(client, login_as, session):
    admin, instructor = await login_as("admin"), await login_as("instructor")
    course = await some_history(client, instructor, admin)
    course_id = uuid.UUID(course["id"])
    everything = await stored(session)

    cases: list[tuple[dict[str, Any], list[Any]]] = [
        ({"entity_type": "section"}, [AuditLog.entity_type == "section"]),
        ({"entity_id": str(course_id)}, [AuditLog.entity_id == course_id]),
        ({"actor_id": instructor.id}, [AuditLog.actor_id == uuid.UUID(instructor.id)]),
        ({"action": "restore"}, [AuditLog.action == "restore"]),
        (
            {"entity_type": "course", "entity_id": str(course_id), "action": "update"},
            [
                AuditLog.entity_type == "course",
                AuditLog.entity_id == course_id,
                AuditLog.action == "update",
            ],
        ),
        (
            {"actor_id": admin.id, "action": "soft_delete"},
            [AuditLog.actor_id == uuid.UUID(admin.id), AuditLog.action == "soft_delete"],
        ),
        # An id of one type under another type's name matches nothing.
        ({"entity_type": "user", "entity_id": str(course_id)}, [AuditLog.id.is_(None)]),
    ]
    for params, where in cases:
        expected = await stored(session, *where)
        got = [e["id"] for e in await pages(client, admin, 2, **params)]
        assert got == expected, params
        assert len(expected) < len(everything), params
        if params.get("entity_type") != "user":
            assert expected, params

    # The time window: half-open, [occurred_after, occurred_before).
    rows = (
        await session.execute(
            select(AuditLog.id, AuditLog.occurred_at)
            .where(AuditLog.entity_id == course_id)
            .order_by(AuditLog.occurred_at)
        )
    ).all()
    first, last = rows[0].occurred_at, rows[-1].occurred_at
    window = {
        "occurred_after": first.isoformat(),
        "occurred_before": last.isoformat(),
        "entity_id": str(course_id),
    }
    expected = await stored(
        session,
        AuditLog.entity_id == course_id,
        AuditLog.occurred_at >= first,
        AuditLog.occurred_at < last,
    )
    got = [e["id"] for e in await pages(client, admin, 20, **window)]
    assert got == expected and str(rows[0].id) in got and str(rows[-1].id) not in got
    # The same instant in another offset is the same bound.
    shifted = first.astimezone(timezone(timedelta(hours=-5)))
    again = await pages(client, admin, 20, **{**window, "occurred_after": shifted.isoformat()})
    assert [e["id"] for e in again] == expected
    # A window that is empty by construction.
    empty = await pages(
        client, admin, 20, occurred_after=last.isoformat(), occurred_before=last.isoformat()
    )
    assert empty == []


async def test_pages_cover_the_trail_once_each_newest_first(client, login_as, session):
    admin, instructor = await login_as("admin"), await login_as("instructor")
    await some_history(client, instructor, admin)
    expected = await stored(session)
    for limit in (1, 7, 100):
        got = [e["id"] for e in await pages(client, admin, limit)]
        assert got == expected, limit
    first = await client.get(AUDIT, headers=admin.headers)
    assert len(first.json()["items"]) == min(20, len(expected))  # the default page size

    # A cursor keeps its place while newer entries are written: nothing repeats or is lost.
    page = (await client.get(AUDIT, params={"limit": 5}, headers=admin.headers)).json()
    await create_course(client, instructor)  # new entries, newer than every cursor
    rest = await pages(client, admin, 50, cursor=page["next_cursor"])
    assert [e["id"] for e in page["items"]] + [e["id"] for e in rest] == expected


async def test_only_holders_of_audit_read_may_read(client, login_as):
    assert_problem(await client.get(AUDIT), 401, "unauthorized")
    for role in ("student", "instructor"):
        account = await login_as(role)
        assert_problem(await client.get(AUDIT, headers=account.headers), 403, "forbidden")
    # A refused caller learns nothing about its parameters either.
    assert_problem(await client.get(AUDIT, params={"bogus": "1"}), 401, "unauthorized")


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"cursor": "not-a-cursor"}, 400, "invalid_cursor"),
        ({"cursor": "eyJzIjoiaGlzdG9yeSJ9"}, 400, "invalid_cursor"),
        ({"limit": "0"}, 422, "validation_error"),
        ({"limit": "101"}, 422, "validation_error"),
        ({"action": "erase"}, 422, "validation_error"),
        ({"entity_id": "not-a-uuid"}, 422, "validation_error"),
        ({"entity_type": "Course; DROP"}, 422, "validation_error"),
        ({"occurred_after": "2026-01-01T00:00:00"}, 422, "validation_error"),  # no offset
        (
            {
                "occurred_after": "2026-01-02T00:00:00Z",
                "occurred_before": "2026-01-01T00:00:00Z",
            },
            422,
            "invalid_value",
        ),
        ({"entity": "course"}, 422, "invalid_value"),
    ],
)
async def test_bad_input_is_a_problem(client, login_as, params, status, code):
    admin = await login_as("admin")
    body = assert_problem(
        await client.get(AUDIT, params=params, headers=admin.headers), status, code
    )
    if "entity" in params:  # an unknown parameter: the answer names the allowed ones
        assert "entity" in body["detail"]
        assert body["allowed"] == (
            "action, actor_id, cursor, entity_id, entity_type, limit, occurred_after, "
            "occurred_before"
        )


async def test_a_cursor_of_another_listing_is_refused(client, login_as):
    admin, instructor = await login_as("admin"), await login_as("instructor")
    course = await some_history(client, instructor, admin)
    history = await client.get(
        course_url(course["id"], "/history"), params={"limit": 1}, headers=admin.headers
    )
    cursor = history.json()["next_cursor"]
    assert cursor
    response = await client.get(AUDIT, params={"cursor": cursor}, headers=admin.headers)
    assert_problem(response, 400, "invalid_cursor")


async def test_the_endpoint_is_in_the_openapi_document(client):
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"][AUDIT]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert names == {
        "entity_type",
        "entity_id",
        "actor_id",
        "action",
        "occurred_after",
        "occurred_before",
        "limit",
        "cursor",
    }
    assert {"200", "401", "403", "422"} <= set(operation["responses"])


@pytest.mark.parametrize(
    "params",
    [
        {"occurred_after": "0001-01-01T00:00:00+14:00"},
        {"occurred_before": "9999-12-31T23:59:59-14:00"},
        {
            "occurred_after": "0001-01-01T00:00:00+14:00",
            "occurred_before": "9999-12-31T23:59:59-14:00",
        },
    ],
)
async def test_bounds_beyond_the_utc_range_bound_nothing(client, login_as, params):
    """A valid date-time whose UTC equivalent a datetime cannot hold (the document allows it)
    is the nearest representable bound: the window holds the whole trail."""
    admin = await login_as("admin")
    everything = await client.get(AUDIT, headers=admin.headers)
    bounded = await client.get(AUDIT, params=params, headers=admin.headers)
    assert bounded.status_code == 200, bounded.text
    assert bounded.json()["items"] == everything.json()["items"] != []


def test_window_bounds_are_compared_in_utc():
    # Unit-level guard of the service's rule (no database): equal bounds are an empty
    # window, a reversed one is refused.
    from learnhub.domain.errors import InvalidValue
    from learnhub.services.audit import AuditQuery

    now = datetime.now(UTC)
    assert len(AuditQuery(occurred_after=now, occurred_before=now).filters()) == 2
    with pytest.raises(InvalidValue):
        AuditQuery(occurred_after=now, occurred_before=now - timedelta(microseconds=1)).filters()
