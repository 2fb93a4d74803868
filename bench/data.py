"""Benchmark data, generated inside PostgreSQL (INSERT ... SELECT generate_series).

Referentially valid and deterministic for a given seed: every id is `md5('<seed>-<kind>-<n>')`
read as a UUID. Growable: `grow` adds the rows between the current and the wanted size, so
a scale run can seed 10k, measure, and grow to 100k and 1M without starting again.

A size `n` means n users, n/10 published courses (each with one section, `videos` videos,
two tags and two objectives), `enrollments` enrolments per user and `progress` video
progress rows per enrolment: at n = 1M with the defaults, 2M enrolments and 10M progress
rows. `learnhub seed` is the project's real generator; `shape_from_seed_command` below
runs it instead when it is installed (see `bench/scale.py --seeder`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import asyncpg

TAGS = 20
# Rows per INSERT statement for the big tables, so one statement never holds millions.
CHUNK_USERS = 50_000


@dataclass(frozen=True)
class Shape:
    users: int
    courses: int
    videos: int = 5  # per course
    enrollments: int = 2  # per user
    progress: int = 5  # per enrolment, at most `videos`
    seed: int = 1

    @classmethod
    def of_size(cls, n: int, *, seed: int = 1, **overrides: int) -> Shape:
        values = {"users": n, "courses": max(n // 10, 10), "seed": seed, **overrides}
        return cls(**values)


def key(seed: int, kind: str, *parts: int) -> uuid.UUID:
    """The id the generator gives row `parts` of `kind` (same as the SQL's md5(...)::uuid)."""
    text = "-".join([str(seed), kind, *map(str, parts)])
    return uuid.UUID(hashlib.md5(text.encode()).hexdigest())


def _id(kind: str, *parts: str) -> str:
    joined = " || '-' || ".join(f"({p})::text" for p in parts)
    return f"md5($1::text || '-{kind}-' || {joined})::uuid"


async def current_shape(conn: asyncpg.Connection) -> tuple[int, int]:
    users = await conn.fetchval("SELECT count(*) FROM users WHERE email LIKE '%@bench.example'")
    courses = await conn.fetchval("SELECT count(*) FROM courses WHERE slug LIKE 'bench-%'")
    return int(users), int(courses)


async def grow(dsn: str, shape: Shape) -> None:
    """Add rows until the database holds `shape` (users and courses only ever grow; the
    enrolments and progress of users added now follow the shape's per-user counts)."""
    if shape.progress > shape.videos:
        raise ValueError("progress rows per enrolment cannot exceed videos per course")
    conn = await asyncpg.connect(dsn)
    try:
        have_users, have_courses = await current_shape(conn)
        seed = str(shape.seed)
        if have_users == 0 and have_courses == 0:
            await conn.execute(
                f"INSERT INTO tags (id, name) SELECT {_id('tag', 'g')}, 'bench-tag-' || g "
                "FROM generate_series(0, $2::int - 1) g",
                seed,
                TAGS,
            )
        for start in range(have_users, shape.users, CHUNK_USERS):
            await _users(conn, seed, start, min(start + CHUNK_USERS, shape.users))
        if shape.courses > have_courses:
            await _courses(conn, seed, have_courses, shape.courses, shape)
        for start in range(have_users, shape.users, CHUNK_USERS):
            end = min(start + CHUNK_USERS, shape.users)
            await _learning(conn, seed, start, end, shape)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _users(conn: asyncpg.Connection, seed: str, start: int, end: int) -> None:
    await conn.execute(
        f"""
        INSERT INTO users (id, email, display_name, password_hash, status)
        SELECT {_id("user", "g")}, 'user' || g || '@bench.example', 'User ' || g,
               'not-a-hash', 'active'
        FROM generate_series($2::bigint, $3::bigint - 1) g
        """,
        seed,
        start,
        end,
    )


async def _courses(conn: asyncpg.Connection, seed: str, start: int, end: int, shape: Shape) -> None:
    # Instructors are among the first users; ratings spread over 0..5 by a multiplicative
    # hash, so the rating order is not the insertion order.
    await conn.execute(
        f"""
        INSERT INTO courses (id, title, slug, description, instructor_id, price_amount,
                             price_currency, difficulty, status, published_at, rating,
                             rating_count, rating_5_count, enrollment_count)
        SELECT {_id("course", "g")}, 'Course ' || g, 'bench-' || g,
               'What course ' || g || ' teaches. ' || repeat('Practical lessons. ', 8),
               {_id("user", "g % LEAST($4::bigint, 1000)")},
               ((g * 37) % 20000) / 100.0, 'USD',
               (ARRAY['beginner', 'intermediate', 'advanced', 'expert'])[1 + g % 4],
               'published', now() - make_interval(secs => g),
               ((g * 2654435761) % 501) / 100.0, (g * 7) % 1000, (g * 7) % 1000,
               (g * 13) % 5000
        FROM generate_series($2::bigint, $3::bigint - 1) g
        """,
        seed,
        start,
        end,
        shape.users,
    )
    await conn.execute(
        f"""
        INSERT INTO course_tags (course_id, tag_id)
        SELECT {_id("course", "g")}, {_id("tag", "t")}
        FROM generate_series($2::bigint, $3::bigint - 1) g,
             LATERAL (VALUES (g % {TAGS}), ((g * 7 + 3) % {TAGS})) AS x(t)
        """,
        seed,
        start,
        end,
    )
    await conn.execute(
        f"""
        INSERT INTO course_objectives (id, course_id, position, text)
        SELECT {_id("objective", "g", "p")}, {_id("course", "g")}, p,
               'Objective ' || (p + 1) || ' of course ' || g
        FROM generate_series($2::bigint, $3::bigint - 1) g, generate_series(0, 1) p
        """,
        seed,
        start,
        end,
    )
    await conn.execute(
        f"""
        INSERT INTO sections (id, course_id, title, position)
        SELECT {_id("section", "g")}, {_id("course", "g")}, 'Basics', 0
        FROM generate_series($2::bigint, $3::bigint - 1) g
        """,
        seed,
        start,
        end,
    )
    await conn.execute(
        f"""
        INSERT INTO videos (id, course_id, section_id, title, url, duration_seconds,
                            position, transcript)
        SELECT {_id("video", "g", "j")}, {_id("course", "g")}, {_id("section", "g")},
               'Lesson ' || (j + 1), 'https://videos.example/' || g || '/' || j, 600, j, ''
        FROM generate_series($2::bigint, $3::bigint - 1) g, generate_series(0, $4::int - 1) j
        """,
        seed,
        start,
        end,
        shape.videos,
    )


async def _learning(
    conn: asyncpg.Connection, seed: str, start: int, end: int, shape: Shape
) -> None:
    step = max(1, shape.courses // shape.enrollments)
    course = "(g * 7919 + k * $4::bigint) % $5::bigint"
    await conn.execute(
        f"""
        INSERT INTO enrollments (id, user_id, course_id, status, enrolled_at)
        SELECT {_id("enrollment", "g", "k")}, {_id("user", "g")}, {_id("course", course)},
               'active', now()
        FROM generate_series($2::bigint, $3::bigint - 1) g,
             generate_series(0, $6::int - 1) k
        """,
        seed,
        start,
        end,
        step,
        shape.courses,
        min(shape.enrollments, shape.courses),
    )
    if shape.progress == 0:
        return
    await conn.execute(
        f"""
        INSERT INTO video_progress (id, user_id, video_id, course_id, position_seconds,
                                    watched_seconds, completed, last_heartbeat_at)
        SELECT {_id("progress", "g", "k", "j")}, {_id("user", "g")},
               {_id("video", course, "j")}, {_id("course", course)},
               60 * j, 60 * j, false, now()
        FROM generate_series($2::bigint, $3::bigint - 1) g,
             generate_series(0, $6::int - 1) k, generate_series(0, $7::int - 1) j
        """,
        seed,
        start,
        end,
        step,
        shape.courses,
        min(shape.enrollments, shape.courses),
        shape.progress,
    )
