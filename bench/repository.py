"""Repository reads vs the same SQL on raw asyncpg.

`CourseRepository.get_all` (the catalog's first page by rating, 20 rows, with each course's
tags and objectives) and `get_by_id`, each in a fresh read-only unit of work as a GET
request uses it (no transaction: AUTOCOMMIT), on the app's own engine settings; the
baseline replays on raw asyncpg (a pooled connection, no transaction) exactly the
statements and parameters the repository sent, captured on the first call. Reports the
median latency per call; target: repository / raw <= 1.5.

    python -m bench.repository [--smoke] [--profile] [--database-url URL]
"""

from __future__ import annotations

import cProfile
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy import event

from bench import harness
from bench.harness import Config, Result
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.repositories.course import CourseRepository
from learnhub.repositories.course_catalog import Listed
from learnhub.repositories.filters import CursorPagination

Statements = list[tuple[str, tuple[Any, ...]]]


async def _capture(engine: Any, call: Callable[[], Awaitable[object]]) -> Statements:
    seen: Statements = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        seen.append((statement, tuple(params or ())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await call()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def run(url: str, config: Config) -> list[Result]:
    engine = create_engine(url)  # the app's engine settings (pool, pre-ping)
    sessions = create_session_factory(engine)
    pool = await asyncpg.create_pool(harness.plain_dsn(url), min_size=1, max_size=2)
    results = []
    try:
        async with UnitOfWork(sessions, read_only=True) as uow:
            first = await uow.repo(CourseRepository).get_all(
                [Listed()], CursorPagination(20), "rating"
            )
        course_id: uuid.UUID = first.items[0].id

        async def get_all() -> None:
            async with UnitOfWork(sessions, read_only=True) as uow:
                page = await uow.repo(CourseRepository).get_all(
                    [Listed()], CursorPagination(20), "rating"
                )
                for course in page.items:  # what a caller reads
                    _ = course.tags, course.objectives

        async def get_by_id() -> None:
            async with UnitOfWork(sessions, read_only=True) as uow:
                course = await uow.repo(CourseRepository).get_by_id(course_id)
                assert course is not None
                _ = course.tags, course.objectives

        for name, call in (("get_all", get_all), ("get_by_id", get_by_id)):
            statements = await _capture(engine, call)
            queries = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]

            async def raw(queries: Statements = queries) -> None:
                async with pool.acquire() as conn:
                    for sql, params in queries:
                        await conn.fetch(sql, *params)

            per_round = max(1, config.samples // config.rounds)
            times: dict[str, list[float]] = {"repo": [], "raw": []}
            for _side, fn in (("repo", call), ("raw", raw)):
                await harness.latencies(fn, 0, warmup=max(5, per_round // 10))
            for _ in range(config.rounds):
                for side, fn in (("repo", call), ("raw", raw)):
                    times[side] += await harness.latencies(fn, per_round, warmup=0)
            repo50, raw50 = harness.median(times["repo"]), harness.median(times["raw"])
            notes = [
                f"{len(queries)} SELECTs per call, replayed by the baseline; both sides "
                "without a transaction (a GET request's read-only unit of work)",
                f"p99 repository {1000 * harness.percentile(times['repo'], 99):.2f} ms, "
                f"raw {1000 * harness.percentile(times['raw'], 99):.2f} ms",
            ]
            if config.profile:
                out = config.profile_dir / f"repository_{name}.prof"
                config.profile_dir.mkdir(parents=True, exist_ok=True)
                profiler = cProfile.Profile()
                profiler.enable()
                await harness.latencies(call, per_round, warmup=0)
                profiler.disable()
                profiler.dump_stats(out)
                summary = harness.top_of_cprofile(out)
                (config.profile_dir / f"repository_{name}.txt").write_text(summary)
                harness.say(summary)
            results.append(
                Result(
                    "repository",
                    f"CourseRepository.{name} median latency",
                    1000 * repo50,
                    1000 * raw50,
                    "ms",
                    "<=",
                    1.5,
                    notes,
                )
            )
    finally:
        await pool.close()
        await engine.dispose()
    return results


if __name__ == "__main__":
    harness.standalone(run, __doc__)
