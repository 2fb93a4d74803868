"""What the audit trail and the outbox cost a write.

The same service calls, each in its own unit of work and committed, with audit and outbox
on (the production classes) and off. "Off" exists only here: a session class with the
project's soft-delete filter and actor stamping but without the audit flush hook, and a
unit of work whose `record` keeps the event in memory without adding an outbox row.
Production code has no switch for either.

- course update (`CourseService.update`, a new title): writes one audit row, no event;
- archive then publish (`CourseService.archive` + `publish`): each writes an audit row and
  an outbox row.

Reports the median latency per write; target: on / off <= 1.3.

    python -m bench.write_overhead [--smoke] [--profile] [--database-url URL]
"""

from __future__ import annotations

import cProfile
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session

from bench import harness
from bench.harness import Config, Result
from learnhub.db import session as learnhub_session
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.domain.context import current_actor_id
from learnhub.domain.principal import Principal
from learnhub.events.events import DomainEvent
from learnhub.services.course import CourseChanges, CourseService
from learnhub.services.course_access import MANAGE


class UnauditedSession(Session):
    """LearnHubSession's behaviour minus the audit rows (benchmark baseline only)."""


event.listen(UnauditedSession, "do_orm_execute", learnhub_session._on_execute)
event.listen(UnauditedSession, "before_flush", learnhub_session._stamp_actor)


class NoOutboxUnitOfWork(UnitOfWork):
    """Records events in memory only: no outbox row (benchmark baseline only)."""

    def record(self, event: DomainEvent) -> None:
        self.events.append(event)


async def run(url: str, config: Config) -> list[Result]:
    engine = create_engine(url)
    audited = create_session_factory(engine)
    unaudited = async_sessionmaker(
        engine, sync_session_class=UnauditedSession, expire_on_commit=False, autoflush=True
    )
    conn = await asyncpg.connect(harness.plain_dsn(url))
    try:
        # An existing user acts (updated_by is a foreign key); the permission makes it admin.
        admin_id = await conn.fetchval("SELECT id FROM users ORDER BY id LIMIT 1")
        ids = [
            r[0]
            for r in await conn.fetch(
                "SELECT id FROM courses WHERE status = 'published' ORDER BY id LIMIT 40"
            )
        ]
    finally:
        await conn.close()
    admin = Principal(admin_id, None, frozenset({"admin"}), frozenset({MANAGE}))
    half = len(ids) // 2
    sides: dict[str, tuple[Callable[[], UnitOfWork], list[uuid.UUID]]] = {
        "on": (lambda: UnitOfWork(audited), ids[:half]),
        "off": (lambda: NoOutboxUnitOfWork(unaudited), ids[half:]),
    }
    counter = {"on": 0, "off": 0}

    def target(side: str) -> tuple[Callable[[], UnitOfWork], uuid.UUID, int]:
        make, courses = sides[side]
        n = counter[side]
        counter[side] += 1
        return make, courses[n % len(courses)], n

    async def update(side: str) -> None:
        make, course_id, n = target(side)
        async with make() as uow:
            changes = CourseChanges(title=f"Benchmark course {n} ({side})")
            await CourseService(uow).update(admin, course_id, changes, None)
            await uow.commit()

    async def archive_publish(side: str) -> None:
        make, course_id, _ = target(side)
        async with make() as uow:
            await CourseService(uow).archive(admin, course_id)
            await uow.commit()
        async with make() as uow:
            await CourseService(uow).publish(admin, course_id)
            await uow.commit()

    async def trail() -> tuple[int, int]:
        check = await asyncpg.connect(harness.plain_dsn(url))
        try:
            audit = await check.fetchval("SELECT count(*) FROM audit_log")
            outbox = await check.fetchval("SELECT count(*) FROM outbox")
        finally:
            await check.close()
        return int(audit), int(outbox)

    token = current_actor_id.set(admin_id)
    results = []
    try:
        # The baseline really writes neither, and the measured side writes both.
        before = await trail()
        await archive_publish("off")
        if await trail() != before:
            raise AssertionError("the baseline wrote audit or outbox rows")
        await archive_publish("on")
        after = await trail()
        if not (after[0] >= before[0] + 2 and after[1] >= before[1] + 2):
            raise AssertionError("the measured side wrote no audit or outbox rows")
        operations: list[tuple[str, Callable[[str], Awaitable[None]], int]] = [
            ("course update (audit row)", update, 1),
            ("archive + publish (audit + outbox rows)", archive_publish, 2),
        ]
        for name, op, writes in operations:
            per_round = max(5, config.samples // config.rounds // (4 * writes))
            times: dict[str, list[float]] = {"on": [], "off": []}
            warmup = max(3, per_round // 10)
            for side in times:
                await harness.latencies(lambda s=side, op=op: op(s), 0, warmup=warmup)
            for _ in range(config.rounds):
                for side in times:
                    times[side] += await harness.latencies(
                        lambda s=side, op=op: op(s), per_round, warmup=0
                    )
            on = harness.median(times["on"]) / writes
            off = harness.median(times["off"]) / writes
            if config.profile:
                slug = "update" if writes == 1 else "archive_publish"
                out = config.profile_dir / f"write_overhead_{slug}.prof"
                config.profile_dir.mkdir(parents=True, exist_ok=True)
                profiler = cProfile.Profile()
                profiler.enable()
                await harness.latencies(lambda op=op: op("on"), per_round, warmup=0)
                profiler.disable()
                profiler.dump_stats(out)
                summary = harness.top_of_cprofile(out)
                (config.profile_dir / f"write_overhead_{slug}.txt").write_text(summary)
                harness.say(summary)
            results.append(
                Result(
                    "write_overhead",
                    f"{name}, median per write",
                    1000 * on,
                    1000 * off,
                    "ms",
                    "<=",
                    1.3,
                    [
                        f"{name}: {config.rounds} rounds x {per_round} per side; p99 on "
                        f"{1000 * harness.percentile(times['on'], 99) / writes:.2f} ms, off "
                        f"{1000 * harness.percentile(times['off'], 99) / writes:.2f} ms"
                    ],
                )
            )
    finally:
        current_actor_id.reset(token)
        await engine.dispose()
    return results


if __name__ == "__main__":
    harness.standalone(run, __doc__)
