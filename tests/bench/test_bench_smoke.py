"""The benchmark harness stays alive: `python -m bench --smoke` runs every benchmark in a tiny
configuration on a throwaway PostgreSQL database, and each must produce a finite, positive
ratio. The targets are not checked here: CI machines are too noisy for that (the real
numbers live in bench/RESULTS.md)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
from pathlib import Path

import pytest
from bench.run import BENCHMARKS

from tests.support.databases import PG_ADMIN_DSN, _admin

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres_only
async def test_every_benchmark_produces_a_ratio(tmp_path: Path) -> None:
    admin = await _admin()  # skips, or fails when PostgreSQL is required, if unreachable
    await admin.close()
    out = tmp_path / "smoke.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench",
        "--smoke",
        "--json",
        str(out),
        cwd=ROOT,
        env={**os.environ, "LEARNHUB_BENCH_PG_ADMIN_DSN": PG_ADMIN_DSN},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=300)
    assert proc.returncode == 0, err.decode()[-4000:]
    results = json.loads(out.read_text())
    assert {r["benchmark"] for r in results} == set(BENCHMARKS)
    for r in results:
        assert math.isfinite(r["ratio"]) and r["ratio"] > 0, r
        assert r["value"] > 0 and r["baseline"] > 0, r
