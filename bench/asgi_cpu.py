"""CPU per request of one read, the app (or the raw baseline) driven in process as ASGI, with
no HTTP server and no load generator beside it: what the app's own code costs a request,
without the server's share and with less of the machine's noise than req/s over HTTP.

    python -m bench.asgi_cpu --database-url URL [--path PATH | --courses-in-turn N]
        [--seconds S] [--clients N] [--raw]

Prints requests a second and the process's CPU time per request (`time.process_time`, the
database's own time excluded). Meant for before/after comparisons of the app's code: run two
checkouts side by side on one core, so both see the same machine (bench/RESULTS.md):

    taskset -c 0 env PYTHONPATH=<before>/src python -m bench.asgi_cpu --database-url URL &
    taskset -c 0 env PYTHONPATH=<after>/src python -m bench.asgi_cpu --database-url URL &
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import os
import time
from collections.abc import Callable
from typing import Any

from bench import harness
from bench.catalog_http import SECRET

DEFAULT_PATH = "/api/v1/courses/bench-0"  # a course page of bench/data.py's catalog


def _app(database_url: str, raw: bool, clients: int) -> Any:
    if raw:
        os.environ["BENCH_RAW_DSN"] = harness.plain_dsn(database_url)
        os.environ["BENCH_POOL_SIZE"] = str(clients)
        from bench.raw_app import app

        return app
    os.environ.update(
        {
            "LEARNHUB_DATABASE_URL": database_url,
            "LEARNHUB_JWT_SECRET": SECRET,
            "LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS": "0",
            "LEARNHUB_DB_POOL_SIZE": str(clients),
        }
    )
    from learnhub.api.app import create_app

    return create_app()


def _scope(path: str) -> dict[str, Any]:
    route, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def measure(app: Any, paths: list[str], seconds: float, clients: int) -> tuple[float, float]:
    """(requests a second, CPU seconds per request) of `clients` concurrent callers, asking
    for `paths` in turn."""
    turn = itertools.cycle([_scope(path) for path in paths])
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    async def caller(until: float) -> int:
        done = 0
        while time.perf_counter() < until:
            template = next(turn)
            await app({**template, "headers": list(template["headers"])}, receive, send)
            done += 1
        return done

    def callers(for_seconds: float) -> Any:
        until = time.perf_counter() + for_seconds
        return asyncio.gather(*(caller(until) for _ in range(clients)))

    await callers(2.0)  # warm: connections, statement caches, the routes' state
    cpu, wall = time.process_time(), time.perf_counter()
    done = sum(await callers(seconds))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if statuses != {200}:
        raise RuntimeError(f"{paths[0]}... answered {sorted(statuses)}, not only 200")
    return done / wall, cpu / done


async def main(args: argparse.Namespace) -> tuple[float, float]:
    app = _app(args.database_url, args.raw, args.clients)
    lifespan: Callable[[Any], Any] = app.router.lifespan_context
    async with lifespan(app):
        paths = [args.path]
        if args.courses_in_turn:
            # bench/data.py's course slugs: bench-0, bench-1, ...
            paths = [f"/api/v1/courses/bench-{n}" for n in range(args.courses_in_turn)]
        return await measure(app, paths, args.seconds, args.clients)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a database seeded by the bench")
    parser.add_argument("--path", default=DEFAULT_PATH)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--raw", action="store_true", help="the raw baseline, not the app")
    parser.add_argument(
        "--courses-in-turn", type=int, default=0, help="course pages of this many courses in turn"
    )
    arguments = parser.parse_args()
    import uvloop

    uvloop.install()
    # The app's log lines go to stdout: kept out of the report.
    with contextlib.redirect_stdout(io.StringIO()):
        rate, cpu = asyncio.run(main(arguments))
    side = "raw" if arguments.raw else "app"
    print(f"{side}: {rate:,.0f} req/s, {cpu * 1e6:.1f} us of CPU per request")
