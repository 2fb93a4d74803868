"""The `learnhub` command line: serve, db, audit, users."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learnhub.config import get_settings
from learnhub.db import migrations
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.db.errors import DbError, classify
from learnhub.db.uow import UnitOfWork
from learnhub.domain.context import acting_as
from learnhub.domain.errors import DomainError
from learnhub.events.bus import EventBus
from learnhub.logging import log_to_stderr

app = typer.Typer(
    help="LearnHub: the backend of an online learning platform.", no_args_is_help=True
)
db_app = typer.Typer(help="Schema migrations and database checks.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


@app.callback()
def _command_line() -> None:
    # `serve` configures the service's own logging (stdout) when it builds the app.
    log_to_stderr()


def database_url() -> str:
    return get_settings().database_url


def command_engine(url: str | None = None) -> AsyncEngine:
    """An engine for a command, with the configured slow-query threshold."""
    settings = get_settings()
    return create_engine(url or settings.database_url, slow_query_ms=settings.slow_query_ms)


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


async def bootstrap(url: str) -> None:
    """Migrate to head and make sure the built-in roles exist (idempotent)."""
    from learnhub.services.user import RoleService

    await migrations.upgrade(url)
    engine = command_engine(url)
    try:
        with acting_as(None, request_id="cli:bootstrap"):
            async with UnitOfWork(create_session_factory(engine)) as uow:
                await RoleService(uow).ensure_builtin_roles()
                await uow.commit()
    finally:
        await engine.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
    demo: Annotated[bool, typer.Option(help="Load demo accounts and data.")] = False,
) -> None:
    """Apply migrations and serve the HTTP API (SQLite file in this directory by default)."""
    import uvicorn

    settings = get_settings()
    if settings.tutor_retrieval != "bm25":
        from rich.markup import escape

        from learnhub.tutor_providers.semantic import SemanticUnavailable, require_extra

        try:
            require_extra()
        except SemanticUnavailable as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
    migrating(bootstrap(settings.database_url))
    if demo:
        from learnhub.ops.demo import load_demo

        accounts = run_command("demo", load_demo)
        for email, role in accounts:
            console.print(f"demo account [bold]{email}[/bold] ({role}), password 'learnhub-demo'")
    if workers > 1 and settings.database_url.startswith("sqlite"):
        err.print("[yellow]SQLite serves one worker process; using 1[/yellow]")
        workers = 1
    watcher = start_audit_watch(settings.audit_check_interval_seconds)
    try:
        uvicorn.run(
            "learnhub.api.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_level=settings.log_level,
            timeout_worker_healthcheck=settings.worker_healthcheck_timeout_seconds,
            timeout_keep_alive=settings.keep_alive_seconds,
        )
    finally:
        if watcher is not None:
            stop_process(watcher)


def start_audit_watch(interval_seconds: float) -> Any:
    """`learnhub audit watch` as a process of its own next to the server (never inside an API
    worker, SPEC 8), at a lower CPU priority; None when the interval is 0."""
    import os
    import subprocess

    if interval_seconds <= 0:
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "learnhub.cli", "audit", "watch", "--interval",
         str(interval_seconds)],
        preexec_fn=lambda: os.nice(10),
    )  # fmt: skip


def stop_process(process: Any) -> None:
    import subprocess

    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@app.command()
def seed(
    demo: Annotated[bool, typer.Option(help="Load the demo accounts and catalog.")] = False,
    users: Annotated[
        int | None, typer.Option(min=0, help="Users to generate (instructors + students).")
    ] = None,
    courses: Annotated[int | None, typer.Option(min=0, help="Published courses.")] = None,
    enrollments_per_user: Annotated[
        int, typer.Option(min=0, help="Distinct courses each student enrols in.")
    ] = 2,
    progress_per_enrollment: Annotated[
        int, typer.Option(min=0, help="Videos with progress per enrolment (first N).")
    ] = 3,
    videos_per_course: Annotated[
        int, typer.Option(min=1, help="Videos per course (each course gets 0-2 more).")
    ] = 5,
    reviews_ratio: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of enrolments with a review.")
    ] = 0.1,
    seed_value: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 1,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Students (or courses) per generated chunk.")
    ] = 10_000,
    audit: Annotated[
        bool,
        typer.Option(
            help="Write the create audit entries (--no-audit is faster but leaves "
            "`learnhub audit verify` reporting every seeded row)."
        ),
    ] = True,
) -> None:
    """Load data: `--demo` for the small demo catalog (idempotent), or generated data at
    scale with `--users N --courses N ...` (deterministic for a given `--seed`; every seeded
    account's password is 'learnhub-seed')."""
    if not demo and users is None and courses is None:
        err.print("nothing to do: pass --demo, or --users N --courses N")
        raise typer.Exit(2)
    asyncio.run(bootstrap(database_url()))
    if demo:
        from learnhub.ops.demo import load_demo

        accounts = run_command("seed-demo", load_demo)
        for email, role in accounts:
            console.print(f"demo account [bold]{email}[/bold] ({role}), password 'learnhub-demo'")
    if users is None and courses is None:
        return
    from learnhub.ops.seed_spec import SeedSpec

    spec = SeedSpec(
        users=users or 0,
        courses=courses or 0,
        enrollments_per_user=enrollments_per_user,
        progress_per_enrollment=progress_per_enrollment,
        videos_per_course=videos_per_course,
        reviews_ratio=reviews_ratio,
        seed=seed_value,
        batch_size=batch_size,
        audit=audit,
        completion_ratio=get_settings().completion_ratio,
    )
    _seed_at_scale(spec)


def _seed_at_scale(spec: Any) -> None:
    """Run the scale seed with a Rich progress bar (rows per table, overall rate)."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from learnhub.ops.seed import seed as run_seed
    from learnhub.ops.seed_spec import SEED_PASSWORD, SeedReport

    try:
        spec.validate()
    except DomainError as exc:
        err.print(f"[red]{exc.code}[/red]: {exc.message}")
        raise typer.Exit(2) from None
    learners = spec.students * spec.enrollments_per_user
    videos = spec.videos_per_course + 1
    expected = {
        "users": spec.users,
        "courses": spec.courses,
        "videos": spec.courses * videos,
        "enrollments": learners,
        "video_progress": learners * min(spec.progress_per_enrollment, videos),
    }
    columns = (
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.completed:>12,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as bar:
        overall = bar.add_task("all tables", total=None, rate="")
        tasks: dict[str, TaskID] = {}
        started = [0.0]

        def on_progress(table: str, rows: int) -> None:
            import time

            if not started[0]:
                started[0] = time.perf_counter()
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=expected.get(table), rate="")
            bar.advance(tasks[table], rows)
            if table != "indexes":
                bar.advance(overall, rows)
                elapsed = max(time.perf_counter() - started[0], 1e-9)
                done = bar.tasks[overall].completed
                bar.update(overall, rate=f"{done / elapsed:>10,.0f} rows/s")

        async def main() -> SeedReport:
            # Index builds and COPY are slow statements by nature: the report times them.
            engine = create_engine(database_url(), slow_query_ms=float("inf"))
            try:
                return await run_seed(engine, spec, on_progress)
            finally:
                await engine.dispose()

        try:
            report = asyncio.run(main())
        except DomainError as exc:
            err.print(f"[red]{exc.code}[/red]: {exc.message}")
            raise typer.Exit(2) from None
        except Exception as exc:  # the whole load was one transaction: nothing was kept
            if classify(exc) is not DbError.UNIQUE_VIOLATION:
                raise
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
            err.print(
                f"[red]conflict[/red]: {reason}\nnothing was written; was seed {spec.seed} "
                "loaded into this database already? Pass another --seed."
            )
            raise typer.Exit(1) from None
    table = Table(title=f"seed {spec.seed}: {report.total_rows:,} rows in {report.seconds:.1f} s")
    for column in ("table", "rows", "write s", "rows/s"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, rows in report.rows.items():
        if rows:
            seconds = report.write_seconds[name]
            rate = f"{rows / seconds:,.0f}" if seconds else "-"
            table.add_row(name, f"{rows:,}", f"{seconds:.1f}", rate)
    for name, seconds in report.phases.items():
        table.add_row(f"[dim]{name}[/dim]", "", f"{seconds:.1f}", "")
    overall_rate = report.total_rows / report.seconds if report.seconds else 0.0
    table.add_row("[bold]total[/bold]", f"{report.total_rows:,}", f"{report.seconds:.1f}",
                  f"{overall_rate:,.0f}")  # fmt: skip
    console.print(table)
    console.print(
        f"accounts: instructor-0..{spec.instructors - 1}@seed{spec.seed}.example.com, "
        f"student-0..{spec.students - 1}@seed{spec.seed}.example.com, "
        f"password '{SEED_PASSWORD}'"
    )


events_app = typer.Typer(help="Domain events and the outbox relay.", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("relay")
def events_relay(
    once: Annotated[bool, typer.Option(help="Relay what is waiting, then exit.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Publish committed outbox events to NATS JetStream (at least once, in order per
    aggregate); several relays may run at once."""
    from learnhub.events.transport import NatsTransport
    from learnhub.workers.relay import OutboxRelay

    settings = get_settings()

    async def main() -> int:
        engine = command_engine()
        transport = NatsTransport(settings.nats_url)
        relay = OutboxRelay(create_session_factory(engine), transport, batch_size)
        total = 0
        try:
            if once:
                while (result := await relay.run_once()).published and not result.failed:
                    total += result.published
                if result.failed:
                    raise typer.Exit(1)
            else:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                import signal

                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                await relay.run(stop)
        finally:
            await transport.close()
            await engine.dispose()
        return total

    published = asyncio.run(main())
    if once:
        console.print(f"{published} events published")


@events_app.command("tail")
def events_tail(
    seconds: Annotated[float, typer.Option(help="Stop after this long (0: until Ctrl-C).")] = 0,
) -> None:
    """Print events from the broker as they arrive."""
    import nats

    settings = get_settings()

    async def main() -> None:
        nc = await nats.connect(settings.nats_url, connect_timeout=3)

        async def show(msg: object) -> None:
            console.print(getattr(msg, "subject", ""), getattr(msg, "data", b"").decode())

        await nc.subscribe("learnhub.events.>", cb=show)
        try:
            await asyncio.sleep(seconds if seconds > 0 else 10**9)
        finally:
            await nc.close()

    asyncio.run(main())


@events_app.command("handle")
def events_handle(
    once: Annotated[bool, typer.Option(help="One pass over what is waiting, then exit.")] = False,
    grace_seconds: Annotated[
        float,
        typer.Option(min=0, help="Leave younger events to the request still handling them."),
    ] = 30.0,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between passes.")] = 5.0,
) -> None:
    """Run the in-process handlers again for outbox events they have not handled (a handler
    failed, or the process died first) and mark them handled. Handlers are idempotent."""
    from datetime import timedelta

    from learnhub.workers.handlers import HandlerRetrier, RetryResult

    async def main() -> RetryResult | None:
        engine = command_engine()
        factory = create_session_factory(engine)
        retrier = HandlerRetrier(
            lambda: UnitOfWork(factory),
            handler_bus(factory),
            grace=timedelta(seconds=grace_seconds),
        )
        try:
            with acting_as(None, request_id=f"cli:events-handle:{uuid.uuid4().hex[:8]}"):
                if once:
                    return await retrier.run_once()
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                import signal

                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                await retrier.run(stop, interval)
                return None
        finally:
            await engine.dispose()

    result = asyncio.run(main())
    if result is not None:
        console.print(f"{result.handled} events handled, {result.failed} failed")
        if result.failed:
            raise typer.Exit(1)


quizzes_app = typer.Typer(help="Quiz attempts.", no_args_is_help=True)
app.add_typer(quizzes_app, name="quizzes")


@quizzes_app.command("sweep")
def quizzes_sweep() -> None:
    """Close every open quiz attempt whose deadline has passed (as overdue)."""
    from learnhub.services.quiz_attempts import QuizAttemptService

    closed = run_command("quizzes-sweep", lambda uow: QuizAttemptService(uow).sweep_overdue())
    console.print(f"{closed} overdue attempts closed")


tutor_app = typer.Typer(help="The AI tutor.", no_args_is_help=True)
app.add_typer(tutor_app, name="tutor")


@tutor_app.command("purge")
def tutor_purge() -> None:
    """Delete tutor messages older than the retention period (LEARNHUB_TUTOR_RETENTION_DAYS),
    conversations idle that long, and old daily usage counts."""
    from learnhub.services.tutor import TutorPolicy, TutorService
    from learnhub.tutor_providers import OfflineTutor

    policy = TutorPolicy(retention_days=get_settings().tutor_retention_days)
    report = run_command(
        "tutor-purge", lambda uow: TutorService(uow, OfflineTutor(), policy).purge_expired()
    )
    console.print(
        f"{report.messages} messages, {report.conversations} conversations and "
        f"{report.usage_days} usage days past {policy.retention_days} days deleted"
    )


def migrating(work: Coroutine[Any, Any, T]) -> T:
    """Run a migration; a revision that kept hitting its lock timeout is a clear message and
    exit status 1, not a traceback."""
    try:
        return asyncio.run(work)
    except migrations.MigrationLockTimeout as exc:
        err.print(f"[red]migration stopped[/red]: {exc}")
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema (default: to the newest revision) and load built-in roles.

    On PostgreSQL every revision runs under LEARNHUB_MIGRATION_LOCK_TIMEOUT_SECONDS and
    LEARNHUB_MIGRATION_STATEMENT_TIMEOUT_SECONDS; one that cannot take its locks in time is
    retried LEARNHUB_MIGRATION_LOCK_RETRIES times, then the command fails."""
    url = database_url()
    if revision == "head":
        migrating(bootstrap(url))
    else:
        migrating(migrations.upgrade(url, revision))
    console.print(f"database at {asyncio.run(migrations.current(url))}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. base or -1.")]) -> None:
    """Downgrade the schema to REVISION."""
    url = database_url()
    migrating(migrations.downgrade(url, revision))
    console.print(f"database at {asyncio.run(migrations.current(url))}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    console.print(asyncio.run(migrations.current(database_url())) or "base (empty)")


@db_app.command("backup-drill")
def db_backup_drill(
    keep: Annotated[bool, typer.Option(help="Keep the restored copy for inspection.")] = False,
) -> None:
    """Back up (pg_dump, or SQLite's online backup), restore into a fresh database, and check
    the copy: row counts equal the source's at backup time, schema at head, audit verified."""
    from learnhub.ops.backup_drill import DrillError, run_drill

    try:
        report = asyncio.run(run_drill(database_url(), keep=keep))
    except DrillError as exc:
        err.print(f"[red]drill failed[/red]: {exc}")
        raise typer.Exit(2) from None
    for table in sorted(report.source_counts.keys() | report.restored_counts.keys()):
        source, restored = report.source_counts.get(table), report.restored_counts.get(table)
        mark = "ok" if source == restored else "MISMATCH"
        console.print(f"{table:32} {source!s:>10} {restored!s:>10}  {mark}")
    console.print(
        f"backup {report.backup_bytes} bytes in {report.backup_seconds:.2f} s, "
        f"restore {report.restore_seconds:.2f} s; schema {report.revision} "
        f"(head {report.head}), {len(report.invalid_indexes)} invalid indexes; audit "
        f"{report.audit_rows_checked} rows checked, {report.audit_gaps} gaps"
    )
    console.print("drill passed" if report.ok else "[red]drill FAILED[/red]")
    if not report.ok:
        raise typer.Exit(1)


@db_app.command("check")
def db_check() -> None:
    """Fail when the schema is behind, drifts from the models, or has INVALID indexes."""
    report = asyncio.run(migrations.check(database_url()))
    console.print_json(json.dumps(report))
    if report["current"] != report["head"] or report["drift"] or report["invalid_indexes"]:
        raise typer.Exit(1)


@db_app.command("report")
def db_report(
    without_indexes: Annotated[
        bool,
        typer.Option(
            "--without-indexes",
            help="Drop the secondary indexes of the tables involved inside the report's "
            "transaction, then roll back (takes exclusive locks on those tables meanwhile).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """EXPLAIN each hot query (ANALYZE on PostgreSQL): plan, index used, timing."""
    from rich.markup import escape
    from rich.table import Table

    from learnhub.ops.db_report import DbReportService

    report = run_command(
        "db-report",
        lambda uow: DbReportService(uow).report(without_indexes=without_indexes),
        commit=False,  # never: --without-indexes is undone by the rollback
    )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, default=str))  # never wrapped
        return
    title = f"hot queries on {report.dialect}"
    if report.without_indexes:
        title += f" WITHOUT {len(report.dropped_indexes)} secondary indexes (rolled back)"
    table = Table(title=title)
    table.add_column("query", no_wrap=True)
    for column in ("plan", "index used", "time ms"):
        table.add_column(column, overflow="fold")
    for q in report.queries:
        time_ms = "-" if q.time_ms is None else f"{q.time_ms:.3f} ({q.timing})"
        plan = escape(q.summary) + (f"\n[dim]{escape(q.note)}[/dim]" if q.note else "")
        table.add_row(q.name, plan, q.access, time_ms)
    console.print(table)


@audit_app.command("watch")
def audit_watch(
    interval: Annotated[
        float | None,
        typer.Option(
            help="Seconds between checks (default LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS)."
        ),
    ] = None,
    once: Annotated[bool, typer.Option(help="Check once, print the result, exit.")] = False,
    full: Annotated[bool, typer.Option(help="Replay the whole trail (the first check).")] = False,
) -> None:
    """Keep the audit completeness gauge of /metrics fresh: check incrementally from the
    stored checkpoint (only what was written since the last check is replayed) and store the
    result, which every API worker reads at scrape time. `learnhub serve` starts one."""
    from learnhub.workers.audit_watch import audit_watch_loop, run_audit_check

    every = get_settings().audit_check_interval_seconds if interval is None else interval

    async def main() -> Any:
        engine = command_engine()
        try:
            if once:
                return await run_audit_check(engine, full=full)
            stop = asyncio.Event()
            watching = asyncio.create_task(
                audit_watch_loop(engine, max(every, 1.0), stop, full_first=full)
            )
            loop = asyncio.get_running_loop()
            import signal

            def end() -> None:  # at once, even in the middle of a (long, full) check
                stop.set()
                watching.cancel()

            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, end)
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            return None
        finally:
            await engine.dispose()

    result = asyncio.run(main())
    if result is not None:
        kind = "full replay" if result.full else "incremental"
        console.print(
            f"{kind}: {result.rows_checked} rows, {result.entities_rechecked} entities "
            f"rechecked, {result.rows_replayed} audit rows replayed, {result.gap_entities} "
            f"with gaps, completeness {result.completeness_ratio:.4f}"
        )


@audit_app.command("verify")
def audit_verify() -> None:
    """Replay the audit trail and list every row whose state it does not explain."""
    from learnhub.services.audit import AuditService

    report = run_command("audit-verify", lambda uow: AuditService(uow).verify(), commit=False)
    for gap in report.gaps:
        console.print(f"{gap.entity_type} {gap.entity_id}: {gap.problem}")
    console.print(
        f"{report.rows_checked} rows checked, {len(report.gaps)} gaps, "
        f"completeness {report.completeness_ratio:.4f}"
    )
    if report.gaps:
        raise typer.Exit(1)


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin, instructor or student")] = "student",
    display_name: Annotated[str | None, typer.Option()] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Create an account (this is how the first admin comes to exist)."""
    from learnhub.services.user import UserService

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def create(uow: UnitOfWork) -> Any:
        return await UserService(uow).register(
            email, password, display_name or email.split("@")[0], roles=[role]
        )

    asyncio.run(bootstrap(database_url()))
    user = run_command("users-create", create)
    console.print(f"created {user.email} ({role}) id {user.id}")


@users_app.command("unlock")
def users_unlock(email: str) -> None:
    """Clear the login throttle for an account (its failed logins from every address)."""
    from learnhub.domain.permissions import ADMIN, BUILTIN_ROLES
    from learnhub.domain.principal import Principal
    from learnhub.services.user import UserAdminService

    # Whoever runs the command line on the server is trusted as an administrator (shell
    # access is the stronger credential); the nil id names no account.
    operator = Principal(
        user_id=uuid.UUID(int=0),
        session_id=None,
        roles=frozenset({ADMIN}),
        permissions=BUILTIN_ROLES[ADMIN][1],
    )
    cleared = run_command(
        "users-unlock", lambda uow: UserAdminService(uow, operator).unlock_email(email)
    )
    console.print(f"unlocked {email.strip().lower()}: {cleared} failed logins cleared")


if __name__ == "__main__":
    app()
