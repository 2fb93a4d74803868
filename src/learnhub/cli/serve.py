"""`learnhub serve`: migrate, optionally load the demo, and run the API under uvicorn with
the audit watcher as a process of its own next to it."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Annotated, Any

import typer

from learnhub.cli.common import (
    bootstrap,
    err,
    migrating,
    print_demo_logins,
    run_command,
)
from learnhub.config import get_settings, served_at


def served_app() -> Any:
    """The API app as `learnhub serve` runs it: the app factory's, plus the operations code a
    served app may not import itself (the admin's health page shows `db report`'s plans)."""
    from learnhub.api.app import create_app
    from learnhub.ops.db_report import DbReportService

    app = create_app()
    app.state.query_plans = lambda uow: DbReportService(uow).report()
    return app


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes (PostgreSQL only); default LEARNHUB_WORKERS, whose 0 is "
            "one per core."
        ),
    ] = None,
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
    migrating(bootstrap(settings.migration_url()))
    accounts = None
    if demo:
        from learnhub.media.storage import LocalMediaStorage
        from learnhub.ops.demo import load_demo

        media = LocalMediaStorage(get_settings().media_dir)

        accounts = run_command("demo", lambda uow: load_demo(uow, media))
    workers = workers if workers is not None else settings.workers
    if settings.database_url.startswith("sqlite"):
        if workers > 1:
            err.print("[yellow]SQLite serves one worker process; using 1[/yellow]")
        workers = 1
    elif workers == 0:
        workers = usable_cores()
    host, port = host or settings.host, port or settings.port
    # The workers read their settings from the environment: the address they answer on is
    # part of them (a password reset mail links to this server's own page).
    os.environ["LEARNHUB_HOST"], os.environ["LEARNHUB_PORT"] = host, str(port)
    get_settings.cache_clear()
    print_welcome(host, port, accounts)
    watcher = start_audit_watch(settings.audit_check_interval_seconds)
    exit_on_sigterm()
    shared_metrics = _share_metrics_between_workers() if workers > 1 else None
    try:
        uvicorn.run(
            "learnhub.cli.serve:served_app",
            factory=True,
            host=host,
            port=port,
            # The app logs one structured line per request (api/middleware.py): uvicorn's
            # own access line would be a second, unstructured one.
            access_log=False,
            # What bench/RESULTS.md measured best: uvloop's event loop and httptools' parser
            # (both installed with LearnHub), not uvicorn's pure-Python fallbacks.
            loop="uvloop",
            http="httptools",
            workers=workers,
            log_level=settings.log_level,
            timeout_worker_healthcheck=settings.worker_healthcheck_timeout_seconds,
            timeout_keep_alive=settings.keep_alive_seconds,
        )
    finally:
        if watcher is not None:
            stop_process(watcher)
        if shared_metrics is not None:
            from learnhub.metrics import MULTIPROCESS_DIR

            # Gone with the workers: nothing this process starts later may write there.
            os.environ.pop(MULTIPROCESS_DIR, None)
            shutil.rmtree(shared_metrics, ignore_errors=True)


def _share_metrics_between_workers() -> str | None:
    """A fresh folder where every worker writes its metrics, so that `/metrics`, whichever
    worker answers it, shows them all (prometheus_client's multiprocess mode; the workers,
    started after this, read it from the environment). None when the operator set one."""
    from learnhub.metrics import MULTIPROCESS_DIR

    if os.environ.get(MULTIPROCESS_DIR):
        return None
    folder = tempfile.mkdtemp(prefix="learnhub-metrics-")
    os.environ[MULTIPROCESS_DIR] = folder
    return folder


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    import os

    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def print_welcome(host: str, port: int, accounts: list[tuple[str, str]] | None) -> None:
    """Where to go, once, before the server's own lines: the web app, the API docs and the
    health check, and with the demo, how to log in. On stderr, with the server's own lines:
    stdout carries the JSON log lines only, for whatever reads them."""
    base = served_at(host, port)
    err.print(f"\n[bold]LearnHub[/bold] at {base}")
    err.print(f"  web app       {base}/")
    err.print(f"  API docs      {base}/docs")
    err.print(f"  health check  {base}/health")
    if accounts is not None:
        print_demo_logins(accounts, to=err)
    err.print()


def exit_on_sigterm() -> None:
    """Make SIGTERM end `serve` through its `finally`, so the audit watcher is stopped with it.

    uvicorn handles SIGTERM itself (a graceful shutdown), then restores the handler it found
    and raises the signal again. With the default handler that kills the process on the spot
    and the watcher is left running as an orphan; with this one the signal becomes SystemExit,
    which unwinds through `serve`'s cleanup. The stop was asked for and graceful: status 0."""
    import signal

    def exit_now(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, exit_now)


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
