"""Where a request's CPU goes, from socket to socket: py-spy's collapsed stacks of a server
under load, each sample given to the layer of the innermost frame that names one.

    python -m bench.breakdown bench/profiles/catalog_http_app_uvicorn.collapsed [rps]

With the throughput measured while sampling, each share is also shown as microseconds per
request (share x 1e6 / rps): the server ran on one core, so one second of that core served
`rps` requests. Native code (the driver's protocol, orjson, httptools) counts for the Python
frame that called it.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

# Most specific first: the first rule that matches a frame, innermost frame first, wins.
LAYERS: tuple[tuple[str, str], ...] = (
    ("logging (the request's log line)", r"structlog|learnhub/logging\.py|json/encoder|_logs"),
    ("metrics", r"prometheus_client|learnhub/metrics\.py"),
    ("rows typed (result processors)", r"driver_reads\.py.*_typed|_typed \("),
    ("rows to cards", r"card_of|_unpacked|_page_of_rows|CatalogCard"),
    ("serialisation (JSON)", r"catalog_page_json|card_fields|_scalar_fields|_uuid_text|orjson"),
    (
        "statement: driver send, reply decoding",
        r"asyncpg|ReplyClock|instrumentation\.py|driver_reads\.py",
    ),
    (
        "statement: SQLAlchemy build, compile, cache",
        r"sqlalchemy/sql/|keyset_|catalog_select|listed_page|HasCacheKey|cache_key",
    ),
    (
        "session, connection and pool",
        r"sqlalchemy/(orm|pool|engine|ext|util|connectors|dialects)|greenlet|learnhub/db/",
    ),
    ("endpoint, service, repository", r"learnhub/(api/routers|services|repositories)"),
    (
        "dependency solving, validation",
        r"fastapi/dependencies|fastapi/_compat|pydantic|learnhub/api/deps\.py|typing\.py",
    ),
    ("routing", r"routing\.py:\d+\);?$.*|_match|matches"),
    (
        "middleware",
        r"middleware|_exception_handler|_body_limit|telemetry|learnhub/api/(app|problems)\.py",
    ),
    ("request and response objects", r"fastapi/routing\.py|starlette/(requests|responses)"),
    ("server and event loop", r"uvicorn|httptools|uvloop|granian|asyncio|selectors|anyio"),
)


def layer_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, pattern in LAYERS:
            if re.search(pattern, frame):
                return name
    return "other"


def breakdown(collapsed: Path) -> Counter[str]:
    samples: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples[layer_of(stack.split(";"))] += int(count)
    return samples


def table(samples: Counter[str], requests_per_second: float | None = None) -> str:
    total = sum(samples.values()) or 1
    lines = ["| layer | share | us per request |", "| --- | ---: | ---: |"]
    for name, count in samples.most_common():
        share = count / total
        per_request = f"{share * 1e6 / requests_per_second:.0f}" if requests_per_second else "-"
        lines.append(f"| {name} | {share:.1%} | {per_request} |")
    if requests_per_second:
        lines.append(f"| **total** | 100% | {1e6 / requests_per_second:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    rps = float(sys.argv[2]) if len(sys.argv) > 2 else None
    print(table(breakdown(Path(sys.argv[1])), rps))
