"""Throwaway servers made for one run, shared by the test suite (tests/support wraps these
with pytest's skip/fail) and the reliability scripts: a PostgreSQL primary with a streaming
standby, a PgBouncer in transaction pooling mode, and a private NATS JetStream server. Each
listens on a free loopback port, keeps its files in a temporary directory and is stopped and
removed afterwards.

A missing program raises `MissingTool`, so a caller decides whether that skips or fails."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

PG_SERVER_USER = "postgres"
PGBOUNCER_STARTUP_TIMEOUT = 15.0
PGBOUNCER_STOP_TIMEOUT = 10.0
# nats-server often lives in an sbin directory that a non-root PATH leaves out.
_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", os.defpath), "/usr/local/sbin", "/usr/sbin", "/sbin"]
)


class MissingTool(RuntimeError):
    """A program these servers need is not installed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# --- PostgreSQL: a primary and a streaming standby -------------------------------------------


def postgres_bindir() -> Path:
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
    raise MissingTool("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found")


@dataclass
class Cluster:
    data: Path
    port: int
    log: Path


class ReplicatedPair:
    """A primary made with `initdb` (`wal_level=replica`) and a standby made from it with
    `pg_basebackup -R` (a standby signal and the primary's address). The shared server may
    refuse replication connections or have WAL settings a caller cannot change, hence a pair
    of its own. PostgreSQL refuses to run as root, so under root both run as `postgres`."""

    def __init__(self, root: Path, settings: str = "") -> None:
        self.root = root
        self.settings = settings  # more postgresql.conf lines (the standby copies them)
        self.bin = postgres_bindir()
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
                "fsync = off\nfull_page_writes = off\nshared_buffers = 32MB\n" + self.settings
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
def replicated_pair(pair_class: type[ReplicatedPair] = ReplicatedPair) -> Iterator[ReplicatedPair]:
    root = Path(tempfile.mkdtemp(prefix="learnhub-replication-"))
    pair = pair_class(root)
    try:
        pair.create()
        yield pair
    finally:
        pair.destroy()


# --- PgBouncer -------------------------------------------------------------------------------


def find_pgbouncer() -> str:
    found = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise MissingTool("PgBouncer is not installed (Debian: apt-get install pgbouncer)")
    return found


@dataclass(frozen=True, slots=True)
class PgBouncer:
    host: str
    port: int
    pool_size: int
    log: Path

    def url_for(self, database_url: str) -> str:
        """The same database, user and driver as `database_url`, through this PgBouncer."""
        url = make_url(database_url).set(host=self.host, port=self.port)
        return url.render_as_string(hide_password=False)


def _pgbouncer_ini(port: int, server: str, server_port: int, pool_size: int, users: Path) -> str:
    return f"""\
[databases]
; Every database name a client asks for, on the one PostgreSQL server.
* = host={server} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
auth_type = trust
auth_file = {users}
admin_users = postgres
; As the README's deployment section says: a statement a client prepared and closed after its
; transaction ended (on whichever server it then had) would stay on the first server for good.
server_reset_query = DEALLOCATE ALL
server_reset_query_always = 1
"""


@contextmanager
def running_pgbouncer(
    database_url: str, pool_size: int = 2, binary: str | None = None
) -> Iterator[PgBouncer]:
    """PgBouncer in front of `database_url`'s server, at most `pool_size` server connections
    per database and user, so client connections beyond that are multiplexed."""
    binary = binary or find_pgbouncer()
    server = make_url(database_url)
    # Readable by the unprivileged user PgBouncer switches to when started as root.
    directory = Path(tempfile.mkdtemp(prefix="learnhub-pgbouncer-"))
    directory.chmod(0o755)
    users = directory / "userlist.txt"
    users.write_text(f'"{server.username or "postgres"}" ""\n')
    ini = directory / "pgbouncer.ini"
    port = free_port()
    ini.write_text(
        _pgbouncer_ini(port, server.host or "127.0.0.1", server.port or 5432, pool_size, users)
    )
    for path in (users, ini):
        path.chmod(0o644)
    log = directory / "pgbouncer.log"
    # PgBouncer refuses to run as root: then it drops to an unprivileged user (-u).
    as_user = ["-u", "nobody"] if os.geteuid() == 0 else []
    with log.open("wb") as output:
        process = subprocess.Popen(
            [binary, *as_user, str(ini)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_pgbouncer(process, port, log)
        yield PgBouncer("127.0.0.1", port, pool_size, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=PGBOUNCER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=PGBOUNCER_STOP_TIMEOUT)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_pgbouncer(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + PGBOUNCER_STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited ({process.returncode}):\n{log.read_text()}")
        if _accepts(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {port} in time:\n{log.read_text()}")


# --- NATS JetStream --------------------------------------------------------------------------


def find_nats_server() -> str:
    found = shutil.which("nats-server", path=_SEARCH_PATH)
    if found is None:
        raise MissingTool("nats-server is not installed")
    return found


class PrivateNats:
    """`nats-server -js` on 127.0.0.1:<free port> with its store under `directory`.

    `stop()` then `start()` restarts it on the same port and store, so streams survive."""

    def __init__(self, directory: Path, binary: str | None = None) -> None:
        self.binary = binary or find_nats_server()
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
