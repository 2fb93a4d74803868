"""The database goes away under load, and comes back.

    python -m reliability.faults --users 100 --workers 2 --duration 30 --down 5

Runs the load of `reliability.load` against a PRIVATE PostgreSQL cluster (initdb in a
temporary directory, started with pg_ctl on a free loopback port; the shared server other
people use is never touched), stops it with `pg_ctl stop -m fast` while the load runs, keeps
it down for `--down` seconds and starts it again. Meanwhile a probe polls /ready.

Checked: during the outage the service answers 503 problem responses (application/problem+json,
/ready 503) and never a 500; it recovers by itself, with the same worker processes (no
restart); afterwards every acknowledged write is in the database and nothing is half-applied
(counters equal rows, an outbox event per write, `learnhub audit verify` passes). Reported:
the outage window, the 503 counts, the time to recovery. Exit status 1 on any failed check.

The PostgreSQL server binaries are found with `pg_config --bindir`, else next to `initdb` on
PATH, else in Debian's versioned directories. initdb refuses to run as root: as root, the
cluster runs as the `postgres` OS user (runuser), in a directory it owns.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reliability.harness import (
    PROBLEM_JSON,
    Check,
    LoadConfig,
    LoadReport,
    Log,
    RunContext,
    Sample,
    free_port,
    install_sigterm,
    judge_load,
    run,
    stderr_log,
)
from reliability.load import add_load_arguments, config_from, work_directory, write_report

RUN_AS_USER = "postgres"
# Requests started this long after /ready first answered 200 again must all succeed.
RECOVERY_GRACE_SECONDS = 2.0
RECOVERY_LIMIT_SECONDS = 60.0
WRITES = ("enroll", "heartbeat", "review")


def postgres_bindir() -> Path | None:
    """Where initdb, pg_ctl and postgres live, or None when they are not installed."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    for tool in ("initdb", "pg_ctl"):
        found = shutil.which(tool)
        if found:
            candidates.append(Path(found).resolve().parent)
    # Debian/Ubuntu keep the server binaries off PATH, per major version; newest first.
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in debian]
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def missing_binaries_reason() -> str | None:
    if postgres_bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(RUN_AS_USER)
        except KeyError:
            return f"running as root and there is no {RUN_AS_USER!r} OS user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is not installed"
    return None


class PrivateCluster:
    """A throwaway PostgreSQL cluster on a free loopback port, trust authentication."""

    def __init__(self, bindir: Path, root: Path, log: Log = stderr_log) -> None:
        self.bindir, self.root, self.log = bindir, root, log
        self.data = root / "data"
        self.logfile = root / "postgres.log"
        self.port = free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            self.prefix = ["runuser", "-u", RUN_AS_USER, "--"]
            user = pwd.getpwnam(RUN_AS_USER)
            os.chown(root, user.pw_uid, user.pw_gid)
        self.running = False

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    async def _run(self, *args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            *self.prefix,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to us; we stop the cluster ourselves
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            tail = self.logfile.read_text(errors="replace")[-2000:] if self._log_readable() else ""
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({process.returncode}): "
                f"{output.decode(errors='replace')[-2000:]}\n{tail}"
            )

    def _log_readable(self) -> bool:
        return self.logfile.is_file()

    async def init(self) -> None:
        await self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    async def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} -c max_connections=100"
        )
        await self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.running = True

    async def stop(self, mode: str = "fast") -> None:
        await self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"
        )
        self.running = False


@asynccontextmanager
async def private_cluster(log: Log = stderr_log) -> AsyncIterator[PrivateCluster]:
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    # Not under a per-user private temp directory: the postgres OS user must reach it.
    root = Path(tempfile.mkdtemp(prefix="learnhub-faults-pg-"))
    cluster = PrivateCluster(bindir, root, log)
    try:
        await cluster.init()
        await cluster.start()
        log(f"private PostgreSQL ({bindir.parent.name}) on 127.0.0.1:{cluster.port}")
        yield cluster
    finally:
        if cluster.running or (cluster.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                await cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
        log("private PostgreSQL stopped and removed")


@dataclass
class Probe:
    """GET /ready every `interval` seconds: (seconds since the window opened, status or
    None, whether the body was a problem)."""

    t0: float
    answers: list[tuple[float, int | None, bool]] = field(default_factory=list)
    # Set on the first 200 answered at or after `watch_from` (seconds since the window opened).
    watch_from: float | None = None
    recovered: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, base_url: str, stop: asyncio.Event, interval: float = 0.1) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
            while not stop.is_set():
                at = time.monotonic() - self.t0
                try:
                    response = await client.get("/ready")
                except httpx.TransportError:
                    self.answers.append((at, None, False))
                else:
                    problem = response.headers.get("content-type", "").startswith(PROBLEM_JSON)
                    self.answers.append((at, response.status_code, problem))
                    watching = self.watch_from is not None and at >= self.watch_from
                    if response.status_code == 200 and watching:
                        self.recovered.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)

    def first_ok_after(self, at: float) -> float | None:
        return next((t for t, status, _ in self.answers if t >= at and status == 200), None)


def outage_injector(
    cluster: PrivateCluster, warmup: float, down: float, log: Log
) -> Any:  # an Injector
    async def inject(context: RunContext) -> dict[str, Any]:
        def now() -> float:
            return time.monotonic() - context.t0

        probe = Probe(context.t0)
        stop_probe = asyncio.Event()
        probing = asyncio.create_task(probe.run(context.server.base_url, stop_probe))
        try:
            await asyncio.sleep(warmup)
            workers_before = context.server.worker_pids()
            log(f"stopping PostgreSQL (pg_ctl stop -m fast) at t={now():.1f} s")
            stop_issued = now()
            await cluster.stop("fast")
            stopped = now()
            await asyncio.sleep(down)
            log(f"starting PostgreSQL again at t={now():.1f} s")
            start_issued = now()
            await cluster.start()
            started = now()
            probe.watch_from = started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(probe.recovered.wait(), RECOVERY_LIMIT_SECONDS)
            ready_again = probe.first_ok_after(started)
            log(
                "service ready again "
                + (f"{ready_again - started:.2f} s after PostgreSQL" if ready_again else "NEVER")
            )
            await asyncio.sleep(1.0)
        finally:
            stop_probe.set()
            await probing
        return {
            "outage": {
                "stop_issued_at_s": round(stop_issued, 2),
                "stopped_at_s": round(stopped, 2),
                "start_issued_at_s": round(start_issued, 2),
                "started_at_s": round(started, 2),
                "database_down_seconds": round(started - stop_issued, 2),
                "ready_again_at_s": None if ready_again is None else round(ready_again, 2),
                "ready_again_after_start_s": (
                    None if ready_again is None else round(ready_again - started, 2)
                ),
            },
            "probe": probe,
            "workers_before": sorted(workers_before),
            "workers_after": sorted(context.server.worker_pids()),
        }

    return inject


def judge_faults(samples: list[Sample], extra: dict[str, Any]) -> list[Check]:
    """The verdict on the answers around the outage (and a summary of them into `extra`)."""
    outage = extra["outage"]
    probe: Probe = extra.pop("probe")
    stop_issued, started = outage["stop_issued_at_s"], outage["started_at_s"]
    ready_again = outage["ready_again_at_s"]

    fivexx = [s for s in samples if s.status is not None and s.status >= 500]
    not_503 = Counter(f"{s.op} {s.status}" for s in fivexx if s.status != 503)
    not_problem = Counter(s.op for s in fivexx if s.status == 503 and not s.problem_json)
    during = [s for s in fivexx if s.status == 503]
    codes = Counter(s.code for s in during)
    probe_down = [
        (t, status, problem)
        for t, status, problem in probe.answers
        if outage["stopped_at_s"] <= t < started
    ]
    probe_503 = [a for a in probe_down if a[1] == 503]
    settled = None if ready_again is None else ready_again + RECOVERY_GRACE_SECONDS
    after = [s for s in samples if settled is not None and s.started >= settled]
    failed_after = Counter(
        f"{s.op} {s.status or s.error}" for s in after if s.status is None or s.status >= 500
    )
    writes_after = [s for s in after if s.op in WRITES and s.status and s.status < 300]
    first_write_after = min(
        (
            s.started + s.latency
            for s in samples
            if s.started >= started and s.op in WRITES and s.status and s.status < 300
        ),
        default=None,
    )
    errors = Counter(f"{s.op} {s.error}" for s in samples if s.error is not None)
    outside = Counter(
        f"{s.op} {s.status}"
        for s in fivexx
        if not (stop_issued - 1.0 <= s.started + s.latency and s.started <= (settled or 1e9))
    )
    extra["answers"] = {
        "503_total": len(during),
        "503_by_operation": dict(Counter(s.op for s in during)),
        "503_codes": dict(codes),
        "first_503_at_s": round(min(s.started + s.latency for s in during), 2) if during else None,
        "last_503_at_s": round(max(s.started + s.latency for s in during), 2) if during else None,
        "ready_probes_while_down": len(probe_down),
        "ready_503_while_down": len(probe_503),
        "first_write_acknowledged_after_start_s": (
            None if first_write_after is None else round(first_write_after - started, 2)
        ),
        "writes_acknowledged_after_recovery": len(writes_after),
        "transport_errors": dict(errors),
    }
    same_workers = extra["workers_before"] == extra["workers_after"] and bool(
        extra["workers_before"]
    )
    stray = judge_load(samples, extra)[2]  # no unexpected 4xx
    return [
        Check("no 5xx other than 503", not not_503, str(dict(not_503)) if not_503 else "0"),
        Check(
            "every 503 is an application/problem+json problem",
            not not_problem,
            f"{len(during)} 503s, {sum(not_problem.values())} not problem+json",
        ),
        Check(
            "the load got 503s while the database was down",
            bool(during),
            f"{len(during)} 503s, codes {dict(codes)}",
        ),
        Check(
            "/ready answered 503 problems while the database was down",
            bool(probe_503) and all(p for _, _, p in probe_503),
            f"{len(probe_503)} of {len(probe_down)} probes 503",
        ),
        Check(
            "5xx only around the outage",
            not outside,
            str(dict(outside)) if outside else "none outside the window",
        ),
        Check(
            "recovered by itself (/ready 200 after PostgreSQL came back)",
            ready_again is not None,
            "never"
            if ready_again is None
            else f"{outage['ready_again_after_start_s']} s after PostgreSQL accepted connections",
        ),
        Check(
            f"no failure for requests started {RECOVERY_GRACE_SECONDS:g} s after recovery",
            ready_again is not None and not failed_after,
            f"{len(after)} requests, {sum(failed_after.values())} failed"
            + (f": {dict(failed_after)}" if failed_after else ""),
        ),
        Check(
            "writes acknowledged again after recovery",
            bool(writes_after),
            f"{len(writes_after)} writes",
        ),
        Check(
            "same server worker processes (no restart)",
            same_workers and bool(extra.get("server_alive_after_load")),
            f"before {extra['workers_before']}, after {extra['workers_after']}",
        ),
        Check(
            "no transport errors (every request answered)",
            not errors,
            str(dict(errors)) if errors else "0",
        ),
        stray,
    ]


@dataclass
class FaultConfig:
    load: LoadConfig
    warmup: float = 5.0
    down: float = 5.0


async def run_faults(config: FaultConfig, workdir: Path, log: Log = stderr_log) -> LoadReport:
    if config.load.duration < config.warmup + config.down + RECOVERY_GRACE_SECONDS + 5:
        raise ValueError("the load must outlast warmup + down + recovery by a few seconds")
    async with private_cluster(log) as cluster:
        inject = outage_injector(cluster, config.warmup, config.down, log)
        report = await run(
            config.load,
            cluster.admin_dsn,
            workdir=workdir,
            inject=inject,
            judge=judge_faults,
            log=log,
        )
    report.extra["fault"] = {"warmup_s": config.warmup, "down_s": config.down}
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m reliability.faults", description=__doc__)
    add_load_arguments(parser)
    parser.set_defaults(users=100, duration=30.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before the stop")
    parser.add_argument("--down", type=float, default=5.0, help="seconds PostgreSQL stays down")
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> LoadReport:
    task = asyncio.current_task()
    assert task is not None
    install_sigterm(task)
    reason = missing_binaries_reason()
    if reason:
        raise SystemExit(reason)
    config = FaultConfig(config_from(args), warmup=args.warmup, down=args.down)
    with work_directory(args.keep_logs, "learnhub-faults-") as workdir:
        return await run_faults(config, workdir)


if __name__ == "__main__":
    arguments = parse_args()
    try:
        result = asyncio.run(main(arguments))
    except KeyboardInterrupt:
        print("interrupted: server and private PostgreSQL stopped", file=sys.stderr)
        sys.exit(130)
    write_report(result, "python -m reliability.faults " + " ".join(sys.argv[1:]), arguments.json)
    sys.exit(0 if result.ok else 1)
