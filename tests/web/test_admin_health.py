"""The admin console's system health page (issue 17, item 4) through httpx, on both
databases: admins only (the 403 page for students and instructors, the login page when
logged out); the outbox backlog, the stored audit completeness with its known gaps, the
conflict and delete counters moving with real conflicts and deletes, the slow statements the
instrumentation records, and the `db report` plans as a table when a composition root handed
the report in."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learnhub.db.engine import create_engine
from learnhub.db.uow import UnitOfWork
from learnhub.models.course import Course
from learnhub.ops.db_report import DbReportService
from learnhub.services.monitoring import MonitoringService
from tests.api.conftest import LoginAs
from tests.api.test_courses import make_course
from tests.web.test_admin import browser_of
from tests.web.test_web_base import assert_page

pytestmark = pytest.mark.usefixtures("fast_password_hashing")
API = "/api/v1"


def counter_total(html: str, label: str) -> int:
    match = re.search(rf'<th scope="row">{label}</th>\s*<td>(\d+)</td>', html)
    assert match, html
    return int(match.group(1))


async def test_only_admins_reach_the_health_page(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    logged_out = await client.get("/admin/health")
    assert logged_out.status_code == 303
    assert logged_out.headers["location"].startswith("/login")
    for role in ("student", "instructor"):
        await browser_of(client, await login_as(role))
        for path in ("/admin/health", "/admin/health?plans=1"):
            html = assert_page(await client.get(path), 403)
            assert "System health" not in html
    await browser_of(client, admin)
    home = assert_page(await client.get("/admin"))
    assert 'href="/admin/health"' in home
    assert "<h1>System health</h1>" in assert_page(await client.get("/admin/health"))


async def test_backlog_audit_completeness_and_gaps(
    client: httpx.AsyncClient,
    login_as: LoginAs,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    admin = await login_as("admin")
    course = await make_course(client, await login_as("instructor"))
    await browser_of(client, admin)
    async with UnitOfWork(session_factory) as uow:
        backlog = await MonitoringService(uow).outbox_backlog()
    html = assert_page(await client.get("/admin/health"))
    assert f'<strong id="outbox-backlog">{backlog}</strong>' in html
    assert "Not checked yet" in html

    async with UnitOfWork(session_factory) as uow:
        checked = await MonitoringService(uow).check_audit(full=True)
        await uow.commit()
    assert checked.gap_entities == 0
    html = assert_page(await client.get("/admin/health"))
    assert "<strong>1.0000</strong>" in html
    assert f"({checked.rows_checked} rows checked, 0 with a gap)" in html
    assert "No known gap." in html

    # A change the trail does not explain (raw SQL, past the audit hook) is a known gap.
    table = Course.__table__
    async with session_factory() as session:
        connection = await session.connection()  # core, on the connection: no ORM hook
        await connection.execute(
            table.update()
            .where(table.c.id == uuid.UUID(course["id"]))
            .values(title="Edited behind the trail")
        )
        await session.commit()
    async with UnitOfWork(session_factory) as uow:
        checked = await MonitoringService(uow).check_audit(full=True)
        await uow.commit()
    assert checked.gap_entities == 1
    html = assert_page(await client.get("/admin/health"))
    assert "with a gap)" in html and "1 with a gap" in html
    assert 'id="audit-gaps"' in html
    assert course["id"] in html


async def test_counters_follow_conflicts_and_deletes(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    owner = await login_as("instructor")
    course = await make_course(client, owner, published=False)
    await browser_of(client, admin)
    before = assert_page(await client.get("/admin/health"))
    url = f"{API}/courses/{course['id']}"
    renamed = await client.patch(url, headers=owner.headers, json={"title": "New", "version": 1})
    assert renamed.status_code == 200, renamed.text
    stale = await client.patch(url, headers=owner.headers, json={"title": "Old", "version": 1})
    assert stale.status_code == 409, stale.text
    deleted = await client.delete(url, headers=owner.headers)
    assert deleted.status_code == 204, deleted.text
    after = assert_page(await client.get("/admin/health"))
    for label, moved in (("Version conflicts", 1), ("Soft deletes", 1), ("Hard deletes", 0)):
        assert counter_total(after, label) - counter_total(before, label) == moved, label
    assert re.search(r"course: \d+", after)


async def test_slow_statements_recorded_by_the_instrumentation(
    client: httpx.AsyncClient, login_as: LoginAs, db_url: str
) -> None:
    # Every statement of this engine counts as slow: its timing hook records it. (SQLite: a
    # database of its own, as the test's open transaction holds the file's write lock.)
    url = "sqlite+aiosqlite://" if db_url.startswith("sqlite") else db_url
    engine = create_engine(url, slow_query_ms=0)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 4242 AS slow_marker"))
    finally:
        await engine.dispose()
    await browser_of(client, await login_as("admin"))
    html = assert_page(await client.get("/admin/health"))
    assert 'id="slow-queries"' in html
    assert "SELECT 4242 AS slow_marker" in html
    assert 'id="table-times"' in html


async def test_query_plans_as_a_table_when_the_report_is_wired(
    app: FastAPI, client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    await make_course(client, await login_as("instructor"))
    await browser_of(client, await login_as("admin"))
    html = assert_page(await client.get("/admin/health?plans=1"))
    assert "started without the query report" in html
    assert 'id="query-plans"' not in html

    app.state.query_plans = lambda uow: DbReportService(uow).report()
    offered = assert_page(await client.get("/admin/health"))
    assert 'href="/admin/health?plans=1#plans-heading"' in offered
    assert 'id="query-plans"' not in offered
    html = assert_page(await client.get("/admin/health?plans=1"))
    table = html[html.index('id="query-plans"') :]
    row = r'<th scope="row">([^<]+)</th>\s*<td class="(index|no-index)">([^<]*)<'
    rows = re.findall(row, table)
    assert len(rows) >= 10, table[:3000]
    # Indexed lookups name their index; the report's timing column is filled.
    indexed = [used for _, kind, used in rows if kind == "index"]
    assert indexed and all(used and used != "no index" for used in indexed), rows
    assert re.search(r"<td>\d+\.\d{3} <span", table)
