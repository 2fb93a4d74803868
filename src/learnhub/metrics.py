"""Prometheus metrics (SPEC 8 and 14). A shared leaf: any layer may record, none depends on it
for behaviour."""

from __future__ import annotations

import functools
import os
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

# Set by `learnhub serve` for its worker processes (cli/serve.py): each worker writes its
# values there and a scrape, whichever worker answers it, reads them all.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# A gauge set by one process at a time (at a scrape, or from a routed read): a scrape shows
# the value most recently set, by whichever worker set it.
LATEST: Final = "mostrecent"

HTTP_REQUEST_DURATION = Histogram(
    "learnhub_http_request_duration_seconds",
    "HTTP request latency by route template (its _count is the request count)",
    ["route", "method", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_QUERY_DURATION = Histogram(
    "learnhub_db_query_duration_seconds",
    "Database statement latency by operation and main table",
    ["operation", "table"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_duration(route: str, method: str, status: int) -> Histogram:
    """The request histogram's child for a request. A method the API has no route for is
    `OTHER`: the method is the client's word, and any token is one to some servers, so
    each would be a time series of its own."""
    return _request_duration(route, method if method in _METHODS else "OTHER", status)


# A labelled child per label values, kept: `labels()` takes a lock and builds its key on each
# call, 5 us of every request (bench/RESULTS.md). The label values are few (route
# templates, statuses, operations and tables), and prometheus_client keeps every child
# anyway.
@functools.lru_cache(maxsize=4096)
def _request_duration(route: str, method: str, status: int) -> Histogram:
    return HTTP_REQUEST_DURATION.labels(route=route, method=method, status=str(status))


@functools.lru_cache(maxsize=4096)
def statement_duration(operation: str, table: str) -> Histogram:
    return DB_QUERY_DURATION.labels(operation=operation, table=table)


DB_CONNECTIONS_OPENED = Counter(
    "learnhub_db_connections_opened_total",
    "Database connections opened by this process's pools (steady under load: the pool keeps them)",
)
SOFT_DELETES = Counter("learnhub_soft_deletes_total", "Committed soft deletes", ["entity"])
RESTORES = Counter("learnhub_restores_total", "Committed restores", ["entity"])
HARD_DELETES = Counter("learnhub_hard_deletes_total", "Committed hard deletes", ["entity"])
VERSION_CONFLICTS = Counter(
    "learnhub_version_conflicts_total", "Optimistic-lock conflicts", ["entity"]
)
OUTBOX_BACKLOG = Gauge(
    "learnhub_outbox_backlog", "Unpublished outbox messages", multiprocess_mode=LATEST
)
AUDIT_COMPLETENESS = Gauge(
    "learnhub_audit_completeness_ratio",
    "Share of entity rows the audit trail explains",
    multiprocess_mode=LATEST,
)
AUDIT_CHECKED_AT = Gauge(
    "learnhub_audit_checked_timestamp_seconds",
    "When `learnhub audit watch` last stored the completeness ratio (Unix time; NaN: never)",
    multiprocess_mode=LATEST,
)
LOGIN_THROTTLED = Counter("learnhub_login_throttled_total", "Logins refused by throttling")
EVENT_HANDLER_FAILURES = Counter(
    "learnhub_event_handler_failures_total",
    "In-process event handler failures (the event stays unhandled in the outbox, to be retried)",
    ["event_type"],
)

DB_READS_ROUTED = Counter(
    "learnhub_db_reads_routed_total",
    "Read-only units of work by the database that served them (primary, or a replica's host:port)"
    " when read replicas are configured",
    ["target"],
)
DB_REPLICA_FALLBACKS = Counter(
    "learnhub_db_replica_fallbacks_total",
    "Times a replica was passed over for a read: down (unreachable), lagging (beyond the bound),"
    " behind_client (not yet replayed the client's own last write), not_standby, failed"
    " (it failed in the middle of a read, which was run again on the primary)",
    ["replica", "reason"],
)
DB_REPLICA_LAG = Gauge(
    "learnhub_db_replica_lag_seconds",
    "A replica's replay lag as last measured by a read routed to it (0: caught up; NaN: down)",
    ["replica"],
    multiprocess_mode=LATEST,
)

ACTION_COUNTERS = {"soft_delete": SOFT_DELETES, "restore": RESTORES, "hard_delete": HARD_DELETES}


def count_committed_actions(actions: list[tuple[str, str]]) -> None:
    """(action, entity type) pairs from a committed transaction's audit rows."""
    for action, entity in actions:
        counter = ACTION_COUNTERS.get(action)
        if counter is not None:
            counter.labels(entity=entity).inc()


def families(*metrics: MetricWrapperBase) -> dict[MetricWrapperBase, list[Metric]]:
    """Each metric's values as a scrape shows them (for the admin's health page): this
    process's, or, under `serve --workers N`, every worker's together, read from the
    workers' files in one pass (they hold every metric: a pass per metric cost a page
    load 0.8 s with two busy workers)."""
    if not os.environ.get(MULTIPROCESS_DIR):
        return {metric: list(metric.collect()) for metric in metrics}
    by_name = {family.name: family for family in _workers_registry().collect()}
    return {
        metric: [by_name[f.name] for f in metric.describe() if f.name in by_name]
        for metric in metrics
    }


def exposition() -> tuple[bytes, str]:
    """The metrics as Prometheus reads them, with their content type: this process's, or,
    under `serve --workers N`, every worker's together (counters and histograms summed)."""
    if os.environ.get(MULTIPROCESS_DIR):
        return generate_latest(_workers_registry()), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def _workers_registry() -> CollectorRegistry:
    """A registry that reads every worker's values from their files when collected."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
