"""Deep pagination: the catalog's page 1000 by keyset cursor vs its page 1.

Through the full app in process (httpx's ASGI transport, no server): walk the catalog
(`sort=rating`, 20 per page) from page 1 following `next_cursor` to page 1000, then time
page 1000's request against page 1's, alternating. Reports median latency; target:
page 1000 / page 1 <= 1.5.

    python -m bench.pagination [--smoke] [--database-url URL]
"""

from __future__ import annotations

import time

import httpx

from bench import harness
from bench.catalog_http import SECRET
from bench.harness import Config, Result
from learnhub.api.app import create_app
from learnhub.config import Settings

PATH = "/api/v1/courses?sort=rating&limit=20"


async def run(url: str, config: Config) -> list[Result]:
    settings = Settings(
        database_url=url,
        jwt_secret=SECRET,
        audit_check_interval_seconds=0,
        log_level="warning",  # in process: access lines would go to this script's output
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            cursor = None
            started = time.perf_counter()
            for _ in range(config.page - 1):
                page = await client.get(PATH, params={"cursor": cursor} if cursor else None)
                cursor = page.raise_for_status().json()["next_cursor"]
                if cursor is None:
                    raise RuntimeError(f"the catalog has fewer than {config.page} pages")
            walk = time.perf_counter() - started
            deep_params = {"cursor": cursor}
            deep = (await client.get(PATH, params=deep_params)).raise_for_status().json()
            if len(deep["items"]) != 20:
                raise RuntimeError(f"page {config.page} holds {len(deep['items'])} items")

            async def first() -> None:
                (await client.get(PATH)).raise_for_status()

            async def last() -> None:
                (await client.get(PATH, params=deep_params)).raise_for_status()

            per_round = max(5, config.samples // config.rounds // 4)
            times: dict[str, list[float]] = {"first": [], "deep": []}
            await harness.latencies(first, 0, warmup=10)
            await harness.latencies(last, 0, warmup=10)
            for _ in range(config.rounds):
                times["first"] += await harness.latencies(first, per_round, warmup=0)
                times["deep"] += await harness.latencies(last, per_round, warmup=0)
    deep50, first50 = harness.median(times["deep"]), harness.median(times["first"])
    return [
        Result(
            "pagination",
            f"catalog page {config.page} vs page 1, median latency",
            1000 * deep50,
            1000 * first50,
            "ms",
            "<=",
            1.5,
            [
                f"walked {config.page - 1} cursors in {walk:.1f} s "
                f"({1000 * walk / (config.page - 1):.1f} ms per page)",
                f"p99 page {config.page} {1000 * harness.percentile(times['deep'], 99):.2f} ms, "
                f"page 1 {1000 * harness.percentile(times['first'], 99):.2f} ms",
            ],
        )
    ]


if __name__ == "__main__":
    harness.standalone(run, __doc__)
