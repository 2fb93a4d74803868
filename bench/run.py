"""Run the benchmark suite and print one table (benchmark, value, baseline, ratio, target,
met?), with each benchmark's notes below it.

    python -m bench                  # everything, full sizes (about 15 minutes without 1M)
    python -m bench --smoke          # every benchmark in a tiny configuration, seconds
    python -m bench --only catalog_http,repository
    python -m bench --write-results  # also replace the generated block of bench/RESULTS.md
    python -m bench --json out.json  # also write the results as JSON (the CI smoke test)

The non-scale benchmarks share one throwaway database (or --database-url); `scale` grows its
own. Exit status 0 whether or not targets are met: the numbers are reported, not judged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence

from bench import (
    catalog_http,
    concurrency,
    harness,
    heartbeat,
    pagination,
    repository,
    scale,
    serve_workers,
    write_overhead,
)
from bench.harness import Config, Result

BENCHMARKS: dict[str, Callable[[str, Config], Awaitable[list[Result]]]] = {
    "catalog_http": catalog_http.run,
    "repository": repository.run,
    "heartbeat": heartbeat.run,
    "write_overhead": write_overhead.run,
    "pagination": pagination.run,
    "scale": scale.run,
    "concurrency": concurrency.run,
    "serve_workers": serve_workers.run,
}
RESULTS = harness.ROOT / "bench" / "RESULTS.md"


async def run_all(config: Config, names: Sequence[str], existing: str | None) -> list[Result]:
    results: list[Result] = []
    shared = [n for n in names if n != "scale"]
    if shared:
        async with harness.database(existing) as url:
            if not existing:
                await harness.prepare_standard(url, config)
            for name in shared:
                harness.say(f"== {name}")
                results += await BENCHMARKS[name](url, config)
    if "scale" in names:
        harness.say("== scale")
        results += await scale.run("", config)
    return results


def report(results: Sequence[Result]) -> str:
    lines = [harness.table(results), ""]
    for r in results:
        for note in r.notes:
            lines.append(f"- {r.benchmark}, {r.metric}: {note}")
    return "\n".join(lines)


def write_results(text: str, command: str, names: Sequence[str]) -> None:
    """Replace this selection's generated block in RESULTS.md (one block per selection of
    benchmarks, so a scale-only run leaves the others' block alone)."""
    selection = "all" if list(names) == list(BENCHMARKS) else "+".join(names)
    start, end = f"<!-- bench:run:{selection}:start -->", f"<!-- bench:run:{selection}:end -->"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=harness.ROOT,
        check=False,
    ).stdout.strip()
    block = "\n".join(
        [
            start,
            f"### Generated: {selection}",
            "",
            f"`{command}` on {dt.datetime.now(dt.UTC).date().isoformat()}, commit {commit or '?'}, "
            f"`nproc` = {os.cpu_count()}.",
            "",
            text,
            end,
        ]
    )
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if start in current and end in current:
        head, rest = current.split(start, 1)
        _, tail = rest.split(end, 1)
        updated = head + block + tail
    else:
        updated = current.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(updated)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    config, existing = harness.parse_config(argv, doc=__doc__)
    names = list(BENCHMARKS)
    if "--only" in argv:
        names = argv[argv.index("--only") + 1].split(",")
        unknown = set(names) - set(BENCHMARKS)
        if unknown:
            raise SystemExit(f"unknown benchmarks {sorted(unknown)}; use {list(BENCHMARKS)}")
    results = asyncio.run(run_all(config, names, existing or None))
    text = report(results)
    print(text)
    if "--json" in argv:
        path = argv[argv.index("--json") + 1]
        rows = [{**r.__dict__, "ratio": r.ratio, "met": r.met} for r in results]
        with open(path, "w") as out:
            json.dump(rows, out, indent=2)
    if "--write-results" in argv:
        shown = [a for a in argv if a != "--write-results"]
        write_results(text, " ".join(["python -m bench", *shown]), names)
    bad = [r for r in results if not (math.isfinite(r.ratio) and r.ratio > 0)]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
