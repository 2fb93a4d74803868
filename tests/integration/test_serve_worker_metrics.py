"""`learnhub serve --workers 2`: `/metrics` shows every worker's counters, whichever worker
answers the scrape (found by a try-out: consecutive scrapes alternated between one worker's
counts and the other's, and Prometheus cannot reach each worker behind their shared port).
A real server over a socket, on PostgreSQL (SQLite serves one worker)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.live_server import free_port, log_tail, stop, wait_until_healthy

pytestmark = pytest.mark.postgres_only

REQUESTS = 40


@pytest.fixture
def two_workers(committed_engine: AsyncEngine, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEARNHUB_", "PROMETHEUS"))}
    env.update(
        LEARNHUB_DATABASE_URL=committed_engine.url.render_as_string(hide_password=False),
        LEARNHUB_JWT_SECRET="worker-metrics-signing-secret-" + "w" * 32,
        LEARNHUB_AUDIT_CHECK_INTERVAL_SECONDS="0",
    )
    command = [sys.executable, "-m", "learnhub.cli", "serve", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, log, 60.0)
        yield base
    finally:
        stop(process, 20)
    assert "Traceback" not in log.read_text(errors="replace"), log_tail(log)


def catalog_requests_counted(base: str) -> float:
    """The catalog's 200s as one scrape reports them (on a new connection: any worker)."""
    with httpx.Client(base_url=base, timeout=10.0) as client:
        text = client.get("/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "learnhub_http_request_duration_seconds_count"
        and sample.labels.get("route") == "/api/v1/courses"
        and sample.labels.get("status") == "200"
    )


def test_every_scrape_counts_every_workers_requests(two_workers: str) -> None:
    before = catalog_requests_counted(two_workers)
    for _ in range(REQUESTS):
        # A connection each: the workers take turns accepting them.
        with httpx.Client(base_url=two_workers, timeout=10.0) as client:
            assert client.get("/api/v1/courses?limit=1").status_code == 200
    counts = {catalog_requests_counted(two_workers) - before for _ in range(10)}
    assert counts == {REQUESTS}
