"""`learnhub db`: schema migrations, the drift check, the backup drill and the query report."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from learnhub.cli.common import bootstrap, console, err, migrating, migration_url, run_command
from learnhub.db import migrations

db_app = typer.Typer(help="Schema migrations and database checks.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema (default: to the newest revision) and load built-in roles.

    On PostgreSQL every revision runs under LEARNHUB_MIGRATION_LOCK_TIMEOUT_SECONDS and
    LEARNHUB_MIGRATION_STATEMENT_TIMEOUT_SECONDS; one that cannot take its locks in time is
    retried LEARNHUB_MIGRATION_LOCK_RETRIES times, then the command fails."""
    url = migration_url()
    if revision == "head":
        migrating(bootstrap(url))
    else:
        migrating(migrations.upgrade(url, revision))
    console.print(f"database at {asyncio.run(migrations.current(url))}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. base or -1.")]) -> None:
    """Downgrade the schema to REVISION."""
    url = migration_url()
    migrating(migrations.downgrade(url, revision))
    console.print(f"database at {asyncio.run(migrations.current(url))}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    console.print(asyncio.run(migrations.current(migration_url())) or "base (empty)")


@db_app.command("backup-drill")
def db_backup_drill(
    keep: Annotated[bool, typer.Option(help="Keep the restored copy for inspection.")] = False,
) -> None:
    """Back up (pg_dump, or SQLite's online backup), restore into a fresh database, and check
    the copy: row counts equal the source's at backup time, schema at head, audit verified."""
    from learnhub.ops.backup_drill import DrillError, run_drill

    try:
        report = asyncio.run(run_drill(migration_url(), keep=keep))
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
    """Fail when the schema is behind, drifts from the models, has INVALID indexes, or a
    history table whose partitioning (revision 0019) was begun and not finished."""
    report = asyncio.run(migrations.check(migration_url()))
    console.print_json(json.dumps(report))
    if (
        report["current"] != report["head"]
        or report["drift"]
        or report["invalid_indexes"]
        or report["unfinished_partitioning"]
    ):
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
