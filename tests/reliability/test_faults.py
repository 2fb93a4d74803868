"""reliability/faults.py, small: a private PostgreSQL cluster is stopped for about 3 s under
a 20-user load. Meanwhile 503 problem responses (and /ready 503), never a 500; recovery
without restarting the workers; no acknowledged write lost or half-applied.

Needs the PostgreSQL server binaries (initdb, pg_ctl): skipped, with the reason, only when
they are missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability.faults import FaultConfig, missing_binaries_reason, run_faults
from reliability.harness import LoadConfig

from tests.reliability.conftest import process_group_gone

REASON = missing_binaries_reason()


def quiet(_message: str) -> None:
    pass


@pytest.mark.skipif(REASON is not None, reason=f"fault test needs a private cluster: {REASON}")
async def test_database_outage_under_load(tmp_path: Path) -> None:
    config = FaultConfig(
        LoadConfig(users=20, workers=2, duration=14.0, max_requests=10_000),
        warmup=3.0,
        down=3.0,
    )
    report = await run_faults(config, tmp_path, log=quiet)
    assert report.ok, report.format()
    answers = report.extra["answers"]
    assert answers["503_total"] > 0 and answers["ready_503_while_down"] > 0, report.format()
    assert report.extra["outage"]["ready_again_at_s"] is not None
    assert report.summary["overall"]["statuses"].get("500", 0) == 0
    assert process_group_gone(report.server_pid)
