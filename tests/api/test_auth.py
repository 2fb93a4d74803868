"""Registration, login, refresh rotation, logout, throttling and token hardening."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tests.api.conftest import PASSWORD, TEST_SECRET, assert_problem, login
from tests.integration.helpers import unique_email

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


async def register(client, email=None, password=PASSWORD, display_name="Grace Hopper"):
    return await client.post(
        REGISTER,
        json={"email": email or unique_email(), "password": password, "display_name": display_name},
    )


async def test_register_creates_a_student_who_can_log_in_at_once(client):
    email = unique_email("New.User")
    response = await register(client, email)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == email.lower()
    assert body["roles"] == ["student"] and body["status"] == "active"
    assert set(body) >= {
        "id",
        "email",
        "display_name",
        "status",
        "roles",
        "created_at",
        "updated_at",
    }
    assert "password" not in str(body) and "hash" not in str(body)
    account = await login(client, email.upper())  # e-mail is case-insensitive
    assert account.id == body["id"]


@pytest.mark.parametrize(
    "first,second", [("a.b@example.com", "A.B@EXAMPLE.COM"), ("c@example.com", " c@example.com ")]
)
async def test_duplicate_email_is_a_conflict(client, first, second):
    suffix = uuid.uuid4().hex[:6]
    first, second = first.replace("@", f"{suffix}@"), second.replace("@", f"{suffix}@")
    assert (await register(client, first)).status_code == 201
    assert_problem(await register(client, second), 409, "conflict")


@pytest.mark.parametrize(
    "body,code",
    [
        ({"email": "not-an-email", "password": PASSWORD, "display_name": "x"}, "invalid_value"),
        # The document declares the password's length and the name's not-blank pattern.
        ({"email": "ok@example.com", "password": "short", "display_name": "x"}, "validation_error"),
        (
            {"email": "ok@example.com", "password": PASSWORD, "display_name": "   "},
            "validation_error",
        ),
        ({"email": "ok@example.com", "password": PASSWORD}, "validation_error"),
        (
            {"email": "ok@example.com", "password": PASSWORD, "display_name": "x", "role": "admin"},
            "validation_error",
        ),
        (
            {"email": "ok@example.com", "password": "p" * 10_000, "display_name": "x"},
            "validation_error",
        ),
    ],
)
async def test_invalid_registration_is_422(client, body, code):
    assert_problem(await client.post(REGISTER, json=body), 422, code)


async def test_wrong_password_and_unknown_account_look_alike(client):
    email = unique_email()
    await register(client, email)
    wrong = await client.post(LOGIN, json={"email": email, "password": "wrong password"})
    unknown = await client.post(LOGIN, json={"email": unique_email(), "password": PASSWORD})
    for response in (wrong, unknown):
        body = assert_problem(response, 401, "unauthorized")
        assert body["detail"] == "wrong e-mail or password"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_login_is_throttled_per_account_even_with_the_right_password(client):
    email, other = unique_email(), unique_email()
    await register(client, email)
    await register(client, other)
    for _ in range(5):
        assert_problem(
            await client.post(LOGIN, json={"email": email, "password": "nope-nope"}),
            401,
            "unauthorized",
        )
    throttled = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert_problem(throttled, 429, "too_many_requests")
    assert int(throttled.headers["retry-after"]) > 0
    await login(client, other)  # another account from the same address is unaffected


@pytest.mark.parametrize(
    "settings_overrides", [{"login_max_failures_per_ip": 3, "login_max_failures_per_account": 100}]
)
async def test_login_is_throttled_per_client_address(client):
    emails = [unique_email() for _ in range(4)]
    for email in emails:
        await register(client, email)
    for email in emails[:3]:
        await client.post(LOGIN, json={"email": email, "password": "nope-nope"})
    assert_problem(
        await client.post(LOGIN, json={"email": emails[3], "password": PASSWORD}),
        429,
        "too_many_requests",
    )


async def test_login_does_not_bump_the_user_version(client):
    email = unique_email()
    await register(client, email)
    account = await login(client, email)
    me = (await client.get(ME, headers=account.headers)).json()
    assert me["version"] == 1 and me["last_login_at"] is not None


async def test_no_cache_keeps_tokens_or_an_account_export(client):
    """Token answers (RFC 6749 5.1) and the whole-account export are never stored by a
    cache: `Cache-Control: no-store`."""
    email = unique_email()
    await register(client, email)
    logged_in = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.headers["cache-control"] == "no-store"
    assert logged_in.headers["pragma"] == "no-cache"
    tokens = logged_in.json()
    rotated = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    headers = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    export = await client.get("/api/v1/users/me/export", headers=headers)
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"


async def test_refresh_rotates_and_reuse_revokes_the_session(client):
    email = unique_email()
    await register(client, email)
    account = await login(client, email)
    first = account.tokens["refresh_token"]
    rotated = await client.post(REFRESH, json={"refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first
    new_headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert (await client.get(ME, headers=new_headers)).status_code == 200

    # The rotated-out token comes back: treat it as stolen and end the whole session.
    assert_problem(await client.post(REFRESH, json={"refresh_token": first}), 401, "unauthorized")
    assert_problem(
        await client.post(REFRESH, json={"refresh_token": second["refresh_token"]}),
        401,
        "unauthorized",
    )
    assert_problem(await client.get(ME, headers=new_headers), 401, "unauthorized")


async def test_logout_ends_refresh_and_access(client):
    email = unique_email()
    await register(client, email)
    account = await login(client, email)
    token = account.tokens["refresh_token"]
    assert (await client.post(LOGOUT, json={"refresh_token": token})).status_code == 204
    assert_problem(await client.post(REFRESH, json={"refresh_token": token}), 401, "unauthorized")
    assert_problem(await client.get(ME, headers=account.headers), 401, "unauthorized")
    # Another session of the same user is untouched.
    other = await login(client, email)
    assert (await client.get(ME, headers=other.headers)).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "",
        "x" * 300,
        "9ebd2a44-2489-41e5-8dd4-7c87a1036d57.short",
        f"not-a-uuid.{'s' * 40}",
    ],
)
async def test_malformed_refresh_tokens_are_401(client, token):
    # An unusable token is a 401 whatever its shape, never a 422 (see test_session_end).
    assert_problem(await client.post(REFRESH, json={"refresh_token": token}), 401, "unauthorized")


async def forge(payload: dict, key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


async def test_tampered_expired_and_unsigned_tokens_are_rejected(client):
    email = unique_email()
    await register(client, email)
    account = await login(client, email)
    claims = jwt.decode(account.tokens["access_token"], options={"verify_signature": False})
    now = int(time.time())
    header, payload, signature = account.tokens["access_token"].split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    candidates = {
        "bad signature": f"{header}.{payload}.{flipped}",
        "other key": await forge(claims, key="another-secret-" + "y" * 32),
        "expired": await forge({**claims, "iat": now - 7200, "exp": now - 3600}),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "wrong issuer": await forge({**claims, "iss": "someone-else"}),
        "no session": await forge({k: v for k, v in claims.items() if k != "sid"}),
        "other user": await forge({**claims, "sub": str(uuid.uuid4())}),
        "not a jwt": "definitely-not-a-token",
    }
    for name, token in candidates.items():
        response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (name, response.text)
    assert (await client.get(ME, headers=account.headers)).status_code == 200
    for header_value in ("Basic abc", "Bearer", "bearer   ", account.tokens["access_token"]):
        assert_problem(
            await client.get(ME, headers={"Authorization": header_value}), 401, "unauthorized"
        )


async def test_suspended_user_tokens_stop_working_and_login_is_refused(client, login_as):
    admin = await login_as("admin")
    student = await login_as("student")
    response = await client.patch(
        f"/api/v1/users/{student.id}", headers=admin.headers, json={"status": "suspended"}
    )
    assert response.status_code == 200, response.text
    assert_problem(await client.get(ME, headers=student.headers), 401, "unauthorized")
    refused = await client.post(LOGIN, json={"email": student.email, "password": PASSWORD})
    assert_problem(refused, 403, "account_suspended")
