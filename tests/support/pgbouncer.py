"""A PgBouncer of the test's own, in transaction pooling mode, in front of the local
PostgreSQL (made by `reliability.clusters`, which the topology load run shares): its own ini
and user list in a temporary directory, a free loopback port, stopped after the test.
Debian's package (`scripts/test` installs it when it may); without it these tests skip and
say why, unless LEARNHUB_REQUIRE_PGBOUNCER=1 (CI) makes them fail."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from reliability import clusters

PgBouncer = clusters.PgBouncer

__all__ = ["PgBouncer", "admin_show", "pgbouncer_binary", "running_pgbouncer"]

REQUIRE_PGBOUNCER = os.environ.get("LEARNHUB_REQUIRE_PGBOUNCER", "") not in ("", "0", "false")


def pgbouncer_binary() -> str:
    try:
        return clusters.find_pgbouncer()
    except clusters.MissingTool as missing:
        if REQUIRE_PGBOUNCER:
            pytest.fail(f"LEARNHUB_REQUIRE_PGBOUNCER=1 but {missing}", pytrace=False)
        pytest.skip(str(missing))


@contextmanager
def running_pgbouncer(database_url: str, pool_size: int = 2) -> Iterator[PgBouncer]:
    """PgBouncer in front of `database_url`'s server, at most `pool_size` server connections
    per database and user, so client connections beyond that are multiplexed."""
    with clusters.running_pgbouncer(database_url, pool_size, pgbouncer_binary()) as bouncer:
        yield bouncer


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
