"""API tests: httpx against the ASGI app, on both databases.

Every request of a test runs inside that test's rolled-back transaction (the app's session
factory is the test's), so tests are isolated and fast; `committed_client` serves tests that
need real commits from concurrent connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learnhub.config import Settings
from learnhub.db.engine import create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.services.user import UserService
from tests.integration.helpers import unique_email
from tests.support.apps import AppCache

PASSWORD = "correct horse battery"
TEST_SECRET = "test-signing-secret-" + "x" * 32


def test_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "jwt_secret": TEST_SECRET,
        "log_json": True,
        "log_level": "warning",
        # The reset request's timing floor (no enumeration) would only slow the tests down;
        # tests/api/test_account_passwords.py checks it with a floor of its own.
        "password_reset_min_response_ms": 0,
        # A test process builds hundreds of apps: freezing each one's objects would keep
        # every earlier test's garbage for good (tests/api/test_startup_objects.py).
        "freeze_startup_objects": False,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def app(
    db_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    settings_overrides: dict[str, Any],
    app_cache: AppCache,
) -> FastAPI:
    application = await app_cache.app(test_settings(db_url, **settings_overrides))
    application.state.session_factory = session_factory
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def committed_app(committed_engine: AsyncEngine, db_url: str, app_cache: AppCache) -> FastAPI:
    application = await app_cache.app(test_settings(db_url), purpose="committed")
    application.state.engine = committed_engine
    application.state.session_factory = create_session_factory(committed_engine)
    return application


@pytest.fixture
async def committed_client(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


class Account:
    def __init__(self, id: str, email: str, headers: dict[str, str], tokens: dict[str, Any]):
        self.id, self.email, self.headers, self.tokens = id, email, headers, tokens


LoginAs = Callable[..., Awaitable[Account]]


async def create_account(
    session_factory: async_sessionmaker[AsyncSession], role: str, email: str | None = None
) -> str:
    address = email or unique_email(role)
    async with UnitOfWork(session_factory) as uow:
        await UserService(uow).register(address, PASSWORD, f"{role.title()} User", roles=[role])
        await uow.commit()
    return address


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Account:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens = response.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await client.get("/api/v1/users/me", headers=headers)
    return Account(me.json()["id"], email, headers, tokens)


@pytest.fixture
def login_as(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> LoginAs:
    """Create an account with `role` (admin, instructor, student) and log it in."""

    async def make(role: str = "student", email: str | None = None) -> Account:
        address = await create_account(session_factory, role, email)
        return await login(client, address)

    return make


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["title"] and body["type"]
    return body


class FakeClock:
    """A clock a test moves by hand, put in the app's place (`app.state.clock`)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    """The app's clock for heartbeats, standing still until the test advances it."""
    fake = FakeClock(datetime.now(UTC).replace(microsecond=0))
    app.state.clock = fake
    return fake
