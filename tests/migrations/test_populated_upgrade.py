"""Migrations on a populated database: the schema of the first release (revision
0005_quiz_attempts, the last one the first landed sessions shipped) holding real data from
every area is upgraded to head, and not a value of it is lost or changed; new columns take
their defaults, and the audit trail still explains every row. Downgrading back to the
release keeps its data too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, Table, select

from learnhub.api.app import create_app
from learnhub.db import migrations
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.ops.demo import DEMO_PASSWORD, load_demo
from learnhub.services.audit import AuditService
from learnhub.services.user import RoleService
from tests.api.conftest import test_settings as settings_for
from tests.support.databases import database

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

RELEASE = "0005_quiz_attempts"
API = "/api/v1"


@pytest.fixture
async def populated_url(backend: str, tmp_dir: Path):
    async with database(backend, tmp_dir, prefix="learnhub_populated") as url:
        yield url


async def populate(url: str) -> None:
    """Demo catalog and accounts, then a learner who enrols, watches, passes a quiz, reviews
    and cancels another enrolment: rows in every table of the release."""
    await migrations.upgrade(url)
    engine = create_engine(url)
    try:
        async with UnitOfWork(create_session_factory(engine)) as uow:
            await RoleService(uow).ensure_builtin_roles()
            await load_demo(uow)
            await uow.commit()
    finally:
        await engine.dispose()
    app = create_app(settings_for(url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            login = await client.post(
                f"{API}/auth/login",
                json={"email": "demo-student@example.com", "password": DEMO_PASSWORD},
            )
            assert login.status_code == 200, login.text
            me = {"Authorization": f"Bearer {login.json()['access_token']}"}
            mine = (await client.get(f"{API}/users/me/enrollments", headers=me)).json()
            listed = (await client.get(f"{API}/courses?limit=20")).json()["items"]
            # The demo loads the student's own stages: three courses they are not in.
            taken = {e["course"]["id"] for e in mine["items"]}
            catalog = [c for c in listed if c["id"] not in taken][:3]
            quizzed = None
            for course in catalog:
                enrolled = await client.post(
                    f"{API}/courses/{course['id']}/enrollments", headers=me
                )
                assert enrolled.status_code == 201, enrolled.text
                detail = (await client.get(f"{API}/courses/{course['id']}")).json()
                video = detail["sections"][0]["videos"][0]
                beat = await client.put(
                    f"{API}/videos/{video['id']}/progress",
                    headers=me,
                    json={"position_seconds": 8, "played_segments": [[0, 8]]},
                )
                assert beat.status_code == 200, beat.text
                quizzes = [q for s in detail["sections"] for q in s["quizzes"]]
                if quizzes and quizzed is None:
                    quizzed = quizzes[0]["id"]
                    started = await client.post(f"{API}/quizzes/{quizzed}/attempts", headers=me)
                    assert started.status_code == 201, started.text
                    answers = [
                        {"question_id": q["id"], "option_ids": [q["options"][0]["id"]]}
                        if q["options"]
                        else {"question_id": q["id"], "text": "an answer"}
                        for q in started.json()["questions"]
                    ]
                    submitted = await client.post(
                        f"{API}/attempts/{started.json()['id']}/submit",
                        headers=me,
                        json={"answers": answers},
                    )
                    assert submitted.status_code == 200, submitted.text
            review = await client.post(
                f"{API}/courses/{catalog[0]['id']}/reviews",
                headers=me,
                json={"rating": 4, "body": "Kept through every migration."},
            )
            assert review.status_code == 201, review.text
            enrollment = enrolled.json()["id"]
            cancelled = await client.post(f"{API}/enrollments/{enrollment}/cancel", headers=me)
            assert cancelled.status_code == 200, cancelled.text
    assert quizzed is not None, "the demo catalog's first courses hold a quiz"


async def snapshot(url: str, only: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Every row of every table (or of `only`, with those columns), in primary-key order."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            metadata = MetaData()
            await conn.run_sync(metadata.reflect)
            state: dict[str, Any] = {}
            for name, table in metadata.tables.items():
                if name == "alembic_version" or (only is not None and name not in only):
                    continue
                columns = [table.c[c] for c in (only[name] if only else table.c.keys())]
                order = list(table.primary_key.columns) or columns
                rows = (await conn.execute(select(*columns).order_by(*order))).all()
                state[name] = [tuple(row) for row in rows]
            return state
    finally:
        await engine.dispose()


async def columns_of(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            metadata = MetaData()
            await conn.run_sync(metadata.reflect)
            return {
                name: list(table.c.keys())
                for name, table in metadata.tables.items()
                if isinstance(table, Table) and name != "alembic_version"
            }
    finally:
        await engine.dispose()


async def test_a_populated_release_upgrades_to_head_without_losing_a_value(populated_url):
    await populate(populated_url)
    await migrations.downgrade(populated_url, RELEASE)
    assert await migrations.current(populated_url) == RELEASE
    release_columns = await columns_of(populated_url)
    before = await snapshot(populated_url)
    assert all(before[t] for t in ("users", "courses", "enrollments", "video_progress")), before
    assert before["reviews"] and before["quiz_attempts"] and before["quiz_answers"]

    await migrations.upgrade(populated_url)

    assert await migrations.current(populated_url) == migrations.head_revision()
    assert await snapshot(populated_url, release_columns) == before
    after = await snapshot(populated_url, {"courses": ["tutor_enabled"], "outbox": ["handled_at"]})
    assert {row for row in after["courses"]} == {(True,)}
    # Events from before the handlers existed wait for `learnhub events handle` to backfill.
    assert {row for row in after["outbox"]} == {(None,)}
    engine = create_engine(populated_url)
    try:
        async with UnitOfWork(create_session_factory(engine)) as uow:
            report = await AuditService(uow).verify()
    finally:
        await engine.dispose()
    assert report.rows_checked > 0 and report.gaps == []
