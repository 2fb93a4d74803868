"""`learnhub audit`: replaying the audit trail, and the watcher that keeps its completeness
gauge fresh."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer

from learnhub.cli.common import command_engine, console, run_command
from learnhub.config import get_settings

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


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
def audit_verify(
    archive: Annotated[
        list[Path] | None,
        typer.Option(
            help="Archive files of `audit archive`, or directories of them (repeatable): "
            "their entries are replayed with the live trail."
        ),
    ] = None,
) -> None:
    """Replay the audit trail and list every row whose state it does not explain."""
    from learnhub.ops.audit_archive import ArchiveError, read_archives
    from learnhub.services.audit import AuditService

    try:
        archived = read_archives(archive or [])
    except ArchiveError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    report = run_command(
        "audit-verify", lambda uow: AuditService(uow).verify(archived), commit=False
    )
    for gap in report.gaps:
        console.print(f"{gap.entity_type} {gap.entity_id}: {gap.problem}")
    console.print(
        f"{report.rows_checked} rows checked, {len(report.gaps)} gaps, "
        f"completeness {report.completeness_ratio:.4f}"
    )
    if report.gaps:
        raise typer.Exit(1)


@audit_app.command("partitions")
def audit_partitions() -> None:
    """PostgreSQL: create the months ahead of the partitioned history tables (audit_log,
    user_activity). The audit watcher (`learnhub serve`) does this every round; this is the
    same maintenance, once."""
    from learnhub.db.partitions import ensure_partitions
    from learnhub.domain.clock import utc_now

    async def main() -> Any:
        engine = command_engine()
        try:
            return await ensure_partitions(engine, utc_now())
        finally:
            await engine.dispose()

    result = asyncio.run(main())
    console.print(f"created: {', '.join(result.created) or 'nothing (all months exist)'}")
    if result.blocked:
        console.print(
            f"[red]blocked (the DEFAULT partition holds rows of): {', '.join(result.blocked)}"
        )
        raise typer.Exit(1)


@audit_app.command("archive")
def audit_archive(
    before: Annotated[
        datetime,
        typer.Option(
            formats=["%Y-%m-%d"], help="Archive the months that end on or before this day."
        ),
    ],
    directory: Annotated[
        Path, typer.Option("--to", help="Directory the archive files are written to.")
    ] = Path("audit-archive"),
) -> None:
    """PostgreSQL: write each audit_log partition that ends on or before BEFORE to a file
    (`<partition>.jsonl.gz`), then detach and drop it. `audit verify --archive DIR` replays
    the files with the live trail."""
    from learnhub.domain.clock import utc_now
    from learnhub.ops.audit_archive import ArchiveError, archive_before

    cutoff = datetime.combine(date(before.year, before.month, before.day), time(), tzinfo=UTC)
    directory.mkdir(parents=True, exist_ok=True)

    async def main() -> Any:
        engine = command_engine()
        try:
            return await archive_before(engine, cutoff, directory, utc_now())
        finally:
            await engine.dispose()

    try:
        done = asyncio.run(main())
    except ArchiveError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    for archived in done:
        console.print(f"{archived.name}: {archived.rows} rows -> {archived.path}")
    console.print(f"{len(done)} partitions archived")
