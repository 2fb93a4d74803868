"""Statement timing: a histogram by operation and table, and a log line for slow queries."""

from __future__ import annotations

import re
import time
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import Engine

from learnhub.metrics import DB_QUERY_DURATION

log = structlog.get_logger("learnhub.db")
_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE|JOIN)\s+"?([a-zA-Z_][a-zA-Z0-9_]*)', re.IGNORECASE)
_START_KEY = "learnhub_query_start"


def classify(statement: str) -> tuple[str, str]:
    """(operation, main table) of a statement, with few label values (no ids, no literals)."""
    words = statement.lstrip().split(None, 1)
    operation = words[0].upper() if words else "OTHER"
    if operation not in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
        return operation if operation.isalpha() and len(operation) < 12 else "OTHER", "-"
    match = _TABLE.search(statement)
    return operation, match.group(1).lower() if match else "-"


def instrument(engine: Engine, slow_query_ms: float) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, _cursor: Any, _stmt: str, _params: Any, _ctx: Any, _many: bool) -> None:
        conn.info.setdefault(_START_KEY, []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def after(
        conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        elapsed = time.perf_counter() - conn.info[_START_KEY].pop()
        operation, table = classify(statement)
        DB_QUERY_DURATION.labels(operation=operation, table=table).observe(elapsed)
        if elapsed * 1000 >= slow_query_ms:
            log.warning(
                "slow_query",
                operation=operation,
                table=table,
                duration_ms=round(elapsed * 1000, 2),
                statement=statement[:500],
            )
