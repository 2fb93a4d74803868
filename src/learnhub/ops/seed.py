"""`learnhub seed`: realistic, referentially valid data at scale, generated deterministically.

Rows are plain tuples generated in chunks, each chunk from its own `random.Random` derived from
the seed, so the same seed always gives the same rows, ids included (UUIDv7-shaped ids whose
time part is the row's `created_at` and whose random bits come from the generator, never from
the clock). `ops.bulk_load` writes them (COPY on PostgreSQL, executemany on SQLite) in
one transaction, generating the next chunk in a worker thread while the current one is written.
This module is the writer; `seed_spec` says what to generate, `seed_generator` and
`seed_learners` generate it.

What is generated: instructors and students (one shared, precomputed argon2 hash of
`SEED_PASSWORD`, so load tests can log in), published courses with tags, one section and a few
videos each, enrolments, video progress with its watched segments, reviews, and the derived
values exactly: `courses.enrollment_count`, `rating`, `rating_count`, the `rating_N_count`
histogram, `enrollments.completed_videos` and the `learner_stats` read model. Each entity gets
the `create` audit entry the unit of work would have written, built by its own row builder
(actor NULL: the system; request id
`seed:<seed>`), so `learnhub audit verify` stays clean. No domain events are recorded: seeded
data is history, not news, and nothing downstream should react to it.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from learnhub.domain.errors import InvalidValue
from learnhub.domain.permissions import INSTRUCTOR, STUDENT
from learnhub.ops.bulk_load import BulkLoader
from learnhub.ops.seed_generator import SeedGenerator
from learnhub.ops.seed_learners import student_chunks
from learnhub.ops.seed_spec import (
    ENTITY_TABLES,
    TABLE_COLUMNS,
    TABLES,
    Chunk,
    Progress,
    SeedReport,
    SeedSpec,
)
from learnhub.ops.seed_words import EXTRA_TAGS, TOPICS


async def seed(
    engine: AsyncEngine, spec: SeedSpec, on_progress: Progress | None = None
) -> SeedReport:
    """Generate and load everything `spec` asks for in one transaction (all or nothing)."""
    spec.validate()
    report = SeedReport()
    started = time.perf_counter()
    progress = on_progress or (lambda _table, _rows: None)
    async with engine.connect() as connection:
        loader = BulkLoader(connection)
        await loader.start()
        populated = await loader.count_rows(ENTITY_TABLES)
        role_ids = await loader.ids_by_name("roles", [INSTRUCTOR, STUDENT])
        if set(role_ids) != {INSTRUCTOR, STUDENT}:
            raise InvalidValue("the built-in roles are missing: run `learnhub db upgrade` first")
        tag_names = sorted({tag for _, tag in TOPICS} | set(EXTRA_TAGS))
        generator = SeedGenerator(spec, role_ids, await loader.ids_by_name("tags", tag_names))

        indexes: list[str] = []
        if not any(populated.values()):
            # An empty database: build secondary indexes once at the end instead of row by row.
            phase = time.perf_counter()
            indexes = await loader.drop_secondary_indexes(TABLES)
            report.dropped_indexes = len(indexes)
            report.phases["drop indexes"] = time.perf_counter() - phase

        async def write(chunk: Chunk) -> None:
            for table in TABLES:
                rows = chunk.get(table)
                if rows:
                    began = time.perf_counter()
                    await loader.write(table, TABLE_COLUMNS[table], rows)
                    report.write_seconds[table] += time.perf_counter() - began
                    report.rows[table] += len(rows)
                    progress(table, len(rows))

        phase = time.perf_counter()
        await write(generator.tags_chunk())
        await write(generator.instructors_chunk())
        for chunk in generator.course_chunks():
            await write(chunk)
        report.phases["catalog"] = time.perf_counter() - phase

        phase = time.perf_counter()
        makers = iter(list(student_chunks(generator)))
        pending = next(makers, None)
        upcoming = asyncio.create_task(asyncio.to_thread(pending)) if pending else None
        while upcoming is not None:
            chunk = await upcoming
            following = next(makers, None)
            # The next chunk is generated while this one is written.
            upcoming = asyncio.create_task(asyncio.to_thread(following)) if following else None
            await write(chunk)
        report.phases["learners"] = time.perf_counter() - phase

        phase = time.perf_counter()
        await loader.set_course_counters(generator.course_counters())
        report.phases["course counters"] = time.perf_counter() - phase
        if indexes:
            phase = time.perf_counter()
            for definition in indexes:
                await loader.create_index(definition)
                progress("indexes", 1)
            report.phases["build indexes"] = time.perf_counter() - phase
        phase = time.perf_counter()
        await loader.analyze(TABLES)
        report.phases["analyze"] = time.perf_counter() - phase
        phase = time.perf_counter()
        await connection.commit()
        report.phases["commit"] = time.perf_counter() - phase
    report.seconds = time.perf_counter() - started
    return report
