"""Browser tests: headless Chromium, driven by Playwright, against a real `learnhub serve`.

The browser is Debian's Chromium (`apt-get install chromium`; `bash scripts/test` installs it
when it can), launched by path: Playwright's own browser download is never used. Without it
these tests skip, with the reason; with LEARNHUB_REQUIRE_BROWSER=1 (CI, `.ci/run`) they fail.

One server and one browser per test session (per xdist worker): a test gets a fresh
context (`page`), whose requests may only go to the server on loopback; any other request is
aborted and recorded in `page.outside`, which a test asserts empty."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from tests.support.live_server import free_port, log_tail
from tests.support.live_server import wait_until_healthy as wait_for_health

REQUIRE_BROWSER = os.environ.get("LEARNHUB_REQUIRE_BROWSER", "") not in ("", "0", "false")
STARTUP_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 15.0
LOOPBACK = "127.0.0.1"


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

    def log_tail(self, lines: int = 60) -> str:
        return log_tail(self.log, lines)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`learnhub serve --demo` on a free loopback port with a throwaway SQLite database."""
    workdir = tmp_path_factory.mktemp("browser-server")
    port = free_port()
    log = workdir / "serve.log"
    # Only these settings: nothing LEARNHUB_* leaks in from the developer's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNHUB_")}
    env.update(
        LEARNHUB_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'browser.db'}",
        LEARNHUB_JWT_SECRET="browser-test-signing-secret-" + "b" * 32,
        LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS="0",  # no watcher process to clean up
        LEARNHUB_LOG_LEVEL="warning",
    )
    # --demo: the web app's tests search and enrol in the demo catalog.
    command = [sys.executable, "-m", "learnhub.cli", "serve", "--demo"]
    command += ["--host", LOOPBACK, "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = LiveServer(f"http://{LOOPBACK}:{port}", process, log)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=SHUTDOWN_TIMEOUT)


def wait_until_healthy(server: LiveServer) -> None:
    wait_for_health(server.process, server.base_url, server.log, STARTUP_TIMEOUT)


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
