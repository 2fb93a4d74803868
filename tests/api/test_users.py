"""The caller's account and account administration through the HTTP API."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from learnhub.models import AuditLog, OutboxMessage, User
from learnhub.repositories.audit import AuditLogRepository
from tests.api.conftest import PASSWORD, assert_problem, login
from tests.integration.helpers import unique_email

ME = "/api/v1/users/me"


def user_url(user_id: str, suffix: str = "") -> str:
    return f"/api/v1/users/{user_id}{suffix}"


async def test_me_carries_an_etag_and_patch_honours_if_match(client, login_as):
    me = await login_as("student")
    response = await client.get(ME, headers=me.headers)
    assert response.headers["etag"] == 'W/"1"'
    assert response.json()["id"] == me.id

    ok = await client.patch(
        ME, headers={**me.headers, "If-Match": 'W/"1"'}, json={"display_name": "Renamed"}
    )
    assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'
    assert ok.json()["display_name"] == "Renamed"

    stale = await client.patch(
        ME, headers={**me.headers, "If-Match": 'W/"1"'}, json={"display_name": "Lost update"}
    )
    body = assert_problem(stale, 412, "precondition_failed")
    assert body["current_version"] == 2
    stale_body = await client.patch(
        ME, headers=me.headers, json={"display_name": "Lost update", "version": 1}
    )
    assert_problem(stale_body, 409, "version_conflict")
    for bad in ('"abc"', "W/1", "*garbage*", 'W/"99999999999"'):
        assert_problem(
            await client.patch(
                ME, headers={**me.headers, "If-Match": bad}, json={"display_name": "x"}
            ),
            412,
            "precondition_failed",
        )
    assert (await client.get(ME, headers=me.headers)).json()["display_name"] == "Renamed"


async def test_activity_lists_logins_newest_first_with_cursor(client, login_as):
    me = await login_as("student")
    for _ in range(3):
        await login(client, me.email)
    first = (await client.get(f"{ME}/activity?limit=2", headers=me.headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (
        await client.get(f"{ME}/activity?limit=2&cursor={first['next_cursor']}", headers=me.headers)
    ).json()
    items = first["items"] + rest["items"]
    assert [i["type"] for i in items] == ["login"] * 4
    stamps = [i["occurred_at"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert_problem(
        await client.get(f"{ME}/activity?cursor=%%%", headers=me.headers), 400, "invalid_cursor"
    )


async def test_export_holds_the_callers_data_and_no_secrets(client, login_as):
    me = await login_as("student")
    body = (await client.get(f"{ME}/export", headers=me.headers)).json()
    assert body["user"]["id"] == me.id and body["user"]["email"] == me.email
    assert len(body["sessions"]) == 1 and body["activity"][0]["type"] == "login"
    assert body["history"][0]["action"] == "create"
    text = str(body)
    assert "argon2" not in text and "refresh_token_hash" not in text


async def test_admin_lists_filters_and_pages_users(client, login_as):
    admin = await login_as("admin")
    tag = uuid.uuid4().hex[:8]
    for i in range(5):
        await client.post(
            "/api/v1/auth/register",
            json={"email": f"{tag}.{i}@example.com", "password": PASSWORD, "display_name": f"P{i}"},
        )
    page = (
        await client.get(f"/api/v1/users?q={tag}&limit=3&sort=email", headers=admin.headers)
    ).json()
    assert [u["email"] for u in page["items"]] == [f"{tag}.{i}@example.com" for i in range(3)]
    rest = (
        await client.get(
            f"/api/v1/users?q={tag}&limit=3&sort=email&cursor={page['next_cursor']}",
            headers=admin.headers,
        )
    ).json()
    assert [u["email"] for u in rest["items"]] == [f"{tag}.{i}@example.com" for i in (3, 4)]
    assert rest["next_cursor"] is None
    suspended = await client.get("/api/v1/users?status=suspended", headers=admin.headers)
    assert suspended.status_code == 200
    assert_problem(
        await client.get("/api/v1/users?limit=0", headers=admin.headers), 422, "validation_error"
    )
    assert_problem(
        await client.get("/api/v1/users?limit=101", headers=admin.headers), 422, "validation_error"
    )


async def test_admin_lists_users_by_role(client, login_as):
    admin = await login_as("admin")
    tag = uuid.uuid4().hex[:8]
    teacher = await login_as("instructor", f"{tag}.teacher@example.com")
    learner = await login_as("student", f"{tag}.learner@example.com")

    async def emails(role: str) -> set[str]:
        response = await client.get(f"/api/v1/users?q={tag}&role={role}", headers=admin.headers)
        assert response.status_code == 200, response.text
        return {u["email"] for u in response.json()["items"]}

    assert await emails("instructor") == {teacher.email}
    assert await emails("student") == {learner.email}
    assert await emails("no_such_role") == set()  # an unknown role matches nobody
    all_instructors = (
        await client.get("/api/v1/users?role=instructor", headers=admin.headers)
    ).json()
    assert all("instructor" in u["roles"] for u in all_instructors["items"])
    assert admin.email not in {u["email"] for u in all_instructors["items"]}
    assert_problem(
        await client.get("/api/v1/users?role=Admin;", headers=admin.headers),
        422,
        "validation_error",
    )


async def test_soft_delete_hides_restore_returns(client, login_as):
    admin, student = await login_as("admin"), await login_as("student")
    assert (await client.delete(user_url(student.id), headers=admin.headers)).status_code == 204
    assert_problem(await client.get(user_url(student.id), headers=admin.headers), 404, "not_found")
    found = await client.get(user_url(student.id) + "?include_deleted=true", headers=admin.headers)
    assert found.json()["deleted_at"] is not None
    assert_problem(await client.get(ME, headers=student.headers), 401, "unauthorized")
    listed = await client.get(f"/api/v1/users?q={student.email}", headers=admin.headers)
    assert listed.json()["items"] == []

    restored = await client.post(user_url(student.id, "/restore"), headers=admin.headers)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    # The sessions went with the user and came back with it (same delete batch), but ended:
    # tokens issued before a deletion never work again (SPEC 13); a new login does.
    assert_problem(await client.get(ME, headers=student.headers), 401, "unauthorized")
    again = await login(client, student.email)
    assert (await client.get(ME, headers=again.headers)).status_code == 200


async def test_restore_conflicts_when_the_email_was_taken_meanwhile(client, login_as):
    admin, student = await login_as("admin"), await login_as("student")
    await client.delete(user_url(student.id), headers=admin.headers)
    again = await client.post(
        "/api/v1/auth/register",
        json={"email": student.email, "password": PASSWORD, "display_name": "Newcomer"},
    )
    assert again.status_code == 201
    assert_problem(
        await client.post(user_url(student.id, "/restore"), headers=admin.headers), 409, "conflict"
    )


async def test_admin_sets_roles_and_the_change_is_versioned_and_audited(client, login_as, session):
    admin, student = await login_as("admin"), await login_as("student")
    response = await client.put(
        user_url(student.id, "/roles"),
        headers=admin.headers,
        json={"roles": ["student", "instructor"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["roles"] == ["instructor", "student"]
    assert response.headers["etag"] == 'W/"2"'
    stale = await client.put(
        user_url(student.id, "/roles"),
        headers={**admin.headers, "If-Match": 'W/"1"'},
        json={"roles": ["student"]},
    )
    assert_problem(stale, 412, "precondition_failed")
    assert_problem(
        await client.put(
            user_url(student.id, "/roles"), headers=admin.headers, json={"roles": ["wizard"]}
        ),
        422,
        "invalid_value",
    )
    assert_problem(
        await client.put(
            user_url(admin.id, "/roles"), headers=admin.headers, json={"roles": ["student"]}
        ),
        409,
        "conflict",
    )
    rows = await session.execute(
        select(AuditLog)
        .where(AuditLog.entity_id == uuid.UUID(student.id))
        .order_by(AuditLog.occurred_at)
    )
    last = list(rows.scalars())[-1]
    assert last.action == "update" and "roles" in last.changes
    assert last.actor_id == uuid.UUID(admin.id)


async def test_admin_cannot_delete_or_suspend_itself(client, login_as):
    admin = await login_as("admin")
    assert_problem(await client.delete(user_url(admin.id), headers=admin.headers), 409, "conflict")
    assert_problem(
        await client.patch(user_url(admin.id), headers=admin.headers, json={"status": "suspended"}),
        409,
        "conflict",
    )


async def test_hard_delete_erases_personal_data_but_keeps_the_trail(client, login_as, session):
    admin = await login_as("admin")
    email = unique_email("erase.me")
    created = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": "Erase Me"},
    )
    victim = await login(client, email)
    await client.patch(ME, headers=victim.headers, json={"display_name": "Still Me"})
    victim_id = uuid.UUID(created.json()["id"])

    response = await client.delete(user_url(str(victim_id)) + "?hard=true", headers=admin.headers)
    assert response.status_code == 204, response.text

    assert (
        await session.execute(
            select(User).where(User.id == victim_id).execution_options(include_deleted=True)
        )
    ).first() is None
    entries = list(
        (
            await session.execute(
                select(AuditLog)
                .where(AuditLog.entity_id == victim_id)
                .order_by(AuditLog.occurred_at)
            )
        ).scalars()
    )
    assert [e.action for e in entries] == ["create", "update", "hard_delete"]
    trail = str([e.changes for e in entries])
    assert email not in trail and "Erase Me" not in trail and "Still Me" not in trail
    assert entries[0].changes["email"] == [None, "[erased]"]
    assert entries[1].actor_id == victim_id  # the actor id stays, as a pseudonymous UUID
    assert entries[2].actor_id == uuid.UUID(admin.id)
    payloads = (
        (
            await session.execute(
                select(OutboxMessage.payload).where(OutboxMessage.aggregate_id == victim_id)
            )
        )
        .scalars()
        .all()
    )
    assert payloads and all(p["email"] == "[erased]" for p in payloads)
    _, gaps = await AuditLogRepository(session).verify()
    assert [g for g in gaps if g.entity_id == victim_id] == []
    # The address is free again.
    again = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": "New Person"},
    )
    assert again.status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/users/not-a-uuid", "/api/v1/users/123"])
async def test_malformed_ids_are_422(client, login_as, path):
    admin = await login_as("admin")
    assert_problem(await client.get(path, headers=admin.headers), 422, "validation_error")


async def test_oversized_body_is_413(client):
    response = await client.post(
        "/api/v1/auth/register",
        content=b"x" * 2_000_001,
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413, "payload_too_large")
