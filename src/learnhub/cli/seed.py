"""`learnhub seed`: the demo catalog, or generated data at scale with a progress bar."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from learnhub.cli.common import (
    bootstrap,
    console,
    err,
    migration_url,
    print_demo_logins,
    run_command,
)
from learnhub.config import get_settings
from learnhub.db.engine import create_engine
from learnhub.db.errors import DbError, classify
from learnhub.domain.errors import DomainError


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
    asyncio.run(bootstrap(migration_url()))
    if demo:
        from learnhub.media.storage import LocalMediaStorage
        from learnhub.ops.demo import load_demo

        media = LocalMediaStorage(get_settings().media_dir)

        print_demo_logins(run_command("seed-demo", lambda uow: load_demo(uow, media)))
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
            engine = create_engine(migration_url(), slow_query_ms=float("inf"))
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
