"""The request boundary commits (`api.deps.get_uow`), on real commits (`committed_app`): a
write whose endpoint succeeded is committed before the first byte of its response goes out;
a write that fails leaves nothing behind; a commit that fails is answered as a problem, never
as a success for work that was not kept; and work a use case declared kept despite its error
(a failed login, counted for the throttle) is committed although the answer is an error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from learnhub.db.engine import create_session_factory
from learnhub.domain.errors import Conflict
from learnhub.models import User
from learnhub.models.user import LoginFailure
from learnhub.services.user import UserService
from tests.api.conftest import PASSWORD, assert_problem
from tests.integration.helpers import unique_email

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

API = "/api/v1"
Message = MutableMapping[str, Any]


async def users_with(engine: AsyncEngine, email: str) -> int:
    async with create_session_factory(engine)() as session:
        query = (
            select(func.count())
            .select_from(User)
            .where(User.email == email)
            .execution_options(include_deleted=True)
        )
        return (await session.execute(query)).scalar_one()


async def failures_for(engine: AsyncEngine, email: str) -> int:
    async with create_session_factory(engine)() as session:
        query = select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email)
        return (await session.execute(query)).scalar_one()


def registration(email: str) -> dict[str, str]:
    return {"email": email, "password": PASSWORD, "display_name": "Boundary"}


def client_for(app: Callable[..., Awaitable[None]]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_successful_write_is_committed_before_the_response_starts(
    committed_app: FastAPI, committed_engine: AsyncEngine
) -> None:
    email = unique_email("boundary")
    seen_at_start: list[int] = []

    async def watching(scope: Message, receive: Any, send: Any) -> None:
        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Another connection: only committed rows are visible to it.
                seen_at_start.append(await users_with(committed_engine, email))
            await send(message)

        await committed_app(scope, receive, watched_send)

    async with client_for(watching) as client:
        response = await client.post(f"{API}/auth/register", json=registration(email))
    assert response.status_code == 201, response.text
    assert seen_at_start == [1]


async def test_a_failing_write_leaves_nothing_behind(
    committed_client: httpx.AsyncClient,
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register = UserService.register

    async def register_then_fail(self: UserService, *args: Any, **kwargs: Any) -> User:
        await register(self, *args, **kwargs)  # written and flushed: the row exists
        raise Conflict("refused after the write")

    monkeypatch.setattr(UserService, "register", register_then_fail)
    email = unique_email("boundary")
    response = await committed_client.post(f"{API}/auth/register", json=registration(email))
    assert_problem(response, 409, "conflict")
    assert await users_with(committed_engine, email) == 0


async def test_a_failed_commit_is_a_problem_and_keeps_nothing(
    committed_client: httpx.AsyncClient,
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken_commit(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", None, ConnectionResetError("connection lost"))

    monkeypatch.setattr(AsyncSession, "commit", broken_commit)
    email = unique_email("boundary")
    response = await committed_client.post(f"{API}/auth/register", json=registration(email))
    assert_problem(response, 503, "service_unavailable")
    monkeypatch.undo()
    assert await users_with(committed_engine, email) == 0


async def test_work_kept_despite_an_error_is_committed_with_the_error(
    committed_client: httpx.AsyncClient, committed_engine: AsyncEngine
) -> None:
    email = unique_email("boundary")
    response = await committed_client.post(f"{API}/auth/register", json=registration(email))
    assert response.status_code == 201, response.text
    wrong = {"email": email, "password": "not the password"}
    response = await committed_client.post(f"{API}/auth/login", json=wrong)
    assert_problem(response, 401, "unauthorized")
    # The login failed, yet its failure is counted (AuthService.login keeps it).
    assert await failures_for(committed_engine, email) == 1
