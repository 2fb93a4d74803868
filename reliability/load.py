"""Bounded load against `learnhub serve --workers N` on a throwaway PostgreSQL database.

    python -m reliability.load --users 200 --workers 2 --duration 60

V virtual users (each a learner registered through the API before the measured window) run a
mix of catalog reads (list with sorts and filters, course detail), enrolments, progress
heartbeats with played segments and review posts, back to back, until the duration or the
request budget runs out. The report gives throughput, p50/p95/p99 latency per operation and
overall, status counts and transport errors; then the checks: every acknowledged write is in
the database, counters equal the rows they count, `learnhub audit verify` passes. The exit
status is 1 on any 5xx, transport error, unexpected 4xx or failed check.

The database is created on the admin DSN's server (`--admin-dsn`, default
`$LEARNHUB_TEST_PG_ADMIN_DSN` or postgresql://postgres@127.0.0.1:5432/postgres, loopback
only) and dropped afterwards; the server is stopped, even on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reliability.harness import ADMIN_DSN, DEFAULT_MIX, LoadConfig, LoadReport, install_sigterm, run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m reliability.load", description=__doc__)
    add_load_arguments(parser)
    return parser.parse_args(argv)


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=200, help="virtual users (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument(
        "--max-requests", type=int, default=1_000_000, help="request budget (default 1000000)"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, s")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the mix")
    parser.add_argument(
        "--mix",
        default=",".join(f"{k}={v}" for k, v in DEFAULT_MIX.items()),
        help="operation weights (default %(default)s)",
    )
    parser.add_argument("--admin-dsn", default=ADMIN_DSN, help="PostgreSQL admin DSN (loopback)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument(
        "--learners",
        choices=["seed", "api"],
        default="seed",
        help="learner accounts from `learnhub seed --users N` (default) or registered "
        "through POST /auth/register",
    )
    parser.add_argument(
        "--server-log-level",
        default="warning",
        help="the server's log level (info adds the access log and worker restarts)",
    )
    parser.add_argument(
        "--keep-logs",
        type=Path,
        help="keep the server's log (serve.log) in this directory (default: a temporary one)",
    )


def config_from(args: argparse.Namespace) -> LoadConfig:
    if args.workers < 2:
        raise SystemExit("--workers must be at least 2 (several worker processes)")
    mix = {}
    for part in args.mix.split(","):
        name, _, weight = part.partition("=")
        if name not in DEFAULT_MIX or not weight.isdigit():
            raise SystemExit(f"bad --mix entry {part!r} (operations: {', '.join(DEFAULT_MIX)})")
        mix[name] = int(weight)
    return LoadConfig(
        users=args.users,
        workers=args.workers,
        duration=args.duration,
        max_requests=args.max_requests,
        request_timeout=args.timeout,
        seed=args.seed,
        mix=mix,
        server_log_level=args.server_log_level,
        learners=args.learners,
    )


@contextlib.contextmanager
def work_directory(keep: Path | None, prefix: str) -> Iterator[Path]:
    """The server's working directory (its log lands there): `keep`, or a temporary one."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        yield Path(directory)


def write_report(report: LoadReport, command: str, path: Path | None) -> None:
    print(report.format())
    if path is not None:
        path.write_text(json.dumps({"command": command, **report.as_dict()}, indent=2) + "\n")


async def main(args: argparse.Namespace) -> LoadReport:
    task = asyncio.current_task()
    assert task is not None
    install_sigterm(task)
    with work_directory(args.keep_logs, "learnhub-load-") as workdir:
        return await run(config_from(args), args.admin_dsn, workdir=workdir)


if __name__ == "__main__":
    arguments = parse_args()
    try:
        result = asyncio.run(main(arguments))
    except KeyboardInterrupt:
        print("interrupted: server stopped, database dropped", file=sys.stderr)
        sys.exit(130)
    write_report(result, "python -m reliability.load " + " ".join(sys.argv[1:]), arguments.json)
    sys.exit(0 if result.ok else 1)
