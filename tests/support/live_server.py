"""What tests of a real `learnhub serve` process share: a free loopback port, the tail of the
server's log for a failure message, waiting until it answers /health, and stopping it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM, then SIGKILL if it does not stop within `timeout` seconds; the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return process.returncode


def log_tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def wait_until_healthy(
    process: subprocess.Popen[bytes], base_url: str, log: Path, timeout: float
) -> None:
    """Return once /health answers 200; fail the test, with the log's tail, if the server
    exits first or does not answer within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(
                    f"`learnhub serve` exited with {process.returncode} before answering:\n"
                    + log_tail(log)
                )
            try:
                response = client.get("/health")
            except httpx.TransportError as exc:
                last_error = repr(exc)
            else:
                if response.status_code == 200:
                    return
                last_error = f"{response.status_code} {response.text[:200]}"
            time.sleep(0.2)
    pytest.fail(f"/health did not answer 200 within {timeout}s ({last_error}):\n" + log_tail(log))
