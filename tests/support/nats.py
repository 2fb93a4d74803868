"""A private NATS JetStream server for fault tests: its own loopback port and store
directory, so a test can stop and restart the broker, and read its stream, without touching
the shared server or another test's messages."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.live_server import free_port

REQUIRE_NATS = os.environ.get("LEARNHUB_REQUIRE_NATS", "") not in ("", "0", "false")
# nats-server often lives in an sbin directory that a non-root PATH leaves out.
_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"]
)


def nats_server_binary() -> str:
    found = shutil.which("nats-server", path=_SEARCH_PATH)
    if found is None:
        if REQUIRE_NATS:
            pytest.fail("nats-server is not installed", pytrace=False)
        pytest.skip("nats-server is not installed")
    return found


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class PrivateNats:
    """`nats-server -js` on 127.0.0.1:<free port> with its store under `directory`.

    `stop()` then `start()` restarts it on the same port and store, so streams survive."""

    def __init__(self, directory: Path) -> None:
        self.binary = nats_server_binary()
        self.port = free_port()
        self.store = directory / "jetstream"
        self.log = directory / "nats-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        assert self.process is None, "already running"
        self.store.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            address = ["-a", "127.0.0.1", "-p", str(self.port)]
            self.process = subprocess.Popen(
                [self.binary, *address, "-js", "-sd", str(self.store)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not _accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nats-server did not start; see {self.log}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
