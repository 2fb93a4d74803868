"""Progress heartbeats through the service vs raw asyncpg executemany of an upsert.

LearnHub side: `ProgressService.heartbeat` (a simple client's `watched_seconds` heartbeat),
one unit of work per heartbeat, committed, as the API does per request. Baseline: the
same heartbeats as one `INSERT ... ON CONFLICT (user_id, video_id) DO UPDATE` with the
same rules in SQL (growth capped by elapsed time, never backwards), sent by asyncpg
`executemany` in batches. Each side works on its own half of the (learner, video) pairs, so
both insert each pair's row on its first heartbeat and update it after. Reports heartbeats
per second; target: service / raw >= 0.5. Also noted: raw with one upsert per transaction,
the per-request shape.

    python -m bench.heartbeat [--smoke] [--profile] [--database-url URL]
"""

from __future__ import annotations

import cProfile
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from bench import harness
from bench.harness import Config, Result
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.domain.context import current_actor_id
from learnhub.domain.ids import new_id
from learnhub.domain.principal import Principal
from learnhub.services.learning import PARTICIPATE, Heartbeat, ProgressService

BATCH = 100
UPSERT = """
INSERT INTO video_progress AS p (id, user_id, video_id, course_id, position_seconds,
                                 watched_seconds, completed, last_heartbeat_at)
VALUES ($1, $2, $3, $4, $5, LEAST($6, 10.0), false, now())
ON CONFLICT (user_id, video_id) WHERE deleted_at IS NULL DO UPDATE
SET position_seconds = EXCLUDED.position_seconds,
    watched_seconds = GREATEST(p.watched_seconds, LEAST($6,
        p.watched_seconds + 10.0 + 2.0 * extract(epoch FROM now() - p.last_heartbeat_at))),
    last_heartbeat_at = now(),
    updated_at = now()
"""
Pair = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # user, video, course


async def pairs(dsn: str, count: int) -> list[Pair]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """
            SELECT e.user_id, v.id, v.course_id
            FROM enrollments e JOIN videos v ON v.course_id = e.course_id
            WHERE e.status = 'active' AND e.deleted_at IS NULL AND v.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM video_progress p
                              WHERE p.user_id = e.user_id AND p.video_id = v.id)
            ORDER BY e.id, v.position
            LIMIT $1
            """,
            count,
        )
    finally:
        await conn.close()
    if len(rows) < count:
        raise RuntimeError(f"need {count} fresh (learner, video) pairs, found {len(rows)}")
    return [(r[0], r[1], r[2]) for r in rows]


async def run(url: str, config: Config) -> list[Result]:
    dsn = harness.plain_dsn(url)
    per_side = max(10, config.heartbeats // 4)  # each pair gets about four heartbeats
    found = await pairs(dsn, 2 * per_side)
    mine, theirs = found[:per_side], found[per_side:]
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    counter = {"service": 0, "raw": 0, "single": 0}

    def beat(side: str, pool_of: list[Pair]) -> tuple[Pair, float]:
        n = counter[side]
        counter[side] += 1
        return pool_of[n % len(pool_of)], 5.0 * (1 + n // len(pool_of))

    async def service(count: int) -> None:
        for _ in range(count):
            (user, video, _course), watched = beat("service", mine)
            principal = Principal(user, None, frozenset({"learner"}), frozenset({PARTICIPATE}))
            token = current_actor_id.set(user)
            try:
                async with UnitOfWork(sessions) as uow:
                    await ProgressService(uow).heartbeat(
                        principal,
                        video,
                        Heartbeat(position_seconds=watched, watched_seconds=watched),
                    )
                    await uow.commit()
            finally:
                current_actor_id.reset(token)

    def args(side: str, pool_of: list[Pair]) -> tuple[object, ...]:
        (user, video, course), watched = beat(side, pool_of)
        return (new_id(), user, video, course, watched, watched)

    async def raw(count: int) -> None:
        for start in range(0, count, BATCH):
            batch = [args("raw", theirs) for _ in range(min(BATCH, count - start))]
            async with pool.acquire() as conn:
                await conn.executemany(UPSERT, batch)

    async def single(count: int) -> None:
        for _ in range(count):
            async with pool.acquire() as conn:
                await conn.execute(UPSERT, *args("single", theirs))

    async def throughput(fn: Callable[[int], Awaitable[None]], count: int) -> float:
        start = time.perf_counter()
        await fn(count)
        return count / (time.perf_counter() - start)

    try:
        per_round = max(10, config.heartbeats // config.rounds)
        values = await harness.alternate(
            {
                "service": lambda: throughput(service, per_round),
                "raw": lambda: throughput(raw, per_round),
                "single": lambda: throughput(single, per_round),
            },
            config.rounds,
        )
        if config.profile:
            out = config.profile_dir / "heartbeat_service.prof"
            config.profile_dir.mkdir(parents=True, exist_ok=True)
            profiler = cProfile.Profile()
            profiler.enable()
            await service(per_round)
            profiler.disable()
            profiler.dump_stats(out)
            summary = harness.top_of_cprofile(out)
            (config.profile_dir / "heartbeat_service.txt").write_text(summary)
            harness.say(summary)
    finally:
        await pool.close()
        await engine.dispose()
    service_rate, raw_rate = harness.median(values["service"]), harness.median(values["raw"])
    single_rate = harness.median(values["single"])
    notes = [
        f"{config.rounds} rounds x {per_round} heartbeats per side, {per_side} pairs per side; "
        f"raw batches of {BATCH}",
        f"raw with one upsert per transaction (per-request shape): {single_rate:.0f}/s, "
        f"service / that = {service_rate / single_rate:.3f}",
    ]
    return [
        Result(
            "heartbeat",
            "ProgressService.heartbeat throughput",
            service_rate,
            raw_rate,
            "heartbeats/s",
            ">=",
            0.5,
            notes,
        )
    ]


if __name__ == "__main__":
    harness.standalone(run, __doc__)
