"""Catalog pages through the full app vs a minimal raw asyncpg + Starlette endpoint.

`GET /api/v1/courses?sort=S&limit=20`, each sort's first page and the page after it, the
first course's page `GET /api/v1/courses/{slug}` (anonymous: its outline with sections,
videos and quizzes; the raw side reads it in one statement, the sections as JSON built by
PostgreSQL), and the pages of 1,024 courses requested in turn, on both, each under the same
server (uvicorn with uvloop and httptools, and granian; one worker pinned to one core, no
access log) in a subprocess on a loopback port, driven by the same load generator (wrk when
installed, on the other core; else the harness's asyncio client) with the same connections
and duration, rounds alternating between the two. Before timing, both answers must hold
equal items and the same next cursor (equal bodies for the course pages). Reports requests
per second (target: app / raw >= 0.7) and wrk's p99 latency (target: app / raw <= 1.5).

    python -m bench.catalog_http [--smoke] [--profile] [--database-url URL] [--course-page-only]

`--course-page-only`: the course page alone, on both servers (its rounds take minutes where
every page takes ten).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

import asyncpg
import httpx

from bench import harness
from bench.harness import Config, Result

SORTS = ("rating", "enrollments", "newest", "price", "-price")
FIRST = "/api/v1/courses?sort={sort}&limit=20"
SECRET = "bench-signing-secret-" + "x" * 32
CURRENCY = "USD"  # bench/data.py prices every course in it
# granian is measured on the rating pages only: the server's share is the same for all.
GRANIAN_SORTS = ("rating",)
# The course page of many courses in turn: four times the pages a worker keeps written
# (api/routers/courses.py's PAGES_KEPT; tests/bench/test_asgi_cpu.py holds the relation, as
# importing it would break the bench on older checkouts), so a request nearly always writes
# its page afresh, as a spread of rarely read courses would; "course detail" is one popular
# course, read again and again.
COURSES_IN_TURN = 1024
IN_TURN = "course pages in turn"


def app_env(url: str, config: Config) -> dict[str, str]:
    """The real app with its defaults, except: no background audit replay (it would run at
    random moments of a round), a fixed signing key, and a pool as large as the load (the
    raw service gets the same)."""
    return {
        "LEARNHUB_DATABASE_URL": url,
        "LEARNHUB_JWT_SECRET": SECRET,
        "LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS": "0",
        "LEARNHUB_DB_POOL_SIZE": str(config.connections),
    }


async def same_answers(app_url: str, raw_url: str, path: str) -> dict[str, object]:
    """Both sides' answer to `path`, which must be equal; returns the app's."""
    async with httpx.AsyncClient(timeout=30) as client:
        app = (await client.get(app_url + path)).raise_for_status().json()
        raw = (await client.get(raw_url + path)).raise_for_status().json()
    if app["items"] != raw["items"] or app["next_cursor"] != raw["next_cursor"]:
        for a, r in zip(app["items"], raw["items"], strict=False):
            if a != r:
                diff = {
                    k: (a.get(k), r.get(k)) for k in a.keys() | r.keys() if a.get(k) != r.get(k)
                }
                raise AssertionError(f"app and raw endpoint disagree on {path}: {diff}")
        raise AssertionError(f"app and raw endpoint disagree on {path}")
    if not app["items"]:
        raise AssertionError(f"the catalog page {path} is empty")
    return app  # type: ignore[no-any-return]


async def pages(app_url: str, raw_url: str, sorts: tuple[str, ...]) -> dict[str, str]:
    """Per label, a path both sides answer alike: each sort's first page and the page after
    it (by the app's cursor)."""
    found = {}
    for sort in sorts:
        first = FIRST.format(sort=sort)
        if "price" in sort:
            # A price order needs the currency (the catalog answers 400 without one when
            # listed prices are in several): both sides then walk the (currency, price)
            # index instead of sorting the whole catalog.
            first += f"&currency={CURRENCY}"
        answer = await same_answers(app_url, raw_url, first)
        found[f"sort={sort}"] = first
        if answer["next_cursor"]:
            after = f"{first}&cursor={answer['next_cursor']}"
            await same_answers(app_url, raw_url, after)
            found[f"sort={sort}, cursor page"] = after
    return found


async def detail_path(app_url: str, raw_url: str) -> str:
    """The course page of the catalog's first course, which both sides answer alike (the
    anonymous view: videos locked unless a free preview)."""
    async with httpx.AsyncClient(timeout=30) as client:
        first = (await client.get(app_url + FIRST.format(sort="rating"))).raise_for_status()
    path = f"/api/v1/courses/{first.json()['items'][0]['slug']}"
    await same_course_page(app_url, raw_url, path)
    return path


async def same_course_page(app_url: str, raw_url: str, path: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        app = (await client.get(app_url + path)).raise_for_status().json()
        raw = (await client.get(raw_url + path)).raise_for_status().json()
    if app != raw:
        diff = {
            k: (app.get(k), raw.get(k)) for k in app.keys() | raw.keys() if app.get(k) != raw.get(k)
        }
        raise AssertionError(f"app and raw endpoint disagree on {path}: {diff}")


async def course_paths_in_turn(dsn: str, app_url: str, raw_url: str, count: int) -> list[str]:
    """`count` published courses' pages (in the order of their ids, which bench/data.py
    makes random), some of them checked alike on both sides."""
    connection = await asyncpg.connect(dsn)
    try:
        slugs = await connection.fetch(
            "SELECT slug FROM courses WHERE status = 'published' AND deleted_at IS NULL"
            " ORDER BY id LIMIT $1",
            count,
        )
    finally:
        await connection.close()
    paths = [f"/api/v1/courses/{row['slug']}" for row in slugs]
    for path in (paths[0], paths[len(paths) // 2], paths[-1]):
        await same_course_page(app_url, raw_url, path)
    return paths


async def run(url: str, config: Config, *, course_page_only: bool = False) -> list[Result]:
    results: list[Result] = []
    for server in harness.SERVERS:
        # The smoke run (CI) only checks that every server and page kind still runs.
        sorts = SORTS if server == "uvicorn" and not config.smoke else GRANIAN_SORTS
        results += await run_server(url, config, server, () if course_page_only else sorts)
    return results


async def run_server(url: str, config: Config, server: str, sorts: tuple[str, ...]) -> list[Result]:
    dsn = harness.plain_dsn(url)
    raw_env = {"BENCH_RAW_DSN": dsn, "BENCH_POOL_SIZE": str(config.connections)}
    app_target = "learnhub.api.app:create_app"
    with (
        harness.asgi_server(app_target, app_env(url, config), factory=True, server=server) as (
            app_base,
            app_process,
        ),
        harness.asgi_server("bench.raw_app:app", raw_env, server=server) as (raw_base, _),
    ):
        paths = await pages(app_base, raw_base, sorts)
        paths["course detail"] = await detail_path(app_base, raw_base)
        in_turn = {
            IN_TURN: await course_paths_in_turn(
                dsn, app_base, raw_base, min(COURSES_IN_TURN, config.courses)
            )
        }
        paths[IN_TURN] = in_turn[IN_TURN][0]

        async def measure(
            base: str, path: str, turn: Sequence[str] = (), seconds: float = config.seconds
        ) -> harness.Load:
            result = await harness.load(
                base + path,
                connections=config.connections,
                seconds=seconds,
                tool=config.tool,
                in_turn=turn,
            )
            if result.errors:
                raise RuntimeError(f"{result.errors} failed requests against {base}{path}")
            return result

        results = []
        for label, path in paths.items():
            turn = in_turn.get(label, ())
            # Warm both (connection pools, statement caches), untimed.
            await measure(app_base, path, turn, config.warm_up_seconds or config.seconds)
            await measure(raw_base, path, turn, config.warm_up_seconds or config.seconds)
            loads = await harness.alternate(
                {
                    "app": partial(measure, app_base, path, turn),
                    "raw": partial(measure, raw_base, path, turn),
                },
                config.rounds,
            )
            results += catalog_results(server, label, loads, config)
        if config.profile and harness.py_spy_available():
            await profile(
                app_process.pid,
                lambda: measure(app_base, paths.get("sort=rating", paths["course detail"])),
                server,
                config,
            )
    return results


def catalog_results(
    server: str, label: str, loads: dict[str, list[harness.Load]], config: Config
) -> list[Result]:
    rps = {side: [load.requests_per_second for load in runs] for side, runs in loads.items()}
    tool = loads["app"][0].tool
    notes = [
        f"{server}, load: {tool}, {config.connections} connections, "
        f"{config.rounds} x {config.seconds:g} s each",
        "app rounds: " + ", ".join(f"{v:.0f}" for v in rps["app"]),
        "raw rounds: " + ", ".join(f"{v:.0f}" for v in rps["raw"]),
    ]
    what = {
        "course detail": "GET /api/v1/courses/{slug}",
        IN_TURN: "GET /api/v1/courses/{slug}, courses in turn",
    }.get(label, f"GET /api/v1/courses {label}")
    metric = f"{what} ({server})"
    results = [
        Result(
            "catalog_http",
            metric,
            harness.median(rps["app"]),
            harness.median(rps["raw"]),
            "req/s",
            ">=",
            0.7,
            notes,
        )
    ]
    p99 = {side: [load.p99_ms for load in runs if load.p99_ms] for side, runs in loads.items()}
    if p99["app"] and p99["raw"]:
        results.append(
            Result(
                "catalog_http",
                f"{metric} p99",
                harness.median(p99["app"]),
                harness.median(p99["raw"]),
                "ms",
                "<=",
                1.5,
            )
        )
    return results


async def profile(
    pid: int, measure: Callable[[], Awaitable[object]], server: str, config: Config
) -> None:
    config.profile_dir.mkdir(parents=True, exist_ok=True)
    out = config.profile_dir / f"catalog_http_app_{server}.collapsed"
    recording = asyncio.create_task(harness.py_spy_record(pid, config.seconds, out))
    await asyncio.sleep(0.5)
    await measure()
    await recording
    summary = harness.top_of_collapsed(out)
    (config.profile_dir / f"catalog_http_app_{server}.txt").write_text(summary + "\n")
    harness.say(summary)


if __name__ == "__main__":
    harness.standalone(partial(run, course_page_only="--course-page-only" in sys.argv), __doc__)
