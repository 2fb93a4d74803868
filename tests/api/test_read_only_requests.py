"""Reads run without a transaction: a GET costs no BEGIN/ROLLBACK round trips on PostgreSQL
and takes no write lock on SQLite (a deferred transaction); a read-only unit of work refuses
any write, so nothing can commit on its own."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from learnhub.db.engine import create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.models import Tag
from learnhub.repositories.course import TagRepository
from tests.api.conftest import create_account, login

API = "/api/v1"


@pytest.fixture
def begins(committed_engine, backend, monkeypatch):
    """The transactions the database is asked to open, by kind."""
    seen: list[str] = []
    if backend == "postgresql":
        original = AsyncAdapt_asyncpg_connection._start_transaction

        async def counting(self):
            if self.isolation_level != "autocommit":  # the adapter sends no BEGIN then
                seen.append("BEGIN")
            return await original(self)

        monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "_start_transaction", counting)
        yield seen
        return

    def before(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(committed_engine.sync_engine, "before_cursor_execute", before)
    yield seen
    event.remove(committed_engine.sync_engine, "before_cursor_execute", before)


async def test_reads_open_no_transaction_and_writes_do(
    committed_client, committed_engine, backend, begins
):
    me = await login(
        committed_client,
        await create_account(create_session_factory(committed_engine), "student"),
    )
    begins.clear()
    for path in ("/courses", "/courses?sort=newest", "/users/me", "/users/me/enrollments"):
        response = await committed_client.get(API + path, headers=me.headers)
        assert response.status_code == 200, response.text
    if backend == "postgresql":
        assert begins == []
    else:
        assert begins and set(begins) == {"BEGIN DEFERRED"}
    response = await committed_client.patch(
        f"{API}/users/me", headers=me.headers, json={"display_name": "Writes Begin"}
    )
    assert response.status_code == 200, response.text
    assert begins[-1] == ("BEGIN" if backend == "postgresql" else "BEGIN IMMEDIATE")


async def test_a_read_only_unit_of_work_refuses_to_write(committed_engine):
    name = f"readonly-{uuid.uuid4().hex[:8]}"
    factory = create_session_factory(committed_engine)
    async with UnitOfWork(factory, read_only=True) as uow:
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.repo(TagRepository).create(Tag(name=name))
    async with committed_engine.connect() as conn:
        stored = await conn.scalar(select(func.count()).select_from(Tag).where(Tag.name == name))
    assert stored == 0
