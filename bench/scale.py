"""Scale flatness: do the hot reads cost the same at 10k, 100k and 1M rows?

Grows one database step by step (seed the smallest size, measure, grow to the next, ...)
and at each size measures p50/p99 of three reads, each in its own unit of work as a
request would run it, with keys sampled at random from the data:

- catalog page: `CatalogService.catalog`, first page by rating, 20 courses;
- enrolment lookup: `EnrollmentRepository.for_user_and_course`;
- progress lookup: `ProgressRepository.for_user_and_video`.

Size n = n users, n/10 courses (5 videos each), 2 enrolments per user, 5 progress rows per
enrolment (1M -> 2M enrolments, 10M progress rows). Target per read: p99 at the largest
size / p99 at the smallest <= 1.5.

Data comes from `bench/data.py` (in-database generate_series, growable) or, with
`--seeder learnhub`, from `learnhub seed` on a fresh database per size.

    python -m bench.scale [--smoke] [--sizes 10000,100000,1000000] [--seeder sql|learnhub]
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from bench import harness
from bench.data import Shape, grow
from bench.harness import Config, Result
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.repositories.filters import CursorPagination
from learnhub.repositories.learning import EnrollmentRepository, ProgressRepository
from learnhub.services.catalog import CatalogQuery, CatalogService

READS = ("catalog page", "enrollment lookup", "progress lookup")


async def sample(dsn: str, table: str, columns: str, count: int, seed: int) -> list[Any]:
    """About `count` random rows' key columns (BERNOULLI sample, then shuffled)."""
    conn = await asyncpg.connect(dsn)
    try:
        total = await conn.fetchval(f"SELECT count(*) FROM {table}")
        percent = min(100.0, 100.0 * 3 * count / max(1, total))
        await conn.execute("SELECT setseed(0.5)")
        rows = await conn.fetch(
            f"SELECT {columns} FROM {table} TABLESAMPLE BERNOULLI ({percent}) REPEATABLE ({seed})"
        )
    finally:
        await conn.close()
    keys = [tuple(r) for r in rows]
    random.Random(seed).shuffle(keys)
    if not keys:
        raise RuntimeError(f"no rows in {table}")
    return keys[:count]


async def measure(url: str, config: Config) -> dict[str, list[float]]:
    dsn = harness.plain_dsn(url)
    enrolments = await sample(dsn, "enrollments", "user_id, course_id", config.scale_samples, 7)
    progress = await sample(dsn, "video_progress", "user_id, video_id", config.scale_samples, 11)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    turn = {"enrollment": 0, "progress": 0}

    def next_key(kind: str, keys: list[Any]) -> Any:
        turn[kind] += 1
        return keys[turn[kind] % len(keys)]

    async def catalog() -> None:
        async with UnitOfWork(sessions) as uow:
            page = await CatalogService(uow).catalog(CatalogQuery(), CursorPagination(20), "rating")
            assert page.items

    async def enrollment() -> None:
        user, course = next_key("enrollment", enrolments)
        async with UnitOfWork(sessions) as uow:
            found = await uow.repo(EnrollmentRepository).for_user_and_course(user, course)
            assert found is not None

    async def progress_row() -> None:
        user, video = next_key("progress", progress)
        async with UnitOfWork(sessions) as uow:
            found = await uow.repo(ProgressRepository).for_user_and_video(user, video)
            assert found is not None

    reads: dict[str, Callable[[], Awaitable[None]]] = {
        "catalog page": catalog,
        "enrollment lookup": enrollment,
        "progress lookup": progress_row,
    }
    try:
        times: dict[str, list[float]] = {}
        for name, call in reads.items():
            times[name] = await harness.latencies(call, config.scale_samples, warmup=20)
    finally:
        await engine.dispose()
    return times


def _tell(size: int, times: dict[str, list[float]]) -> None:
    """Each size's numbers as soon as they exist (a long run may be cut short)."""
    for name, samples in times.items():
        harness.say(
            f"scale {size:,} {name}: p50 {1000 * harness.percentile(samples, 50):.2f} ms, "
            f"p99 {1000 * harness.percentile(samples, 99):.2f} ms"
        )


def learnhub_seed_available() -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "learnhub.cli", "seed", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "--users" in probe.stdout


def learnhub_seed(url: str, shape: Shape) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "learnhub.cli",
            "seed",
            "--users",
            str(shape.users),
            "--courses",
            str(shape.courses),
            "--enrollments-per-user",
            str(shape.enrollments),
            "--progress-per-enrollment",
            str(shape.progress),
            "--videos-per-course",
            str(shape.videos),
            "--seed",
            str(shape.seed),
        ],
        env={**os.environ, "LEARNHUB_DATABASE_URL": url},
        check=True,
    )


async def run_sizes(config: Config, seeder: str, existing: str | None) -> list[Result]:
    per_size: dict[int, dict[str, list[float]]] = {}
    seeded: dict[int, float] = {}
    if seeder == "learnhub":
        for size in config.scale_sizes:
            async with harness.throwaway_database("learnhub_bench_scale") as url:
                started = time.perf_counter()
                await asyncio.to_thread(learnhub_seed, url, Shape.of_size(size))
                seeded[size] = time.perf_counter() - started
                per_size[size] = await measure(url, config)
                _tell(size, per_size[size])
    else:
        async with harness.database(existing, "learnhub_bench_scale") as url:
            for size in config.scale_sizes:
                started = time.perf_counter()
                await grow(harness.plain_dsn(url), Shape.of_size(size))
                seeded[size] = time.perf_counter() - started
                harness.say(f"scale: grew to {size:,} in {seeded[size]:.1f} s")
                per_size[size] = await measure(url, config)
                _tell(size, per_size[size])
    smallest, largest = min(per_size), max(per_size)
    results = []
    for name in READS:
        notes = [
            f"{size:,}: p50 {1000 * harness.percentile(t[name], 50):.2f} ms, "
            f"p99 {1000 * harness.percentile(t[name], 99):.2f} ms"
            for size, t in sorted(per_size.items())
        ]
        if name == READS[0]:
            notes.append(
                f"seeder {seeder}; seconds to reach each size: "
                + ", ".join(f"{s:,}: {v:.0f}" for s, v in sorted(seeded.items()))
            )
        results.append(
            Result(
                "scale",
                f"{name} p99 at {largest:,} vs {smallest:,}",
                1000 * harness.percentile(per_size[largest][name], 99),
                1000 * harness.percentile(per_size[smallest][name], 99),
                "ms",
                "<=",
                1.5,
                notes,
            )
        )
    return results


async def run(url: str, config: Config, seeder: str = "sql") -> list[Result]:
    """Scale owns its database: `url` is ignored unless it is a bench database to grow."""
    return await run_sizes(config, seeder, None)


def main() -> None:
    config, existing = harness.parse_config(doc=__doc__)
    seeder = "sql"
    if "--seeder" in sys.argv:
        seeder = sys.argv[sys.argv.index("--seeder") + 1]
    if seeder == "learnhub" and not learnhub_seed_available():
        raise SystemExit("`learnhub seed --users ...` is not available here")
    results = asyncio.run(run_sizes(config, seeder, existing or None))
    print(harness.table(results))
    for r in results:
        for note in r.notes:
            print(f"- {r.metric}: {note}")


if __name__ == "__main__":
    main()
