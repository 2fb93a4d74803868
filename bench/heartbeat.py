"""Progress heartbeats through the service vs raw asyncpg executemany of an upsert.

LearnHub side: `ProgressService.heartbeats`, a learner's batch of BATCH `watched_seconds`
heartbeats (what `POST /progress/heartbeats` carries when a player syncs its buffer), one
committed unit of work per batch. Baseline: the same batches as one `INSERT ... ON CONFLICT
(user_id, video_id) DO UPDATE` with the same rules in SQL (growth capped by elapsed time,
never backwards), sent by asyncpg `executemany`, one transaction per batch. Each side works
on its own half of the learners, so both insert each (learner, video) row on its first
heartbeat and update it after. Reports heartbeats per second; target: service / raw >= 0.5.

Also measured, in the notes: the per-request shape, `ProgressService.heartbeat` (one
heartbeat per unit of work, as `PUT /videos/{id}/progress` does) against one upsert per
transaction.

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
            ORDER BY e.user_id, v.id
            LIMIT $1
            """,
            count,
        )
    finally:
        await conn.close()
    if len(rows) < count:
        raise RuntimeError(f"need {count} fresh (learner, video) pairs, found {len(rows)}")
    return [(r[0], r[1], r[2]) for r in rows]


def by_learner(found: list[Pair]) -> list[list[Pair]]:
    learners: dict[uuid.UUID, list[Pair]] = {}
    for pair in found:
        learners.setdefault(pair[0], []).append(pair)
    return list(learners.values())


class Beats:
    """Heartbeats for one side: batches of one learner's videos in turn, each video's
    claimed watch time growing by 5 s per beat."""

    def __init__(self, learners: list[list[Pair]]) -> None:
        self.learners = learners
        self.turn = 0
        self.watched: dict[tuple[uuid.UUID, uuid.UUID], float] = {}

    def batch(self, size: int) -> list[tuple[Pair, float]]:
        videos = self.learners[self.turn % len(self.learners)]
        self.turn += 1
        beats = []
        for n in range(size):
            pair = videos[n % len(videos)]
            key = (pair[0], pair[1])
            self.watched[key] = self.watched.get(key, 0.0) + 5.0
            beats.append((pair, self.watched[key]))
        return beats


async def run(url: str, config: Config) -> list[Result]:
    dsn = harness.plain_dsn(url)
    per_side = max(40, config.heartbeats // 4)
    learners = by_learner(await pairs(dsn, 2 * per_side))
    half = len(learners) // 2
    sides = {
        "service": Beats(learners[:half]),
        "raw": Beats(learners[half:]),
        "service_single": Beats(learners[:half]),
        "raw_single": Beats(learners[half:]),
    }
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    batch_size = min(BATCH, max(4, config.heartbeats // 20))

    async def through_service(beats: list[tuple[Pair, float]]) -> None:
        user = beats[0][0][0]
        principal = Principal(user, None, frozenset({"learner"}), frozenset({PARTICIPATE}))
        token = current_actor_id.set(user)
        try:
            async with UnitOfWork(sessions) as uow:
                await ProgressService(uow).heartbeats(
                    principal,
                    [
                        (video, Heartbeat(position_seconds=watched, watched_seconds=watched))
                        for (_user, video, _course), watched in beats
                    ],
                )
                await uow.commit()
        finally:
            current_actor_id.reset(token)

    async def through_asyncpg(beats: list[tuple[Pair, float]]) -> None:
        rows = [(new_id(), u, v, c, watched, watched) for (u, v, c), watched in beats]
        async with pool.acquire() as conn, conn.transaction():
            await conn.executemany(UPSERT, rows)

    def batches(
        side: str, send: Callable[[list[tuple[Pair, float]]], Awaitable[None]], size: int
    ) -> Callable[[int], Awaitable[int]]:
        """A round of about `count` heartbeats in batches of `size`; returns how many."""

        async def go(count: int) -> int:
            rounds = max(1, count // size)
            for _ in range(rounds):
                await send(sides[side].batch(size))
            return rounds * size

        return go

    async def throughput(fn: Callable[[int], Awaitable[int]], count: int) -> float:
        start = time.perf_counter()
        sent = await fn(count)
        return sent / (time.perf_counter() - start)

    service = batches("service", through_service, batch_size)
    raw = batches("raw", through_asyncpg, batch_size)
    service_single = batches("service_single", through_service, 1)
    raw_single = batches("raw_single", through_asyncpg, 1)

    try:
        per_round = max(batch_size, config.heartbeats // config.rounds)
        values = await harness.alternate(
            {
                "service": lambda: throughput(service, per_round),
                "raw": lambda: throughput(raw, per_round),
                "service_single": lambda: throughput(service_single, per_round // 4),
                "raw_single": lambda: throughput(raw_single, per_round // 4),
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
    rate = {side: harness.median(v) for side, v in values.items()}
    notes = [
        f"{config.rounds} rounds; batches of {batch_size} heartbeats of one learner "
        f"({len(learners)} learners, {2 * per_side} (learner, video) pairs in all)",
        f"per-request shape: ProgressService.heartbeat {rate['service_single']:.0f}/s vs one "
        f"upsert per transaction {rate['raw_single']:.0f}/s = "
        f"{rate['service_single'] / rate['raw_single']:.3f}",
    ]
    return [
        Result(
            "heartbeat",
            "ProgressService.heartbeats throughput",
            rate["service"],
            rate["raw"],
            "heartbeats/s",
            ">=",
            0.5,
            notes,
        )
    ]


if __name__ == "__main__":
    harness.standalone(run, __doc__)
