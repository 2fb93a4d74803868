"""`learnhub seed` at scale (small sizes here): referential validity, uniqueness, exact derived
counters, a clean audit trail and determinism, on both engines. The seed commits, so each test
uses a throwaway database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from learnhub.cli.app import app
from learnhub.config import get_settings
from learnhub.db.audit import audited_columns, render_value
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.soft_delete import INCLUDE_DELETED
from learnhub.db.uow import UnitOfWork
from learnhub.models import (
    AuditLog,
    Course,
    Enrollment,
    Review,
    Section,
    Tag,
    User,
    Video,
    VideoProgress,
)
from learnhub.ops.seed import seed
from learnhub.ops.seed_spec import SEED_PASSWORD, SEED_PASSWORD_HASH, SeedReport, SeedSpec
from learnhub.repositories.stats import LearnerStatsRepository
from learnhub.services.audit import AuditService
from learnhub.services.passwords import verify_password
from tests.conftest import prepare
from tests.support.databases import database

SPEC = SeedSpec(
    users=60,
    courses=8,
    enrollments_per_user=3,
    progress_per_enrollment=5,
    videos_per_course=3,
    reviews_ratio=0.6,
    seed=7,
    batch_size=16,  # several chunks of learners and courses
)


@pytest.fixture
async def fresh_engine(backend: str, tmp_dir: Path) -> AsyncIterator[AsyncEngine]:
    async with database(backend, tmp_dir, prefix="learnhub_seed") as url:
        await prepare(url)
        engine = create_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def test_seed_is_referentially_valid_exact_and_audited(fresh_engine: AsyncEngine) -> None:
    report = await seed(fresh_engine, SPEC)
    assert report.rows["users"] == 60 and report.rows["courses"] == 8
    assert report.rows["enrollments"] == SPEC.students * 3
    assert report.rows["video_progress"] > 0 and report.rows["reviews"] > 0
    engine = fresh_engine

    # Foreign keys hold (enforced during the load, or validated when rebuilt on PostgreSQL).
    if engine.dialect.name == "sqlite":
        assert await rows(engine, "PRAGMA foreign_key_check") == []
    else:
        assert report.dropped_indexes > 0
        assert await rows(engine, "SELECT conname FROM pg_constraint WHERE NOT convalidated") == []
        names = {r[0] for r in await rows(engine, "SELECT indexname FROM pg_indexes")}
        assert {"uq_enrollments_user_course_live", "pk_video_progress"} <= names

    # Uniqueness among live rows.
    assert (
        await rows(
            engine,
            "SELECT user_id, course_id FROM enrollments"
            " GROUP BY user_id, course_id HAVING count(*) > 1",
        )
        == []
    )
    assert await rows(engine, "SELECT email FROM users GROUP BY email HAVING count(*) > 1") == []

    # Derived counters equal the rows.
    assert (
        await rows(
            engine,
            "SELECT c.id FROM courses c WHERE c.enrollment_count <>"
            " (SELECT count(*) FROM enrollments e WHERE e.course_id = c.id AND e.deleted_at IS NULL"
            " AND e.status IN ('active', 'completed'))",
        )
        == []
    )
    histograms = await rows(
        engine,
        "SELECT c.id, c.rating, c.rating_count, c.rating_1_count, c.rating_2_count,"
        " c.rating_3_count, c.rating_4_count, c.rating_5_count,"
        + ", ".join(
            f"(SELECT count(*) FROM reviews r WHERE r.course_id = c.id AND r.rating = {n}"
            " AND r.status = 'published' AND r.deleted_at IS NULL)"
            for n in range(1, 6)
        )
        + " FROM courses c",
    )
    assert sum(h[2] for h in histograms) > 0
    for _, rating, count, *counts in histograms:
        stored, recomputed = counts[:5], counts[5:]
        assert stored == recomputed and count == sum(recomputed)
        weighted = sum(n * k for n, k in enumerate(recomputed, start=1))
        expected = (
            (Decimal(weighted) / count).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if count
            else Decimal(0)
        )
        assert Decimal(str(rating)) == expected
    assert (
        await rows(
            engine,
            "SELECT e.id FROM enrollments e WHERE e.completed_videos <> (SELECT count(*) FROM"
            " video_progress p WHERE p.user_id = e.user_id AND p.course_id = e.course_id"
            " AND p.completed AND p.deleted_at IS NULL)",
        )
        == []
    )
    # A course finished means every video done, with a date; and the converse.
    assert (
        await rows(
            engine,
            "SELECT e.id FROM enrollments e WHERE (e.status = 'completed') <> (e.completed_videos ="
            " (SELECT count(*) FROM videos v WHERE v.course_id = e.course_id)"
            " AND e.status <> 'cancelled') OR (e.status = 'completed' AND e.completed_at IS NULL)",
        )
        == []
    )

    # Progress: only in enrolled courses, consistent with completion and with its segments.
    assert (
        await rows(
            engine,
            "SELECT p.id FROM video_progress p JOIN videos v ON v.id = p.video_id"
            " WHERE v.course_id <> p.course_id OR NOT EXISTS (SELECT 1 FROM enrollments e"
            " WHERE e.user_id = p.user_id AND e.course_id = p.course_id)",
        )
        == []
    )
    assert (
        await rows(
            engine,
            "SELECT p.id FROM video_progress p JOIN videos v ON v.id = p.video_id"
            " WHERE p.completed <> (p.watched_seconds >= 0.9 * v.duration_seconds)"
            " OR (p.completed AND p.completed_at IS NULL)"
            " OR p.position_seconds > v.duration_seconds"
            " OR p.watched_seconds <> (SELECT sum(s.end_seconds - s.start_seconds)"
            " FROM video_progress_segments s WHERE s.progress_id = p.id)",
        )
        == []
    )

    factory = create_session_factory(engine)
    async with UnitOfWork(factory) as uow:
        audit = await AuditService(uow).verify()
        assert audit.gaps == [] and audit.rows_checked >= report.total_rows // 4
        learners = await uow.session.execute(select(User.id).where(User.email.like("student-%")))
        repo = LearnerStatsRepository(uow.session)
        for (user_id,) in learners.all():
            totals = (await uow.session.execute(repo._totals(user_id))).one()
            stored = await repo.get(user_id)
            assert (
                stored.enrolled_courses,
                stored.completed_courses,
                stored.completed_videos,
                stored.passed_quizzes,
                stored.last_activity_at,
            ) == tuple(totals)

    # Every seeded account logs in with the documented password.
    hashes = await rows(engine, "SELECT DISTINCT password_hash FROM users")
    assert hashes == [(SEED_PASSWORD_HASH,)]
    assert verify_password(SEED_PASSWORD_HASH, SEED_PASSWORD)


async def test_audit_entries_are_what_the_unit_of_work_writes(fresh_engine: AsyncEngine) -> None:
    await seed(fresh_engine, SPEC)
    factory = create_session_factory(fresh_engine)
    async with factory() as session:
        for model in (User, Tag, Course, Section, Video, Enrollment, VideoProgress, Review):
            found = (
                await session.execute(
                    select(model).execution_options(**{INCLUDE_DELETED: True}).limit(5)
                )
            ).scalars()
            for obj in found:
                entry = (
                    await session.execute(select(AuditLog).where(AuditLog.entity_id == obj.id))
                ).scalar_one()
                assert entry.action == "create" and entry.actor_id is None
                assert entry.request_id == "seed:7"
                expected = {
                    key: [None, render_value(column, getattr(obj, key))]
                    for key, column in audited_columns(inspect(model))
                    if getattr(obj, key) is not None
                }
                collections = {"roles", "tags"}
                plain = {k: v for k, v in entry.changes.items() if k not in collections}
                assert plain == expected, model


async def test_same_seed_same_data(backend: str, tmp_dir: Path) -> None:
    tables = {
        "users": "id, email, display_name, created_at",
        "courses": "id, slug, enrollment_count, rating, published_at",
        "videos": "id, course_id, duration_seconds, transcript",
        "enrollments": "id, user_id, course_id, status, completed_videos, enrolled_at",
        "video_progress": "id, video_id, watched_seconds, completed_at",
        "video_progress_segments": "progress_id, start_seconds, end_seconds",
        "reviews": "id, rating, status",
        "learner_stats": "id, user_id, completed_videos",
        "audit_log": "id, entity_id, occurred_at",
    }

    async def dump(spec: SeedSpec) -> dict[str, list[tuple[Any, ...]]]:
        async with database(backend, tmp_dir, prefix="learnhub_seed") as url:
            await prepare(url)
            engine = create_engine(url)
            try:
                await seed(engine, spec)
                return {
                    table: await rows(
                        engine,
                        f"SELECT {columns} FROM {table}"
                        + (" WHERE request_id LIKE 'seed:%'" if table == "audit_log" else "")
                        + f" ORDER BY {columns.split(',')[0]}, {columns.split(',')[1]}",
                    )
                    for table, columns in tables.items()
                }
            finally:
                await engine.dispose()

    small = SeedSpec(users=25, courses=4, enrollments_per_user=2, progress_per_enrollment=2,
                     seed=11, batch_size=8)  # fmt: skip
    first, second = await dump(small), await dump(small)
    assert first == second
    assert all(first[table] for table in tables)
    other = await dump(SeedSpec(**{**{f: getattr(small, f) for f in small.__slots__}, "seed": 12}))
    assert {r[0] for r in other["users"]}.isdisjoint({r[0] for r in first["users"]})


async def test_a_populated_database_keeps_its_indexes(fresh_engine: AsyncEngine) -> None:
    first = await seed(fresh_engine, SeedSpec(users=10, courses=2, enrollments_per_user=1, seed=1))
    second: SeedReport = await seed(
        fresh_engine, SeedSpec(users=10, courses=2, enrollments_per_user=1, seed=2)
    )
    assert second.dropped_indexes == 0
    if fresh_engine.dialect.name == "postgresql":
        assert first.dropped_indexes > 0
    assert (await rows(fresh_engine, "SELECT count(*) FROM users"))[0][0] == 20
    async with UnitOfWork(create_session_factory(fresh_engine)) as uow:
        assert (await AuditService(uow).verify()).gaps == []


@pytest.mark.parametrize(
    "values",
    [
        {"users": -1, "courses": 1},
        {"users": 5, "courses": 2, "enrollments_per_user": 3},
        {"users": 0, "courses": 3},
        {"users": 5, "courses": 1, "reviews_ratio": 1.5},
        {"users": 5, "courses": 1, "batch_size": 0},
    ],
)
def test_nonsense_sizes_are_refused(values: dict[str, Any]) -> None:
    from learnhub.domain.errors import InvalidValue

    with pytest.raises(InvalidValue):
        SeedSpec(**values).validate()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "seed.db"
    monkeypatch.setenv("LEARNHUB_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    yield run, path
    get_settings.cache_clear()


def test_seed_command(cli) -> None:
    run, path = cli
    sizes = ("--users", "30", "--courses", "5", "--enrollments-per-user", "2",
             "--progress-per-enrollment", "2")  # fmt: skip
    done = run("seed", *sizes, "--seed", "3", "--batch-size", "7")
    assert done.exit_code == 0, done.output
    assert "rows in" in done.stdout and "learnhub-seed" in done.stdout
    assert run("audit", "verify").exit_code == 0
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM users").fetchone() == (30,)

    again = run("seed", *sizes, "--seed", "3")  # the same accounts again: refused, nothing kept
    assert again.exit_code == 1 and "another --seed" in " ".join(again.output.split())
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM users").fetchone() == (30,)

    unaudited = run("seed", *sizes, "--seed", "4", "--no-audit")
    assert unaudited.exit_code == 0, unaudited.output
    assert run("audit", "verify").exit_code == 1  # as documented: --no-audit leaves gaps
    assert run("db", "check").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("--users", "-5", "--courses", "2"),
        ("--users", "10", "--courses", "-1"),
        ("--users", "10", "--courses", "2", "--enrollments-per-user", "-2"),
        ("--users", "10", "--courses", "2", "--enrollments-per-user", "3"),
        ("--users", "10", "--courses", "2", "--reviews-ratio", "2"),
        ("--users", "10", "--courses", "2", "--batch-size", "0"),
    ],
)
def test_seed_command_refuses_nonsense(cli, args: tuple[str, ...]) -> None:
    run, _ = cli
    refused = run("seed", *args)
    assert refused.exit_code == 2, refused.output
    assert "Traceback" not in refused.output
