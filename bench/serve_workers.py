"""Does `learnhub serve --workers N` scale reads with cores? The catalog's first page
(`GET /api/v1/courses?sort=rating&limit=20`) served by the real command with one worker and
with two, rounds alternating, each driven by the same load generator (wrk when installed,
else the harness's asyncio client) with the same connections. Reports the two-worker rate
over the one-worker rate; on a machine with two cores the load generator and PostgreSQL share
them with the workers, so 2.0 is out of reach there by construction.

    python -m bench.serve_workers [--database-url URL] [--seconds S] [--rounds R]
"""

from __future__ import annotations

from functools import partial

from bench import harness
from bench.concurrency import learnhub_serve
from bench.harness import Config, Result

PATH = "/api/v1/courses?sort=rating&limit=20"


async def run(url: str, config: Config) -> list[Result]:
    connections = max(config.connections, 64)  # enough clients to keep two workers busy
    rates: dict[str, list[float]] = {"1 worker": [], "2 workers": []}
    for _ in range(config.rounds):
        for workers in (1, 2):
            with learnhub_serve(url, harness.ROOT, workers=workers) as (base, _process, _log):
                measure = partial(
                    harness.load, base + PATH, connections=connections, tool=config.tool
                )
                # Warm every worker's pool and caches, untimed.
                await measure(seconds=config.warm_up_seconds or config.seconds)
                load = await measure(seconds=config.seconds)
                if load.errors:
                    raise RuntimeError(f"{load.errors} failed requests with {workers} workers")
                rates["1 worker" if workers == 1 else "2 workers"].append(load.requests_per_second)
    notes = [
        f"{connections} connections, {config.rounds} x {config.seconds:g} s per side",
        *(f"{side}: " + ", ".join(f"{v:.0f}" for v in values) for side, values in rates.items()),
    ]
    return [
        Result(
            "serve_workers",
            "catalog first page, learnhub serve --workers 2 over --workers 1",
            harness.median(rates["2 workers"]),
            harness.median(rates["1 worker"]),
            "req/s",
            ">=",
            1.3,
            notes,
        )
    ]


if __name__ == "__main__":
    harness.standalone(run, __doc__)
