"""A PgBouncer of the test's own, in transaction pooling mode, in front of the local
PostgreSQL: its own ini and user list in a temporary directory, a free loopback port, stopped
after the test. Debian's package (`scripts/test` installs it when it may); without it these
tests skip and say why, unless LEARNHUB_REQUIRE_PGBOUNCER=1 (CI) makes them fail."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.live_server import free_port

REQUIRE_PGBOUNCER = os.environ.get("LEARNHUB_REQUIRE_PGBOUNCER", "") not in ("", "0", "false")
STARTUP_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(p, os.X_OK)), None
    )
    if found is None:
        message = "PgBouncer is not installed (Debian: apt-get install pgbouncer)"
        if REQUIRE_PGBOUNCER:
            pytest.fail(f"LEARNHUB_REQUIRE_PGBOUNCER=1 but {message}", pytrace=False)
        pytest.skip(message)
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


def _ini(port: int, server: str, server_port: int, pool_size: int, users: Path) -> str:
    return f"""\
[databases]
; Every database name a client asks for, on the local PostgreSQL.
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
def running_pgbouncer(database_url: str, pool_size: int = 2) -> Iterator[PgBouncer]:
    """PgBouncer in front of `database_url`'s server, at most `pool_size` server connections
    per database and user, so client connections beyond that are multiplexed."""
    binary = pgbouncer_binary()
    server = make_url(database_url)
    # Readable by the unprivileged user PgBouncer switches to when started as root.
    directory = Path(tempfile.mkdtemp(prefix="learnhub-pgbouncer-"))
    directory.chmod(0o755)
    users = directory / "userlist.txt"
    users.write_text(f'"{server.username or "postgres"}" ""\n')
    ini = directory / "pgbouncer.ini"
    port = free_port()
    ini.write_text(_ini(port, server.host or "127.0.0.1", server.port or 5432, pool_size, users))
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
        _wait_for_port(process, port, log)
        yield PgBouncer("127.0.0.1", port, pool_size, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_port(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited ({process.returncode}):\n{log.read_text()}")
        with socket.socket() as probe:
            probe.settimeout(1.0)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {port} in time:\n{log.read_text()}")


def admin_show(bouncer: PgBouncer, what: str) -> list[dict[str, str]]:
    """`SHOW <what>` on PgBouncer's admin console (simple query protocol only: psql)."""
    psql = shutil.which("psql")
    if psql is None:
        message = "psql is not installed (Debian: postgresql-client)"
        if REQUIRE_PGBOUNCER:
            pytest.fail(f"LEARNHUB_REQUIRE_PGBOUNCER=1 but {message}", pytrace=False)
        pytest.skip(message)
    dsn = f"host={bouncer.host} port={bouncer.port} user=postgres dbname=pgbouncer"
    result = subprocess.run(
        [psql, dsn, "--no-psqlrc", "--csv", "-c", f"SHOW {what}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = result.stdout.splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
