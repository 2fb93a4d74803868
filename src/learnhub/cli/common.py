"""What every command shares: the consoles, an engine, one unit of work per command run as
the system actor, and the bootstrap (migrations and built-in roles)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learnhub.config import get_settings
from learnhub.db import migrations
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.domain.context import acting_as
from learnhub.domain.errors import DomainError
from learnhub.events.bus import EventBus

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def database_url() -> str:
    return get_settings().database_url


def migration_url() -> str:
    """Where migrations (and pg_dump) connect: past a transaction pooler when there is one."""
    return get_settings().migration_url()


def command_engine(url: str | None = None) -> AsyncEngine:
    """An engine for a command, with the configured slow-query threshold and pooler mode."""
    settings = get_settings()
    return create_engine(
        url or settings.database_url,
        slow_query_ms=settings.slow_query_ms,
        transaction_pooler=settings.db_transaction_pooler,
    )


def handler_bus(factory: async_sessionmaker[AsyncSession]) -> EventBus:
    """The in-process event handlers, as the app registers them, so the events a command
    records keep derived data fresh too."""
    from learnhub.workers.handlers import register_handlers

    bus = EventBus()
    register_handlers(bus, lambda: UnitOfWork(factory))
    return bus


def run_command(name: str, work: Callable[[UnitOfWork], Awaitable[T]], *, commit: bool = True) -> T:
    """Run `work` in one unit of work, as the system actor, with a request id per command."""

    async def main() -> T:
        engine = command_engine()
        try:
            with acting_as(None, request_id=f"cli:{name}:{uuid.uuid4().hex[:8]}"):
                factory = create_session_factory(engine)
                async with UnitOfWork(factory, handler_bus(factory)) as uow:
                    result = await work(uow)
                    if commit:
                        await uow.commit()
                    return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        err.print(f"[red]{exc.code}[/red]: {exc.message}")
        raise typer.Exit(2) from None


def print_demo_logins(accounts: list[tuple[str, str]], to: Console = console) -> None:
    """The demo logins, the password once: the three demo accounts by role, then how many
    more demo accounts there are (same password)."""
    from learnhub.ops.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    logins = {email for email, _, _ in DEMO_ACCOUNTS}
    to.print(f"  demo logins, password [bold]{DEMO_PASSWORD}[/bold]:")
    for email, role in accounts:
        if email in logins:
            to.print(f"    {role:<11} [bold]{email}[/bold]")
    others = [email for email, _ in accounts if email not in logins]
    if others:
        to.print(f"    (and {len(others)} more demo accounts, e.g. {others[-1]}, same password)")


async def bootstrap(url: str) -> None:
    """Migrate to head, make sure the built-in roles exist and, on PostgreSQL, that the
    history tables have their months ahead (all idempotent)."""
    from learnhub.db.partitions import ensure_partitions
    from learnhub.domain.clock import utc_now
    from learnhub.services.user import RoleService

    await migrations.upgrade(url)
    engine = command_engine(url)
    try:
        with acting_as(None, request_id="cli:bootstrap"):
            async with UnitOfWork(create_session_factory(engine)) as uow:
                await RoleService(uow).ensure_builtin_roles()
                await uow.commit()
        await ensure_partitions(engine, utc_now())
    finally:
        await engine.dispose()


def migrating(work: Coroutine[Any, Any, T]) -> T:
    """Run a migration; a revision that kept hitting its lock timeout is a clear message and
    exit status 1, not a traceback."""
    try:
        return asyncio.run(work)
    except migrations.MigrationLockTimeout as exc:
        err.print(f"[red]migration stopped[/red]: {exc}")
        raise typer.Exit(1) from None
