"""What every benchmark shares: timing, percentiles, result lines, a throwaway PostgreSQL
database, servers in subprocesses and an HTTP load generator.

Each benchmark measures LearnHub and a baseline in the same script and reports the ratio,
so a noisy, shared machine moves both sides alike. Runs alternate between the two sides.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import asyncpg

T = TypeVar("T")

if TYPE_CHECKING:
    from bench.data import Shape

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = os.environ.get(
    "LEARNHUB_BENCH_PG_ADMIN_DSN",
    os.environ.get("LEARNHUB_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


# ---- results -------------------------------------------------------------------------------


@dataclass
class Result:
    """One line of the report. `ratio` is value / baseline; the target says which way is
    good (`>=` for throughput ratios, `<=` for overheads and latency ratios)."""

    benchmark: str
    metric: str
    value: float
    baseline: float
    unit: str
    op: str  # ">=" or "<="
    target: float
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        if self.baseline == 0:
            return math.inf
        return self.value / self.baseline

    @property
    def met(self) -> bool:
        if not math.isfinite(self.ratio):
            return False
        return self.ratio >= self.target if self.op == ">=" else self.ratio <= self.target


def fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def table(results: Sequence[Result]) -> str:
    """A Markdown table: benchmark, value, baseline, ratio, target, met?"""
    lines = [
        "| benchmark | metric | value | baseline | ratio | target | met? |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.benchmark} | {r.metric} ({r.unit}) | {fmt(r.value)} | {fmt(r.baseline)} "
            f"| {r.ratio:.3f} | {r.op} {r.target} | {'yes' if r.met else '**missed**'} |"
        )
    return "\n".join(lines)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- timing --------------------------------------------------------------------------------


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of non-empty samples."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def latencies(call: Callable[[], Awaitable[object]], count: int, warmup: int) -> list[float]:
    """Seconds per call, `count` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


async def alternate(
    sides: dict[str, Callable[[], Awaitable[T]]], rounds: int
) -> dict[str, list[T]]:
    """Run each side's measurement `rounds` times, interleaved (A B A B ...), so a burst of
    load from elsewhere on the machine hits both sides; returns every side's values."""
    values: dict[str, list[T]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, measure in sides.items():
            values[name].append(await measure())
    return values


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# ---- PostgreSQL ------------------------------------------------------------------------------


def async_url(database: str, admin_dsn: str = ADMIN_DSN) -> str:
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


def plain_dsn(url: str) -> str:
    """The asyncpg DSN of a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def throwaway_database(prefix: str = "learnhub_bench") -> AsyncIterator[str]:
    """A migrated PostgreSQL database created for this run and dropped after it; yields its
    SQLAlchemy URL."""
    from learnhub.db import migrations

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        url = async_url(name)
        await migrations.upgrade(url)
        yield url
    finally:
        admin = await asyncpg.connect(ADMIN_DSN, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def database(url: str | None, prefix: str = "learnhub_bench") -> AsyncIterator[str]:
    """The given database as is, or a throwaway one."""
    if url:
        yield url
    else:
        async with throwaway_database(prefix) as created:
            yield created


# ---- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER_CORE = 0  # the server under test runs on this core, the load generator on the others
SERVERS = ("uvicorn", "granian")


def server_command(server: str, target: str, port: int, *, factory: bool) -> list[str]:
    """One worker, no access log, uvloop's event loop; uvicorn with httptools' parser (what
    `learnhub serve` runs), granian with its own (Rust) HTTP stack."""
    if server == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", "1", "--no-access-log"]
        command += ["--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]
        return command + (["--factory"] if factory else [])
    if server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", "1", "--loop", "uvloop"]
        command += ["--no-access-log", "--log-level", "warning"]
        return command + (["--factory"] if factory else []) + [target]
    raise ValueError(f"unknown server {server!r}")


def pin_to_server_core() -> None:
    """In the server's child process: one core, as the issue measures ("one server core"),
    leaving the other to the load generator. A machine with one core runs both on it."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {SERVER_CORE})


@contextlib.contextmanager
def asgi_server(
    target: str, env: dict[str, str], *, factory: bool = False, server: str = "uvicorn"
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`target` under `server` (one worker pinned to one core, no access log) on a free
    loopback port; yields the base URL and the process. Stopped (SIGINT, then SIGKILL) on
    exit."""
    port = free_port()
    process = subprocess.Popen(
        server_command(server, target, port, factory=factory),
        cwd=ROOT,
        # This checkout's code, even when the venv's editable install points at another.
        env={**os.environ, **env, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=pin_to_server_core,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"{target} exited at start: {error[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target} did not listen within 60 s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()


def uvicorn_server(
    target: str, env: dict[str, str], *, factory: bool = False
) -> contextlib.AbstractContextManager[tuple[str, subprocess.Popen[bytes]]]:
    return asgi_server(target, env, factory=factory, server="uvicorn")


# ---- load generation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    requests: int
    errors: int
    tool: str
    p99_ms: float | None = None  # wrk's 99th percentile latency; None from the python client


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


async def wrk(url: str, *, connections: int, seconds: float, in_turn: Sequence[str] = ()) -> Load:
    """wrk (one thread) for `seconds` with `connections` keep-alive connections; with
    `in_turn`, requests for those paths one after another (a Lua script) instead of `url`'s."""
    with tempfile.TemporaryDirectory() as scratch:
        script: list[str] = []
        if in_turn:
            lua = Path(scratch) / "in_turn.lua"
            listed = ",\n".join(_lua_string(path) for path in in_turn)
            lua.write_text(
                f"local paths = {{\n{listed}\n}}\nlocal at = 0\n"
                "request = function()\n  at = at % #paths + 1\n"
                '  return wrk.format("GET", paths[at])\nend\n'
            )
            script = ["-s", str(lua)]
        proc = await asyncio.create_subprocess_exec(
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            *script,
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=pin_off_server_core,
        )
        out, err = await proc.communicate()
    text = out.decode()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode()}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Load(rps, total, errors, "wrk", p99_ms=wrk_p99_ms(text))


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_p99_ms(text: str) -> float | None:
    found = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if found is None:
        return None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return float(found.group(1)) * scale


def pin_off_server_core() -> None:
    """In the load generator's child process: every core but the server's."""
    cores = set(range(os.cpu_count() or 1)) - {SERVER_CORE}
    if hasattr(os, "sched_setaffinity") and cores:
        os.sched_setaffinity(0, cores)


async def python_load(
    url: str, *, connections: int, seconds: float, in_turn: Sequence[str] = ()
) -> Load:
    """A small asyncio HTTP/1.1 keep-alive client: `connections` connections each sending
    GETs back to back for `seconds` (for `in_turn`'s paths one after another, if given).
    Lighter than an HTTP library, so the client costs less of the shared CPU; used when wrk
    is not installed."""
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    if match is None:
        raise ValueError(url)
    host, port = match.group(1), int(match.group(2))
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
        for path in (in_turn or [match.group(3)])
    ]
    counts = [0, 0]  # ok, errors
    deadline = time.perf_counter() + seconds

    # One turn shared by every connection (one event loop: no lock), so that the paths are
    # spread over the connections as wrk's one script spreads them; a turn per connection
    # would ask each path once per connection, in a burst.
    turn = itertools.cycle(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                writer.write(next(turn))
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if length is None:
                    raise RuntimeError("response without Content-Length")
                await reader.readexactly(int(length.group(1)))
                counts[0 if status < 400 else 1] += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return Load(counts[0] / elapsed, counts[0] + counts[1], counts[1], "python")


async def load(
    url: str,
    *,
    connections: int,
    seconds: float,
    tool: str = "auto",
    in_turn: Sequence[str] = (),
) -> Load:
    """`url` under load; with `in_turn` (paths on `url`'s server), those paths in turn."""
    if tool == "wrk" or (tool == "auto" and wrk_available()):
        return await wrk(url, connections=connections, seconds=seconds, in_turn=in_turn)
    return await python_load(url, connections=connections, seconds=seconds, in_turn=in_turn)


# ---- profiles ------------------------------------------------------------------------------


def top_of_cprofile(stats_path: Path, limit: int = 25) -> str:
    """The top functions of a cProfile dump by cumulative and by own time."""
    import io
    import pstats

    buffer = io.StringIO()
    stats = pstats.Stats(str(stats_path), stream=buffer)
    stats.strip_dirs().sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    return buffer.getvalue()


def py_spy_available() -> bool:
    return shutil.which("py-spy") is not None


async def py_spy_record(pid: int, seconds: float, output: Path) -> None:
    """Sample process `pid` with py-spy for `seconds` into a collapsed-stack file."""
    proc = await asyncio.create_subprocess_exec(
        "py-spy",
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "250",
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"py-spy failed: {err.decode()[-500:]}")


def top_of_collapsed(path: Path, limit: int = 25) -> str:
    """Summarise a py-spy collapsed-stack file: each function's share of the samples, own
    (leaf) and inclusive (anywhere on the stack), and a grouping by package."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    areas: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(f) for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for name in set(frames):
            inclusive[name] = inclusive.get(name, 0) + count
        area = _area(stack.split(";")[-1])
        areas[area] = areas.get(area, 0) + count
    if total == 0:
        return "(no samples)"

    def block(title: str, counts: dict[str, int]) -> list[str]:
        rows = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
        return [title] + [f"  {100 * n / total:5.1f}%  {name}" for name, n in rows]

    # Frames on (nearly) every stack are the event loop's scaffolding: leave them out.
    inclusive = {k: v for k, v in inclusive.items() if v < 0.9 * total}
    lines = [f"{total} samples"]
    lines += block("own time by package (leaf frame):", areas)
    lines += block("own time by function:", own)
    lines += block("inclusive time by function (below the event loop):", inclusive)
    return "\n".join(lines)


def _frame_name(frame: str) -> str:
    # py-spy frames look like "function (package/module.py:123)".
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    return f"{match.group(1)} ({match.group(2)})" if match else frame


def _area(frame: str) -> str:
    """The package a frame's code belongs to (learnhub by its subpackage)."""
    match = re.match(r".* \((.*?)(?::\d+)?\)$", frame)
    path = match.group(1) if match else frame
    parts = path.split("/")
    if parts[0] == "learnhub" and len(parts) > 2:
        return f"learnhub.{parts[1]}"
    return parts[0] if len(parts) > 1 else path


@dataclass(frozen=True)
class Config:
    """Sizes and durations for one run; `smoke()` is the seconds-long CI variant."""

    smoke: bool = False
    seconds: float = 10.0  # per load round
    warm_up_seconds: float | None = None  # the untimed warm-up before a load; None: `seconds`
    rounds: int = 3
    connections: int = 16
    samples: int = 2000  # latency samples per side
    heartbeats: int = 2000
    courses: int = 25_000  # catalog size for the non-scale benchmarks
    page: int = 1000  # deep pagination target page
    scale_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    scale_samples: int = 1000
    tool: str = "auto"  # load generator: auto (wrk if installed), wrk, python
    profile: bool = False
    profile_dir: Path = ROOT / "bench" / "profiles"

    @classmethod
    def smoke_config(cls, **overrides: object) -> Config:
        values: dict[str, object] = {
            "smoke": True,
            "seconds": 1.0,
            "warm_up_seconds": 0.25,  # the smoke checks that each load runs, not its numbers
            "rounds": 1,
            "connections": 4,
            "samples": 60,
            "heartbeats": 60,
            "courses": 300,
            "page": 10,
            "scale_sizes": (300, 900),
            "scale_samples": 40,
            "tool": "python",
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def standard_shape(config: Config) -> Shape:
    """The data every benchmark but `scale` runs on: `config.courses` published courses
    (two videos each), 2000 learners with two enrolments each, no progress yet."""
    from bench.data import Shape

    return Shape(users=2000, courses=config.courses, videos=2, enrollments=2, progress=0)


async def prepare_standard(url: str, config: Config) -> None:
    from bench.data import grow

    started = time.perf_counter()
    await grow(plain_dsn(url), standard_shape(config))
    say(f"seeded {standard_shape(config)} in {time.perf_counter() - started:.1f} s")


def parse_config(argv: Sequence[str] | None = None, doc: str | None = None) -> tuple[Config, str]:
    """Options shared by `python -m bench` and each benchmark module run alone."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds in all")
    parser.add_argument("--profile", action="store_true", help="profile the LearnHub side")
    parser.add_argument("--database-url", help="an existing database seeded by a previous run")
    parser.add_argument("--seconds", type=float, help="seconds per load round")
    parser.add_argument("--rounds", type=int, help="alternating rounds per side")
    parser.add_argument("--connections", type=int, help="concurrent HTTP connections")
    parser.add_argument("--courses", type=int, help="catalog size")
    parser.add_argument("--sizes", help="scale sizes, comma-separated (e.g. 10000,100000)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], help="load generator")
    args, _ = parser.parse_known_args(argv)
    config = Config.smoke_config() if args.smoke else Config()
    overrides: dict[str, object] = {"profile": args.profile}
    for name in ("seconds", "rounds", "connections", "courses", "tool"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.sizes:
        overrides["scale_sizes"] = tuple(int(s) for s in args.sizes.split(","))
    values = {**config.__dict__, **overrides}
    return Config(**values), args.database_url or ""  # type: ignore[arg-type]


def standalone(
    run: Callable[[str, Config], Awaitable[list[Result]]],
    doc: str | None,
    prepare: Callable[[str, Config], Awaitable[None]] | None = None,
) -> None:
    """`python -m bench.<module>`: one benchmark on a throwaway (or the given) database."""
    config, existing = parse_config(doc=doc)
    prepare = prepare or prepare_standard

    async def go() -> list[Result]:
        async with database(existing or None) as url:
            if not existing:
                await prepare(url, config)
            return await run(url, config)

    print(table(asyncio.run(go())))
