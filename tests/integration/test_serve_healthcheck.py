"""`learnhub serve` gives uvicorn's worker health check a timeout a fresh worker can meet
(found by reliability/faults.py: with uvicorn's default 5 s, a new worker on a busy host was
still importing the app when its ping timed out, and was killed and respawned in a loop, so
`--workers 2` served with one). Run once, on a SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from learnhub.cli.app import app
from learnhub.config import get_settings


@pytest.fixture
def captured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("LEARNHUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.chdir(tmp_path)
    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.update(kwargs))
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_serve_passes_a_generous_worker_healthcheck_timeout(captured: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert captured["timeout_worker_healthcheck"] == 30
    assert captured["port"] == 8123


def test_the_timeout_is_a_setting(
    captured: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEARNHUB_WORKER_HEALTHCHECK_TIMEOUT_SECONDS", "90")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert captured["timeout_worker_healthcheck"] == 90


def test_serve_runs_uvloop_and_httptools_with_one_worker_on_sqlite(
    captured: dict[str, Any],
) -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "4"])
    assert result.exit_code == 0, result.output
    assert (captured["loop"], captured["http"]) == ("uvloop", "httptools")
    assert captured["workers"] == 1


def test_the_default_on_postgresql_is_one_worker_per_core(
    captured: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from learnhub.cli import serve

    monkeypatch.setenv("LEARNHUB_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS", "0")  # no watcher process
    monkeypatch.setattr(serve, "migrating", lambda _result: None)
    monkeypatch.setattr(serve, "bootstrap", lambda _url: None)
    monkeypatch.setattr(serve, "usable_cores", lambda: 3)
    get_settings.cache_clear()
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert captured["workers"] == 3
    monkeypatch.setenv("LEARNHUB_WORKERS", "2")
    get_settings.cache_clear()
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert captured["workers"] == 2
    assert CliRunner().invoke(app, ["serve", "--workers", "1"]).exit_code == 0
    assert captured["workers"] == 1


def test_several_workers_share_a_metrics_folder_only_while_they_run(
    captured: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers' shared metrics folder exists while uvicorn runs them; afterwards it is
    gone and so is the variable naming it (a process that served once, like a test run, must
    not hand a removed folder to what it starts next)."""
    import os

    from learnhub.cli import serve
    from learnhub.metrics import MULTIPROCESS_DIR

    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    monkeypatch.setenv("LEARNHUB_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS", "0")  # no watcher process
    monkeypatch.setattr(serve, "migrating", lambda _result: None)
    monkeypatch.setattr(serve, "bootstrap", lambda _url: None)
    seen: dict[str, Any] = {}

    def run(*_args: Any, **kwargs: Any) -> None:
        folder = os.environ.get(MULTIPROCESS_DIR)
        existed = folder is not None and os.path.isdir(folder)
        seen.update(workers=kwargs["workers"], folder=folder, existed=existed)

    monkeypatch.setattr(uvicorn, "run", run)
    get_settings.cache_clear()
    assert CliRunner().invoke(app, ["serve", "--workers", "2"]).exit_code == 0
    assert seen["workers"] == 2 and seen["existed"], seen
    assert MULTIPROCESS_DIR not in os.environ
    assert not os.path.exists(seen["folder"])
    assert CliRunner().invoke(app, ["serve", "--workers", "1"]).exit_code == 0
    assert seen["folder"] is None  # one worker keeps its metrics in memory
