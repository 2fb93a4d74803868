"""What the load and fault scripts share: a throwaway PostgreSQL database, `learnhub serve` in a
subprocess, learners registered through the API, the virtual users' request mix, latency
statistics, and the checks that every acknowledged write reached the database intact.

Everything targets loopback only, is bounded by a duration and a request count, and is torn
down in `finally` blocks (the server's process group is killed, the database dropped), so a
failure or Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

ADMIN_DSN = os.environ.get(
    "LEARNHUB_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
API = "/api/v1"
PASSWORD = "reliability-load-password"
PROBLEM_JSON = "application/problem+json"
# What the server sends after a committed write when read replicas are configured (the API's
# read-your-writes position, also set as a cookie, which the load client does not keep).
POSITION_HEADER = "LearnHub-LSN"
OPS = ("catalog", "course_detail", "enroll", "heartbeat", "review")
DEFAULT_MIX = {"catalog": 30, "course_detail": 20, "enroll": 10, "heartbeat": 30, "review": 10}
# Statuses each operation may legitimately answer besides 2xx: enrolling in (or reviewing) a
# course twice is a 409, which happens after a write whose answer was lost in an outage.
EXPECTED_4XX = {"enroll": {409}, "review": {409}}
HEARTBEAT_STEP_SECONDS = 20.0
SHUTDOWN_TIMEOUT = 15.0

Log = Callable[[str], None]


def stderr_log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_loopback(dsn: str) -> None:
    host = urlsplit(dsn).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to run against {host!r}: these scripts target loopback only")


# --- the database ------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    name: str
    dsn: str  # libpq / asyncpg
    url: str  # SQLAlchemy (what LEARNHUB_DATABASE_URL takes)


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return parts._replace(path=f"/{name}").geturl()


@asynccontextmanager
async def throwaway_database(
    admin_dsn: str, prefix: str = "learnhub_reliability", log: Log = stderr_log
) -> AsyncIterator[Database]:
    """A fresh database on the admin DSN's server, dropped (WITH FORCE) afterwards."""
    require_loopback(admin_dsn)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = _with_database(admin_dsn, name)
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1).replace(
        "postgres://", "postgresql+asyncpg://", 1
    )
    log(f"database {name} created")
    try:
        yield Database(name, dsn, url)
    finally:
        await _drop_database(admin_dsn, name, log)


async def _drop_database(admin_dsn: str, name: str, log: Log) -> None:
    for attempt in range(10):
        try:
            admin = await asyncpg.connect(admin_dsn, timeout=10)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
            log(f"database {name} dropped")
            return
        except (OSError, asyncpg.PostgresError) as exc:
            if attempt == 9:
                log(f"could not drop database {name}: {exc!r}")
                return
            await asyncio.sleep(1)


# --- the learnhub command line and server --------------------------------------------------


def learnhub_env(url: str, **extra: str) -> dict[str, str]:
    """Only our settings: nothing LEARNHUB_* leaks in from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNHUB_")}
    env.update(
        LEARNHUB_DATABASE_URL=url,
        LEARNHUB_JWT_SECRET="reliability-" + secrets.token_urlsafe(32),
        LEARNHUB_LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


def learnhub_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "learnhub.cli", *args]


def kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, limit_seconds: float = 300.0
) -> tuple[int, str]:
    """Run a `learnhub` command to completion (its process group killed if we are
    cancelled or it overruns); returns the exit status and the combined output."""
    process = await asyncio.create_subprocess_exec(
        *learnhub_command(*args),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), limit_seconds)
    except BaseException:
        kill_group(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 5)
        raise
    return int(process.returncode or 0), output.decode(errors="replace")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no output)"

    def worker_pids(self) -> set[int]:
        """The server's child processes (uvicorn workers), from /proc; empty elsewhere."""
        children = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields and int(fields[1]) == self.process.pid:
                children.add(int(stat.parent.name))
        return children

    def stop(self) -> int | None:
        """SIGTERM to the whole process group, SIGKILL if it does not stop in time."""
        if self.process.poll() is None:
            kill_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                kill_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=SHUTDOWN_TIMEOUT)
        # Workers left behind by a killed supervisor go too.
        kill_group(self.process.pid, signal.SIGKILL)
        return self.process.returncode


@asynccontextmanager
async def learnhub_server(
    env: dict[str, str], workdir: Path, workers: int, log: Log = stderr_log
) -> AsyncIterator[Server]:
    """`learnhub serve --workers N` on a free loopback port, ready (GET /ready 200) on entry,
    stopped with its whole process group on exit."""
    port = free_port()
    log_path = workdir / "serve.log"
    command = learnhub_command(
        "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)
    )
    process = spawn(command, env, workdir, log_path)
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        await _wait_ready(server, limit_seconds=90.0)
        log(f"learnhub serve --workers {workers} ready on {server.base_url}")
        yield server
    finally:
        status = server.stop()
        log(f"server stopped (exit status {status})")


def spawn(
    command: list[str], env: dict[str, str], workdir: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    """A long-running child in its own session (Ctrl-C reaches us, not it; we stop it)."""
    with log_path.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _wait_ready(server: Server, limit_seconds: float) -> None:
    deadline = time.monotonic() + limit_seconds
    last = "no attempt"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"learnhub serve exited with {server.process.returncode}:\n" + server.log_tail()
                )
            try:
                response = await client.get("/ready")
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            await asyncio.sleep(0.2)
    raise RuntimeError(f"/ready not 200 within {limit_seconds}s ({last}):\n{server.log_tail()}")


# --- the catalog and the learners -------------------------------------------------------


@dataclass(frozen=True)
class Video:
    id: str
    duration: float


@dataclass(frozen=True)
class CourseInfo:
    id: str
    videos: tuple[Video, ...]
    tags: tuple[str, ...]


@dataclass
class Learner:
    user_id: str
    token: str
    enrolled: set[str] = field(default_factory=set)
    reviewed: set[str] = field(default_factory=set)
    watched: dict[str, float] = field(default_factory=dict)
    # The WAL position of this learner's last write, as the server gave it (with read
    # replicas): sent back on later requests so they read their own writes.
    position: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.position is not None:
            headers[POSITION_HEADER] = self.position
        return headers


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing: the virtual users share one client, and a cookie one
    of them was given (the read-your-writes position) must not travel with the others'
    requests; each learner sends its own position as a header instead."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


async def load_catalog(client: httpx.AsyncClient) -> list[CourseInfo]:
    listing = await client.get(f"{API}/courses", params={"limit": 100})
    listing.raise_for_status()
    courses = []
    for item in listing.json()["items"]:
        detail = await client.get(f"{API}/courses/{item['id']}")
        detail.raise_for_status()
        body = detail.json()
        videos = tuple(
            Video(v["id"], float(v["duration_seconds"]))
            for section in body["sections"]
            for v in section["videos"]
        )
        courses.append(CourseInfo(body["id"], videos, tuple(body["tags"])))
    if not courses or not any(c.videos for c in courses):
        raise RuntimeError("the catalog is empty: was `learnhub seed --demo` run?")
    return courses


async def register_learners(
    client: httpx.AsyncClient, count: int, run_id: str, concurrency: int = 8
) -> list[Learner]:
    """Register and log in `count` learners through the API (before the measured window)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Learner:
        email = f"load-{run_id}-{index}@example.com"
        async with gate:
            registered = await client.post(
                f"{API}/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": f"Learner {index}"},
            )
            if registered.status_code != 201:
                raise RuntimeError(f"register: {registered.status_code} {registered.text[:300]}")
            return await _login(client, email, PASSWORD)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def login_seeded_learners(
    client: httpx.AsyncClient, count: int, seed: int, concurrency: int = 8
) -> list[Learner]:
    """Log in the students `learnhub seed --users N --seed S` created (one shared password)."""
    from learnhub.ops.seed_spec import SEED_PASSWORD

    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Learner:
        async with gate:
            return await _login(client, f"student-{index}@seed{seed}.example.com", SEED_PASSWORD)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _login(client: httpx.AsyncClient, email: str, password: str) -> Learner:
    login = await client.post(f"{API}/auth/login", json={"email": email, "password": password})
    if login.status_code != 200:
        raise RuntimeError(f"login {email}: {login.status_code} {login.text[:300]}")
    token = login.json()["access_token"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return Learner(str(claims["sub"]), token)


# --- what happened: samples and acknowledged writes -----------------------------------------


@dataclass(frozen=True)
class Sample:
    op: str
    started: float  # seconds since the window opened
    latency: float  # seconds
    status: int | None  # None: transport error
    error: str | None = None
    problem_json: bool = False
    code: str | None = None  # a problem's `code`, for 5xx


@dataclass
class Ledger:
    """Every write the server acknowledged with a 2xx."""

    enrollments: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> user, course
    reviews: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # id -> .., rating
    progress: dict[tuple[str, str], tuple[float, bool]] = field(default_factory=dict)
    heartbeats: int = 0

    def acknowledge_progress(self, user: str, video: str, watched: float, done: bool) -> None:
        old_watched, old_done = self.progress.get((user, video), (0.0, False))
        self.progress[(user, video)] = (max(old_watched, watched), old_done or done)
        self.heartbeats += 1


@dataclass
class LoadConfig:
    users: int = 200
    workers: int = 2
    duration: float = 60.0
    max_requests: int = 1_000_000
    request_timeout: float = 30.0
    seed: int = 1
    mix: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MIX))
    server_log_level: str = "warning"  # "info" adds uvicorn's access log and worker restarts
    # "seed": students made by `learnhub seed --users N` (fast); "api": registered through
    # POST /auth/register (each costs an argon2 hash on the server).
    learners: str = "seed"


class Driver:
    """V virtual users, each a learner running the request mix back to back until the
    deadline or the shared request budget runs out."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        learners: list[Learner],
        courses: list[CourseInfo],
        config: LoadConfig,
    ) -> None:
        self.client, self.learners, self.courses, self.config = client, learners, courses, config
        self.samples: list[Sample] = []
        self.ledger = Ledger()
        self.t0 = 0.0
        self.elapsed = 0.0
        self._budget = config.max_requests
        self._words = ["python", "data", "sql", "web", "science", "git", "statistics", "the"]
        self._tags = sorted({t for c in courses for t in c.tags})

    async def run(self) -> None:
        self.t0 = time.monotonic()
        deadline = self.t0 + self.config.duration
        await asyncio.gather(
            *(
                self._virtual_user(learner, random.Random(self.config.seed * 100_003 + i), deadline)
                for i, learner in enumerate(self.learners)
            )
        )
        self.elapsed = time.monotonic() - self.t0

    def _take(self) -> bool:
        if self._budget <= 0:
            return False
        self._budget -= 1
        return True

    async def _virtual_user(self, learner: Learner, rng: random.Random, deadline: float) -> None:
        ops = list(self.config.mix)
        weights = [self.config.mix[o] for o in ops]
        while time.monotonic() < deadline and self._take():
            op = "enroll" if not learner.enrolled else rng.choices(ops, weights)[0]
            await getattr(self, f"_{op}")(learner, rng)

    async def _call(
        self, op: str, method: str, url: str, learner: Learner | None = None, **kwargs: Any
    ) -> httpx.Response | None:
        started = time.monotonic()
        headers = learner.headers if learner is not None else None
        try:
            response = await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            self.samples.append(
                Sample(op, started - self.t0, time.monotonic() - started, None, type(exc).__name__)
            )
            return None
        latency = time.monotonic() - started
        if learner is not None and POSITION_HEADER in response.headers:
            learner.position = response.headers[POSITION_HEADER]
        problem = response.headers.get("content-type", "").startswith(PROBLEM_JSON)
        code = None
        if response.status_code >= 500 and problem:
            with contextlib.suppress(ValueError):
                code = str(response.json().get("code"))
        self.samples.append(
            Sample(op, started - self.t0, latency, response.status_code, None, problem, code)
        )
        return response

    async def _catalog(self, learner: Learner, rng: random.Random) -> None:
        params: dict[str, Any] = {
            "sort": rng.choice(["rating", "enrollments", "newest", "price", "-price"]),
            "limit": rng.choice([5, 10, 20]),
        }
        roll = rng.random()
        if roll < 0.2:
            params["difficulty"] = rng.choice(["beginner", "intermediate", "advanced"])
        elif roll < 0.4 and self._tags:
            params["tag"] = rng.choice(self._tags)
        elif roll < 0.55:
            params["q"] = rng.choice(self._words)
        elif roll < 0.7:
            params["max_price"] = rng.choice(["0", "20", "50"])
        if "max_price" in params or params["sort"] in ("price", "-price"):
            # Prices are compared within one currency: the demo catalog has two, so a price
            # filter or sort names one (without it the API answers 422).
            params["currency"] = rng.choice(["EUR", "USD"])
        response = await self._call("catalog", "GET", f"{API}/courses", params=params)
        if response is not None and response.status_code == 200 and rng.random() < 0.3:
            cursor = response.json().get("next_cursor")
            if cursor and self._take():
                await self._call(
                    "catalog", "GET", f"{API}/courses", params={**params, "cursor": cursor}
                )

    async def _course_detail(self, learner: Learner, rng: random.Random) -> None:
        course = rng.choice(self.courses)
        await self._call("course_detail", "GET", f"{API}/courses/{course.id}", learner)

    async def _enroll(self, learner: Learner, rng: random.Random) -> None:
        choices = [c for c in self.courses if c.id not in learner.enrolled]
        if not choices:
            return await self._heartbeat(learner, rng)
        course = rng.choice(choices)
        response = await self._call(
            "enroll", "POST", f"{API}/courses/{course.id}/enrollments", learner
        )
        if response is None:
            return None
        if response.status_code == 201:
            body = response.json()
            self.ledger.enrollments[body["id"]] = (learner.user_id, course.id)
            learner.enrolled.add(course.id)
        elif response.status_code == 409:  # an earlier attempt committed after all
            learner.enrolled.add(course.id)
        return None

    async def _heartbeat(self, learner: Learner, rng: random.Random) -> None:
        videos = [
            v
            for c in self.courses
            if c.id in learner.enrolled
            for v in c.videos
            if learner.watched.get(v.id, 0.0) < v.duration
        ]
        if not videos:
            return await self._course_detail(learner, rng)
        video = rng.choice(videos)
        start = learner.watched.get(video.id, 0.0)
        end = min(video.duration, start + HEARTBEAT_STEP_SECONDS)
        response = await self._call(
            "heartbeat",
            "PUT",
            f"{API}/videos/{video.id}/progress",
            learner,
            json={"position_seconds": end, "played_segments": [[start, end]]},
        )
        if response is not None and response.status_code == 200:
            body = response.json()
            watched = float(body["watched_seconds"])
            learner.watched[video.id] = watched
            self.ledger.acknowledge_progress(
                learner.user_id, video.id, watched, bool(body["completed"])
            )
        return None

    async def _review(self, learner: Learner, rng: random.Random) -> None:
        choices = sorted(learner.enrolled - learner.reviewed)
        if not choices:
            return await self._catalog(learner, rng)
        course_id = rng.choice(choices)
        rating = rng.randint(1, 5)
        response = await self._call(
            "review",
            "POST",
            f"{API}/courses/{course_id}/reviews",
            learner,
            json={"rating": rating, "body": f"Load-test review, {rating} stars."},
        )
        if response is None:
            return None
        if response.status_code == 201:
            self.ledger.reviews[response.json()["id"]] = (learner.user_id, course_id, rating)
            learner.reviewed.add(course_id)
        elif response.status_code == 409:
            learner.reviewed.add(course_id)
        return None


# --- statistics ---------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(samples: Iterable[Sample], window: float) -> dict[str, Any]:
    by_op: dict[str, list[Sample]] = {}
    everything: list[Sample] = []
    for s in samples:
        by_op.setdefault(s.op, []).append(s)
        everything.append(s)

    def block(group: list[Sample]) -> dict[str, Any]:
        answered = sorted(s.latency for s in group if s.status is not None)
        statuses = Counter(str(s.status) for s in group if s.status is not None)
        errors = Counter(s.error for s in group if s.error is not None)
        return {
            "requests": len(group),
            "throughput_rps": round(len(group) / window, 1) if window > 0 else 0.0,
            "p50_ms": round(percentile(answered, 50) * 1000, 1),
            "p95_ms": round(percentile(answered, 95) * 1000, 1),
            "p99_ms": round(percentile(answered, 99) * 1000, 1),
            "max_ms": round((answered[-1] if answered else 0.0) * 1000, 1),
            "statuses": dict(sorted(statuses.items())),
            "5xx": sum(n for code, n in statuses.items() if code.startswith("5")),
            "transport_errors": dict(errors),
        }

    return {
        "window_seconds": round(window, 2),
        "overall": block(everything),
        "operations": {op: block(by_op[op]) for op in OPS if op in by_op},
    }


def unexpected_statuses(samples: Iterable[Sample]) -> Counter[str]:
    """4xx answers the mix should never get (any 409 it might is listed in EXPECTED_4XX)."""
    return Counter(
        f"{s.op} {s.status}"
        for s in samples
        if s.status is not None
        and 400 <= s.status < 500
        and s.status not in EXPECTED_4XX.get(s.op, set())
    )


# --- checks: nothing acknowledged was lost, counters equal rows, audit verify -------------


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _listed(items: Iterable[Any], prefix: str, n: int = 5) -> str:
    """The first few offenders, for a check's detail ('' when there are none)."""
    items = list(items)
    if not items:
        return ""
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return prefix + ", ".join(str(i) for i in items[:n]) + more


async def verify_writes(dsn: str, ledger: Ledger) -> list[Check]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return [
            await _check_enrollments(conn, ledger),
            await _check_reviews(conn, ledger),
            await _check_progress(conn, ledger),
            await _check_enrollment_counts(conn),
            await _check_ratings(conn),
            await _check_completed_videos(conn),
            await _check_outbox(conn, ledger),
        ]
    finally:
        await conn.close()


async def _check_enrollments(conn: asyncpg.Connection, ledger: Ledger) -> Check:
    ids = [uuid.UUID(i) for i in ledger.enrollments]
    rows = await conn.fetch(
        "SELECT id, user_id, course_id, status FROM enrollments "
        "WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL",
        ids,
    )
    found = {str(r["id"]): r for r in rows}
    bad = [
        i
        for i, (user, course) in ledger.enrollments.items()
        if i not in found
        or (str(found[i]["user_id"]), str(found[i]["course_id"])) != (user, course)
        or found[i]["status"] not in ("active", "completed")
    ]
    return Check(
        "acknowledged enrolments are in the database",
        not bad,
        f"{len(ids)} acknowledged, {len(bad)} missing or changed" + _listed(bad, ": "),
    )


async def _check_reviews(conn: asyncpg.Connection, ledger: Ledger) -> Check:
    ids = [uuid.UUID(i) for i in ledger.reviews]
    rows = await conn.fetch(
        "SELECT id, user_id, course_id, rating, status FROM reviews "
        "WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL",
        ids,
    )
    found = {str(r["id"]): r for r in rows}
    bad = [
        i
        for i, (user, course, rating) in ledger.reviews.items()
        if i not in found
        or (str(found[i]["user_id"]), str(found[i]["course_id"]), found[i]["rating"])
        != (user, course, rating)
        or found[i]["status"] != "published"
    ]
    return Check(
        "acknowledged reviews are in the database (published, same rating)",
        not bad,
        f"{len(ids)} acknowledged, {len(bad)} missing or changed" + _listed(bad, ": "),
    )


async def _check_progress(conn: asyncpg.Connection, ledger: Ledger) -> Check:
    users = sorted({uuid.UUID(u) for u, _ in ledger.progress})
    rows = await conn.fetch(
        "SELECT user_id, video_id, watched_seconds, completed FROM video_progress "
        "WHERE user_id = ANY($1::uuid[]) AND deleted_at IS NULL",
        users,
    )
    found = {(str(r["user_id"]), str(r["video_id"])): r for r in rows}
    bad = []
    for key, (watched, completed) in ledger.progress.items():
        row = found.get(key)
        if (
            row is None
            or row["watched_seconds"] + 1e-6 < watched
            or (completed and not row["completed"])
        ):
            bad.append(key)
    return Check(
        "acknowledged progress is kept (watched never below the last answer, completion kept)",
        not bad,
        f"{ledger.heartbeats} acknowledged heartbeats on {len(ledger.progress)} videos, "
        f"{len(bad)} behind" + _listed(bad, ": "),
    )


async def _check_enrollment_counts(conn: asyncpg.Connection) -> Check:
    rows = await conn.fetch(
        """
        SELECT c.id, c.enrollment_count,
               (SELECT count(*) FROM enrollments e
                 WHERE e.course_id = c.id AND e.deleted_at IS NULL
                   AND e.status IN ('active', 'completed')) AS live
          FROM courses c
        """
    )
    bad = [f"{r['id']}: {r['enrollment_count']} != {r['live']}" for r in rows if r[1] != r[2]]
    total = sum(r["live"] for r in rows)
    return Check(
        "courses.enrollment_count = live active+completed enrolments",
        not bad,
        f"{len(rows)} courses, {total} live enrolments" + _listed(bad, "; wrong: "),
    )


async def _check_ratings(conn: asyncpg.Connection) -> Check:
    rows = await conn.fetch(
        """
        SELECT c.id, c.rating, c.rating_count,
               c.rating_1_count, c.rating_2_count, c.rating_3_count, c.rating_4_count,
               c.rating_5_count,
               (SELECT array_agg(r.rating) FROM reviews r
                 WHERE r.course_id = c.id AND r.deleted_at IS NULL
                   AND r.status = 'published') AS ratings
          FROM courses c
        """
    )
    bad = []
    total = 0
    for r in rows:
        ratings = list(r["ratings"] or [])
        total += len(ratings)
        histogram = [ratings.count(stars) for stars in range(1, 6)]
        stored = [r[f"rating_{stars}_count"] for stars in range(1, 6)]
        # The mean rounded half up to 2 places, as PostgreSQL's round(numeric) does (Python's
        # round() on a float gives 2.62 for 21/8).
        expected = (
            (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if ratings
            else Decimal("0")
        )
        if (
            r["rating_count"] != len(ratings)
            or stored != histogram
            or Decimal(r["rating"]) != expected
        ):
            bad.append(
                f"{r['id']}: count {r['rating_count']} hist {stored} rating {r['rating']}, "
                f"reviews say {len(ratings)} {histogram} {expected}"
            )
    return Check(
        "rating, rating_count and the 1..5 histogram = published reviews",
        not bad,
        f"{len(rows)} courses, {total} published reviews" + _listed(bad, "; wrong: "),
    )


async def _check_completed_videos(conn: asyncpg.Connection) -> Check:
    rows = await conn.fetch(
        """
        SELECT e.id, e.completed_videos,
               (SELECT count(*) FROM video_progress p
                 WHERE p.user_id = e.user_id AND p.course_id = e.course_id
                   AND p.completed AND p.deleted_at IS NULL) AS done
          FROM enrollments e
         WHERE e.deleted_at IS NULL
        """
    )
    bad = [f"{r['id']}: {r['completed_videos']} != {r['done']}" for r in rows if r[1] != r[2]]
    done = sum(r["done"] for r in rows)
    return Check(
        "enrolments' completed_videos = completed video progress rows",
        not bad,
        f"{len(rows)} enrolments, {done} completed videos" + _listed(bad, "; wrong: "),
    )


async def _check_outbox(conn: asyncpg.Connection, ledger: Ledger) -> Check:
    """The event of every acknowledged write was committed with it (transactional outbox)."""
    enrolled = {
        r["id"]
        for r in await conn.fetch(
            "SELECT payload->>'enrollment_id' AS id FROM outbox WHERE event_type = 'UserEnrolled'"
        )
    }
    posted = {
        r["id"]
        for r in await conn.fetch(
            "SELECT payload->>'review_id' AS id FROM outbox WHERE event_type = 'ReviewPosted'"
        )
    }
    missing = [i for i in ledger.enrollments if i not in enrolled]
    missing += [i for i in ledger.reviews if i not in posted]
    return Check(
        "an outbox event for every acknowledged enrolment and review",
        not missing,
        f"{len(ledger.enrollments) + len(ledger.reviews)} writes, {len(missing)} without event"
        + _listed(missing, ": "),
    )


async def audit_verify(env: dict[str, str], workdir: Path) -> Check:
    status, output = await run_cli(["audit", "verify"], env, workdir)
    lines = [line for line in output.strip().splitlines() if line.strip()]
    summary = lines[-1] if lines else "(no output)"
    detail = summary if status == 0 else f"exit {status}: " + " | ".join(lines[-6:])
    return Check("learnhub audit verify passes", status == 0, detail)


# --- one whole run ------------------------------------------------------------------------


@dataclass
class RunContext:
    """What a fault injector running beside the load gets to see."""

    server: Server
    database: Database
    t0: float  # time.monotonic() when the window opened


@dataclass
class LoadReport:
    config: LoadConfig
    setup_seconds: float
    summary: dict[str, Any]
    checks: list[Check]
    samples: list[Sample] = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict)
    database_name: str = ""  # dropped by the time the report exists
    server_pid: int = 0  # its process group stopped by then

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": {
                "virtual_users": self.config.users,
                "workers": self.config.workers,
                "duration_seconds": self.config.duration,
                "max_requests": self.config.max_requests,
                "seed": self.config.seed,
                "learners": self.config.learners,
                "mix": self.config.mix,
            },
            "nproc": os.cpu_count(),
            "setup_seconds": round(self.setup_seconds, 1),
            **self.summary,
            **self.extra,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "ok": self.ok,
        }

    def format(self) -> str:
        s = self.summary
        lines = [
            f"virtual users {self.config.users}, workers {self.config.workers}, "
            f"window {s['window_seconds']} s, nproc {os.cpu_count()}",
            f"{'operation':<14}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'max ms':>9}  statuses / transport errors",
        ]
        rows = [*s["operations"].items(), ("overall", s["overall"])]
        for name, b in rows:
            errors = f" {b['transport_errors']}" if b["transport_errors"] else ""
            lines.append(
                f"{name:<14}{b['requests']:>9}{b['throughput_rps']:>8}{b['p50_ms']:>9}"
                f"{b['p95_ms']:>9}{b['p99_ms']:>9}{b['max_ms']:>9}  {b['statuses']}{errors}"
            )
        for key, value in self.extra.items():
            lines.append(f"{key}: {json.dumps(value, default=str)}")
        for c in self.checks:
            lines.append(f"[{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}")
        lines.append("PASSED" if self.ok else "FAILED")
        return "\n".join(lines)


class RunHooks:
    """What a variant of the run changes; the defaults are the plain run's: a throwaway
    database on the admin DSN's server, nothing added to the server's environment, nothing
    running beside it, nothing measured around the load window."""

    def database(
        self, admin_dsn: str, log: Log
    ) -> contextlib.AbstractAsyncContextManager[Database]:
        return throwaway_database(admin_dsn, log=log)

    def environment(self, database: Database) -> dict[str, str]:
        """Settings for every `learnhub` process of the run, over the plain ones."""
        return {}

    def beside_server(
        self, env: dict[str, str], workdir: Path
    ) -> contextlib.AbstractAsyncContextManager[object]:
        """Runs from after seeding until the checks are done (e.g. the outbox relay)."""
        return contextlib.nullcontext()

    async def before_load(self, context: RunContext) -> None:
        """Just before the window opens (learners logged in)."""

    async def after_load(
        self, context: RunContext, samples: list[Sample]
    ) -> tuple[dict[str, Any], list[Check]]:
        """Just after the window closed: figures for the report and checks of its own."""
        return {}, []


Injector = Callable[[RunContext], Awaitable[dict[str, Any]]]
Judge = Callable[[list[Sample], dict[str, Any]], list[Check]]


def judge_load(samples: list[Sample], _extra: dict[str, Any]) -> list[Check]:
    """The plain load's verdict on the answers: no 5xx, no transport error, no stray 4xx."""
    fivexx = Counter(f"{s.op} {s.status}" for s in samples if s.status and s.status >= 500)
    errors = Counter(f"{s.op} {s.error}" for s in samples if s.error is not None)
    stray = unexpected_statuses(samples)
    return [
        Check("no 5xx", not fivexx, _counted(fivexx)),
        Check("no transport errors", not errors, _counted(errors)),
        Check("no unexpected 4xx", not stray, _counted(stray)),
    ]


def _counted(counter: Counter[str]) -> str:
    return str(dict(counter)) if counter else "0"


async def run(
    config: LoadConfig,
    admin_dsn: str = ADMIN_DSN,
    *,
    workdir: Path,
    inject: Injector | None = None,
    judge: Judge = judge_load,
    log: Log = stderr_log,
    hooks: RunHooks | None = None,
) -> LoadReport:
    """Create a database, seed the demo catalog, start the server, register the learners,
    run the load (and `inject` beside it), then check every acknowledged write. Always stops
    the server and drops the database. `hooks` change where the database lives and what runs
    around the server (the topology run)."""
    hooks = hooks or RunHooks()
    setup_started = time.monotonic()
    run_id = uuid.uuid4().hex[:8]
    async with hooks.database(admin_dsn, log) as database:
        env = learnhub_env(
            database.url,
            LEARNHUB_LOG_LEVEL=config.server_log_level,
            **hooks.environment(database),
        )
        seed = ["seed", "--demo"]
        if config.learners == "seed":
            seed += ["--users", str(config.users), "--enrollments-per-user", "0"]
            seed += ["--seed", str(config.seed)]
        log(f"seeding: learnhub {' '.join(seed)}")
        status, output = await run_cli(seed, env, workdir)
        if status != 0:
            raise RuntimeError(f"learnhub {' '.join(seed)} failed ({status}):\n{output[-3000:]}")
        async with (
            hooks.beside_server(env, workdir),
            learnhub_server(env, workdir, config.workers, log=log) as server,
        ):
            limits = httpx.Limits(
                max_connections=config.users + 16, max_keepalive_connections=config.users + 16
            )
            async with httpx.AsyncClient(
                base_url=server.base_url,
                timeout=config.request_timeout,
                limits=limits,
                cookies=no_cookies(),
            ) as client:
                courses = await load_catalog(client)
                if config.learners == "seed":
                    log(f"logging in {config.users} seeded learners")
                    learners = await login_seeded_learners(client, config.users, config.seed)
                else:
                    log(f"registering {config.users} learners through the API")
                    learners = await register_learners(client, config.users, run_id)
                setup_seconds = time.monotonic() - setup_started
                driver = Driver(client, learners, courses, config)
                log(
                    f"load: {config.users} virtual users for {config.duration:g} s "
                    f"(at most {config.max_requests} requests)"
                )
                await hooks.before_load(RunContext(server, database, 0.0))
                load = asyncio.create_task(driver.run())
                extra: dict[str, Any] = {}
                if inject is not None:
                    await asyncio.sleep(0)  # let the window open (driver.t0)
                    context = RunContext(server, database, driver.t0)
                    try:
                        extra = await inject(context)
                    except BaseException:
                        load.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await load
                        raise
                await load
            log(f"load done: {len(driver.samples)} requests in {driver.elapsed:.1f} s")
            extra["server_alive_after_load"] = server.process.poll() is None
            measured, hooked_checks = await hooks.after_load(
                RunContext(server, database, driver.t0), driver.samples
            )
            extra.update(measured)
            checks = judge(driver.samples, extra) + hooked_checks
            log("checking acknowledged writes, counters and the audit trail")
            checks += await verify_writes(database.dsn, driver.ledger)
            checks.append(await audit_verify(env, workdir))
        summary = summarize(driver.samples, driver.elapsed)
        summary["acknowledged_writes"] = {
            "enrollments": len(driver.ledger.enrollments),
            "reviews": len(driver.ledger.reviews),
            "heartbeats": driver.ledger.heartbeats,
        }
        report = LoadReport(config, setup_seconds, summary, checks, driver.samples, extra)
        report.database_name, report.server_pid = database.name, server.process.pid
        return report


def install_sigterm(task: asyncio.Task[Any]) -> None:
    """SIGTERM cancels the run like Ctrl-C does, so the cleanup in `finally` runs."""
    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
