"""`learnhub db report [--without-indexes]` through the command line, on the demo data (plus,
on PostgreSQL, the catalog-plans test's few thousand courses, ANALYZEd, so the planner's
choices are those of a real catalog rather than of a table that fits in one page).

With the indexes the catalog sorts read their own index; with `--without-indexes` they do
not; and afterwards every index is still there, because the drops were rolled back."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from learnhub.cli.app import app
from learnhub.config import get_settings
from learnhub.db.engine import create_engine
from learnhub.domain.enums import UserStatus
from learnhub.models import User
from learnhub.models.course import Course, CourseObjective, Tag, course_tags
from tests.conftest import prepare
from tests.integration.test_catalog_plans import INSTRUCTORS, course_rows
from tests.support.databases import database

# Tables of a few dozen rows in this test, which PostgreSQL rightly reads whole.
# catalog_generation: its one row, read by a sub-select of the catalog statement.
SMALL_TABLES = {"tags", "users", "catalog_generation"}

SORT_INDEX = {
    "rating": "ix_courses_rating_desc",
    "enrollments": "ix_courses_enrollment_count_desc",
    "newest": "ix_courses_published_at_desc",
    "price": "ix_courses_price",
    "-price": "ix_courses_price",
}
Run = Callable[..., Any]


def all_indexes(url: str) -> set[tuple[str, str]]:
    async def read() -> set[tuple[str, str]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:

                def names(sync: Connection) -> set[tuple[str, str]]:
                    inspector = inspect(sync)
                    return {
                        (table, str(ix["name"]))
                        for table in inspector.get_table_names()
                        for ix in inspector.get_indexes(table)
                    }

                return await conn.run_sync(names)
        finally:
            await engine.dispose()

    return asyncio.run(read())


async def add_catalog(url: str) -> None:
    """The catalog-plans test's courses (bulk Core INSERTs, test data outside the audit
    trail), tagged with the demo's tags, then ANALYZEd as autovacuum would."""
    rng = random.Random(20261129)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            instructors = [uuid.uuid4() for _ in range(INSTRUCTORS)]
            await conn.execute(
                insert(User.__table__),
                [
                    {
                        "id": i,
                        "email": f"report.instructor.{i.hex[:12]}@example.com",
                        "display_name": "Instructor",
                        "password_hash": "x",
                        "status": UserStatus.ACTIVE,
                    }
                    for i in instructors
                ],
            )
            rows = course_rows(instructors, rng)
            for row in rows:
                row["slug"] = f"report-{row['slug']}"
            await conn.execute(insert(Course.__table__), rows)
            tags = list((await conn.execute(select(Tag.id))).scalars())
            links = [
                {"course_id": row["id"], "tag_id": t}
                for row in rows
                for t in rng.sample(tags, min(len(tags), rng.randrange(1, 4)))
            ]
            await conn.execute(insert(course_tags), links)
            objectives = [
                {"id": uuid.uuid4(), "course_id": row["id"], "position": p, "text": f"Goal {p}"}
                for row in rows
                for p in range(2)
            ]
            await conn.execute(insert(CourseObjective.__table__), objectives)
            for index in ("ix_courses_title_trgm", "ix_courses_search_fts"):
                await conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{index}')")
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def cli_on(tmp_dir: Path) -> Callable[[str], Run]:
    """`learnhub` as a function, run against the database at a URL."""
    runner = CliRunner()

    def on(url: str, **env: str) -> Run:
        def run(*args: str) -> Any:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("LEARNHUB_DATABASE_URL", url)
                for name, value in env.items():
                    mp.setenv(name, value)
                mp.chdir(tmp_dir)
                get_settings.cache_clear()
                try:
                    return runner.invoke(app, list(args))
                finally:
                    get_settings.cache_clear()

        return run

    return on


@contextmanager
def throwaway_database(backend: str, tmp_dir: Path, prefix: str) -> Iterator[str]:
    """`tests.support.databases.database` for synchronous tests (the CLI runs its own event
    loops): entered and left on one private loop, so the database lives in between."""
    loop = asyncio.new_event_loop()
    manager = database(backend, tmp_dir, prefix=prefix)
    try:
        url = loop.run_until_complete(manager.__aenter__())
        try:
            yield url
        finally:
            loop.run_until_complete(manager.__aexit__(None, None, None))
    finally:
        loop.close()


@pytest.fixture(scope="module")
def demo_db(backend: str, tmp_dir: Path, cli_on: Callable[[str], Run]) -> Iterator[str]:
    with throwaway_database(backend, tmp_dir, "learnhub_report") as url:
        seeded = cli_on(url)("seed", "--demo")
        assert seeded.exit_code == 0, seeded.output
        if backend == "postgresql":
            asyncio.run(add_catalog(url))
        yield url


def report(run: Run, *flags: str) -> dict[str, Any]:
    result = run("db", "report", "--json", *flags)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in data["queries"]}


def test_report_shows_the_index_of_each_hot_query(
    backend: str, demo_db: str, cli_on: Callable[[str], Run]
) -> None:
    data = report(cli_on(demo_db))
    assert data["dialect"] == backend and not data["without_indexes"]
    queries = by_name(data)
    assert len(queries) >= 18
    for query in queries.values():
        assert query["summary"] and query["access"] != "-", query
        assert query["time_ms"] >= 0
        assert query["timing"] == ("execution" if backend == "postgresql" else "wall")
    for sort, index in SORT_INDEX.items():
        catalog = queries[f"catalog sort={sort}"]
        assert catalog["indexes"][:1] == [index], catalog
        # The page's one statement aggregates each card's tags and objectives in sub-selects:
        # nothing that grows with the catalog is read in full (the tag vocabulary, a few
        # dozen rows here, may be; so may `users`, a handful of accounts here, for the
        # instructor's name: tests/integration/test_catalog_plans.py shows it is a
        # primary-key lookup on a platform with real numbers of users).
        assert set(catalog["full_scans"]) <= SMALL_TABLES, catalog
    # GET /audit: the actor and entity filters each have their index (an action alone has
    # none: see docs/decisions.md, "The audit API and completeness").
    for name, index in (
        ("audit trail (GET /audit)", "ix_audit_log_occurred_at"),
        ("audit trail actor_id=", "ix_audit_log_actor"),
        ("audit trail entity_type=&entity_id=", "ix_audit_log_entity"),
    ):
        assert queries[name]["indexes"][:1] == [index], queries[name]
        assert queries[name]["full_scans"] == [], queries[name]
    # Search never reads the courses in full. (The sample word is the longest of the most
    # popular course's title, often a word of one title in ten here: PostgreSQL may then
    # rather walk an index of all listed courses than the full-text index; the plan tests
    # pin the full-text index for a selective word.)
    search = queries["catalog q=<word of a title>"]
    if backend == "postgresql":
        assert search["indexes"], search
        typo = queries["catalog q=<a typo of a title word>"]
        assert typo["indexes"] and "courses" not in typo["full_scans"], typo
    else:
        assert "courses_fts full-text index" in search["indexes"], search
    assert "courses" not in search["full_scans"], search
    page_two = queries["catalog page 2 (keyset cursor)"]
    # The page's one statement reads courses by the sort's index first; its tag and
    # objective sub-selects use their own indexes, and nothing is scanned in full.
    assert page_two["indexes"][:1] == ["ix_courses_rating_desc"], page_two
    assert set(page_two["full_scans"]) <= SMALL_TABLES, page_two


def test_without_indexes_shows_the_difference_and_changes_nothing(
    backend: str, demo_db: str, cli_on: Callable[[str], Run]
) -> None:
    run = cli_on(demo_db)
    before = all_indexes(demo_db)
    data = report(run, "--without-indexes")
    assert data["without_indexes"]
    dropped = set(data["dropped_indexes"])
    assert set(SORT_INDEX.values()) <= dropped
    assert {"ix_enrollments_user_id", "ix_audit_log_entity"} <= dropped
    if backend == "postgresql":
        assert {"ix_courses_title_trgm", "ix_courses_search_fts"} <= dropped
    # Only secondary indexes: never a primary key or a unique index (constraints).
    assert not [n for n in dropped if n.startswith(("pk_", "uq_", "sqlite_autoindex"))]

    rating = by_name(data)["catalog sort=rating"]
    assert "ix_courses_rating_desc" not in rating["indexes"], rating
    if backend == "postgresql":
        assert "Sort" in rating["summary"], rating
    else:
        assert "USE TEMP B-TREE FOR ORDER BY" in rating["summary"], rating

    # The drops were rolled back: every index is still there, and the report is as before.
    assert all_indexes(demo_db) == before
    again = by_name(report(run))["catalog sort=rating"]
    assert again["indexes"][:1] == ["ix_courses_rating_desc"], again


def test_the_table_output_lists_the_queries(demo_db: str, cli_on: Callable[[str], Run]) -> None:
    result = cli_on(demo_db)("db", "report")
    assert result.exit_code == 0, result.output
    assert "hot queries on" in result.stdout and "time ms" in result.stdout
    for text in ("catalog sort=rating", "catalog page 2", "enrolments of a learner"):
        assert text in result.stdout


def test_log_lines_never_mix_into_the_json_report(demo_db: str, cli_on: Callable[..., Run]) -> None:
    """Every statement is "slow" at a 0 ms threshold: each logs a line, on stderr, while
    stdout stays one JSON document (a loaded machine once made a real slow query do this)."""
    result = cli_on(demo_db, LEARNHUB_SLOW_QUERY_MS="0")("db", "report", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["queries"]
    assert "slow_query" in result.stderr


def test_an_empty_database_is_reported_per_query(
    backend: str, tmp_dir: Path, cli_on: Callable[[str], Run]
) -> None:
    with throwaway_database(backend, tmp_dir, "learnhub_report_empty") as url:
        asyncio.run(prepare(url))
        queries = by_name(report(cli_on(url)))
        assert queries["catalog tag="]["note"].startswith("no listed course")
        assert queries["catalog page 2 (keyset cursor)"]["note"].startswith("no listed course")
        assert queries["enrolments of a learner"]["note"].startswith("no enrolment")
        assert queries["learner activity"]["note"].startswith("no learner activity")
        # ... and each still has its plan, for a made-up id.
        assert all(q["summary"] for q in queries.values())
