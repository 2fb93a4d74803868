"""Catalog list through the full app vs a minimal raw asyncpg + Starlette endpoint.

`GET /api/v1/courses?sort=rating&limit=20` on both, each under uvicorn (one worker, no
access log) in a subprocess on a loopback port, driven by the same load generator (wrk
when installed, else the harness's asyncio client) with the same connections and duration,
rounds alternating between the two. Before timing, both answers must hold equal items and
the same next cursor. Reports requests per second; target: app / raw >= 0.7.

    python -m bench.catalog_http [--smoke] [--profile] [--database-url URL]
"""

from __future__ import annotations

import asyncio

import httpx

from bench import harness
from bench.harness import Config, Result

PATH = "/api/v1/courses?sort=rating&limit=20"
SECRET = "bench-signing-secret-" + "x" * 32


def app_env(url: str) -> dict[str, str]:
    """The real app with its defaults, except: no background audit replay (it would run at
    random moments of a round) and a fixed signing key."""
    return {
        "LEARNHUB_DATABASE_URL": url,
        "LEARNHUB_JWT_SECRET": SECRET,
        "LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS": "0",
    }


async def same_answers(app_url: str, raw_url: str) -> int:
    async with httpx.AsyncClient(timeout=30) as client:
        app = (await client.get(app_url + PATH)).raise_for_status().json()
        raw = (await client.get(raw_url + PATH)).raise_for_status().json()
    if app["items"] != raw["items"] or app["next_cursor"] != raw["next_cursor"]:
        for a, r in zip(app["items"], raw["items"], strict=False):
            if a != r:
                diff = {
                    k: (a.get(k), r.get(k)) for k in a.keys() | r.keys() if a.get(k) != r.get(k)
                }
                raise AssertionError(f"app and raw endpoint disagree: {diff}")
        raise AssertionError("app and raw endpoint disagree on the page")
    if not app["items"]:
        raise AssertionError("the catalog is empty")
    return len(app["items"])


async def run(url: str, config: Config) -> list[Result]:
    dsn = harness.plain_dsn(url)
    with (
        harness.uvicorn_server("learnhub.api.app:create_app", app_env(url), factory=True) as (
            app_base,
            app_process,
        ),
        harness.uvicorn_server("bench.raw_app:app", {"BENCH_RAW_DSN": dsn}) as (raw_base, _),
    ):
        items = await same_answers(app_base, raw_base)

        async def measure(base: str) -> float:
            result = await harness.load(
                base + PATH,
                connections=config.connections,
                seconds=config.seconds,
                tool=config.tool,
            )
            if result.errors:
                raise RuntimeError(f"{result.errors} failed requests against {base}")
            return result.requests_per_second

        # Warm both (connection pools, caches), untimed.
        await measure(app_base)
        await measure(raw_base)
        values = await harness.alternate(
            {"app": lambda: measure(app_base), "raw": lambda: measure(raw_base)}, config.rounds
        )
        notes = [
            f"{items} items per page; load: "
            f"{'wrk' if config.tool != 'python' and harness.wrk_available() else 'python'}"
            f", {config.connections} connections, {config.rounds} x {config.seconds:g} s each",
            "app rounds: " + ", ".join(f"{v:.0f}" for v in values["app"]),
            "raw rounds: " + ", ".join(f"{v:.0f}" for v in values["raw"]),
        ]
        if config.profile and harness.py_spy_available():
            config.profile_dir.mkdir(parents=True, exist_ok=True)
            out = config.profile_dir / "catalog_http_app.collapsed"
            recording = asyncio.create_task(
                harness.py_spy_record(app_process.pid, config.seconds, out)
            )
            await asyncio.sleep(0.5)
            await measure(app_base)
            await recording
            summary = harness.top_of_collapsed(out)
            (config.profile_dir / "catalog_http_app.txt").write_text(summary + "\n")
            harness.say(summary)
    return [
        Result(
            "catalog_http",
            "GET /api/v1/courses?sort=rating&limit=20",
            harness.median(values["app"]),
            harness.median(values["raw"]),
            "req/s",
            ">=",
            0.7,
            notes,
        )
    ]


if __name__ == "__main__":
    harness.standalone(run, __doc__)
