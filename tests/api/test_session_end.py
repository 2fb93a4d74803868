"""Ending sessions for good (SPEC 13): tokens issued before a user's deletion or suspension
never work again, a restore or reactivation included; logging out with only the access
token; any unusable refresh or logout token is a 401, never a 422."""

from __future__ import annotations

import uuid

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learnhub.models import AuditLog
from learnhub.models.user import UserSession
from tests.api.conftest import PASSWORD, TEST_SECRET, Account, LoginAs, assert_problem, login

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def user_url(user_id: str, suffix: str = "") -> str:
    return f"/api/v1/users/{user_id}{suffix}"


async def sessions_of(session: AsyncSession, user_id: str) -> list[UserSession]:
    result = await session.execute(
        select(UserSession)
        .where(UserSession.user_id == uuid.UUID(user_id))
        .order_by(UserSession.created_at)
        .execution_options(include_deleted=True, populate_existing=True)
    )
    return list(result.scalars())


async def revocation_entries(session: AsyncSession, session_id: uuid.UUID) -> list[AuditLog]:
    result = await session.execute(
        select(AuditLog)
        .where(AuditLog.entity_type == "user_session", AuditLog.entity_id == session_id)
        .order_by(AuditLog.occurred_at)
    )
    return [e for e in result.scalars() if "revoked_reason" in e.changes]


async def assert_dead(client: httpx.AsyncClient, account: Account, refresh_token: str) -> None:
    assert_problem(await client.get(ME, headers=account.headers), 401, "unauthorized")
    assert_problem(
        await client.post(REFRESH, json={"refresh_token": refresh_token}), 401, "unauthorized"
    )


async def assert_ended(
    session: AsyncSession, user_id: str, reason: str, admin_id: str, count: int
) -> None:
    rows = await sessions_of(session, user_id)
    assert len(rows) == count
    for row in rows:
        assert row.revoked_at is not None and row.revoked_reason == reason, row
        entries = await revocation_entries(session, row.id)
        assert len(entries) == 1
        assert entries[0].changes["revoked_reason"] == [None, reason]
        assert entries[0].actor_id == uuid.UUID(admin_id)


async def test_restore_after_delete_revives_no_session(client, login_as: LoginAs, session):
    admin, student = await login_as("admin"), await login_as("student")
    second = await login(client, student.email)  # a second device
    rotated = await client.post(REFRESH, json={"refresh_token": second.tokens["refresh_token"]})
    assert rotated.status_code == 200
    second_refresh = rotated.json()["refresh_token"]

    assert (await client.delete(user_url(student.id), headers=admin.headers)).status_code == 204
    restored = await client.post(user_url(student.id, "/restore"), headers=admin.headers)
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None

    await assert_dead(client, student, student.tokens["refresh_token"])
    await assert_dead(client, second, second_refresh)
    await assert_ended(session, student.id, "user_deleted", admin.id, count=2)
    # The restored account itself is fine: a new login works.
    again = await login(client, student.email)
    assert (await client.get(ME, headers=again.headers)).status_code == 200


async def test_reactivation_after_suspension_revives_no_session(client, login_as, session):
    admin, student = await login_as("admin"), await login_as("student")
    suspended = await client.patch(
        user_url(student.id), headers=admin.headers, json={"status": "suspended"}
    )
    assert suspended.status_code == 200, suspended.text
    refused = await client.post(LOGIN, json={"email": student.email, "password": PASSWORD})
    assert_problem(refused, 403, "account_suspended")
    active = await client.patch(
        user_url(student.id), headers=admin.headers, json={"status": "active"}
    )
    assert active.status_code == 200, active.text

    await assert_dead(client, student, student.tokens["refresh_token"])
    await assert_ended(session, student.id, "user_suspended", admin.id, count=1)
    again = await login(client, student.email)
    assert (await client.get(ME, headers=again.headers)).status_code == 200


async def test_a_restore_does_not_revive_sessions_ended_before_either(client, login_as, session):
    """Logged out, then deleted and restored: the logout stays the recorded reason."""
    admin, student = await login_as("admin"), await login_as("student")
    out = await client.post(LOGOUT, json={"refresh_token": student.tokens["refresh_token"]})
    assert out.status_code == 204
    await client.delete(user_url(student.id), headers=admin.headers)
    await client.post(user_url(student.id, "/restore"), headers=admin.headers)
    await assert_dead(client, student, student.tokens["refresh_token"])
    [row] = await sessions_of(session, student.id)
    assert row.revoked_reason == "logout"


async def test_logout_with_only_the_bearer_token_ends_that_session(client, login_as, session):
    student = await login_as("student")
    other = await login(client, student.email)
    response = await client.post(LOGOUT, headers=student.headers)
    assert response.status_code == 204, response.text
    await assert_dead(client, student, student.tokens["refresh_token"])
    rows = {row.id: row for row in await sessions_of(session, student.id)}
    claims = jwt.decode(student.tokens["access_token"], TEST_SECRET, ["HS256"], issuer="learnhub")
    ended = rows[uuid.UUID(claims["sid"])]
    assert ended.revoked_reason == "logout" and ended.revoked_at is not None
    entries = await revocation_entries(session, ended.id)
    assert [e.actor_id for e in entries] == [uuid.UUID(student.id)]
    # The user's other session is untouched; an empty JSON body works the same way.
    assert (await client.get(ME, headers=other.headers)).status_code == 200
    assert (await client.post(LOGOUT, headers=other.headers, json={})).status_code == 204
    assert_problem(await client.get(ME, headers=other.headers), 401, "unauthorized")


async def test_logout_with_neither_token_is_401(client):
    assert_problem(await client.post(LOGOUT), 401, "unauthorized")
    assert_problem(await client.post(LOGOUT, json={}), 401, "unauthorized")
    bad = {"Authorization": "Bearer not-a-token"}
    assert_problem(await client.post(LOGOUT, headers=bad), 401, "unauthorized")


async def test_logout_by_refresh_token_ignores_a_stale_bearer(client, login_as, session):
    student = await login_as("student")
    stale = {"Authorization": "Bearer expired.or.garbage"}
    response = await client.post(
        LOGOUT, headers=stale, json={"refresh_token": student.tokens["refresh_token"]}
    )
    assert response.status_code == 204, response.text
    await assert_dead(client, student, student.tokens["refresh_token"])


async def test_an_access_token_is_no_refresh_token(client, login_as):
    student = await login_as("student")
    access = student.tokens["access_token"]
    assert len(access) > 256  # what used to be a 422
    for path in (REFRESH, LOGOUT):
        assert_problem(await client.post(path, json={"refresh_token": access}), 401, "unauthorized")
    assert (await client.get(ME, headers=student.headers)).status_code == 200


@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "",
        "x" * 300,
        "x" * 100_000,
        "nul\x00byte",
        f"0190c0de-0000-7000-8000-00000000000a.{'s' * 40}\x00",
        "9ebd2a44-2489-41e5-8dd4-7c87a1036d57.short",
        f"not-a-uuid.{'s' * 40}",
        f"0190c0de-0000-7000-8000-00000000000b.{'s' * 40}",
    ],
)
async def test_unusable_refresh_and_logout_tokens_are_401(client, path, token):
    assert_problem(await client.post(path, json={"refresh_token": token}), 401, "unauthorized")
