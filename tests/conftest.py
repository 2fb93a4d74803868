"""Shared fixtures. Integration tests run once per backend (SQLite and PostgreSQL) on a
schema built by the migrations, each test inside a transaction that is rolled back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from learnhub.db import migrations
from learnhub.db.engine import create_engine
from learnhub.db.session import LearnHubSession
from learnhub.db.uow import UnitOfWork
from learnhub.events.bus import EventBus
from learnhub.services import passwords
from learnhub.services.user import RoleService
from tests.support.apps import AppCache
from tests.support.databases import database
from tests.support.soft_delete_guard import GUARD

BACKENDS = ["sqlite", "postgresql"]
# The two databases of each backend: tests roll back in one and commit in the other.
ROLLED_BACK, COMMITTED = "learnhub_test", "learnhub_commit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`postgres_only` / `sqlite_only` tests run on that backend alone: deselected, not
    skipped, on the other, since they test one engine's behaviour (row locks, PRAGMAs)."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        wrong = (backend == "sqlite" and item.get_closest_marker("postgres_only")) or (
            backend == "postgresql" and item.get_closest_marker("sqlite_only")
        )
        (drop if wrong else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


async def prepare(url: str) -> None:
    """Migrate to head and load the built-in roles, as `learnhub db upgrade` does."""
    await migrations.upgrade(url)
    engine = create_engine(url)
    try:
        from learnhub.db.engine import create_session_factory

        async with UnitOfWork(create_session_factory(engine)) as uow:
            await RoleService(uow).ensure_builtin_roles()
            await uow.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def soft_delete_guard() -> Iterator[None]:
    """Raw reads in application code must name the soft-delete rule (issue 14, item 4)."""
    GUARD.install()
    yield
    GUARD.uninstall()


@pytest.fixture(autouse=True)
def _no_unfiltered_reads(soft_delete_guard: None) -> Iterator[None]:
    """Fail the test in which application code read a soft-deletable table without
    `deleted_at IS NULL` and without saying it reads deleted rows on purpose."""
    GUARD.take()
    yield
    violations = GUARD.take()
    if violations:
        pytest.fail("\n".join(str(v) for v in violations), pytrace=False)


@pytest.fixture
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests whose accounts are set-up, not the subject (`pytest.mark.usefixtures`):
    cheap argon2 parameters keep logins fast."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session")
def tmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db")


class BackendDatabases:
    """The run's migrated databases, one per backend and purpose, each made the first time a
    test asks for it and kept until the session ends.

    pytest tears a session fixture down whenever its parameter changes, and under xdist's
    `--dist loadfile` each worker runs a file's SQLite tests and then its PostgreSQL ones:
    without this cache every file dropped and migrated its databases again, twice (about
    2 s a file, some ten minutes of the suite's two workers). The browser tests' servers
    are kept the same way (tests/browser/conftest.py, `ServerPool`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.stack = AsyncExitStack()
        self.urls: dict[tuple[str, str], str] = {}
        self.engines: dict[tuple[str, str], AsyncEngine] = {}

    async def url(self, backend: str, prefix: str) -> str:
        key = (backend, prefix)
        if key not in self.urls:
            url = await self.stack.enter_async_context(database(backend, self.directory, prefix))
            await prepare(url)
            self.urls[key] = url
        return self.urls[key]

    async def engine(self, backend: str, prefix: str) -> AsyncEngine:
        key = (backend, prefix)
        if key not in self.engines:
            engine = create_engine(await self.url(backend, prefix))
            self.stack.push_async_callback(engine.dispose)  # before its database is dropped
            self.engines[key] = engine
        return self.engines[key]


@pytest.fixture(scope="session")
async def backend_databases(tmp_dir: Path) -> AsyncIterator[BackendDatabases]:
    databases = BackendDatabases(tmp_dir)
    try:
        yield databases
    finally:
        await databases.stack.aclose()


@pytest.fixture(scope="session")
async def app_cache() -> AsyncIterator[AppCache]:
    """The API and page tests' apps (tests/api/conftest.py's `app`), kept for the session."""
    cache = AppCache()
    try:
        yield cache
    finally:
        await cache.stack.aclose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def db_url(backend: str, backend_databases: BackendDatabases) -> str:
    """A migrated database for the whole run, one per backend."""
    return await backend_databases.url(backend, ROLLED_BACK)


@pytest.fixture(scope="session")
async def engine(backend: str, backend_databases: BackendDatabases) -> AsyncEngine:
    return await backend_databases.engine(backend, ROLLED_BACK)


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection per test, inside an outer transaction rolled back at the end."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        try:
            yield conn
        finally:
            if outer.is_active:
                await outer.rollback()


@pytest.fixture
def session_factory(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Commits inside the code under test release a SAVEPOINT; the outer rollback undoes all.
    return async_sessionmaker(
        bind=connection,
        sync_session_class=LearnHubSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def uow(session_factory: async_sessionmaker[AsyncSession], bus: EventBus) -> UnitOfWork:
    return UnitOfWork(session_factory, bus)


@pytest.fixture(scope="session")
async def committed_engine(backend: str, backend_databases: BackendDatabases) -> AsyncEngine:
    """A second migrated database whose tests really commit (concurrency, audit verify).

    Nothing is rolled back here, so tests must use unique values."""
    return await backend_databases.engine(backend, COMMITTED)
