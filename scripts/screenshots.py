"""Screenshots of the web app's main pages, at desktop and phone width, for the README.

    bash scripts/screenshots            # writes docs/screenshots/<page>-<width>.png

It starts `learnhub serve --demo` on a throwaway SQLite database of its own (nothing of the
developer's is touched), logs in as the demo accounts in headless Chromium (Debian's, as the
browser tests use; LEARNHUB_CHROMIUM points at another) and saves each page of `PAGES` at
each width of `VIEWPORTS`. Exit status 1 when a ready page could not be shot.

A page is one line of `PAGES`. A `pending` page is one not built yet: it is tried, and
skipped with a message while it answers 404. Once it exists, the script shoots it and says
so: mark it ready (drop `pending=True`) and link its two files in the README's
"Screenshots" section; tests/unit/test_screenshots.py holds the README, this table and
docs/screenshots/ to one another."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots"
LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 120.0
DEMO_PASSWORD = "learnhub-demo"
DEMO_SLUG = "python-fundamentals"  # the course the demo student is half-way through

# Who is logged in for a page: a demo account, or nobody (None).
STUDENT = "demo-student@example.com"
INSTRUCTOR = "demo-instructor@example.com"
ADMIN = "demo-admin@example.com"

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


@dataclass(frozen=True)
class Shot:
    name: str  # the files: <name>-desktop.png and <name>-phone.png
    path: str  # may name {slug}, {video_id}, {quiz_id}, {attempt_id}, {conversation_id},
    # {studio_course_id}, {studio_quiz_id}: see demo_ids
    account: str | None
    pending: bool = False  # not built yet: skipped while it answers 404


PAGES = (
    Shot("catalog", "/", None),
    Shot("course", "/courses/{slug}", STUDENT),
    Shot("login", "/login", None),
    Shot("register", "/register", None),
    Shot("my-learning", "/learning", STUDENT),
    Shot("player", "/learn/{slug}/videos/{video_id}", STUDENT),
    Shot("quiz", "/quizzes/{quiz_id}", STUDENT),
    Shot("attempt", "/attempts/{attempt_id}", STUDENT),
    Shot("account", "/account", STUDENT),
    Shot("tutor", "/courses/{slug}/tutor?conversation={conversation_id}", STUDENT),
    Shot("studio", "/studio", INSTRUCTOR),
    Shot("studio-course", "/studio/courses/{studio_course_id}", INSTRUCTOR),
    Shot("studio-learners", "/studio/courses/{studio_course_id}/learners", INSTRUCTOR),
    Shot("studio-stats", "/studio/courses/{studio_course_id}/stats", INSTRUCTOR),
    Shot("studio-reviews", "/studio/courses/{studio_course_id}/reviews", INSTRUCTOR),
    Shot("studio-quiz", "/studio/quizzes/{studio_quiz_id}", INSTRUCTOR),
    Shot("admin-users", "/admin/users", ADMIN),
    Shot("admin-audit", "/admin/audit", ADMIN),
    Shot("admin-deleted", "/admin/deleted", ADMIN),
    Shot("admin-health", "/admin/health", ADMIN),
)


def file_names(shot: Shot) -> list[str]:
    return [f"{shot.name}-{width}.png" for width in VIEWPORTS]


def chromium() -> str:
    found = os.environ.get("LEARNHUB_CHROMIUM") or next(
        filter(None, (shutil.which(name) for name in ("chromium", "chromium-browser"))), None
    )
    if not found:
        sys.exit("Chromium is not installed (Debian: `apt-get install chromium`)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    # Only these settings: nothing LEARNHUB_* leaks in from the developer's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNHUB_")}
    env.update(
        LEARNHUB_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'screenshots.db'}",
        LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS="0",  # no watcher process to clean up
        LEARNHUB_LOG_LEVEL="warning",
    )
    command = [sys.executable, "-m", "learnhub.cli", "serve", "--demo"]
    command += ["--host", LOOPBACK, "--port", str(port)]
    with (workdir / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base_url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"`learnhub serve --demo` exited with {process.returncode}:\n{tail(workdir)}")
        try:
            if httpx.get(f"{base_url}/health", timeout=5).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    process.kill()
    sys.exit(f"`learnhub serve --demo` did not answer within {STARTUP_TIMEOUT}s:\n{tail(workdir)}")


def tail(workdir: Path) -> str:
    return "\n".join((workdir / "serve.log").read_text(errors="replace").splitlines()[-30:])


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def demo_ids(base_url: str) -> dict[str, str]:
    """What page paths name, from the API as the demo student sees it: the course, the video
    to resume, its first quiz, the student's (failed) attempt at it and a tutor conversation
    the student starts here; and as the demo instructor: their published course, for its
    studio page. A value the API does not give is left out: a page that needs it is
    skipped, saying so."""
    ids = {"slug": DEMO_SLUG}
    with httpx.Client(base_url=f"{base_url}/api/v1", timeout=10) as api:
        log_in_api(api, INSTRUCTOR)
        own = api.get("/courses", params={"mine": "true"}).json()["items"]
        published = [course for course in own if course["status"] == "published"]
        if published:
            ids["studio_course_id"] = published[0]["id"]
            quizzes = [
                quiz["id"]
                for section in api.get(f"/courses/{published[0]['id']}").json()["sections"]
                for quiz in section.get("quizzes", [])
            ]
            if quizzes:
                ids["studio_quiz_id"] = quizzes[0]
        log_in_api(api, STUDENT)
        course = api.get(f"/courses/{DEMO_SLUG}").json()
        progress: dict[str, Any] = api.get(f"/courses/{course['id']}/progress").json()
        if progress.get("resume"):
            ids["video_id"] = progress["resume"]["video_id"]
        if progress.get("quizzes"):
            ids["quiz_id"] = progress["quizzes"][0]["quiz_id"]
            attempts = api.get(f"/quizzes/{ids['quiz_id']}/attempts").json()["items"]
            if attempts:
                ids["attempt_id"] = attempts[0]["id"]
        # The tutor page shows a conversation with an answer and its citation links.
        started = api.post(f"/courses/{course['id']}/conversations", json={})
        if started.status_code == 201:
            ids["conversation_id"] = started.json()["id"]
            api.post(
                f"/conversations/{ids['conversation_id']}/messages",
                json={"content": "How do I check that a list is not empty?"},
            ).raise_for_status()
    return ids


def log_in_api(api: httpx.Client, email: str) -> None:
    login = api.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    login.raise_for_status()
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"


async def shoot(base_url: str, ids: dict[str, str], output: Path) -> list[str]:
    """Every page at every width; returns the problems with ready pages."""
    from playwright.async_api import async_playwright

    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium(), headless=True)
        pages: dict[tuple[str | None, str], Any] = {}  # one per account and width
        for shot in PAGES:
            try:
                path = shot.path.format(**ids)
            except KeyError as missing:
                problems += report(shot, f"the demo gives no {missing} for {shot.path}")
                continue
            for width, viewport in VIEWPORTS.items():
                if (shot.account, width) not in pages:
                    pages[shot.account, width] = await logged_in(browser, base_url, shot, viewport)
                page = pages[shot.account, width]
                response = await page.goto(path, wait_until="networkidle")
                status = response.status if response else 0
                if status != 200:
                    problems += report(shot, f"{path} answers {status}")
                    break
                target = output / f"{shot.name}-{width}.png"
                await page.screenshot(path=str(target), animations="disabled", caret="hide")
                print(f"saved {target.name}")
            else:
                if shot.pending:
                    print(
                        f"  {shot.name} exists now: drop its pending=True in PAGES and link "
                        "its screenshots in the README"
                    )
        await browser.close()
    return problems


def report(shot: Shot, problem: str) -> list[str]:
    if shot.pending:
        print(f"skipped {shot.name} (pending): {problem}")
        return []
    print(f"FAILED {shot.name}: {problem}", file=sys.stderr)
    return [f"{shot.name}: {problem}"]


async def logged_in(browser: Any, base_url: str, shot: Shot, viewport: tuple[int, int]) -> Any:
    """A page of a fresh context at this width, logged in through the login form as the
    shot's account (when it names one)."""
    x, y = viewport
    phone = x < 600
    context = await browser.new_context(
        base_url=base_url,
        viewport={"width": x, "height": y},
        device_scale_factor=1,  # small files; the page's own layout decides what is seen
        is_mobile=phone,
        has_touch=phone,
    )
    page = await context.new_page()
    if shot.account is not None:
        await page.goto("/login")
        await page.get_by_label("E-mail").fill(shot.account)
        await page.get_by_label("Password").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(f"{base_url}/")
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: docs/screenshots")
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="learnhub-screenshots-") as workdir:
        process, base_url = start_server(Path(workdir))
        try:
            print(f"writing into {args.output}")
            problems = asyncio.run(shoot(base_url, demo_ids(base_url), args.output))
        finally:
            stop_server(process)
    if problems:
        sys.exit("could not shoot: " + "; ".join(problems))


if __name__ == "__main__":
    main()
