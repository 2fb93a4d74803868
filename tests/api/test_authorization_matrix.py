"""The authorization matrix: every endpoint of the app x every kind of caller.

Each endpoint the app serves (its OpenAPI paths, plus the few routes kept out of the schema
such as `/docs`) must be listed in MATRIX with a policy; `test_matrix_lists_every_endpoint`
fails when one is missing, so a new endpoint cannot ship without an authorization decision.

Callers: `anonymous` (no header), the three built-in roles, and two dead accounts whose
access token is still a signed, unexpired JWT: `deleted` (soft-deleted by an admin after
logging in) and `suspended` (status set to suspended by an admin after logging in).

Outcomes: an allowed cell answers the exact status the realistic request should get; a
denied cell answers 401 `unauthorized` (no or dead credentials) or 403 `forbidden`
(authenticated, lacking the permission) as an RFC 9457 problem, and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from learnhub.services import passwords
from tests.api.conftest import PASSWORD, Account, LoginAs, assert_problem
from tests.integration.helpers import unique_email

API = "/api/v1"

# Policies.
PUBLIC = "public"  # anyone, credentials or not (a dead token is simply ignored)
SELF = "self"  # any live, active account, acting on itself
ADMIN = "admin"  # holders of users:manage

ANONYMOUS, STUDENT, INSTRUCTOR, ADMIN_ROLE = "anonymous", "student", "instructor", "admin"
DELETED, SUSPENDED = "deleted", "suspended"
CALLERS = [ANONYMOUS, STUDENT, INSTRUCTOR, ADMIN_ROLE, DELETED, SUSPENDED]
LIVE_ROLES = {STUDENT, INSTRUCTOR, ADMIN_ROLE}
ROLES_WITH_PERMISSION = {PUBLIC: set(CALLERS), SELF: LIVE_ROLES, ADMIN: {ADMIN_ROLE}}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell registers and logs in a few accounts; argon2's production cost (~0.2 s per
    account) would dominate the run and has no bearing on authorization."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@dataclass
class World:
    """Who is around for one cell: the caller, another real user, and an admin operator."""

    client: httpx.AsyncClient
    operator: Account  # an admin used for setup and for checking side effects
    target: Account  # another real, live user (a student) that path parameters point at
    caller: Account | None  # None for the anonymous caller


@dataclass
class Call:
    """The concrete request a cell sends."""

    path: str
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)


Build = Callable[[World], Awaitable[Call]]


@dataclass(frozen=True)
class Rule:
    policy: str
    status: int  # what an allowed caller gets for the realistic request
    build: Build
    in_schema: bool = True  # False for the routes FastAPI keeps out of /openapi.json


def fixed(path: str, json: Any = None) -> Build:
    async def build(_world: World) -> Call:
        return Call(path, json)

    return build


def on_target(suffix: str = "", json: Any = None) -> Build:
    async def build(world: World) -> Call:
        return Call(f"{API}/users/{world.target.id}{suffix}", json)

    return build


async def _register(_world: World) -> Call:
    body = {"email": unique_email("matrix"), "password": PASSWORD, "display_name": "New Learner"}
    return Call(f"{API}/auth/register", body)


async def _login(world: World) -> Call:
    return Call(f"{API}/auth/login", {"email": world.target.email, "password": PASSWORD})


async def _refresh(world: World) -> Call:
    return Call(f"{API}/auth/refresh", {"refresh_token": world.target.tokens["refresh_token"]})


async def _logout(world: World) -> Call:
    return Call(f"{API}/auth/logout", {"refresh_token": world.target.tokens["refresh_token"]})


async def _restore(world: World) -> Call:
    # Something to restore: the operator soft-deletes the target first.
    deleted = await world.client.delete(
        f"{API}/users/{world.target.id}", headers=world.operator.headers
    )
    assert deleted.status_code == 204, deleted.text
    return Call(f"{API}/users/{world.target.id}/restore")


MATRIX: dict[str, Rule] = {
    # Operations, at the root.
    "GET /health": Rule(PUBLIC, 200, fixed("/health")),
    "GET /ready": Rule(PUBLIC, 200, fixed("/ready")),
    "GET /metrics": Rule(PUBLIC, 200, fixed("/metrics")),
    "GET /openapi.json": Rule(PUBLIC, 200, fixed("/openapi.json"), in_schema=False),
    "GET /docs": Rule(PUBLIC, 200, fixed("/docs"), in_schema=False),
    "GET /docs/oauth2-redirect": Rule(PUBLIC, 200, fixed("/docs/oauth2-redirect"), in_schema=False),
    "GET /redoc": Rule(PUBLIC, 200, fixed("/redoc"), in_schema=False),
    # Authentication.
    f"POST {API}/auth/register": Rule(PUBLIC, 201, _register),
    f"POST {API}/auth/login": Rule(PUBLIC, 200, _login),
    f"POST {API}/auth/refresh": Rule(PUBLIC, 200, _refresh),
    f"POST {API}/auth/logout": Rule(PUBLIC, 204, _logout),
    # The caller's own account.
    f"GET {API}/users/me": Rule(SELF, 200, fixed(f"{API}/users/me")),
    f"PATCH {API}/users/me": Rule(
        SELF, 200, fixed(f"{API}/users/me", {"display_name": "Renamed Self"})
    ),
    f"GET {API}/users/me/activity": Rule(SELF, 200, fixed(f"{API}/users/me/activity")),
    f"GET {API}/users/me/export": Rule(SELF, 200, fixed(f"{API}/users/me/export")),
    # Account administration.
    f"GET {API}/users": Rule(ADMIN, 200, fixed(f"{API}/users")),
    f"GET {API}/users/{{user_id}}": Rule(ADMIN, 200, on_target()),
    f"PATCH {API}/users/{{user_id}}": Rule(
        ADMIN, 200, on_target(json={"display_name": "Renamed By Someone"})
    ),
    f"DELETE {API}/users/{{user_id}}": Rule(ADMIN, 204, on_target()),
    f"POST {API}/users/{{user_id}}/restore": Rule(ADMIN, 200, _restore),
    f"PUT {API}/users/{{user_id}}/roles": Rule(
        ADMIN, 200, on_target("/roles", {"roles": ["admin", "student"]})
    ),
}

CELLS = [
    pytest.param(endpoint, caller, id=f"{endpoint}-{caller}")
    for endpoint in MATRIX
    for caller in CALLERS
]


def expected_denial(policy: str, caller: str) -> int | None:
    """None when the caller is allowed; else the status of the refusal."""
    if caller in ROLES_WITH_PERMISSION[policy]:
        return None
    return 403 if caller in LIVE_ROLES else 401


async def snapshot(world: World, account: Account) -> dict[str, Any]:
    """An account as an admin sees it (deleted or not), to prove a request changed nothing."""
    response = await world.client.get(
        f"{API}/users/{account.id}",
        params={"include_deleted": "true"},
        headers=world.operator.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def make_caller(
    kind: str, login_as: LoginAs, operator: Account, client: httpx.AsyncClient
) -> Account:
    if kind in LIVE_ROLES:
        return await login_as(kind)
    account = await login_as(STUDENT)  # logged in first: its access token stays signed
    url = f"{API}/users/{account.id}"
    if kind == DELETED:
        response = await client.delete(url, headers=operator.headers)
        assert response.status_code == 204, response.text
    else:
        response = await client.patch(url, json={"status": "suspended"}, headers=operator.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "suspended"
    return account


def assert_denied(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text}"
    )
    assert_problem(response, status, "unauthorized" if status == 401 else "forbidden")
    if status == 401:
        assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


async def check_allowed(world: World, endpoint: str, response: httpx.Response) -> None:
    """What an allowed call must return beyond its status."""
    assert world.caller is not None or MATRIX[endpoint].policy == PUBLIC
    body = (
        response.json()
        if response.content and "json" in response.headers.get("content-type", "")
        else None
    )
    own = world.caller.id if world.caller is not None else None
    match endpoint:
        case "GET /api/v1/users/me":
            assert body["id"] == own
        case "PATCH /api/v1/users/me":
            assert body["id"] == own and body["display_name"] == "Renamed Self"
        case "GET /api/v1/users/me/export":
            assert body["user"]["id"] == own
        case "GET /api/v1/users/me/activity":
            assert isinstance(body["items"], list)
        case "GET /api/v1/users":
            assert isinstance(body["items"], list)
        case "GET /api/v1/users/{user_id}" | "PATCH /api/v1/users/{user_id}":
            assert body["id"] == world.target.id
        case "POST /api/v1/users/{user_id}/restore":
            assert body["id"] == world.target.id and body["deleted_at"] is None
        case "DELETE /api/v1/users/{user_id}":
            assert (await snapshot(world, world.target))["deleted_at"] is not None
        case "PUT /api/v1/users/{user_id}/roles":
            assert body["roles"] == ["admin", "student"]
        case "POST /api/v1/auth/login" | "POST /api/v1/auth/refresh":
            assert body["access_token"] and body["refresh_token"]
        case _:
            pass


@pytest.mark.parametrize(("endpoint", "caller_kind"), CELLS)
async def test_matrix(
    client: httpx.AsyncClient, login_as: LoginAs, endpoint: str, caller_kind: str
) -> None:
    rule = MATRIX[endpoint]
    method = endpoint.split(" ", 1)[0]
    operator = await login_as(ADMIN_ROLE)
    target = await login_as(STUDENT)
    caller = (
        None
        if caller_kind == ANONYMOUS
        else await make_caller(caller_kind, login_as, operator, client)
    )
    world = World(client, operator, target, caller)
    call = await rule.build(world)
    denial = expected_denial(rule.policy, caller_kind)

    # A denied request must leave both the other user and the caller untouched; an allowed
    # self-service request must leave the other user untouched.
    watched = []
    if denial is not None:
        watched = [target] + ([caller] if caller is not None else [])
    elif rule.policy == SELF:
        watched = [target]
    before = [await snapshot(world, account) for account in watched]

    response = await client.request(
        method,
        call.path,
        json=call.json,
        params=call.params,
        headers=caller.headers if caller is not None else {},
    )

    assert response.status_code < 500, f"{endpoint} as {caller_kind}: {response.text}"
    if denial is not None:
        assert_denied(response, denial)
    else:
        assert response.status_code not in (401, 403), (
            f"{endpoint} as {caller_kind} was refused: {response.status_code} {response.text}"
        )
        assert response.status_code == rule.status, response.text
        await check_allowed(world, endpoint, response)
    after = [await snapshot(world, account) for account in watched]
    assert after == before


def routes_served(routes: list[Any], prefix: str = "") -> set[str]:
    """ "METHOD /path" for every route, looking into included routers (recent FastAPI keeps
    them as nodes with `original_router`; older versions flatten them into the app)."""
    found: set[str] = set()
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            context = getattr(route, "include_context", None)
            found |= routes_served(nested.routes, prefix + getattr(context, "prefix", ""))
            continue
        path = prefix + str(getattr(route, "path", repr(route)))
        methods = getattr(route, "methods", None)
        if not methods:  # a mount or a websocket: nothing in MATRIX could describe it
            found.add(f"ANY {path}")
            continue
        found.update(f"{method} {path}" for method in methods if method != "HEAD")
    return found


async def test_matrix_lists_every_endpoint(client: httpx.AsyncClient, app: FastAPI) -> None:
    """Every route the app serves has an entry, and every entry is a route the app serves."""
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    documented = {
        f"{method.upper()} {path}"
        for path, operations in response.json()["paths"].items()
        for method in operations
        if method in {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    }
    served = documented | routes_served(app.routes)

    unlisted = sorted(served - set(MATRIX))
    assert not unlisted, f"endpoints without an authorization decision in MATRIX: {unlisted}"
    stale = sorted(set(MATRIX) - served)
    assert not stale, f"MATRIX lists endpoints the app does not serve: {stale}"
    misfiled = sorted(e for e, rule in MATRIX.items() if rule.in_schema != (e in documented))
    assert not misfiled, f"in_schema is wrong for: {misfiled}"


# Ownership: nobody but an administrator reaches another account, by any path.

NON_ADMINS = [STUDENT, INSTRUCTOR]


@pytest.mark.parametrize("role", NON_ADMINS)
async def test_non_admin_cannot_read_or_change_another_user(
    client: httpx.AsyncClient, login_as: LoginAs, role: str
) -> None:
    operator = await login_as(ADMIN_ROLE)
    me = await login_as(role)
    other = await login_as(STUDENT)
    world = World(client, operator, other, me)
    before = await snapshot(world, other)
    mine_before = await snapshot(world, me)

    other_url = f"{API}/users/{other.id}"
    attempts = [
        ("GET", other_url, None, None),
        ("GET", other_url, None, {"include_deleted": "true"}),
        ("PATCH", other_url, {"display_name": "Hijacked"}, None),
        ("PATCH", other_url, {"status": "suspended"}, None),
        ("DELETE", other_url, None, None),
        ("DELETE", other_url, None, {"hard": "true"}),
        ("POST", f"{other_url}/restore", None, None),
        ("PUT", f"{other_url}/roles", {"roles": ["admin"]}, None),
        ("GET", f"{API}/users", None, {"q": other.email}),
        # ...and the caller's own id through the admin paths is no back door either.
        ("GET", f"{API}/users/{me.id}", None, None),
        ("PATCH", f"{API}/users/{me.id}", {"display_name": "Self Via Admin"}, None),
        ("PUT", f"{API}/users/{me.id}/roles", {"roles": ["admin"]}, None),
    ]
    for method, url, body, params in attempts:
        response = await client.request(method, url, json=body, params=params, headers=me.headers)
        assert response.status_code == 403, f"{method} {url} {params}: {response.text}"
        assert_problem(response, 403, "forbidden")
        assert other.email not in response.text

    assert await snapshot(world, other) == before
    assert await snapshot(world, me) == mine_before


@pytest.mark.parametrize("role", [STUDENT, INSTRUCTOR, ADMIN_ROLE])
async def test_me_is_always_the_caller(
    client: httpx.AsyncClient, login_as: LoginAs, role: str
) -> None:
    me = await login_as(role)
    other = await login_as(STUDENT)
    for params in (None, {"user_id": other.id}, {"id": other.id}):
        response = await client.get(f"{API}/users/me", params=params, headers=me.headers)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == me.id != other.id
        assert response.json()["email"] == me.email

    export = await client.get(
        f"{API}/users/me/export", params={"user_id": other.id}, headers=me.headers
    )
    assert export.status_code == 200, export.text
    assert export.json()["user"]["id"] == me.id
    assert other.email not in export.text

    # Each token names its own account, whoever else is logged in.
    assert (await client.get(f"{API}/users/me", headers=other.headers)).json()["id"] == other.id


@pytest.mark.parametrize(
    "body",
    [
        {"id": "00000000-0000-0000-0000-000000000001", "display_name": "Someone Else"},
        {"user_id": "00000000-0000-0000-0000-000000000001"},
        {"roles": ["admin"]},
        {"status": "active"},
        {"email": "takeover@example.com"},
    ],
    ids=["id", "user_id", "roles", "status", "email"],
)
async def test_patch_me_cannot_target_others_or_escalate(
    client: httpx.AsyncClient, login_as: LoginAs, body: dict[str, Any]
) -> None:
    operator = await login_as(ADMIN_ROLE)
    me = await login_as(STUDENT)
    other = await login_as(STUDENT)
    world = World(client, operator, other, me)
    before, mine_before = await snapshot(world, other), await snapshot(world, me)

    response = await client.patch(f"{API}/users/me", json=body, headers=me.headers)
    assert_problem(response, 422, "validation_error")

    assert await snapshot(world, other) == before
    assert await snapshot(world, me) == mine_before
    assert mine_before["roles"] == ["student"]
    assert_problem(await client.get(f"{API}/users", headers=me.headers), 403, "forbidden")
