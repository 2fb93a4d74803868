"""Browser tests: headless Chromium, driven by Playwright, against a real `learnhub serve`.

The browser is Debian's Chromium (`apt-get install chromium`; `bash scripts/test` installs it
when it can), launched by path: Playwright's own browser download is never used. Without it
these tests skip, with the reason; with LEARNHUB_REQUIRE_BROWSER=1 (CI, `.ci/run`) they fail.

Every browser test runs on both databases (issue 16, item 7): `live_server` takes the root
conftest's `backend` parameter (ids `sqlite` and `postgresql`), so a test asks which database
it runs on by asking for `backend` (or `live_server.database`), and the `sqlite_only` /
`postgres_only` markers deselect it on the other. Per test session (per xdist worker) there
is at most one server per database, started the first time a test needs it (a run of only
`sqlite` tests starts no PostgreSQL server) and stopped, its throwaway database dropped, at
the end of the session. One browser is shared too: a test gets a fresh context (`page`),
whose requests may only go to the server on loopback; any other request is aborted and
recorded in `page.outside`, which a test asserts empty."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from tests.support.databases import database as throwaway_database
from tests.support.live_server import free_port, log_tail
from tests.support.live_server import wait_until_healthy as wait_for_health

REQUIRE_BROWSER = os.environ.get("LEARNHUB_REQUIRE_BROWSER", "") not in ("", "0", "false")
# A server's first start migrates an empty database and loads the demo: about half a minute
# on a shared machine, and over a minute seen with two workers each starting theirs on two
# busy cores. The wait ends as soon as /health answers; this only bounds a server that hangs.
STARTUP_TIMEOUT = 180.0
SHUTDOWN_TIMEOUT = 15.0
LOOPBACK = "127.0.0.1"
# `expect(...)` retries until this (Playwright's default: 5 s). Two workers, two servers each
# and Chromium on two cores: ReDoc laying out the whole API took longer than 5 s on a busy
# machine. A passing assertion still returns as soon as it holds.
expect.set_options(timeout=15_000)


def chromium_path() -> str:
    """The system Chromium, or a failure (required) or skip (not) that says how to get it."""
    found = os.environ.get("LEARNHUB_CHROMIUM") or next(
        filter(None, (shutil.which(name) for name in ("chromium", "chromium-browser"))), None
    )
    if found:
        return found
    reason = (
        "Chromium is not installed (Debian: `apt-get install chromium`; or point "
        "LEARNHUB_CHROMIUM at a Chromium binary)"
    )
    if REQUIRE_BROWSER:
        pytest.fail(f"LEARNHUB_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    database: str  # "sqlite" or "postgresql": the `backend` the server runs on
    database_url: str  # its throwaway database, for a test that must reach behind the app

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log, lines)


def start_server(database: str, database_url: str, workdir: Path) -> LiveServer:
    """`learnhub serve --demo` on a free loopback port: it migrates the empty database and
    loads the demo itself, on SQLite and PostgreSQL alike, as a user's first start does."""
    port = free_port()
    log = workdir / f"serve-{database}.log"
    # Only these settings: nothing LEARNHUB_* leaks in from the developer's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNHUB_")}
    env.update(
        LEARNHUB_DATABASE_URL=database_url,
        LEARNHUB_JWT_SECRET="browser-test-signing-secret-" + "b" * 32,
        LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS="0",  # no watcher process to clean up
        LEARNHUB_LOG_LEVEL="warning",
    )
    # --demo: the web app's tests search and enrol in the demo catalog.
    command = [sys.executable, "-m", "learnhub.cli", "serve", "--demo"]
    # One worker: the admin's health page shows its own process's counters, which a test
    # reads after acting through the same server.
    command += ["--host", LOOPBACK, "--port", str(port), "--workers", "1"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = LiveServer(f"http://{LOOPBACK}:{port}", process, log, database, database_url)
    try:
        wait_until_healthy(server)
    except BaseException:  # pytest.fail is one: the process must not outlive the failure
        stop_server(server)
        raise
    return server


def stop_server(server: LiveServer) -> None:
    process = server.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SHUTDOWN_TIMEOUT)


def wait_until_healthy(server: LiveServer) -> None:
    wait_for_health(server.process, server.base_url, server.log, STARTUP_TIMEOUT)


@asynccontextmanager
async def running_server(database: str, workdir: Path) -> AsyncIterator[LiveServer]:
    """A server on a throwaway database of its own, dropped (PostgreSQL) or deleted (SQLite)
    once the server has stopped."""
    async with throwaway_database(database, workdir, prefix="learnhub_browser") as url:
        # Starting and stopping block for seconds: off the event loop the fixtures share.
        server = await asyncio.to_thread(start_server, database, url, workdir)
        try:
            yield server
        finally:
            await asyncio.to_thread(stop_server, server)


class ServerPool:
    """The session's servers, one per database, each started on first use. A server that
    could not start (or a PostgreSQL that is unreachable: a skip, or a failure when
    required) is not tried again for every test: its outcome is raised again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.servers: dict[str, LiveServer] = {}
        self.failures: dict[str, BaseException] = {}
        self.stack = AsyncExitStack()

    async def server(self, database: str) -> LiveServer:
        if database in self.failures:
            raise self.failures[database]
        if database not in self.servers:
            try:
                server = await self.stack.enter_async_context(
                    running_server(database, self.workdir)
                )
            except BaseException as exc:
                self.failures[database] = exc
                raise
            self.servers[database] = server
        return self.servers[database]

    async def close(self) -> None:
        await self.stack.aclose()


@pytest.fixture(scope="session")
async def server_pool(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServerPool]:
    pool = ServerPool(tmp_path_factory.mktemp("browser-server"))
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="session")
async def live_server(backend: str, server_pool: ServerPool) -> LiveServer:
    """`learnhub serve --demo` on a throwaway database of the test's `backend`. Only a
    lookup: the pool keeps each server for the whole session, so pytest re-creating this
    fixture when the parameter changes starts nothing again."""
    return await server_pool.server(backend)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class LoopbackPage:
    """A page whose requests may reach only the loopback server."""

    page: Page
    outside: list[str] = field(default_factory=list)  # URLs it tried to load from elsewhere
    errors: list[str] = field(default_factory=list)  # uncaught JavaScript errors


@pytest.fixture
async def page(browser: Browser, live_server: LiveServer) -> AsyncIterator[LoopbackPage]:
    context = await browser.new_context(base_url=live_server.base_url)
    watched = LoopbackPage(await context.new_page())

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == LOOPBACK:
            await route.continue_()
        else:
            watched.outside.append(url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_loopback)
    watched.page.on("pageerror", lambda error: watched.errors.append(str(error)))
    try:
        yield watched
    finally:
        await context.close()
