"""`python -m bench.asgi_cpu` stays alive: it serves the course page in process, app and raw
baseline alike, and reports a rate and a CPU time per request (the numbers themselves live
in bench/RESULTS.md; a test machine is too noisy to judge them)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from bench import harness
from tests.support.databases import PG_ADMIN_DSN, _admin

ROOT = Path(__file__).resolve().parents[2]
REPORT = re.compile(r"^(app|raw): [0-9,]+ req/s, [0-9.]+ us of CPU per request$")
ABLATION_REPORT = re.compile(r"^without [a-z-]+: [0-9,]+ req/s, [0-9.]+ us of CPU per request$")


async def _report(module: str, url: str, *flags: str) -> str:
    """The last line `python -m <module>` printed, run briefly on `url`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "--database-url",
        url,
        "--seconds",
        "0.5",
        "--clients",
        "2",
        *flags,
        cwd=ROOT,
        env={**os.environ, "LEARNHUB_BENCH_PG_ADMIN_DSN": PG_ADMIN_DSN},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-4000:]
    return out.decode().strip().splitlines()[-1]


@pytest.mark.postgres_only
async def test_the_in_process_benchmark_reports_both_sides() -> None:
    admin = await _admin()  # skips, or fails when PostgreSQL is required, if unreachable
    await admin.close()
    async with harness.throwaway_database("learnhub_bench_cpu") as url:
        await harness.prepare_standard(url, harness.Config.smoke_config())
        in_turn = ["--courses-in-turn", "50"]
        for side, flags in (("app", []), ("raw", ["--raw"]), ("app", in_turn)):
            report = await _report("bench.asgi_cpu", url, *flags)
            assert REPORT.match(report) and report.startswith(side), report
        # Each part the ablation switches off still exists to be switched off (it refuses
        # to run otherwise), and the app still answers every page with it off.
        from bench.ablation import PARTS

        for part in PARTS:
            report = await _report("bench.ablation", url, "--without", part, *in_turn)
            assert ABLATION_REPORT.match(report) and f"without {part}:" in report, report


def test_the_courses_in_turn_are_four_times_what_the_app_keeps() -> None:
    """Else the "courses in turn" pages would be served from what the app keeps, and would
    not measure pages written afresh."""
    from bench.catalog_http import COURSES_IN_TURN

    from learnhub.api.routers.courses import PAGES_KEPT

    assert COURSES_IN_TURN >= 4 * PAGES_KEPT
