"""Login throttling that no one can turn against someone else: failures count per (account,
client address) and per address, never per account from everywhere; admins (API) and
operators (CLI) can clear an account's throttle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from learnhub.api.app import create_app
from learnhub.cli.app import app as cli_app
from learnhub.config import get_settings
from learnhub.models import LoginFailure
from tests.api.conftest import PASSWORD, LoginAs, assert_problem, create_account
from tests.api.conftest import test_settings as settings_for
from tests.integration.helpers import unique_email

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

LOGIN = "/api/v1/auth/login"
ADDRESS_A = ("203.0.113.7", 50000)  # the `client` fixture's address
ADDRESS_B = ("198.51.100.23", 41000)


@asynccontextmanager
async def client_at(app: FastAPI, address: tuple[str, int]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=address)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def fail(client: httpx.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        assert_problem(
            await client.post(LOGIN, json={"email": email, "password": "nope-nope"}),
            401,
            "unauthorized",
        )


async def right_password(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": PASSWORD})


def assert_throttled(response: httpx.Response) -> None:
    assert_problem(response, 429, "too_many_requests")
    assert int(response.headers["retry-after"]) > 0


async def failures_for(session: AsyncSession, email: str) -> int:
    result = await session.execute(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email)
    )
    return int(result.scalar_one())


async def test_failures_from_one_address_do_not_lock_out_another(app, client, session_factory):
    email = await create_account(session_factory, "student")
    await fail(client, email, 5)
    assert_throttled(await right_password(client, email))  # address A: even the right one
    async with client_at(app, ADDRESS_B) as other:
        response = await right_password(other, email)
        assert response.status_code == 200, response.text
        # B's success does not wipe A's slate: only a success from A would.
        assert_throttled(await right_password(client, email))
        # B has its own count for the account.
        await fail(other, email, 4)
        assert (await right_password(other, email)).status_code == 200


async def test_a_success_wipes_the_slate_of_its_own_address(client, session_factory):
    email = await create_account(session_factory, "student")
    await fail(client, email, 4)
    assert (await right_password(client, email)).status_code == 200
    await fail(client, email, 4)
    assert (await right_password(client, email)).status_code == 200


@pytest.mark.parametrize(
    "settings_overrides", [{"login_max_failures_per_ip": 3, "login_max_failures_per_account": 100}]
)
async def test_the_per_address_limit_spans_accounts_and_only_that_address(
    app, client, session_factory
):
    emails = [await create_account(session_factory, "student") for _ in range(4)]
    for email in emails[:3]:
        await fail(client, email, 1)
    assert_throttled(await right_password(client, emails[3]))
    assert_throttled(await right_password(client, unique_email()))  # unknown accounts too
    async with client_at(app, ADDRESS_B) as other:
        assert (await right_password(other, emails[3])).status_code == 200


async def test_admin_unlock_clears_the_accounts_throttle(
    client, login_as: LoginAs, session_factory, session
):
    admin, student = await login_as("admin"), await login_as("student")
    await fail(client, student.email, 5)
    assert_throttled(await right_password(client, student.email))
    url = f"/api/v1/users/{student.id}/unlock"

    assert_problem(await client.post(url), 401, "unauthorized")
    assert_problem(await client.post(url, headers=student.headers), 403, "forbidden")
    assert await failures_for(session, student.email) == 5
    assert_throttled(await right_password(client, student.email))

    response = await client.post(url, headers=admin.headers)
    assert response.status_code == 204, response.text
    assert await failures_for(session, student.email) == 0
    assert (await right_password(client, student.email)).status_code == 200
    # Unknown and deleted accounts are 404s.
    missing = "/api/v1/users/0190c0de-0000-7000-8000-000000000000/unlock"
    assert_problem(await client.post(missing, headers=admin.headers), 404, "not_found")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    monkeypatch.setenv("LEARNHUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli_app, list(args), input=input)

    yield run
    get_settings.cache_clear()


async def _http(url: str, email: str, wrong: int) -> list[int]:
    """Log in to a server on database `url` from address A: `wrong` failures, then the right
    password. The statuses of the last attempt."""
    application = create_app(settings_for(url))
    lifespan = application.router.lifespan_context(application)
    async with lifespan, client_at(application, ADDRESS_A) as c:
        if wrong:
            await fail(c, email, wrong)
        return [(await right_password(c, email)).status_code]


def test_cli_unlock_clears_the_accounts_throttle(cli, tmp_path: Path, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the command line runs once, on a SQLite file")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    email = unique_email("locked")
    created = cli("users", "create", email, "--password-stdin", input=f"{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    assert asyncio.run(_http(url, email, 5)) == [429]

    unlocked = cli("users", "unlock", email.upper())
    assert unlocked.exit_code == 0, unlocked.output
    assert "5 failed logins cleared" in unlocked.stdout
    assert asyncio.run(_http(url, email, 0)) == [200]

    unknown = cli("users", "unlock", "nobody@example.com")
    assert unknown.exit_code == 2
    assert "not_found" in unknown.output
