"""A throwaway PostgreSQL primary and a streaming replica of it, on free loopback ports.

The shared server may refuse replication connections or have WAL settings a test cannot
change, so the pair is made from scratch: `initdb` a primary with `wal_level=replica`, and
`pg_basebackup -R` (a standby signal and the primary's address) a standby from it. PostgreSQL
refuses to run as root, so under root both run as the `postgres` user. Nothing is skipped: a
machine that cannot make the pair fails the tests that need it."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.live_server import free_port

PG_SERVER_USER = "postgres"


def _bindir() -> Path:
    """The server binaries: LEARNHUB_TEST_PG_BINDIR, or `pg_config --bindir`, or the newest
    of Debian's versioned directories."""
    configured = os.environ.get("LEARNHUB_TEST_PG_BINDIR")
    candidates = [configured] if configured else []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    pytest.fail("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found")


@dataclass
class Cluster:
    data: Path
    port: int
    log: Path


class ReplicatedPair:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = _bindir()
        self.as_server_user = os.geteuid() == 0
        self.primary = Cluster(root / "primary", free_port(), root / "primary.log")
        self.standby = Cluster(root / "standby", free_port(), root / "standby.log")

    def url(self, cluster: Cluster, database: str = "learnhub") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{cluster.port}/{database}"

    def dsn(self, cluster: Cluster, database: str = "learnhub") -> str:
        return f"postgresql://postgres@127.0.0.1:{cluster.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_server_user:
            command = ["runuser", "-u", PG_SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            clusters = (self.primary, self.standby)
            logs = "".join(c.log.read_text() for c in clusters if c.log.exists())
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr}\n{logs[-4000:]}")

    def create(self) -> None:
        if self.as_server_user:
            user = pwd.getpwnam(PG_SERVER_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.primary.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        # initdb's pg_hba.conf already trusts replication connections from 127.0.0.1.
        with (self.primary.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                # A throwaway cluster: durability buys nothing here, speed does.
                "fsync = off\nfull_page_writes = off\nshared_buffers = 32MB\n"
            )
        self.start(self.primary)
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
            "-D", str(self.standby.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
        )  # fmt: skip
        self.start(self.standby)

    def start(self, cluster: Cluster) -> None:
        self._run(
            "pg_ctl", "-D", str(cluster.data), "-l", str(cluster.log), "-w",
            "-o", f"-p {cluster.port}", "start",
        )  # fmt: skip

    def stop(self, cluster: Cluster) -> None:
        self._run("pg_ctl", "-D", str(cluster.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        for cluster in (self.standby, self.primary):
            if (cluster.data / "postmaster.pid").exists():
                try:
                    self.stop(cluster)
                except RuntimeError:
                    self._run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def replicated_pair() -> Iterator[ReplicatedPair]:
    root = Path(tempfile.mkdtemp(prefix="learnhub-replication-"))
    pair = ReplicatedPair(root)
    try:
        pair.create()
        yield pair
    finally:
        pair.destroy()
