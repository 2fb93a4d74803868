"""Throughput over time under concurrency: does the service hold its rate, or collapse?

`learnhub serve` (the real command, default settings, one worker) on a catalog seeded by
`learnhub seed`, driven with `GET /api/v1/courses?sort=rating&limit=20` by 32 and then 128
keep-alive clients (the harness's asyncio client). Requests are counted per 5-second interval;
after the warm-up (the first two) the rate must not fall: the mean rate of the intervals
after the warm-up over the mean rate of the warm-up, target >= 0.8. Also reported: p99 per
interval, new database sessions the server opened during the run (pg_stat_database.sessions)
and slow_query log lines.

    learnhub seed --users 2000 --courses 100000        # LEARNHUB_DATABASE_URL=... first
    python -m bench.concurrency --database-url postgresql+asyncpg://.../db \
        [--seconds 60] [--checkout /path/to/another/checkout]

Without --database-url a throwaway database is seeded with `learnhub seed` (--courses).
`--checkout` serves another checkout's code (e.g. the code before a change) with this script.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench import harness
from bench.harness import Config, Result

PATH = "/api/v1/courses?sort=rating&limit=20"
INTERVAL_SECONDS = 5.0
WARMUP_INTERVALS = 2
CLIENTS = (32, 128)


@dataclass
class Interval:
    start: float
    ok: int
    errors: int
    p99_ms: float


@contextlib.contextmanager
def learnhub_serve(
    url: str, checkout: Path, workers: int = 1
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """`learnhub serve` from `checkout` with default settings (the database URL and `workers`
    aside), in a
    scratch directory (the generated signing key lands there); yields base URL, process and
    the file its stdout (the JSON log) goes to."""
    port = harness.free_port()
    workdir = Path(tempfile.mkdtemp(prefix="learnhub-bench-serve-"))
    log_path = workdir / "serve.log"
    env = {
        **os.environ,
        "LEARNHUB_DATABASE_URL": url,
        "LEARNHUB_PORT": str(port),
        "LEARNHUB_WORKERS": str(workers),
        "PYTHONPATH": f"{checkout / 'src'}:{harness.ROOT}",
    }
    env = {k: v for k, v in env.items() if not (k.startswith("LEARNHUB_") and k not in {
        "LEARNHUB_DATABASE_URL", "LEARNHUB_PORT", "LEARNHUB_WORKERS"})}  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "learnhub.cli", "serve"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its helpers
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"learnhub serve exited: {log_path.read_text()[-2000:]}")
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("learnhub serve did not listen within 120 s")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}", process, log_path
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


async def interval_load(
    url: str, *, connections: int, seconds: float, interval: float
) -> list[Interval]:
    """The harness's keep-alive client, counting responses per `interval` seconds (by the
    time each response completed) with each interval's p99 latency."""
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    if match is None:
        raise ValueError(url)
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    slots = math.ceil(seconds / interval)
    ok = [0] * slots
    errors = [0] * slots
    latencies: list[list[float]] = [[] for _ in range(slots)]
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (sent := time.perf_counter()) < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if length is None:
                    raise RuntimeError("response without Content-Length")
                await reader.readexactly(int(length.group(1)))
                done = time.perf_counter()
                slot = min(int((done - start) / interval), slots - 1)
                (ok if status < 400 else errors)[slot] += 1
                latencies[slot].append(done - sent)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return [
        Interval(
            i * interval,
            ok[i],
            errors[i],
            harness.percentile(latencies[i], 99) * 1000 if latencies[i] else math.nan,
        )
        for i in range(slots)
    ]


async def sessions(dsn: str) -> int:
    """Sessions PostgreSQL has established in this database so far (PostgreSQL >= 14)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await conn.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(value or 0)
    finally:
        await conn.close()


def interval_table(clients: int, intervals: list[Interval], interval: float) -> str:
    lines = [
        f"{clients} clients:",
        "",
        "| interval (s) | req/s | p99 ms | errors |",
        "| --- | ---: | ---: | ---: |",
    ]
    for i, row in enumerate(intervals):
        mark = " (warm-up)" if i < WARMUP_INTERVALS else ""
        lines.append(
            f"| {row.start:g}-{row.start + interval:g}{mark} | {row.ok / interval:.0f} "
            f"| {row.p99_ms:.0f} | {row.errors} |"
        )
    return "\n".join(lines)


def flatness(intervals: list[Interval]) -> tuple[float, float]:
    """(mean of the warm-up intervals, mean of the intervals after them): a rate that starts
    high and then falls (the collapse this benchmark watches for) shows as a steady mean well
    below the start; the start is the reference because a single best interval on a shared
    machine is noise."""
    start = [r.ok for r in intervals[:WARMUP_INTERVALS]]
    steady = [r.ok for r in intervals[WARMUP_INTERVALS:]] or start
    return sum(start) / len(start), sum(steady) / len(steady)


async def run(url: str, config: Config, checkout: Path | None = None) -> list[Result]:
    checkout = checkout or harness.ROOT
    interval = 0.5 if config.smoke else INTERVAL_SECONDS
    seconds = config.seconds * 2 if config.smoke else max(config.seconds, 40.0)
    clients = (4,) if config.smoke else CLIENTS
    dsn = harness.plain_dsn(url)
    results = []
    with learnhub_serve(url, checkout) as (base, _process, log_path):
        await harness.load(base + PATH, connections=2, seconds=1, tool="python")  # it answers
        for count in clients:
            opened_before = await sessions(dsn)
            slow_before = log_path.read_text(errors="replace").count('"slow_query"')
            intervals = await interval_load(
                base + PATH, connections=count, seconds=seconds, interval=interval
            )
            opened = await sessions(dsn) - opened_before - 1  # less this probe's own
            slow = log_path.read_text(errors="replace").count('"slow_query"') - slow_before
            start, steady = flatness(intervals)
            table_text = interval_table(count, intervals, interval)
            harness.say(table_text)
            errors = sum(r.errors for r in intervals)
            results.append(
                Result(
                    "concurrency",
                    f"{count} clients, mean after warm-up / mean of the warm-up",
                    steady / interval,
                    start / interval,
                    "req/s",
                    ">=",
                    0.8,
                    [
                        f"`learnhub serve` from {checkout}, default settings, one worker; "
                        f"{seconds:g} s, {len(intervals)} intervals, first {WARMUP_INTERVALS} "
                        "are warm-up",
                        f"{errors} errors; {opened} new database sessions during the run; "
                        f"{slow} slow_query log lines",
                        table_text.replace("\n", "<br>"),
                    ],
                )
            )
    return results


async def seed_database(url: str, config: Config) -> None:
    """A throwaway database seeded the way a user would: `learnhub seed`."""
    courses = config.courses if config.smoke else max(config.courses, 100_000)
    users = 200 if config.smoke else 2000
    env = {**os.environ, "LEARNHUB_DATABASE_URL": url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "learnhub.cli",
        "seed",
        "--users",
        str(users),
        "--courses",
        str(courses),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"learnhub seed failed: {err.decode()[-2000:]}")


def main() -> None:
    argv = sys.argv[1:]
    checkout = None
    if "--checkout" in argv:
        checkout = Path(argv[argv.index("--checkout") + 1]).resolve()
    config, existing = harness.parse_config(argv, doc=__doc__)

    async def go() -> list[Result]:
        async with harness.database(existing or None) as url:
            if not existing:
                await seed_database(url, config)
            return await run(url, config, checkout)

    results = asyncio.run(go())
    print(harness.table(results))
    for r in results:
        for note in r.notes:
            print(f"- {r.metric}: {note}")


if __name__ == "__main__":
    main()
