"""What one part of a course page's request costs under load: CPU per request in process
(bench/asgi_cpu.py's driver) with that part switched off, against the app as it is.

    python -m bench.ablation --database-url URL --without PART [--seconds S]
        [--courses-in-turn N]

A part's cost measured alone in a tight loop (timeit) is what it costs with its code and
data hot; between the other work of a request they are not, and the same part can cost
two or three times as much. Switching it off in the running app shows that cost. Machine
noise is larger than most parts, so run two at once on one core, the app as it is and the
app without the part, and compare the pair (bench/RESULTS.md):

    taskset -c 0 python -m bench.ablation --database-url URL --without nothing &
    taskset -c 0 python -m bench.ablation --database-url URL --without access-line

The parts: `access-line` (the log line every request writes), `page-writing` (a course
page's JSON and ETag, replaced by a constant page of the same size), `latency-histogram`
(the route's histogram), `statement-events` (the cursor events around the statement:
timing, the slow-query log, statement counters). Diagnostic only: what users get is the
app with every part on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
from collections.abc import Callable
from typing import Any

from bench import asgi_cpu


class _Unobserved:
    def observe(self, _value: float) -> None:
        pass


class _ConstantPages:
    """Every course page the same bytes, of a course page's size."""

    page = (b"x" * 1900, 'W/"1.constant"')

    def of(self, _key: object, _source: object) -> tuple[bytes, str]:
        return self.page


def _replace(owner: Any, name: str, value: object) -> None:
    """`owner.name` replaced; one that no longer exists is an error, never a switch that
    silently switches nothing off."""
    if not hasattr(owner, name):
        raise AttributeError(f"{owner!r} has no {name!r} to switch off: update bench/ablation.py")
    setattr(owner, name, value)


def _without_access_line() -> None:
    from learnhub.api import middleware

    _replace(middleware.log, "info", lambda *_args, **_values: None)


def _without_page_writing() -> None:
    from learnhub.api.routers import courses

    _replace(courses, "_outline_pages", _ConstantPages())


def _without_latency_histogram() -> None:
    from learnhub.api import middleware

    _replace(middleware, "request_duration", lambda *_labels: _Unobserved())


def _without_statement_events() -> None:
    from learnhub.db import driver_reads

    _replace(driver_reads.announced, "__enter__", lambda _self: None)
    _replace(driver_reads.announced, "__exit__", lambda _self, *_: None)


PARTS: dict[str, Callable[[], None]] = {
    "nothing": lambda: None,
    "access-line": _without_access_line,
    "page-writing": _without_page_writing,
    "latency-histogram": _without_latency_histogram,
    "statement-events": _without_statement_events,
}


async def main(args: argparse.Namespace) -> tuple[float, float]:
    app: Any = asgi_cpu._app(args.database_url, False, args.clients)
    PARTS[args.without]()
    async with app.router.lifespan_context(app):
        paths = [f"/api/v1/courses/bench-{n}" for n in range(args.courses_in_turn)]
        return await asgi_cpu.measure(app, paths, args.seconds, args.clients)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a database seeded by the bench")
    parser.add_argument("--without", choices=sorted(PARTS), required=True)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--courses-in-turn", type=int, default=1024)
    arguments = parser.parse_args()
    import uvloop

    uvloop.install()
    with contextlib.redirect_stdout(io.StringIO()):  # the app's log lines: not the report
        rate, cpu = asyncio.run(main(arguments))
    print(f"without {arguments.without}: {rate:,.0f} req/s, {cpu * 1e6:.1f} us of CPU per request")
