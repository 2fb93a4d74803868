"""Smoke test of the real thing: `learnhub serve` in its own process, over a socket.

Everything else in tests/api drives the ASGI app in-process; this one proves that the command
line starts (migrations, built-in roles, uvicorn), reads its settings from the environment,
serves the API on a TCP port and shuts down cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import live_server
from tests.support.live_server import free_port, log_tail

STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 15.0
PASSWORD = "correct horse battery"


class Server:
    def __init__(self, process: subprocess.Popen[bytes], base_url: str, log: Path, db: Path):
        self.process, self.base_url, self.log, self.db = process, base_url, log, db

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it does not stop in time; returns the exit status."""
        return live_server.stop(self.process, SHUTDOWN_TIMEOUT)


def start_server(tmp_path: Path, *options: str) -> Server:
    port = free_port()
    db = tmp_path / "smoke.db"
    log = tmp_path / "serve.log"
    # Only this test's settings: nothing LEARNHUB_* leaks in from the developer's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNHUB_")}
    env.update(
        LEARNHUB_DATABASE_URL=f"sqlite+aiosqlite:///{db}",
        LEARNHUB_JWT_SECRET="smoke-test-signing-secret-" + "s" * 32,
        LEARNHUB_LOG_LEVEL="info",
        PYTHONUNBUFFERED="1",  # the welcome lines reach the log before the server's own
    )
    command = [
        sys.executable,
        "-m",
        "learnhub.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    return Server(process, f"http://127.0.0.1:{port}", log, db)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    served = start_server(tmp_path)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[Server]:
    served = start_server(tmp_path, "--demo")
    try:
        yield served
    finally:
        served.stop()


def wait_until_healthy(server: Server) -> None:
    live_server.wait_until_healthy(server.process, server.base_url, server.log, STARTUP_TIMEOUT)


def test_learnhub_serve_answers_over_http(server: Server) -> None:
    email = "smoke.tester@example.com"
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        wait_until_healthy(server)
        assert client.get("/health").json() == {"status": "ok"}

        registered = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": "Smoke Tester"},
        )
        assert registered.status_code == 201, registered.text
        user = registered.json()
        assert user["email"] == email and user["roles"] == ["student"]

        login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        tokens = login.json()
        assert tokens["token_type"] == "bearer" and tokens["refresh_token"]

        me = client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200, me.text
        assert me.json()["id"] == user["id"] and me.json()["email"] == email
        assert me.headers["etag"] == f'W/"{me.json()["version"]}"'
        assert me.headers["x-request-id"]
        # Without the token the same endpoint is a 401 problem, not a crash.
        anonymous = client.get("/api/v1/users/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"].startswith("application/problem+json")

        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready"}

        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        counts = {
            (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
            for family in text_string_to_metric_families(metrics.text)
            for s in family.samples
            if s.name == "learnhub_http_request_duration_seconds_count"
        }
        # A fresh process: exactly the requests this test made (the scrape records itself
        # only after answering).
        assert counts[("/api/v1/users/me", "GET", "200")] == 1
        assert counts[("/api/v1/users/me", "GET", "401")] == 1
        assert counts[("/api/v1/auth/register", "POST", "201")] == 1
        assert counts[("/api/v1/auth/login", "POST", "200")] == 1
        assert counts[("/ready", "GET", "200")] == 1

    # The settings came from the environment: the database is the file we named.
    assert server.db.is_file()
    # SIGTERM is a graceful shutdown (the lifespan closes the engine); uvicorn then exits
    # with status 0 or, since 0.29, by re-raising the signal it caught.
    assert server.stop() in (0, -signal.SIGTERM), log_tail(server.log)
    assert "Application shutdown complete" in server.log.read_text(errors="replace")


def test_head_is_answered_with_headers_only_over_a_kept_connection(server: Server) -> None:
    """HEAD reaches the routes as GET (ConditionalGetMiddleware); the server must still see
    a HEAD when the answer goes out, or it fails the answer for its missing body."""
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        wait_until_healthy(server)
        for path in ("/api/v1/courses", "/health", "/api/v1/users/me"):
            got = client.get(path)
            head = client.head(path)
            assert head.status_code == got.status_code, path
            assert head.content == b"" and head.headers["content-length"] == str(len(got.content))
        # The same connection still serves: the server did not drop it after a HEAD.
        assert client.get("/health").status_code == 200
    log = server.log.read_text(errors="replace")
    assert "Exception in ASGI application" not in log and "unhandled_error" not in log, log_tail(
        server.log
    )


def test_an_idle_keep_alive_connection_outlives_common_client_expiry(server: Server) -> None:
    """A connection idle for 6 s is still open: longer than uvicorn's own default (5 s),
    which raced clients expiring theirs at 5 s (httpx) into transport errors under load."""
    wait_until_healthy(server)
    host, port = server.base_url.removeprefix("http://").split(":")
    request = f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=10.0) as sock:
        for pause in (0.0, 6.0):
            time.sleep(pause)
            sock.sendall(request)
            answer = read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200"), (pause, answer[:200])


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (headers and a Content-Length body) from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data  # closed by the server
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return data


def child_pids(pid: int) -> list[int]:
    """The direct children of `pid` (Linux /proc)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads children from /proc")
def test_sigterm_stops_the_audit_watcher_with_the_server(server: Server) -> None:
    """`serve` starts `audit watch` as a process of its own; a SIGTERM to `serve` (what a
    process manager sends) must not leave it running as an orphan."""
    wait_until_healthy(server)
    watchers = child_pids(server.process.pid)
    assert watchers, "serve started no audit watcher"
    assert all(is_running(pid) for pid in watchers)

    server.stop()

    deadline = time.monotonic() + SHUTDOWN_TIMEOUT
    while any(is_running(pid) for pid in watchers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in watchers if is_running(pid)]
    for pid in left:  # do not leave it behind for the next test either
        os.kill(pid, signal.SIGKILL)
    assert not left, "the audit watcher outlived `serve`"


def request_lines(log: Path) -> list[dict[str, Any]]:
    """The server's per-request log lines (JSON, event "request")."""
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "request":
            lines.append(entry)
    return lines


def test_each_request_logs_exactly_one_structured_line(server: Server) -> None:
    """One JSON line per request (method, path, status, duration, request id), and no second,
    unstructured access line from uvicorn."""
    wait_until_healthy(server)
    sent = {
        "smoke-health": ("GET", "/health", 200),
        "smoke-missing": ("GET", "/api/v1/no-such-thing", 404),
        "smoke-login": ("POST", "/api/v1/auth/login", 401),
        "smoke-catalog": ("GET", "/api/v1/courses", 200),
    }
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        for request_id, (method, path, status) in sent.items():
            body = {"email": "nobody@example.com", "password": "x" * 12}
            response = client.request(
                method,
                path,
                headers={"X-Request-ID": request_id},
                json=body if method == "POST" else None,
            )
            assert response.status_code == status, response.text
            assert response.headers["x-request-id"] == request_id
    server.stop()
    text = server.log.read_text(errors="replace")
    lines = [line for line in request_lines(server.log) if line.get("request_id") in sent]
    assert sorted(line["request_id"] for line in lines) == sorted(sent), log_tail(server.log)
    for line in lines:
        method, path, status = sent[line["request_id"]]
        assert (line["method"], line["path"], line["status"]) == (method, path, status)
        assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
        assert line["level"] == "info" and line["timestamp"]
    for method, path, _ in sent.values():  # uvicorn's access line: '"GET /health HTTP/1.1" 200'
        assert f'"{method} {path} HTTP/1.1"' not in text, log_tail(server.log)


def test_serve_demo_says_where_to_go_and_how_to_log_in(demo_server: Server) -> None:
    # Loading the demo comes first: more time on a busy machine.
    live_server.wait_until_healthy(
        demo_server.process, demo_server.base_url, demo_server.log, 3 * STARTUP_TIMEOUT
    )
    text = demo_server.log.read_text(errors="replace")
    welcome = text[: text.index("Started server process")]
    base = demo_server.base_url
    assert f"{base}/docs" in welcome and f"{base}/health" in welcome
    assert f"web app       {base}/\n" in welcome
    # The three demo logins, and the password once.
    for email in ("demo-admin", "demo-instructor", "demo-student"):
        assert welcome.count(f"{email}@example.com") == 1, welcome
    assert welcome.count("learnhub-demo") == 1, welcome
    with httpx.Client(base_url=base, timeout=10.0) as client:
        assert client.get("/docs").status_code == 200
        login = client.post(
            "/api/v1/auth/login",
            json={"email": "demo-student@example.com", "password": "learnhub-demo"},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        mine = client.get("/api/v1/users/me/enrollments", headers=headers)
        assert mine.status_code == 200 and len(mine.json()["items"]) == 2, mine.text
